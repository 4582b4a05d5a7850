import type { KeyEntry } from "./key-entry.js";
import type { StoreEventKind } from "./store-event-kind.js";
import { valueEvents, type StoreEvent } from "./store-event.js";

/**
 * Numbers the store's events (the revision) and hands each to the
 * subscribers, synchronously and in revision order. An event nobody listens
 * to only advances the revision: no record is built.
 */
export class EventFanout {
  // A number, not a bigint: a bigint increment allocates, and this runs on every event.
  private latest = 0;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  /** Revision of the latest event (0 before the first). */
  get revision(): number {
    return this.latest;
  }

  /** Continues the numbering of a restored snapshot. */
  restore(revision: bigint): void {
    this.latest = Number(revision);
  }

  /** Calls `listener` for every event from now on; returns an unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Numbers the next event of `entry` and calls every listener with it. */
  publish(entry: KeyEntry, kind: StoreEventKind, clientId: string, time: bigint, lockOwner: string | undefined): void {
    const revision = ++this.latest;
    if (this.listeners.size === 0) {
      return;
    }
    const { key } = entry;
    const record: StoreEvent = valueEvents.has(kind)
      ? { revision: BigInt(revision), key, event: kind, time, clientId, value: entry.snapshot(), lockOwner }
      : { revision: BigInt(revision), key, event: kind, time, clientId };
    for (const listener of this.listeners) {
      listener(record);
    }
  }
}
