import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { StoreEventKind, storeEventKinds } from "../store/store-event-kind.js";

/** The protocol's KeyEvent of each store event kind, indexed by kind. */
const keyEvents: readonly KeyEvent[] = (() => {
  const table: Record<StoreEventKind, KeyEvent> = {
    [StoreEventKind.CREATED]: KeyEvent.CREATED,
    [StoreEventKind.UPDATED]: KeyEvent.UPDATED,
    [StoreEventKind.DELETED]: KeyEvent.DELETED,
    [StoreEventKind.EXPIRED]: KeyEvent.EXPIRED,
    [StoreEventKind.LOCKED]: KeyEvent.LOCKED,
    [StoreEventKind.UNLOCKED]: KeyEvent.UNLOCKED,
    [StoreEventKind.EXPUNGED]: KeyEvent.EXPUNGED,
    [StoreEventKind.ACCESSED]: KeyEvent.ACCESSED,
    [StoreEventKind.LIFESPAN_SET]: KeyEvent.LIFESPAN_SET,
    [StoreEventKind.LIFESPAN_RENEWED]: KeyEvent.LIFESPAN_RENEWED,
  };
  return storeEventKinds.map((kind) => table[kind]);
})();

/** The protocol's KeyEvent of a store event kind (an array load: it runs for every event sent). */
export function keyEventOf(kind: StoreEventKind): KeyEvent {
  return keyEvents[kind]!;
}
