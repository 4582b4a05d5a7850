import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { text } from "./bytes.js";

/** The value of `key` as text, read by `kv`; undefined when the key does not exist (NOT_FOUND), any other error thrown. */
export async function textValueOf(kv: Client<typeof KeyQuarry>, key: string): Promise<string | undefined> {
  try {
    return text((await kv.get({ key })).value);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.NotFound) {
      return undefined;
    }
    throw error;
  }
}
