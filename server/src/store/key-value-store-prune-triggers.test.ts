import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  HOUR,
  MAX_LOCK,
  MIN_LOCK,
  MINUTE,
  SECOND,
  event,
  expectError,
  expectNoChange,
  put,
  setup,
  since,
  unordered,
  userKeys,
  fill,
  MS_STEP,
  expunged,
} from "./key-value-store.fixture.js";
import { StoreError } from "./store-error.js";

describe("KeyValueStore pruning (§8, with our deliberate differences)", () => {
  describe("scheduledPrune (prune_at → prune_to)", () => {
    it("reproduces §8.3's worked example with user keys: 30 keys, prune_at 30 → prune_to 24 removes the 6 stalest", () => {
      const f = setup({ maxKeys: 50, pruneAt: 30, pruneTo: 24 });
      const keys = fill(f, 30);
      expect(f.store.stats()).toMatchObject({ userKeys: 30n, keys: 46n, maxKeys: 50n });
      const mark = f.events.length;
      expect(f.store.scheduledPrune()).toBe(6);
      expect(unordered(since(f.events, mark))).toEqual(unordered(expunged(keys.slice(0, 6), f.clock.now())));
      expect(userKeys(f.store)).toEqual(keys.slice(6));
      const stats = f.store.stats();
      expect(stats).toMatchObject({ userKeys: 24n, keys: 40n, pruneCompleted: 1n, eagerPruneTriggered: 0n });
      expect(stats.events[StoreEventKind.EXPUNGED]).toBe(6n);
      // Below prune_at now: the next ticks do nothing and count nothing.
      expect(f.store.scheduledPrune()).toBe(0);
      expect(f.store.stats().pruneCompleted).toBe(1n);
    });

    it("waits for prune_at user keys (reserved keys do not count)", () => {
      const f = setup({ pruneAt: 10, pruneTo: 5 });
      fill(f, 9); // 25 keys in all, 9 user keys
      expect(f.store.scheduledPrune()).toBe(0);
      expect(f.store.stats().pruneCompleted).toBe(0n);
      fill(f, 1, { from: 9 });
      expect(f.store.scheduledPrune()).toBe(5);
      expect(userKeys(f.store)).toEqual(["k5", "k6", "k7", "k8", "k9"]);
      expect(f.store.stats().pruneCompleted).toBe(1n);
    });

    it("never runs with prune_at 0", () => {
      const f = setup({ pruneAt: 0, pruneTo: 0 });
      fill(f, 20);
      expect(f.store.scheduledPrune()).toBe(0);
      expect(f.store.stats()).toMatchObject({ userKeys: 20n, pruneCompleted: 0n });
    });

    it("prunes to 0 with prune_to 0", () => {
      const f = setup({ pruneAt: 3, pruneTo: 0 });
      fill(f, 3);
      expect(f.store.scheduledPrune()).toBe(3);
      expect(userKeys(f.store)).toEqual([]);
    });

    it("runs (and counts) with prune_to equal to prune_at, removing nothing", () => {
      const f = setup({ pruneAt: 3, pruneTo: 3 });
      fill(f, 3);
      expect(f.store.scheduledPrune()).toBe(0);
      expect(f.store.stats().pruneCompleted).toBe(1n);
    });

    it("skips locked keys", () => {
      const f = setup({ pruneAt: 4, pruneTo: 1 });
      fill(f, 4);
      f.store.lock(BOB, "k0", MAX_LOCK, false);
      expect(f.store.scheduledPrune()).toBe(3);
      expect(userKeys(f.store)).toEqual(["k0"]);
    });
  });

  describe("eager pruning (eager_prune_at → eager_prune_to)", () => {
    it("keeps user keys at or below eager_prune_at after every Set, never removing the new key (TestEagerPrune)", () => {
      const f = setup({ maxKeys: 50, eagerPruneAt: 25, eagerPruneTo: 22 });
      const triggeredAt: number[] = [];
      let expected = 0; // the next key expected to be removed (keys go stalest first)
      for (let i = 0; i < 40; i++) {
        f.clock.advance(SECOND);
        const before = userKeys(f.store).length;
        const mark = f.events.length;
        expect(put(f.store, `k${i}`, `v${i}`).isNew).toBe(true);
        const after = userKeys(f.store);
        expect(after.length, `after Set #${i}`).toBeLessThanOrEqual(25);
        expect(after).toContain(`k${i}`);
        const emitted = since(f.events, mark);
        expect(emitted[0]).toEqual(event(`k${i}`, StoreEventKind.CREATED, f.clock.now()));
        if (before === 25) {
          triggeredAt.push(i);
          expect(after).toHaveLength(22);
          const stalest = [0, 1, 2, 3].map((n) => `k${expected + n}`);
          expected += 4;
          expect(unordered(emitted.slice(1))).toEqual(unordered(expunged(stalest, f.clock.now())));
        } else {
          expect(after).toHaveLength(before + 1);
          expect(emitted).toHaveLength(1);
        }
      }
      expect(triggeredAt).toEqual([25, 29, 33, 37]);
      const stats = f.store.stats();
      expect(stats).toMatchObject({ eagerPruneTriggered: 4n, pruneCompleted: 4n, userKeys: 24n });
      expect(stats.events[StoreEventKind.EXPUNGED]).toBe(16n);
      expect(userKeys(f.store)).toEqual(Array.from({ length: 24 }, (_, n) => `k${n + 16}`));
    });

    it("does not prune the new key even though it has the lowest score (created at the prune's own instant)", () => {
      const f = setup({ eagerPruneAt: 3, eagerPruneTo: 2 });
      put(f.store, "a", "1");
      f.clock.advance(MINUTE);
      put(f.store, "b", "1");
      f.clock.advance(MINUTE);
      put(f.store, "c", "1");
      f.clock.advance(MINUTE);
      f.store.get(BOB, "a"); // "a" is now the freshest of a, b, c
      f.clock.advance(MINUTE);
      const mark = f.events.length;
      put(f.store, "d", "1");
      expect(since(f.events, mark)).toEqual([
        event("d", StoreEventKind.CREATED, f.clock.now()),
        ...expunged(["b", "c"], f.clock.now()),
      ]);
      expect(userKeys(f.store)).toEqual(["a", "d"]);
      expect(f.store.stats()).toMatchObject({ eagerPruneTriggered: 1n, pruneCompleted: 1n });
    });

    it("does not run on updates, refused creates or creates that stay within eager_prune_at", () => {
      const f = setup({ eagerPruneAt: 3, eagerPruneTo: 1, maxValueSize: 10 });
      fill(f, 3);
      put(f.store, "k0", "changed");
      put(f.store, "k1", "changed", { lockDuration: MIN_LOCK, lifespan: HOUR });
      expectError(() => put(f.store, "k3", "x".repeat(11)), "VALUE_TOO_LARGE", "11 bytes, the limit is 10 (max_value_size)");
      expectError(() => put(f.store, "k3", "x", { ifVersion: 1n }), "VERSION_MISMATCH", "the key does not exist");
      expect(f.store.stats()).toMatchObject({ eagerPruneTriggered: 0n, pruneCompleted: 0n, userKeys: 3n });
    });

    it("runs after Lock with create_if_missing; with everything locked it removes nothing, then max_keys refuses (TestEagerPruneFromLock)", () => {
      const f = setup({ maxKeys: 50, eagerPruneAt: 25, eagerPruneTo: 22 });
      let created = 0;
      for (; created < 50; created++) {
        f.clock.advance(MS_STEP);
        f.store.lock(ALICE, `lock-${created}`, MAX_LOCK, true);
        expect(userKeys(f.store)).toHaveLength(created + 1);
      }
      // Creates 26…50 each triggered a prune that could remove nothing.
      expect(f.store.stats()).toMatchObject({ userKeys: 50n, eagerPruneTriggered: 25n, pruneCompleted: 25n });
      const mark = f.events.length;
      expectError(() => f.store.lock(ALICE, "lock-50", MAX_LOCK, true), "MAX_KEYS", "the limit is 50 (max_keys)");
      expectError(() => put(f.store, "one-more", "x"), "MAX_KEYS", "the limit is 50 (max_keys)");
      expect(since(f.events, mark)).toEqual([]);
      // At max_keys the create first tried to make room (a prune that ran, removing nothing).
      const stats = f.store.stats();
      expect(stats).toMatchObject({ userKeys: 50n, keys: 66n, eagerPruneTriggered: 27n, pruneCompleted: 27n });
      expect(stats.events[StoreEventKind.EXPUNGED]).toBe(0n);
      expect(f.store.exists("lock-50")).toBe(false);
    });

    it("at max_keys, makes room first so the create succeeds (locks expired)", () => {
      const f = setup({ maxKeys: 50, eagerPruneAt: 25, eagerPruneTo: 22 });
      for (let i = 0; i < 50; i++) {
        f.clock.advance(MS_STEP);
        f.store.lock(ALICE, `lock-${i}`, HOUR, true);
      }
      f.clock.advance(2n * HOUR);
      const mark = f.events.length;
      expect(put(f.store, "fresh", "x").isNew).toBe(true);
      const emitted = since(f.events, mark);
      // 50 UNLOCKED (expiries), 28 EXPUNGED (50 → 22), then the new key.
      expect(emitted.filter((e) => e.event === StoreEventKind.UNLOCKED)).toHaveLength(50);
      expect(emitted.filter((e) => e.event === StoreEventKind.EXPUNGED)).toHaveLength(28);
      expect(emitted.at(-1)).toEqual(event("fresh", StoreEventKind.CREATED, f.clock.now()));
      expect(f.store.stats()).toMatchObject({ userKeys: 23n, eagerPruneTriggered: 26n, pruneCompleted: 26n });
      expect(f.store.exists("fresh")).toBe(true);
    });

    it("at max_keys below eager_prune_at, prunes before creating instead of refusing", () => {
      const f = setup({ maxKeys: 10, eagerPruneAt: 20, eagerPruneTo: 4 });
      const keys = fill(f, 10);
      expect(f.store.stats().eagerPruneTriggered).toBe(0n);
      const mark = f.events.length;
      expect(put(f.store, "k10", "x").isNew).toBe(true);
      const emitted = since(f.events, mark);
      expect(unordered(emitted.slice(0, 6))).toEqual(unordered(expunged(keys.slice(0, 6), f.clock.now())));
      expect(emitted.slice(6)).toEqual([event("k10", StoreEventKind.CREATED, f.clock.now())]);
      expect(userKeys(f.store)).toEqual([...keys.slice(6), "k10"]);
      expect(f.store.stats()).toMatchObject({ eagerPruneTriggered: 1n, pruneCompleted: 1n });
    });

    it("at max_keys, Lock with create_if_missing also makes room first", () => {
      const f = setup({ maxKeys: 3, eagerPruneAt: 5, eagerPruneTo: 1 });
      fill(f, 3);
      expect(f.store.lock(BOB, "locked", MIN_LOCK, true)).toBe(1n);
      expect(userKeys(f.store)).toEqual(["k2", "locked"]);
    });
  });

  describe("max_keys without eager pruning", () => {
    it("refuses a new key with RESOURCE_EXHAUSTED, counting user keys only", () => {
      const f = setup({ maxKeys: 3 });
      fill(f, 3); // 19 keys in all
      expectNoChange(f, () => expectError(() => put(f.store, "k3", "x"), "MAX_KEYS", "the limit is 3 (max_keys)"));
      expectNoChange(f, () => expectError(() => f.store.lock(ALICE, "k3", MIN_LOCK, true), "MAX_KEYS", "the limit is 3 (max_keys)"));
      // Updates are fine at the limit.
      expect(put(f.store, "k0", "changed").isNew).toBe(false);
      f.store.delete(ALICE, "k0");
      expect(put(f.store, "k3", "x").isNew).toBe(true);
      expect(f.store.stats()).toMatchObject({ eagerPruneTriggered: 0n, pruneCompleted: 0n });
    });

    it("reports MAX_KEYS as RESOURCE_EXHAUSTED `maximum number of keys reached`, naming the limit", () => {
      const f = setup({ maxKeys: 1 });
      put(f.store, "only", "x");
      try {
        put(f.store, "another", "x");
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(StoreError);
        expect([(error as StoreError).code, (error as StoreError).message]).toEqual([
          "MAX_KEYS",
          "maximum number of keys reached: the limit is 1 (max_keys)",
        ]);
      }
    });
  });

  describe("authorizeAdmin (Admin.Prune, Admin.Shutdown)", () => {
    const adminOnly = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(StoreError);
        const { code, message } = error as StoreError;
        expect({ code, message }).toEqual({ code: "ADMIN_ONLY", message: "missing or invalid client ID for admin function" });
        return;
      }
      throw new Error("expected ADMIN_ONLY");
    };

    it("accepts the privileged client id only", () => {
      const f = setup();
      expect(() => f.store.authorizeAdmin(ADMIN)).not.toThrow();
      adminOnly(() => f.store.authorizeAdmin(ALICE));
      adminOnly(() => f.store.authorizeAdmin("Admin"));
      adminOnly(() => f.store.authorizeAdmin(""));
    });

    it("refuses everyone when privileged_client_id is empty", () => {
      const f = setup({ privilegedClientId: "" });
      adminOnly(() => f.store.authorizeAdmin(""));
      adminOnly(() => f.store.authorizeAdmin(ADMIN));
    });
  });
});
