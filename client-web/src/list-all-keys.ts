import type { CallOptions, Client } from "@connectrpc/connect";
import type { KeyQuarry, ListKeysRequest } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";

/** What {@link listAllKeys} takes: a ListKeys request without a cursor; `limit` bounds the total (0 = every key). */
export type ListAllKeysRequest = Partial<Pick<ListKeysRequest, "pattern" | "limit" | "includeReserved">>;

/**
 * Every matching key, in creation order, fetched page by page: ListKeys is
 * called again with each response's `next_cursor` while it says `more`.
 * A key that exists during the whole listing comes exactly once; keys
 * created meanwhile may or may not come, a key deleted and created again may
 * come twice.
 */
export async function* listAllKeys(
  client: Pick<Client<typeof KeyQuarry>, "listKeys">,
  request: ListAllKeysRequest = {},
  options?: CallOptions,
): AsyncGenerator<string, void, undefined> {
  const { pattern = "", includeReserved = false } = request;
  let remaining = request.limit ?? 0n;
  let cursor = "";
  for (;;) {
    const page = await client.listKeys({ pattern, includeReserved, limit: remaining, cursor }, options);
    for (const key of page.keys) {
      yield key;
    }
    if (remaining > 0n) {
      remaining -= BigInt(page.keys.length);
      if (remaining <= 0n) {
        return;
      }
    }
    if (!page.more) {
      return;
    }
    cursor = page.nextCursor;
  }
}
