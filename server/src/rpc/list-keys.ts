import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Config } from "../config/config.js";
import { coversKey } from "../auth/identity.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { decodeListKeysCursor, encodeListKeysCursor } from "./list-keys-cursor.js";
import type { CallContext, UnaryOperation } from "./unary-operations.js";

/** The options ListKeys reads. */
export type ListKeysOptions = Pick<Config, "maxScanDuration" | "maxListKeysResponseSize">;

// How long one slice of a scan may hold the event loop before other requests get their turn.
const sliceMs = 4;
// Room left in a page for next_cursor and more.
const pageOverhead = 32;

/**
 * ListKeys: one page of matching keys, found in time-budgeted slices of the
 * store's scan that yield to the event loop in between, so other calls are
 * answered while it runs. The page ends at the request's limit, at
 * max_list_keys_response_size or after max_scan_duration, with `more` and a
 * cursor to continue; the call's deadline (or the client going away) ends
 * it with that error.
 */
export function listKeysOperation(store: KeyValueStore, options: ListKeysOptions): UnaryOperation<typeof KeyQuarry.method.listKeys> {
  const maxScanMs = Number(options.maxScanDuration) / 1e6;
  const maxBytes = Math.max(0, options.maxListKeysResponseSize - pageOverhead);
  return async (request, { identity }, call) => {
    // A caller limited to key prefixes sees only its keys; filtered in the scan, so pages stay full and cursors valid.
    const permitted = identity === undefined ? undefined : (key: string) => coversKey(identity, key);
    const pattern = store.keyPattern(request.pattern);
    const maxKeys = request.limit === 0n ? Infinity : Number(request.limit);
    let after = decodeListKeysCursor(request.cursor);
    const capAt = performance.now() + maxScanMs;
    let keys: string[] = [];
    let bytes = 0;
    for (;;) {
      const sliceEnd = Math.min(performance.now() + sliceMs, capAt);
      const step = store.scanKeys(
        { pattern, includeReserved: request.includeReserved, after, permitted },
        {
          maxKeys: maxKeys - keys.length,
          maxBytes: maxBytes - bytes,
          pageEmpty: keys.length === 0,
          expired: () => performance.now() >= sliceEnd,
        },
      );
      // concat, not push(...): a step may return more keys than a call takes arguments.
      keys = keys.length === 0 ? step.keys : keys.concat(step.keys);
      bytes += step.bytes;
      after = step.after;
      if (step.end === "last") {
        return { keys };
      }
      if (step.end === "full" || performance.now() >= capAt) {
        return { keys, nextCursor: encodeListKeysCursor(after), more: true };
      }
      await nextTurn();
      throwIfAborted(call);
    }
  };
}

function throwIfAborted({ signal }: CallContext): void {
  if (signal.aborted) {
    throw signal.reason instanceof ConnectError ? signal.reason : new ConnectError("the call was cancelled", Code.Canceled);
  }
}
