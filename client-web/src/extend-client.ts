import type { CallOptions, Client, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { cancelOnReturn } from "./cancel-on-return.js";
import { listAllKeys, type ListAllKeysRequest } from "./list-all-keys.js";

/** What both SDKs add to a connect-es client of the KeyQuarry service. */
export interface KeyquarryClientExtras {
  /** Admin service (Shutdown, Prune); needs the server's privileged client id. */
  readonly admin: Client<typeof Admin>;
  /**
   * Every matching key in creation order, page by page (ListKeys with each
   * response's cursor while it says `more`); `limit` bounds the total.
   */
  listAllKeys(request?: ListAllKeysRequest, options?: CallOptions): AsyncGenerator<string, void, undefined>;
}

/**
 * Adds {@link KeyquarryClientExtras} to `client`, and makes leaving a
 * `for await` loop over `watchStream` or `watchKeyValue` end the call
 * (see {@link cancelOnReturn}). Both services share `transport`.
 */
export function extendClient(
  client: Client<typeof KeyQuarry>,
  transport: Transport,
): Client<typeof KeyQuarry> & KeyquarryClientExtras {
  return Object.assign(client, {
    admin: createClient(Admin, transport),
    listAllKeys: (request?: ListAllKeysRequest, options?: CallOptions) => listAllKeys(client, request, options),
    watchStream: cancelOnReturn(client.watchStream),
    watchKeyValue: cancelOnReturn(client.watchKeyValue),
  });
}
