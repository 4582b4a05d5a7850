import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import {
  ALICE,
  BOB,
  baseOptions,
  bytes,
  event,
  eventCounts,
  expectError,
  info,
  put,
  record,
  SECOND,
  setup,
  T0,
  T1,
  text,
  type RecordedEvent,
  HASH_BAR,
  RESERVED_SIZE,
} from "./key-value-store.fixture.js";
import { KeyValueStore } from "./key-value-store.js";

describe("KeyValueStore", () => {
  describe("subscribe", () => {
    it("delivers events in order with key, event, time and client id", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar", { clientId: ALICE });
      clock.advance(SECOND);
      put(store, "foo", "baz", { clientId: BOB });
      clock.advance(SECOND);
      store.get("carol", "foo");
      clock.advance(SECOND);
      store.inspect(ALICE, "foo", { value: true });
      put(store, "tmp", "x", { clientId: BOB });
      clock.advance(SECOND);
      store.pop(BOB, "tmp");
      clock.advance(SECOND);
      store.delete(ALICE, "foo");
      put(store, "c1", "1");
      clock.advance(SECOND);
      store.clear("carol", false);
      expect(events).toEqual([
        { key: "foo", event: StoreEventKind.CREATED, time: T1, clientId: ALICE },
        { key: "foo", event: StoreEventKind.UPDATED, time: T1 + SECOND, clientId: BOB },
        { key: "foo", event: StoreEventKind.ACCESSED, time: T1 + 2n * SECOND, clientId: "carol" },
        { key: "foo", event: StoreEventKind.ACCESSED, time: T1 + 3n * SECOND, clientId: ALICE },
        { key: "tmp", event: StoreEventKind.CREATED, time: T1 + 3n * SECOND, clientId: BOB },
        { key: "tmp", event: StoreEventKind.ACCESSED, time: T1 + 4n * SECOND, clientId: BOB },
        { key: "tmp", event: StoreEventKind.DELETED, time: T1 + 4n * SECOND, clientId: BOB },
        { key: "foo", event: StoreEventKind.DELETED, time: T1 + 5n * SECOND, clientId: ALICE },
        { key: "c1", event: StoreEventKind.CREATED, time: T1 + 5n * SECOND, clientId: ALICE },
        { key: "c1", event: StoreEventKind.DELETED, time: T1 + 6n * SECOND, clientId: "carol" },
      ]);
    });

    it("delivers synchronously, before the operation returns", () => {
      const { store } = setup();
      const seen: string[] = [];
      store.subscribe((e) => seen.push(`${e.key}:${StoreEventKind[e.event]}`));
      put(store, "foo", "bar");
      expect(seen).toEqual(["foo:CREATED"]);
    });

    it("delivers to every listener; an unsubscribed one receives nothing more", () => {
      const { store } = setup();
      const first: RecordedEvent[] = [];
      const second: RecordedEvent[] = [];
      const unsubscribeFirst = store.subscribe((e) => first.push(record(e)));
      store.subscribe((e) => second.push(record(e)));
      put(store, "a", "1");
      unsubscribeFirst();
      put(store, "b", "2");
      store.get(ALICE, "b");
      expect(first).toEqual([event("a", StoreEventKind.CREATED, T1)]);
      expect(second).toEqual([
        event("a", StoreEventKind.CREATED, T1),
        event("b", StoreEventKind.CREATED, T1),
        event("b", StoreEventKind.ACCESSED, T1),
      ]);
      unsubscribeFirst(); // a second call is harmless
      put(store, "c", "3");
      expect(first).toHaveLength(1);
      expect(second).toHaveLength(4);
    });

    it("lets a listener unsubscribe itself while an event is delivered", () => {
      const { store, events } = setup();
      const once: RecordedEvent[] = [];
      const unsubscribe = store.subscribe((e) => {
        once.push(record(e));
        unsubscribe();
      });
      put(store, "a", "1");
      put(store, "b", "2");
      expect(once).toEqual([event("a", StoreEventKind.CREATED, T1)]);
      expect(events).toHaveLength(2);
    });

    it("counts events even with no listener", () => {
      const clock = new ManualClock(T0);
      const store = new KeyValueStore(baseOptions, clock);
      store.set(ALICE, { key: "a", value: bytes("1"), contentType: "" });
      store.get(ALICE, "a");
      expect(store.stats().events).toEqual(eventCounts({ [StoreEventKind.CREATED]: 1n, [StoreEventKind.ACCESSED]: 1n }));
    });
  });

  describe("end to end (original TestKeyValueStore)", () => {
    it("runs the original scenario", () => {
      const { store, clock } = setup();
      expect(store.stats().keys).toBe(16n);

      expect(put(store, "foo", "bar")).toEqual({ isNew: true });
      expect(text(store.get(ALICE, "foo"))).toBe("bar");
      const created = info(store, "foo");
      expect(created).toMatchObject({ version: 1n, size: 3n, hash: HASH_BAR, created: T1 });
      expect(created.updated).toBeUndefined();

      clock.advance(SECOND);
      expect(put(store, "foo", "bazz")).toEqual({ isNew: false });
      const updated = info(store, "foo");
      expect(updated).toMatchObject({ version: 2n, size: 4n, created: T1, updated: T1 + SECOND });
      expect(updated.hash).not.toBe(HASH_BAR);

      put(store, "other", "x");
      store.delete(ALICE, "other");
      expect(text(store.pop(ALICE, "foo"))).toBe("bazz");
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");

      put(store, "foo", "bar");
      expect(store.clear(ALICE, false)).toBe(1n);
      expect(store.stats()).toMatchObject({ keys: 16n, userKeys: 0n, totalSize: BigInt(RESERVED_SIZE) });
    });
  });
});
