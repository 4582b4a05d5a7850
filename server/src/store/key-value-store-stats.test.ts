import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  bytes,
  event,
  eventCounts,
  expectError,
  info,
  observe,
  put,
  setup,
  text,
  RESERVED_SIZE,
  list,
} from "./key-value-store.fixture.js";
import { StoreError } from "./store-error.js";

describe("KeyValueStore", () => {
  describe("stats", () => {
    it("reports the reserved keys right after start", () => {
      const { store } = setup();
      expect(store.stats()).toStrictEqual({
        keys: 16n,
        userKeys: 0n,
        totalSize: BigInt(RESERVED_SIZE),
        currentLocks: 0n,
        lifespans: 0n,
        clientIds: 0n,
        maxKeys: 0n,
        events: eventCounts({ [StoreEventKind.CREATED]: 16n }),
        pruneCompleted: 0n,
        eagerPruneTriggered: 0n,
        historyKeys: 0n,
        historyRevisions: 0n,
      });
    });

    it("is all zeros on a store without reserved keys", () => {
      const { store } = setup({}, { reserved: false });
      expect(store.stats()).toStrictEqual({
        keys: 0n,
        userKeys: 0n,
        totalSize: 0n,
        currentLocks: 0n,
        lifespans: 0n,
        clientIds: 0n,
        maxKeys: 0n,
        events: eventCounts({}),
        pruneCompleted: 0n,
        eagerPruneTriggered: 0n,
        historyKeys: 0n,
        historyRevisions: 0n,
      });
    });

    it("counts every kind of event", () => {
      const { store } = setup();
      put(store, "a", "1"); // CREATED
      put(store, "b", "2"); // CREATED
      put(store, "c", "3"); // CREATED
      put(store, "a", "11"); // UPDATED
      put(store, "a", "11"); // same value: nothing
      store.get(ALICE, "a"); // ACCESSED
      store.inspect(ALICE, "a", { value: true }); // ACCESSED
      store.inspect(ALICE, "a", {}); // nothing
      store.exists("a"); // nothing
      store.delete(ALICE, "b"); // DELETED
      store.pop(ALICE, "c"); // ACCESSED + DELETED
      put(store, "d", "4"); // CREATED
      put(store, "e", "5"); // CREATED
      store.clear(ALICE, false); // DELETED × 3 (a, d, e)
      expect(() => store.get(ALICE, "a")).toThrow(StoreError); // failed: nothing
      list(store);
      store.stats();
      expect(store.stats().events).toEqual(
        eventCounts({
          [StoreEventKind.CREATED]: 21n,
          [StoreEventKind.UPDATED]: 1n,
          [StoreEventKind.DELETED]: 5n,
          [StoreEventKind.ACCESSED]: 3n,
        }),
      );
    });

    it("reports max_keys, registered clients and history", () => {
      const { store } = setup({ maxKeys: 10 });
      store.register("c1");
      store.register("c2");
      put(store, "a", "1");
      put(store, "a", "2");
      put(store, "b", "1");
      expect(store.stats()).toStrictEqual({
        keys: 18n,
        userKeys: 2n,
        totalSize: BigInt(RESERVED_SIZE + 2),
        currentLocks: 0n,
        lifespans: 0n,
        clientIds: 2n,
        maxKeys: 10n,
        events: eventCounts({ [StoreEventKind.CREATED]: 18n, [StoreEventKind.UPDATED]: 1n }),
        pruneCompleted: 0n,
        eagerPruneTriggered: 0n,
        historyKeys: 2n,
        historyRevisions: 3n,
      });
    });

    it("returns a snapshot, not live counters", () => {
      const { store } = setup();
      const before = store.stats();
      put(store, "a", "1");
      expect(before.keys).toBe(16n);
      expect(before.events[StoreEventKind.CREATED]).toBe(16n);
      expect(store.stats().events[StoreEventKind.CREATED]).toBe(17n);
    });
  });

  describe("max_keys", () => {
    it("counts user keys only: the (max+1)-th user key fails with MAX_KEYS", () => {
      const { store, events } = setup({ maxKeys: 3 });
      put(store, "a", "1");
      put(store, "b", "2");
      put(store, "c", "3");
      const before = observe(store);
      events.length = 0;
      expectError(() => put(store, "d", "4"), "MAX_KEYS", "the limit is 3 (max_keys)");
      expect(store.exists("d")).toBe(false);
      expect(observe(store)).toStrictEqual(before);
      expect(events).toEqual([]);
      expect(store.stats()).toMatchObject({ keys: 19n, userKeys: 3n, maxKeys: 3n });
    });

    it("allows all user keys even when there are more reserved keys than max_keys", () => {
      const { store } = setup({ maxKeys: 2 });
      expect(store.stats().keys).toBe(16n);
      put(store, "a", "1");
      put(store, "b", "2");
      expectError(() => put(store, "c", "3"), "MAX_KEYS", "the limit is 2 (max_keys)");
      expect(list(store)).toEqual(["a", "b"]);
    });

    it("still updates existing keys at the limit", () => {
      const { store } = setup({ maxKeys: 1 });
      put(store, "a", "1");
      expect(put(store, "a", "2")).toEqual({ isNew: false });
      expect(put(store, "a", "2")).toEqual({ isNew: false });
      expect(text(store.get(ALICE, "a"))).toBe("2");
      expect(info(store, "a").version).toBe(2n);
    });

    it("frees a slot when a key is deleted or popped", () => {
      const { store } = setup({ maxKeys: 1 });
      put(store, "a", "1");
      store.delete(ALICE, "a");
      expect(put(store, "b", "2")).toEqual({ isNew: true });
      store.pop(ALICE, "b");
      expect(put(store, "c", "3")).toEqual({ isNew: true });
      expectError(() => put(store, "d", "4"), "MAX_KEYS", "the limit is 1 (max_keys)");
    });

    it("checks key length and value size before capacity", () => {
      const { store } = setup({ maxKeys: 1, maxKeyLength: 3, maxValueSize: 3 });
      put(store, "a", "1");
      expectError(() => put(store, "long", "1"), "KEY_TOO_LONG", "4 bytes, the limit is 3 (max_key_length)");
      expectError(() => put(store, "b", "1234"), "VALUE_TOO_LARGE", "4 bytes, the limit is 3 (max_value_size)");
      expectError(() => put(store, "b", "1"), "MAX_KEYS", "the limit is 1 (max_keys)");
    });

    it("checks READONLY before capacity", () => {
      const { store } = setup({ maxKeys: 1 });
      put(store, "a", "1");
      store.setReadOnly(ADMIN, true);
      expectError(() => put(store, "b", "1"), "READONLY");
    });

    it("means no limit when 0", () => {
      const { store } = setup({ maxKeys: 0 });
      for (let i = 0; i < 100; i++) {
        put(store, `k${i}`, "v");
      }
      expect(store.stats()).toMatchObject({ keys: 116n, userKeys: 100n, maxKeys: 0n });
    });
  });
});
