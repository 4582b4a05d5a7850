import { Code, ConnectError } from "@connectrpc/connect";
import { toJson } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import type { KeyquarryClient } from "@keyquarry/client-node";
import type { CommandOutput } from "./command-output.js";
import { formatValue } from "./format-json.js";
import { mapInOrder } from "./map-in-order.js";

/** Keys inspected at once. */
const inFlight = 32;

/**
 * `list --long`: one JSON line per key, in the order listed, from Inspect:
 * size, version, locked, and when set, `expires` (the lifespan's end),
 * `lockExpires` and `lockedByYou`, times as in Inspect's JSON. A key gone before its Inspect is left out.
 */
export async function* listLong(client: KeyquarryClient, keys: AsyncIterable<string>): AsyncGenerator<CommandOutput> {
  const described = mapInOrder(keys, inFlight, async (key) => {
    try {
      return await client.inspect({ key });
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) {
        return undefined;
      }
      throw error;
    }
  });
  for await (const info of described) {
    if (info !== undefined) {
      const line = {
        key: info.key,
        size: info.size,
        version: info.version,
        locked: info.locked === true,
        expires: info.expires && toJson(TimestampSchema, info.expires),
        lockExpires: info.lockExpires && toJson(TimestampSchema, info.lockExpires),
        lockedByYou: info.lockedByYou,
      };
      yield { render: (indent) => formatValue(line, indent) + "\n" };
    }
  }
}
