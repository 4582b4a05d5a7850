import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { fnv1a64 } from "./fnv1a64.js";
import {
  ADMIN,
  ALICE,
  BOB,
  bytes,
  event,
  expectError,
  info,
  observe,
  put,
  RESERVED,
  SECOND,
  setup,
  T1,
  text,
  TEXT,
  RESERVED_KEYS,
  RESERVED_SIZE,
  list,
} from "./key-value-store.fixture.js";

describe("KeyValueStore", () => {
  describe("delete", () => {
    it("removes the key, adjusts counters and emits DELETED with the caller's id", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      put(store, "other", "12345");
      clock.advance(SECOND);
      expect(store.delete(BOB, "foo")).toBeUndefined();
      expect(store.exists("foo")).toBe(false);
      expect(list(store)).toEqual(["other"]);
      expect(store.stats()).toMatchObject({
        keys: 17n,
        userKeys: 1n,
        totalSize: BigInt(RESERVED_SIZE + 5),
      });
      expect(events.at(-1)).toEqual(event("foo", StoreEventKind.DELETED, T1 + SECOND, BOB));
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");
    });

    it("throws NOT_FOUND for a missing or empty key", () => {
      const { store, events } = setup();
      expectError(() => store.delete(ALICE, "nope"), "NOT_FOUND");
      expectError(() => store.delete(ALICE, ""), "NOT_FOUND");
      expect(events).toEqual([]);
    });

    it("throws RESERVED for reserved keys, existing or not", () => {
      const { store } = setup();
      expectError(() => store.delete(ALICE, "keyquarry/Started"), "RESERVED");
      expectError(() => store.delete(ALICE, "KeyQuarryX"), "RESERVED");
      expect(store.exists("keyquarry/Started")).toBe(true);
    });

    it("checks RESERVED before READONLY before NOT_FOUND", () => {
      const { store } = setup({ readonly: true });
      expectError(() => store.delete(ALICE, "KeyQuarryMissing"), "RESERVED");
      expectError(() => store.delete(ALICE, "missing"), "READONLY");
    });

    it("drops the key's history, so a re-created key starts again at version 1", () => {
      const { store } = setup();
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      store.delete(ALICE, "foo");
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expect(put(store, "foo", "again")).toEqual({ isNew: true });
      expect(info(store, "foo").version).toBe(1n);
    });

    it("keeps history with keep_deleted_key_history; a re-created key continues the numbering", () => {
      const { store, clock } = setup({ keepDeletedKeyHistory: true });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      store.delete(ALICE, "foo");
      expect(store.stats()).toMatchObject({ keys: 16n, historyKeys: 1n, historyRevisions: 2n });
      clock.advance(SECOND);
      expect(put(store, "foo", "v3")).toEqual({ isNew: true });
      expect(info(store, "foo")).toStrictEqual({
        key: "foo",
        hash: fnv1a64(bytes("v3")),
        created: T1 + SECOND,
        version: 3n,
        size: 2n,
        locked: false,
        contentType: TEXT,
      });
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 3n });
    });

    it("starts at version 1 again with keep_deleted_key_history but revision_limit 0", () => {
      const { store } = setup({ keepDeletedKeyHistory: true, revisionLimit: 0 });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      store.delete(ALICE, "foo");
      put(store, "foo", "v3");
      expect(info(store, "foo").version).toBe(1n);
    });
  });

  describe("pop", () => {
    it("returns the value, removes the key and emits ACCESSED then DELETED", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      clock.advance(SECOND);
      expect(text(store.pop(BOB, "foo"))).toBe("bar");
      expect(store.exists("foo")).toBe(false);
      expect(store.stats()).toMatchObject({ keys: 16n, userKeys: 0n, totalSize: BigInt(RESERVED_SIZE) });
      expect(events).toEqual([
        event("foo", StoreEventKind.CREATED, T1),
        event("foo", StoreEventKind.ACCESSED, T1 + SECOND, BOB),
        event("foo", StoreEventKind.DELETED, T1 + SECOND, BOB),
      ]);
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");
    });

    it("checks RESERVED before READONLY before NOT_FOUND", () => {
      const { store } = setup();
      expectError(() => store.pop(ALICE, "keyquarry/Started"), "RESERVED");
      expectError(() => store.pop(ALICE, "missing"), "NOT_FOUND");
      store.setReadOnly(ADMIN, true);
      expectError(() => store.pop(ALICE, "KEYQUARRY-missing"), "RESERVED");
      expectError(() => store.pop(ALICE, "missing"), "READONLY");
    });

    it("drops history unless keep_deleted_key_history", () => {
      const dropped = setup();
      put(dropped.store, "foo", "v1");
      put(dropped.store, "foo", "v2");
      dropped.store.pop(ALICE, "foo");
      expect(dropped.store.stats().historyKeys).toBe(0n);
      put(dropped.store, "foo", "v3");
      expect(info(dropped.store, "foo").version).toBe(1n);

      const kept = setup({ keepDeletedKeyHistory: true });
      put(kept.store, "foo", "v1");
      put(kept.store, "foo", "v2");
      kept.store.pop(ALICE, "foo");
      expect(kept.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      put(kept.store, "foo", "v3");
      expect(info(kept.store, "foo").version).toBe(3n);
    });
  });

  describe("clear", () => {
    it("removes only user keys and returns how many", () => {
      const { store } = setup();
      put(store, "a", "1");
      put(store, "b", "22");
      put(store, "c", "333");
      expect(store.clear(BOB, false)).toBe(3n);
      expect(list(store)).toEqual([]);
      expect(list(store, { includeReserved: true })).toEqual(RESERVED_KEYS);
      expect(store.stats()).toMatchObject({ keys: 16n, userKeys: 0n });
    });

    it("emits one DELETED per removed key with the caller's id and one time", () => {
      const { store, clock, events } = setup();
      put(store, "a", "1");
      put(store, "b", "2");
      clock.advance(SECOND);
      events.length = 0;
      store.clear(BOB, false);
      expect(events).toEqual([
        event("a", StoreEventKind.DELETED, T1 + SECOND, BOB),
        event("b", StoreEventKind.DELETED, T1 + SECOND, BOB),
      ]);
      expect(store.stats().events[StoreEventKind.DELETED]).toBe(2n);
    });

    it("keeps total_size equal to the reserved keys' values (the original reset it to 0)", () => {
      const { store } = setup();
      put(store, "a", "12345");
      put(store, "b", "123");
      store.clear(ALICE, false);
      expect(store.stats().totalSize).toBe(BigInt(RESERVED_SIZE));
      put(store, "c", "12");
      expect(store.stats().totalSize).toBe(BigInt(RESERVED_SIZE + 2));
    });

    it("returns 0 and emits nothing on a store without user keys", () => {
      const { store, events } = setup();
      expect(store.clear(ALICE, false)).toBe(0n);
      expect(events).toEqual([]);
      expect(store.stats().totalSize).toBe(BigInt(RESERVED_SIZE));
    });

    it("works without reserved keys (total size back to 0)", () => {
      const { store } = setup({}, { reserved: false });
      put(store, "a", "1");
      expect(store.clear(ALICE, false)).toBe(1n);
      expect(store.stats()).toMatchObject({ keys: 0n, userKeys: 0n, totalSize: 0n });
    });

    it("drops the removed keys' history like Delete does: unless keep_deleted_key_history", () => {
      const dropped = setup();
      put(dropped.store, "foo", "v1");
      put(dropped.store, "foo", "v2");
      dropped.store.clear(ALICE, false);
      expect(dropped.store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      put(dropped.store, "foo", "v3");
      expect(info(dropped.store, "foo").version).toBe(1n);

      const kept = setup({ keepDeletedKeyHistory: true });
      put(kept.store, "foo", "v1");
      put(kept.store, "foo", "v2");
      kept.store.clear(ALICE, false);
      expect(kept.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      put(kept.store, "foo", "v3");
      expect(info(kept.store, "foo").version).toBe(3n);
    });

    it("throws READONLY in read-only mode and removes nothing", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      store.setReadOnly(ADMIN, true);
      const before = observe(store);
      events.length = 0;
      expectError(() => store.clear(ALICE, false), "READONLY");
      expect(observe(store)).toStrictEqual(before);
      expect(events).toEqual([]);
    });

    it("lets the store be refilled afterwards", () => {
      const { store } = setup({ maxKeys: 2 });
      put(store, "a", "1");
      put(store, "b", "2");
      store.clear(ALICE, false);
      put(store, "c", "3");
      put(store, "d", "4");
      expect(list(store)).toEqual(["c", "d"]);
    });
  });
});
