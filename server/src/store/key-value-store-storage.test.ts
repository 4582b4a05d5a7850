/**
 * How the store keeps keys compactly (values as byte strings, metrics implied
 * by the entry until a key is accessed or locked, history holding only the
 * superseded versions): every way in and out gives back exactly what went in.
 */
import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { ALICE, BOB, MINUTE, SECOND, T1, advanceTo, bytes, info, listKeys, put, setup, text } from "./key-value-store.fixture.js";
import { fnv1a64 } from "./fnv1a64.js";
import type { KeyValueStore } from "./key-value-store.js";
import type { StoreEvent } from "./store-event.js";

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const megabyte = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 131) & 0xff);
/** Exact byte equality without an element-wise matcher (slow on 1 MB). */
const same = (actual: Uint8Array, expected: Uint8Array) => Buffer.from(actual).equals(expected);

describe("KeyValueStore storage", () => {
  describe("values", () => {
    it.each([
      ["all 256 byte values", allBytes],
      ["the empty value", new Uint8Array(0)],
      ["a 1 MB value", megabyte],
    ])("round-trip %s through every read", (_, value) => {
      const f = setup({ maxValueSize: 0, keepDeletedKeyHistory: true });
      const values: StoreEvent[] = [];
      f.store.subscribe((e) => values.push(e));
      const reservedSize = f.store.stats().totalSize;
      put(f.store, "k", value, { contentType: "application/octet-stream" });
      expect(same(f.store.get(ALICE, "k"), value)).toBe(true);
      expect(same(f.store.inspect(ALICE, "k", { value: true }).value!, value)).toBe(true);
      expect(info(f.store, "k")).toMatchObject({ size: BigInt(value.length), hash: fnv1a64(value) });
      expect(f.store.stats().totalSize).toBe(reservedSize + BigInt(value.length));
      expect(same(f.store.getRevision(ALICE, "k", 1n).value, value)).toBe(true);
      const watched = f.store.watchValue(ALICE, "k")!;
      expect([same(watched.value, value), watched.size, watched.hash]).toEqual([true, value.length, fnv1a64(value)]);
      const created = values.find((e) => e.event === StoreEventKind.CREATED)!.value!;
      expect([same(created.value, value), created.size, created.hash, created.version]).toEqual([true, value.length, fnv1a64(value), 1n]);
      const state = f.store.exportState(true);
      expect(same(state.keys[0]!.value, value)).toBe(true);
      expect(same(state.history[0]!.revisions[0]!.value, value)).toBe(true);
      expect(same(f.store.pop(ALICE, "k"), value)).toBe(true);
      expect(same(values.at(-1)!.value!.value, value)).toBe(true);
      expect(same(f.store.getRevision(ALICE, "k", 1n).value, value)).toBe(true);
      expect(f.store.stats().totalSize).toBe(reservedSize);
    });

    it("copies the value in and out: changing the caller's bytes changes nothing stored", () => {
      const f = setup();
      const value = bytes("abc");
      put(f.store, "k", value);
      value.fill(0);
      const read = f.store.get(ALICE, "k");
      expect(text(read)).toBe("abc");
      read.fill(0);
      expect(text(f.store.get(ALICE, "k"))).toBe("abc");
    });

    it("keeps an event's value as it was at the event", () => {
      const f = setup();
      const seen: StoreEvent[] = [];
      f.store.subscribe((e) => seen.push(e));
      put(f.store, "k", "v1");
      put(f.store, "k", "v2");
      f.store.delete(ALICE, "k");
      expect(seen.map((e) => [StoreEventKind[e.event], text(e.value!.value), e.value!.version])).toEqual([
        ["CREATED", "v1", 1n],
        ["UPDATED", "v2", 2n],
        ["DELETED", "v2", 2n],
      ]);
    });
  });

  describe("metrics of keys that were only ever set", () => {
    it("survive removal and continue for the re-created key", () => {
      const f = setup();
      put(f.store, "k", "v1", { lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + SECOND);
      put(f.store, "k", "v2");
      put(f.store, "k", "v2");
      const expected = { accessCount: 0, setCount: 2, firstSet: T1, lastSet: T1 + SECOND, lockCount: 0 };
      expect(f.store.keyMetrics("k")).toStrictEqual(expected);
      advanceTo(f.clock, T1 + 11n * SECOND);
      f.store.expireDue();
      expect(f.store.exists("k")).toBe(false);
      expect(f.store.keyMetrics("k")).toStrictEqual(expected);
      advanceTo(f.clock, T1 + MINUTE);
      put(f.store, "k", "again", { clientId: BOB });
      expect(f.store.keyMetrics("k")).toStrictEqual({ ...expected, setCount: 3, lastSet: T1 + MINUTE });
      expect(f.store.inspect(ALICE, "k", { metrics: true }).metrics).toStrictEqual({ ...expected, setCount: 3, lastSet: T1 + MINUTE });
    });
  });

  describe("removed keys", () => {
    it("leave no trace in listings, counts and Clear, and a re-created one is listed last", () => {
      const f = setup();
      const keysBefore = f.store.stats().keys;
      for (const key of ["a", "b", "c"]) {
        put(f.store, key, key);
      }
      f.store.delete(ALICE, "a");
      put(f.store, "b", "b", { lifespan: SECOND });
      advanceTo(f.clock, f.clock.now() + SECOND);
      const list = () => listKeys(f.store, { pattern: "", limit: 0n, includeReserved: false });
      expect(list()).toEqual(["c"]);
      expect(f.store.stats()).toMatchObject({ keys: keysBefore + 1n, userKeys: 1n });
      expect([f.store.exists("a"), f.store.exists("b")]).toEqual([false, false]);
      put(f.store, "a", "again");
      expect(list()).toEqual(["c", "a"]);
      expect(listKeys(f.store, { pattern: "", limit: 1n, includeReserved: false })).toEqual(["c"]);
      expect(f.store.clear(ALICE, false)).toBe(2n);
      expect(f.store.stats()).toMatchObject({ keys: keysBefore, userKeys: 0n });
      expect(f.store.keyMetrics("b")).toMatchObject({ setCount: 1 });
    });
  });

  describe("sweeping removed keys in slices", () => {
    it("moves them aside a slice at a time, oldest removal first, while keys come and go", () => {
      const f = setup();
      const list = () => listKeys(f.store, { pattern: "", limit: 0n, includeReserved: false });
      for (let i = 0; i < 10; i++) {
        put(f.store, `k${i}`, "v");
      }
      for (const i of [1, 3, 5, 7, 9]) {
        f.store.delete(ALICE, `k${i}`);
      }
      // Two removed keys per slice: three remain after the first.
      expect(f.store.sweepRemovedSlice(2)).toBe(true);
      // Changes between slices: another removal, a re-creation of a key still waiting, a new key.
      f.store.delete(ALICE, "k0");
      put(f.store, "k9", "again");
      put(f.store, "k10", "new");
      // k5 and k7; then k9's old entry (skipped: re-created) and k0.
      expect([f.store.sweepRemovedSlice(2), f.store.sweepRemovedSlice(2)]).toEqual([true, false]);
      expect(f.store.sweepRemovedSlice(4)).toBe(false);
      expect(list()).toEqual(["k2", "k4", "k6", "k8", "k9", "k10"]);
      expect(f.store.stats()).toMatchObject({ userKeys: 6n });
      expect(f.store.keyMetrics("k1")).toMatchObject({ setCount: 1 });
      expect(info(f.store, "k9").version).toBe(1n);
    });
  });

  describe.each([
    // Stats, Clear, prune and snapshots walk every key (and move removed keys' entries aside).
    ["right away", () => {}],
    ["after a walk over every key", (f: ReturnType<typeof setup>) => void f.store.stats()],
    ["after sweeping in slices", (f: ReturnType<typeof setup>) => void f.store.sweepRemovedSlice(1_000)],
  ])("a key re-created %s", (_, walk) => {
    it("continues its metrics, history and version numbering", () => {
      const f = setup({ keepDeletedKeyHistory: true });
      put(f.store, "k", "v1");
      put(f.store, "k", "v2");
      f.store.get(ALICE, "k");
      f.store.delete(ALICE, "k");
      walk(f);
      put(f.store, "k", "v3");
      expect(info(f.store, "k").version).toBe(3n);
      expect([1n, 2n, 3n].map((version) => text(f.store.getRevision(ALICE, "k", version).value))).toEqual(["v1", "v2", "v3"]);
      expect(f.store.keyMetrics("k")).toMatchObject({ setCount: 3, accessCount: 1 });
      expect(f.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 3n });
      put(f.store, "other", "o");
      expect(listKeys(f.store, { pattern: "", limit: 0n, includeReserved: false })).toEqual(["k", "other"]);
    });
  });

  describe("snapshots", () => {
    function busyStore() {
      const f = setup({ keepDeletedKeyHistory: true });
      put(f.store, "plain", "p1");
      put(f.store, "versioned", "v1");
      advanceTo(f.clock, T1 + SECOND);
      put(f.store, "versioned", "v2");
      put(f.store, "versioned", "v3", { lockDuration: MINUTE });
      f.store.get(ALICE, "versioned");
      put(f.store, "gone", "g1");
      put(f.store, "gone", "g2");
      f.store.delete(ALICE, "gone");
      put(f.store, "ephemeral", "e1", { lifespan: MINUTE });
      return f;
    }

    function restored(state: ReturnType<KeyValueStore["exportState"]>, options = {}) {
      const { store } = setup(options, { reserved: false });
      store.importState(state);
      return store;
    }

    it("restore exactly what was exported: state, revisions, metrics and history counts", () => {
      const f = busyStore();
      const state = f.store.exportState(true);
      const store = restored(state, { keepDeletedKeyHistory: true });
      expect({ ...store.exportState(true), takenAt: state.takenAt }).toStrictEqual(state);
      expect(store.stats()).toMatchObject({ historyKeys: 4n, historyRevisions: 7n });
      for (const [key, version] of [["versioned", 1n], ["versioned", 3n], ["versioned", -1n], ["gone", 2n], ["gone", -1n]] as const) {
        expect(store.getRevision(ALICE, key, version)).toStrictEqual(f.store.getRevision(ALICE, key, version));
      }
      for (const key of ["plain", "versioned", "gone", "ephemeral"]) {
        expect(store.keyMetrics(key)).toStrictEqual(f.store.keyMetrics(key));
      }
      put(store, "versioned", "v4");
      expect(text(store.getRevision(ALICE, "versioned", -1n).value)).toBe("v3");
      put(store, "gone", "g3");
      expect(info(store, "gone").version).toBe(3n);
    });

    it("restore a key without its history as having none until it changes", () => {
      const f = busyStore();
      const store = restored(f.store.exportState(false));
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expect(() => store.getRevision(ALICE, "plain", 1n)).toThrow("revision not found");
      put(store, "plain", "p2");
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 1n });
      expect(text(store.getRevision(ALICE, "plain", 2n).value)).toBe("p2");
      expect(() => store.getRevision(ALICE, "plain", -1n)).toThrow("revision not found");
    });

    it("restore a history that does not end with the current version as it is, the current version after it", () => {
      const f = busyStore();
      const state = f.store.exportState(true);
      const plain = state.history.find(({ key }) => key === "plain")!;
      plain.revisions = [{ ...plain.revisions[0]!, value: bytes("older"), version: 7n }];
      const store = restored(state);
      expect(store.stats()).toMatchObject({ historyKeys: 4n, historyRevisions: 7n });
      expect(() => store.getRevision(ALICE, "plain", 1n)).toThrow("revision not found");
      expect(text(store.getRevision(ALICE, "plain", 7n).value)).toBe("older");
      put(store, "plain", "p2");
      expect(text(store.getRevision(ALICE, "plain", -1n).value)).toBe("older");
      expect(text(store.getRevision(ALICE, "plain", 2n).value)).toBe("p2");
    });

    it("restore keys without metrics as having none until their next event", () => {
      const f = busyStore();
      const store = restored({ ...f.store.exportState(true), metrics: [] });
      expect(() => store.keyMetrics("plain")).toThrow("key not found");
      expect(() => store.keyMetrics("gone")).toThrow("key not found");
      store.get(ALICE, "plain");
      expect(store.keyMetrics("plain")).toMatchObject({ accessCount: 1, setCount: 0 });
    });
  });
});
