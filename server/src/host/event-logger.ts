import type { LogFn } from "pino";
import { StoreEventKind } from "../store/store-event-kind.js";
import type { StoreEvent } from "../store/store-event.js";

/** The message of each event kind's log line, as the original worded them. */
const messages: Record<StoreEventKind, string> = {
  [StoreEventKind.CREATED]: "created new key",
  [StoreEventKind.UPDATED]: "updated key",
  [StoreEventKind.DELETED]: "deleted key",
  [StoreEventKind.EXPIRED]: "expired key",
  [StoreEventKind.LOCKED]: "locked key",
  [StoreEventKind.UNLOCKED]: "unlocked key",
  [StoreEventKind.EXPUNGED]: "expunged key",
  [StoreEventKind.ACCESSED]: "accessed key",
  [StoreEventKind.LIFESPAN_SET]: "lifespan set",
  [StoreEventKind.LIFESPAN_RENEWED]: "lifespan renewed",
};

/**
 * A store listener (`store.subscribe`) writing each key event as one
 * structured line: `event` = {key, kind, revision, clientId, time (ISO 8601)}.
 * Never the value: values are the users' data, and may be large.
 */
export function eventLogger(log: LogFn): (event: StoreEvent) => void {
  return (event) => {
    log(
      {
        event: {
          key: event.key,
          kind: StoreEventKind[event.event],
          // A string: not every log reader keeps 64-bit integers exact.
          revision: String(event.revision),
          clientId: event.clientId,
          time: new Date(Number(event.time / 1_000_000n)).toISOString(),
        },
      },
      messages[event.event],
    );
  };
}
