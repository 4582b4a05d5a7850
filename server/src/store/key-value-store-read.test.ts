import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  bytes,
  event,
  expectError,
  info,
  put,
  SECOND,
  setup,
  T1,
  text,
  TEXT,
  HASH_BAR,
  HASH_BAZ,
} from "./key-value-store.fixture.js";

describe("KeyValueStore", () => {
  describe("get", () => {
    it("returns the value and emits ACCESSED with the caller's id", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      clock.advance(SECOND);
      expect(text(store.get(BOB, "foo"))).toBe("bar");
      expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1), event("foo", StoreEventKind.ACCESSED, T1 + SECOND, BOB)]);
    });

    it("throws NOT_FOUND for a missing or empty key, without an event", () => {
      const { store, events } = setup();
      expectError(() => store.get(ALICE, "nope"), "NOT_FOUND");
      expectError(() => store.get(ALICE, ""), "NOT_FOUND");
      expect(events).toEqual([]);
    });

    it("reads reserved keys", () => {
      const { store, events } = setup();
      expect(text(store.get(ALICE, "keyquarry/RevisionLimit"))).toBe("5");
      expect(events).toEqual([event("keyquarry/RevisionLimit", StoreEventKind.ACCESSED, T1)]);
    });

    it("is case-sensitive on key names", () => {
      const { store } = setup();
      put(store, "Foo", "bar");
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");
    });
  });

  describe("inspect", () => {
    it("without include_value: no value and no event", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      const result = store.inspect(BOB, "foo", {});
      expect(result).not.toHaveProperty("value");
      expect(result).not.toHaveProperty("updated");
      expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1)]);
    });

    it("with include_value: the value and an ACCESSED event", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      clock.advance(SECOND);
      expect(store.inspect(BOB, "foo", { value: true })).toStrictEqual({
        key: "foo",
        hash: HASH_BAR,
        created: T1,
        version: 1n,
        size: 3n,
        locked: false,
        contentType: TEXT,
        value: bytes("bar"),
      });
      expect(events.at(-1)).toEqual(event("foo", StoreEventKind.ACCESSED, T1 + SECOND, BOB));
      expect(events).toHaveLength(2);
    });

    it("reports `updated` only after the first value change", () => {
      const { store, clock } = setup();
      put(store, "foo", "bar");
      expect(info(store, "foo").updated).toBeUndefined();
      clock.advance(7n * SECOND);
      put(store, "foo", "baz");
      expect(info(store, "foo")).toStrictEqual({
        key: "foo",
        hash: HASH_BAZ,
        created: T1,
        updated: T1 + 7n * SECOND,
        version: 2n,
        size: 3n,
        locked: false,
        contentType: TEXT,
      });
    });

    it("throws NOT_FOUND for a missing key, with or without value, and emits nothing", () => {
      const { store, events } = setup();
      expectError(() => store.inspect(ALICE, "nope", {}), "NOT_FOUND");
      expectError(() => store.inspect(ALICE, "nope", { value: true }), "NOT_FOUND");
      expect(events).toEqual([]);
    });

    it("reports the size of an empty value as 0", () => {
      const { store } = setup();
      put(store, "foo", "");
      expect(store.inspect(ALICE, "foo", { value: true })).toMatchObject({ size: 0n, value: new Uint8Array(0) });
    });
  });

  describe("exists", () => {
    it("tells whether a key exists, reserved keys included, without events", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      events.length = 0;
      expect(store.exists("foo")).toBe(true);
      expect(store.exists("nope")).toBe(false);
      expect(store.exists("")).toBe(false);
      expect(store.exists("FOO")).toBe(false);
      expect(store.exists("keyquarry/Started")).toBe(true);
      expect(events).toEqual([]);
    });

    it("is false after a delete", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      store.delete(ALICE, "foo");
      expect(store.exists("foo")).toBe(false);
    });
  });
});
