import { StoreEventKind } from "./store-event-kind.js";

/** Client id the store uses for changes it makes itself (startup keys, expiry, pruning). */
export const serverClientId = "keyquarry";

/**
 * The events that change what a watcher of a key's value sees; they carry
 * the value at the event (StoreEvent.value).
 */
export const valueEvents: ReadonlySet<StoreEventKind> = new Set([
  StoreEventKind.CREATED,
  StoreEventKind.UPDATED,
  StoreEventKind.DELETED,
  StoreEventKind.EXPIRED,
  StoreEventKind.EXPUNGED,
  StoreEventKind.UNLOCKED,
]);

/** A key's value as it was at an event. */
export interface ValueSnapshot {
  readonly value: Uint8Array;
  /** value.length, known without reading value (which may have to be made). */
  readonly size: number;
  readonly hash: bigint;
  readonly version: bigint;
  readonly contentType: string;
}

/** One state change of a key, in the order changes happen. */
export interface StoreEvent {
  /** Server-wide sequence number: one more than the previous event's. */
  readonly revision: bigint;
  readonly key: string;
  readonly event: StoreEventKind;
  /** Nanoseconds since the Unix epoch. */
  readonly time: bigint;
  /** Client id that caused the change. */
  readonly clientId: string;
  /**
   * The value at the event, for events watchers of a value need:
   * CREATED, UPDATED, DELETED, EXPIRED, EXPUNGED and UNLOCKED.
   */
  readonly value?: ValueSnapshot;
  /** Who held the key's lock at the event, if anyone (with `value`). */
  readonly lockOwner?: string;
}
