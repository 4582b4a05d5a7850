import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  MINUTE,
  SECOND,
  T0,
  T1,
  advanceTo,
  expectError,
  expectVersionMismatch,
  put,
  setup,
  listKeys,
} from "./key-value-store.fixture.js";

describe("KeyValueStore key metrics (§4.16, §5.6)", () => {
  describe("GetKeyMetric", () => {
    it("refuses a key that never existed with METRIC_NOT_FOUND (NOT_FOUND, 'key not found')", () => {
      const f = setup();
      expectError(() => f.store.keyMetrics("never"), "METRIC_NOT_FOUND");
      expectError(() => f.store.keyMetrics(""), "METRIC_NOT_FOUND");
    });

    it("still refuses a key whose creation was refused", () => {
      const f = setup({ maxKeys: 1 });
      put(f.store, "a", "1");
      expectError(() => put(f.store, "b", "1"), "MAX_KEYS", "the limit is 1 (max_keys)");
      expectError(() => f.store.lock(ALICE, "c", MINUTE, true), "MAX_KEYS", "the limit is 1 (max_keys)");
      expectError(() => put(f.store, "d", "v".repeat(1001)), "VALUE_TOO_LARGE", "1001 bytes, the limit is 1000 (max_value_size)");
      expectVersionMismatch(() => put(f.store, "e", "1", { ifVersion: 3n }), undefined);
      expectError(() => f.store.lock(ALICE, "f", MINUTE, false), "NOT_FOUND");
      for (const key of ["b", "c", "d", "e", "f"]) {
        expectError(() => f.store.keyMetrics(key), "METRIC_NOT_FOUND");
      }
    });

    it("reports a fresh key: one set, no access or lock (their timestamps absent)", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expect(f.store.keyMetrics("foo")).toStrictEqual({ accessCount: 0, setCount: 1, firstSet: T1, lastSet: T1, lockCount: 0 });
    });

    it("reports the reserved keys (set once, at start)", () => {
      const f = setup();
      expect(f.store.keyMetrics("keyquarry/Started")).toStrictEqual({
        accessCount: 0,
        setCount: 1,
        firstSet: T0,
        lastSet: T0,
        lockCount: 0,
      });
    });

    it("emits nothing, works in read-only mode and ignores locks", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
      f.store.setReadOnly(ADMIN, true);
      const mark = f.events.length;
      expect(f.store.keyMetrics("foo")).toMatchObject({ setCount: 1, lockCount: 1 });
      expect(f.events.length).toBe(mark);
    });

    it("returns a copy", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      const metrics = f.store.keyMetrics("foo") as { setCount: number };
      metrics.setCount = 99;
      expect(f.store.keyMetrics("foo").setCount).toBe(1);
    });
  });

  describe("counting, synchronously", () => {
    it("counts CREATED and UPDATED as sets: first_set once, last_set the latest", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      f.clock.advance(SECOND);
      put(f.store, "foo", "v2");
      f.clock.advance(SECOND);
      put(f.store, "foo", "v3", { clientId: BOB });
      expect(f.store.keyMetrics("foo")).toMatchObject({ setCount: 3, firstSet: T1, lastSet: T1 + 2n * SECOND });
    });

    it("does not count a same-value Set, a lifespan renewal or a refused Set", () => {
      const f = setup();
      put(f.store, "foo", "v1", { lifespan: MINUTE });
      f.clock.advance(SECOND);
      put(f.store, "foo", "v1"); // LIFESPAN_RENEWED only
      put(f.store, "foo", "v1", { lifespan: 2n * MINUTE }); // LIFESPAN_SET only
      expectVersionMismatch(() => put(f.store, "foo", "v2", { ifVersion: 5n }), 1n);
      f.store.lock(BOB, "foo", MINUTE, false);
      expectError(() => put(f.store, "foo", "v2"), "WRONG_OWNER");
      expect(f.store.keyMetrics("foo")).toMatchObject({ setCount: 1, lastSet: T1 });
    });

    it("counts Get, Inspect with value and Pop as accesses: first_accessed once, last_accessed the latest", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.clock.advance(SECOND);
      f.store.get(ALICE, "foo");
      f.clock.advance(SECOND);
      f.store.inspect(BOB, "foo", { value: true });
      f.clock.advance(SECOND);
      f.store.pop(ALICE, "foo");
      expect(f.store.keyMetrics("foo")).toMatchObject({
        accessCount: 3,
        firstAccessed: T1 + SECOND,
        lastAccessed: T1 + 3n * SECOND,
      });
    });

    it("does not count Inspect without value, Exists, ListKeys, GetRevision or a refused read", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
      f.store.inspect(ALICE, "foo", {});
      f.store.inspect(ALICE, "foo", { metrics: true });
      f.store.exists("foo");
      listKeys(f.store, { pattern: "", limit: 0n, includeReserved: false });
      f.store.getRevision(BOB, "foo", 1n);
      expectError(() => f.store.get(ALICE, "foo"), "LOCKED");
      expectError(() => f.store.inspect(ALICE, "foo", { value: true }), "LOCKED");
      expectError(() => f.store.pop(ALICE, "foo"), "LOCKED");
      const metrics = f.store.keyMetrics("foo");
      expect(metrics.accessCount).toBe(0);
      expect(metrics.firstAccessed).toBeUndefined();
      expect(metrics.lastAccessed).toBeUndefined();
    });

    it("counts every LOCKED as a lock: new locks, Lock extensions and Set renewals", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: MINUTE }); // new (Set)
      f.clock.advance(SECOND);
      f.store.lock(ALICE, "foo", MINUTE, false); // extension
      f.clock.advance(SECOND);
      put(f.store, "foo", "bar", { lockDuration: MINUTE }); // renewal by Set
      f.store.unlock(ALICE, "foo");
      f.clock.advance(SECOND);
      f.store.lock(BOB, "foo", MINUTE, false); // new (Lock)
      expect(f.store.keyMetrics("foo")).toMatchObject({ lockCount: 4, firstLocked: T1, lastLocked: T1 + 3n * SECOND });
    });

    it("does not count Unlock, lock expiry or a refused Lock", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      expectError(() => f.store.lock(BOB, "foo", MINUTE, false), "LOCKED_OTHER");
      advanceTo(f.clock, T1 + 10n * SECOND);
      f.store.lock(ALICE, "foo", MINUTE, false);
      f.store.unlock(ALICE, "foo");
      expect(f.store.keyMetrics("foo")).toMatchObject({ lockCount: 2, firstLocked: T1, lastLocked: T1 + 10n * SECOND });
    });

    it("counts a Lock with create_if_missing as a set and a lock", () => {
      const f = setup();
      f.store.lock(ALICE, "foo", MINUTE, true);
      expect(f.store.keyMetrics("foo")).toStrictEqual({
        accessCount: 0,
        setCount: 1,
        firstSet: T1,
        lastSet: T1,
        lockCount: 1,
        firstLocked: T1,
        lastLocked: T1,
      });
    });
  });

  describe("Inspect with metrics", () => {
    it("includes the same call's access", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.clock.advance(SECOND);
      expect(f.store.inspect(BOB, "foo", { value: true, metrics: true }).metrics).toStrictEqual({
        accessCount: 1,
        firstAccessed: T1 + SECOND,
        lastAccessed: T1 + SECOND,
        setCount: 1,
        firstSet: T1,
        lastSet: T1,
        lockCount: 0,
      });
    });

    it("without value reports the metrics without counting an access", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.get(ALICE, "foo");
      expect(f.store.inspect(ALICE, "foo", { metrics: true }).metrics).toMatchObject({ accessCount: 1 });
      expect(f.store.inspect(ALICE, "foo", { metrics: true }).metrics).toMatchObject({ accessCount: 1 });
    });

    it("reports nothing about metrics unless asked", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expect("metrics" in f.store.inspect(ALICE, "foo", { value: true })).toBe(false);
    });

    it("equals GetKeyMetric", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: MINUTE });
      f.store.get(ALICE, "foo");
      expect(f.store.inspect(ALICE, "foo", { metrics: true }).metrics).toStrictEqual(f.store.keyMetrics("foo"));
    });
  });

  describe("lifetime", () => {
    it.each([
      ["Delete", (f: ReturnType<typeof setup>) => f.store.delete(ALICE, "foo")],
      ["Pop", (f: ReturnType<typeof setup>) => void f.store.pop(ALICE, "foo")],
      ["Clear", (f: ReturnType<typeof setup>) => void f.store.clear(ALICE, true)],
      [
        "lifespan expiry",
        (f: ReturnType<typeof setup>) => {
          put(f.store, "foo", "v2", { lifespan: SECOND });
          f.clock.advance(SECOND);
          f.store.expireDue();
        },
      ],
    ])("metrics survive %s and continue for the re-created key", (_, remove) => {
      const f = setup();
      put(f.store, "foo", "v1", { lockDuration: MINUTE });
      f.store.get(ALICE, "foo");
      put(f.store, "foo", "v2");
      remove(f);
      expect(f.store.exists("foo")).toBe(false);
      const survived = f.store.keyMetrics("foo");
      expect(survived).toMatchObject({ setCount: 2, firstSet: T1, lockCount: 1, firstLocked: T1 });
      expect(survived.accessCount).toBeGreaterThanOrEqual(1);

      advanceTo(f.clock, f.clock.now() + MINUTE);
      const later = f.clock.now();
      put(f.store, "foo", "again", { clientId: BOB, lockDuration: MINUTE });
      f.store.get(BOB, "foo");
      expect(f.store.keyMetrics("foo")).toMatchObject({
        setCount: 3,
        firstSet: T1,
        lastSet: later,
        lockCount: 2,
        firstLocked: T1,
        lastLocked: later,
        accessCount: survived.accessCount + 1,
        lastAccessed: later,
      });
    });
  });
});
