import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  bytes,
  event,
  expectError,
  observe,
  put,
  setup,
  T1,
  text,
  list,
} from "./key-value-store.fixture.js";

describe("KeyValueStore", () => {
  describe("register", () => {
    it("records a client id and counts it", () => {
      const { store, events } = setup();
      expect(store.register(ALICE)).toBeUndefined();
      expect(store.register(BOB)).toBeUndefined();
      expect(store.stats().clientIds).toBe(2n);
      expect(events).toEqual([]);
    });

    it("throws ALREADY_REGISTERED for a second Register of the same id", () => {
      const { store } = setup();
      store.register(ALICE);
      expectError(() => store.register(ALICE), "ALREADY_REGISTERED");
      expect(store.stats().clientIds).toBe(1n);
      expect(store.register("Alice")).toBeUndefined(); // ids are case-sensitive
      expect(store.stats().clientIds).toBe(2n);
    });

    it("is not required by other operations", () => {
      const { store } = setup();
      expect(put(store, "foo", "bar", { clientId: "never-registered" })).toEqual({ isNew: true });
      expect(store.stats().clientIds).toBe(0n);
    });
  });

  describe("read-only mode", () => {
    it("SetReadOnly throws NO_PRIVILEGED when no privileged id is configured", () => {
      const { store } = setup({ privilegedClientId: "" });
      expectError(() => store.setReadOnly(ADMIN, true), "NO_PRIVILEGED");
      expectError(() => store.setReadOnly("", true), "NO_PRIVILEGED");
      expect(store.readonly).toBe(false);
    });

    it.each([ALICE, "Admin", "admin ", ""])("SetReadOnly throws NOT_AUTHORIZED for %j", (clientId) => {
      const { store } = setup();
      expectError(() => store.setReadOnly(clientId, true), "NOT_AUTHORIZED");
      expect(store.readonly).toBe(false);
    });

    it("the privileged client turns it on and off, without events", () => {
      const { store, events } = setup();
      expect(store.readonly).toBe(false);
      expect(store.setReadOnly(ADMIN, true)).toBeUndefined();
      expect(store.readonly).toBe(true);
      store.setReadOnly(ADMIN, true);
      expect(store.readonly).toBe(true);
      store.setReadOnly(ADMIN, false);
      expect(store.readonly).toBe(false);
      expect(put(store, "foo", "bar")).toEqual({ isNew: true });
      expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1)]);
    });

    it("starts read-only when configured so, and can be turned off", () => {
      const { store } = setup({ readonly: true });
      expect(store.readonly).toBe(true);
      expectError(() => put(store, "foo", "bar"), "READONLY");
      store.setReadOnly(ADMIN, false);
      expect(put(store, "foo", "bar")).toEqual({ isNew: true });
    });

    it("refuses Set, Delete, Pop and Clear without changing anything", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      store.setReadOnly(ADMIN, true);
      const before = observe(store);
      events.length = 0;
      expectError(() => put(store, "foo", "changed"), "READONLY");
      expectError(() => put(store, "foo", "bar"), "READONLY"); // even an unchanged value
      expectError(() => put(store, "new", "v"), "READONLY");
      expectError(() => put(store, "new", "v", { clientId: ADMIN }), "READONLY");
      expectError(() => store.delete(ALICE, "foo"), "READONLY");
      expectError(() => store.pop(ALICE, "foo"), "READONLY");
      expectError(() => store.clear(ALICE, false), "READONLY");
      expect(observe(store)).toStrictEqual(before);
      expect(events).toEqual([]);
    });

    it("allows Get, Inspect, Exists, ListKeys, Stats, Register and SetReadOnly", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      store.setReadOnly(ADMIN, true);
      events.length = 0;
      expect(text(store.get(ALICE, "foo"))).toBe("bar");
      expect(store.inspect(ALICE, "foo", { value: true }).value).toEqual(bytes("bar"));
      expect(store.exists("foo")).toBe(true);
      expect(list(store)).toEqual(["foo"]);
      expect(store.stats().userKeys).toBe(1n);
      expect(store.register(BOB)).toBeUndefined();
      expect(store.stats().clientIds).toBe(1n);
      expect(events).toEqual([event("foo", StoreEventKind.ACCESSED, T1), event("foo", StoreEventKind.ACCESSED, T1)]);
      store.setReadOnly(ADMIN, false);
      expect(store.readonly).toBe(false);
    });
  });
});
