import { StoreEventKind } from "../store/store-event-kind.js";
import { describe, expect, it } from "vitest";
import type { StoreEvent } from "../store/store-event.js";
import { EventLog } from "./event-log.js";

/** An event with `revision`, carrying a value of `size` bytes (or no value). */
function event(revision: number, size?: number): StoreEvent {
  const base = { revision: BigInt(revision), key: `k${revision}`, time: BigInt(revision), clientId: "c" };
  return size === undefined
    ? { ...base, event: StoreEventKind.ACCESSED }
    : {
        ...base,
        event: StoreEventKind.UPDATED,
        value: {
          // The log counts bytes by size: a value it read would have to be made (see LazyValueSnapshot).
          get value(): Uint8Array {
            throw new Error("the event log must not read values");
          },
          size,
          hash: 0n,
          version: 1n,
          contentType: "",
        },
      };
}

/** Appends events `from`..`to` (inclusive), each with a value of `size` bytes (or none). */
function appendRange(log: EventLog, from: number, to: number, size?: number): void {
  for (let revision = from; revision <= to; revision++) {
    log.append(event(revision, size));
  }
}

const revisions = (events: readonly StoreEvent[] | undefined) => events?.map((e) => Number(e.revision));

describe("EventLog", () => {
  it("is empty at first: nothing to replay, and the oldest revision is the next one", () => {
    const log = new EventLog(4, 1024, 1n);
    expect(log.length).toBe(0);
    expect(log.since(0n)).toEqual([]);
    expect(log.oldestRevision()).toBe(1n);
    const later = new EventLog(4, 1024, 17n);
    expect(later.oldestRevision()).toBe(17n);
    expect(later.since(16n)).toEqual([]);
    expect(later.since(15n)).toBeUndefined();
  });

  it("returns the events after a revision, oldest first, the very same objects", () => {
    const log = new EventLog(10, 1024, 1n);
    const events = [event(1), event(2, 3), event(3)];
    events.forEach((e) => log.append(e));
    expect(log.since(0n)).toEqual(events);
    expect(log.since(0n)![1]).toBe(events[1]);
    expect(revisions(log.since(1n))).toEqual([2, 3]);
    expect(revisions(log.since(2n))).toEqual([3]);
    expect(log.since(3n)).toEqual([]);
    expect(log.oldestRevision()).toBe(1n);
  });

  it("returns nothing (not undefined) for a revision at or past the newest", () => {
    const log = new EventLog(4, 1024, 1n);
    appendRange(log, 1, 3);
    expect(log.since(3n)).toEqual([]);
    expect(log.since(100n)).toEqual([]);
  });

  it("keeps at most `capacity` events, evicting the oldest", () => {
    const log = new EventLog(3, 1024, 1n);
    appendRange(log, 1, 5);
    expect(log.oldestRevision()).toBe(3n);
    expect(log.length).toBe(3);
    expect(revisions(log.since(2n))).toEqual([3, 4, 5]);
    expect(revisions(log.since(4n))).toEqual([5]);
  });

  it("answers undefined as soon as one requested event is no longer held", () => {
    const log = new EventLog(3, 1024, 1n);
    appendRange(log, 1, 5);
    // Events 3..5 are held: after 2 is complete, after 1 would need 2, which is gone.
    expect(log.since(2n)).toBeDefined();
    expect(log.since(1n)).toBeUndefined();
    expect(log.since(0n)).toBeUndefined();
  });

  it("stays contiguous through many wrap-arounds of the ring", () => {
    const log = new EventLog(7, 1 << 20, 1n);
    for (let revision = 1; revision <= 1000; revision++) {
      log.append(event(revision, revision % 3 === 0 ? 5 : undefined));
      const oldest = Math.max(1, revision - 6);
      expect(log.oldestRevision()).toBe(BigInt(oldest));
      for (let after = oldest - 1; after <= revision; after++) {
        const expected = Array.from({ length: revision - after }, (_, i) => after + 1 + i);
        expect(revisions(log.since(BigInt(after)))).toEqual(expected);
      }
      expect(log.since(BigInt(oldest - 2))).toBeUndefined();
    }
  });

  it("evicts the oldest events while the values held exceed the byte budget", () => {
    const log = new EventLog(100, 10, 1n);
    appendRange(log, 1, 2, 4); // 8 bytes
    expect(log.oldestRevision()).toBe(1n);
    log.append(event(3, 4)); // 12 bytes > 10: event 1 goes
    expect(log.oldestRevision()).toBe(2n);
    expect(revisions(log.since(1n))).toEqual([2, 3]);
    log.append(event(4, 10)); // 18 bytes: 2 and 3 go
    expect(revisions(log.since(3n))).toEqual([4]);
    expect(log.since(2n)).toBeUndefined();
  });

  it("does not count events without a value against the byte budget", () => {
    const log = new EventLog(100, 10, 1n);
    log.append(event(1, 10));
    appendRange(log, 2, 50);
    expect(log.oldestRevision()).toBe(1n);
    expect(log.since(0n)).toHaveLength(50);
  });

  it("keeps the newest event even when its value alone exceeds the budget", () => {
    const log = new EventLog(100, 10, 1n);
    appendRange(log, 1, 3, 2);
    log.append(event(4, 50));
    expect(log.oldestRevision()).toBe(4n);
    expect(revisions(log.since(3n))).toEqual([4]);
    expect(log.since(2n)).toBeUndefined();
    // The next event pushes the oversized one out.
    log.append(event(5, 1));
    expect(revisions(log.since(4n))).toEqual([5]);
  });

  it("frees the bytes of events evicted for capacity", () => {
    const log = new EventLog(2, 10, 1n);
    appendRange(log, 1, 3, 4); // capacity keeps 2 and 3: 8 bytes held
    log.append(event(4, 2)); // capacity evicts 2: 4 + 2 = 6 bytes
    log.append(event(5, 5)); // capacity evicts 3: 2 + 5 = 7 bytes, within budget
    expect(revisions(log.since(3n))).toEqual([4, 5]);
    // Had evicted bytes not been freed, the budget would have pushed event 4 out too.
    log.append(event(6, 3)); // capacity evicts 4: 5 + 3 = 8 bytes
    expect(revisions(log.since(4n))).toEqual([5, 6]);
  });

  it("holds a single event with capacity 1", () => {
    const log = new EventLog(1, 1024, 1n);
    appendRange(log, 1, 3, 1);
    expect(log.oldestRevision()).toBe(3n);
    expect(revisions(log.since(2n))).toEqual([3]);
    expect(log.since(1n)).toBeUndefined();
  });

  // Regression: a ring of capacity 0 once crashed on the first append.
  it("accepts a capacity of 0 (event_log_size: 0): holds nothing, refuses every resume", () => {
    const log = new EventLog(0, 1024, 1n);
    expect(() => log.append(event(1))).not.toThrow();
    expect(log.since(0n)).toBeUndefined();
    expect(log.since(1n)).toEqual([]);
  });
});
