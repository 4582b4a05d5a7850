import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  MINUTE,
  MS,
  SECOND,
  SERVER,
  T1,
  advanceTo,
  event,
  expectError,
  expectKeyExpiresAt,
  info,
  put,
  setup,
  since,
  text,
} from "./key-value-store.fixture.js";

describe("KeyValueStore lifespans", () => {
  describe("expiry (§6.3)", () => {
    it("removes the key at the deadline with EXPIRED by the server at the deadline's time, whenever observed", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.exists("foo")).toBe(false);
      expect(since(f.events, 2)).toEqual([event("foo", StoreEventKind.EXPIRED, T1 + 10n * SECOND, SERVER)]);
    });

    it("at the deadline the key is gone for every caller; 1 ns before it is there", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND - 1n);
      expect(text(f.store.get(BOB, "foo"))).toBe("bar");
      f.clock.advance(1n);
      expectError(() => f.store.get(ALICE, "foo"), "NOT_FOUND");
      expectError(() => f.store.get(BOB, "foo"), "NOT_FOUND");
      expectError(() => info(f.store, "foo"), "NOT_FOUND");
      expectError(() => f.store.delete(ALICE, "foo"), "NOT_FOUND");
      expectError(() => f.store.lock(ALICE, "foo", MINUTE, false), "NOT_FOUND");
    });

    it("a Set at the deadline creates the key anew (EXPIRED, then CREATED at version 1)", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      put(f.store, "foo", "baz");
      advanceTo(f.clock, T1 + 10n * SECOND);
      const mark = f.events.length;
      expect(put(f.store, "foo", "new")).toEqual({ isNew: true });
      expect(since(f.events, mark)).toEqual([
        event("foo", StoreEventKind.EXPIRED, T1 + 10n * SECOND, SERVER),
        event("foo", StoreEventKind.CREATED, T1 + 10n * SECOND),
      ]);
      expect(info(f.store, "foo")).toMatchObject({ version: 1n, created: T1 + 10n * SECOND });
      expect(info(f.store, "foo").lifespan).toBeUndefined();
    });

    it("updates the counters", () => {
      const f = setup();
      const before = f.store.stats();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      put(f.store, "keep", "xy");
      advanceTo(f.clock, T1 + 10n * SECOND);
      const after = f.store.stats();
      expect(after).toMatchObject({
        keys: before.keys + 1n,
        userKeys: 1n,
        totalSize: before.totalSize + 2n,
        lifespans: 0n,
        currentLocks: 0n,
      });
      expect(after.events[StoreEventKind.EXPIRED]).toBe(1n);
    });

    it("is applied by expireDue, at most `limit` at a time, in deadline order", () => {
      const f = setup();
      put(f.store, "c", "3", { lifespan: 3n * SECOND });
      put(f.store, "a", "1", { lifespan: 1n * SECOND });
      put(f.store, "b", "2", { lifespan: 2n * SECOND });
      advanceTo(f.clock, T1 + MINUTE);
      const mark = f.events.length;
      expect(f.store.expireDue(2)).toBe(2);
      expect(since(f.events, mark)).toEqual([
        event("a", StoreEventKind.EXPIRED, T1 + SECOND, SERVER),
        event("b", StoreEventKind.EXPIRED, T1 + 2n * SECOND, SERVER),
      ]);
      expect(f.store.nextDeadline()).toBe(T1 + 3n * SECOND);
      expect(f.store.expireDue()).toBe(1);
      expect(since(f.events, mark + 2)).toEqual([event("c", StoreEventKind.EXPIRED, T1 + 3n * SECOND, SERVER)]);
      expect(f.store.nextDeadline()).toBeUndefined();
      expect(f.store.expireDue()).toBe(0);
    });

    it("lets a renewal at deadline − 1 ns keep the key", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND - 1n);
      put(f.store, "foo", "bar", { clientId: BOB });
      f.clock.advance(1n);
      expect(f.store.expireDue()).toBe(0);
      expectKeyExpiresAt(f, "foo", T1 + 20n * SECOND - 1n);
    });
  });

  describe("a lifespan expiring while the key is locked", () => {
    it("releases the lock (UNLOCKED) then removes the key (EXPIRED), both by the server at the deadline", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lifespan: 10n * SECOND });
      f.store.lock(BOB, "foo", MINUTE, false);
      expect(f.store.stats()).toMatchObject({ currentLocks: 1n, lifespans: 1n });
      const mark = f.events.length;
      advanceTo(f.clock, T1 + 10n * SECOND - 1n);
      expectError(() => f.store.get(ALICE, "foo"), "LOCKED");
      f.clock.advance(1n);
      expect(f.store.expireDue()).toBe(1);
      expect(since(f.events, mark)).toEqual([
        event("foo", StoreEventKind.UNLOCKED, T1 + 10n * SECOND, SERVER),
        event("foo", StoreEventKind.EXPIRED, T1 + 10n * SECOND, SERVER),
      ]);
      expect(f.store.stats()).toMatchObject({ currentLocks: 0n, lifespans: 0n, userKeys: 0n });
    });

    it("the lock's own later deadline does nothing, and another client can take the re-created key", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE, lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND);
      const token = f.store.lock(ALICE, "foo", MINUTE, true);
      expect(token).toBe(2n);
      const mark = f.events.length;
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.expireDue()).toBe(0);
      expect(since(f.events, mark)).toEqual([]);
      expect(info(f.store, "foo")).toMatchObject({ locked: true, fencingToken: 2n });
      expect(f.store.stats().currentLocks).toBe(1n);
      expectError(() => f.store.get(BOB, "foo"), "LOCKED");
    });

    it("with lock and lifespan due at the same instant: exactly one UNLOCKED, then EXPIRED", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND, lifespan: 10n * SECOND });
      const mark = f.events.length;
      advanceTo(f.clock, T1 + 10n * SECOND);
      f.store.expireDue();
      expect(since(f.events, mark)).toEqual([
        event("foo", StoreEventKind.UNLOCKED, T1 + 10n * SECOND, SERVER),
        event("foo", StoreEventKind.EXPIRED, T1 + 10n * SECOND, SERVER),
      ]);
      expect(f.store.stats()).toMatchObject({ currentLocks: 0n, lifespans: 0n });
      expect(f.store.expireDue()).toBe(0);
    });

    it("a lock expiring before the lifespan: UNLOCKED at the lock's deadline, EXPIRED at the lifespan's", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 5n * SECOND, lifespan: 10n * SECOND });
      const mark = f.events.length;
      advanceTo(f.clock, T1 + MINUTE);
      expect(since(f.events, mark)).toEqual([]);
      expect(f.store.expireDue()).toBe(2);
      expect(since(f.events, mark)).toEqual([
        event("foo", StoreEventKind.UNLOCKED, T1 + 5n * SECOND, SERVER),
        event("foo", StoreEventKind.EXPIRED, T1 + 10n * SECOND, SERVER),
      ]);
    });
  });

  describe("deadline tracking", () => {
    it("nextDeadline is undefined on an idle store and follows the earliest lock or lifespan deadline", () => {
      const f = setup();
      expect(f.store.nextDeadline()).toBeUndefined();
      put(f.store, "a", "1", { lifespan: 30n * SECOND });
      expect(f.store.nextDeadline()).toBe(T1 + 30n * SECOND);
      put(f.store, "b", "2", { lockDuration: 20n * SECOND });
      expect(f.store.nextDeadline()).toBe(T1 + 20n * SECOND);
      put(f.store, "c", "3", { lifespan: 40n * SECOND });
      expect(f.store.nextDeadline()).toBe(T1 + 20n * SECOND);
      advanceTo(f.clock, T1 + 20n * SECOND);
      f.store.expireDue();
      expect(f.store.nextDeadline()).toBe(T1 + 30n * SECOND);
      advanceTo(f.clock, T1 + 30n * SECOND);
      f.store.expireDue();
      expect(f.store.nextDeadline()).toBe(T1 + 40n * SECOND);
      advanceTo(f.clock, T1 + 40n * SECOND);
      f.store.expireDue();
      expect(f.store.nextDeadline()).toBeUndefined();
    });

    it("never reports a deadline later than the earliest pending one, even after renewals and removals", () => {
      const f = setup();
      put(f.store, "a", "1", { lifespan: 10n * SECOND });
      put(f.store, "b", "2", { lifespan: 20n * SECOND });
      f.clock.advance(5n * SECOND);
      put(f.store, "a", "1"); // a: T1 + 15s
      f.store.delete(ALICE, "b");
      const reported = f.store.nextDeadline();
      expect(reported).toBeDefined();
      expect(reported! <= T1 + 15n * SECOND).toBe(true);
      // A host timer waking at each reported deadline applies everything on time.
      let wakeUps = 0;
      for (let next = f.store.nextDeadline(); next !== undefined; next = f.store.nextDeadline()) {
        advanceTo(f.clock, next > f.clock.now() ? next : f.clock.now());
        f.store.expireDue();
        wakeUps++;
        expect(wakeUps).toBeLessThan(10);
      }
      expect(f.events.filter((e) => e.event === StoreEventKind.EXPIRED)).toEqual([
        event("a", StoreEventKind.EXPIRED, T1 + 15n * SECOND, SERVER),
      ]);
    });

    it("onEarliestDeadline is called only when a new earliest deadline is scheduled", () => {
      const f = setup();
      put(f.store, "a", "1", { lifespan: 30n * SECOND });
      put(f.store, "b", "2", { lifespan: 40n * SECOND });
      put(f.store, "c", "3", { lockDuration: 20n * SECOND });
      f.store.lock(ALICE, "a", 25n * SECOND, false);
      put(f.store, "d", "4", { lifespan: 10n * SECOND });
      expect(f.earliestDeadlines).toEqual([T1 + 30n * SECOND, T1 + 20n * SECOND, T1 + 10n * SECOND]);
    });

    it("onEarliestDeadline is called again once the earlier deadlines have passed", () => {
      const f = setup();
      put(f.store, "a", "1", { lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND);
      f.store.expireDue();
      put(f.store, "b", "2", { lifespan: 10n * SECOND });
      expect(f.earliestDeadlines).toEqual([T1 + 10n * SECOND, T1 + 20n * SECOND]);
    });
  });

  describe("scale: one expiry structure for every key", () => {
    it("expires 100 000 keys on time with 100 000 EXPIRED events, nextDeadline following the earliest", () => {
      const f = setup({}, { reserved: false });
      const count = 100_000;
      // Distinct deadlines in scrambled order: lifespan = 1s + a permutation of 0..count−1 ns.
      const offsetOf = (i: number) => BigInt((i * 7_919) % count);
      const deadlineOf = new Map<string, bigint>();
      let minimum: bigint | undefined;
      let expectedListenerCalls = 0;
      for (let i = 0; i < count; i++) {
        const key = `key-${i}`;
        const lifespan = SECOND + offsetOf(i);
        put(f.store, key, "v", { lifespan });
        deadlineOf.set(key, T1 + lifespan);
        if (minimum === undefined || T1 + lifespan < minimum) {
          minimum = T1 + lifespan;
          expectedListenerCalls++;
        }
      }
      expect(f.store.stats()).toMatchObject({ userKeys: BigInt(count), lifespans: BigInt(count) });
      expect(f.store.nextDeadline()).toBe(T1 + SECOND);
      expect(f.earliestDeadlines).toHaveLength(expectedListenerCalls);
      expect(f.earliestDeadlines.at(-1)).toBe(T1 + SECOND);
      const mark = f.events.length;

      // 1 ns before the first deadline nothing is due.
      advanceTo(f.clock, T1 + SECOND - 1n);
      expect(f.store.expireDue()).toBe(0);

      // One at a time for the first 1 000: nextDeadline is always the next one.
      advanceTo(f.clock, T1 + SECOND + 999n);
      for (let n = 0; n < 1_000; n++) {
        expect(f.store.nextDeadline()).toBe(T1 + SECOND + BigInt(n));
        expect(f.store.expireDue(1)).toBe(1);
      }
      expect(f.store.nextDeadline()).toBe(T1 + SECOND + 1_000n);
      expect(f.store.expireDue()).toBe(0);

      // Then up to the middle in one go, then the rest.
      advanceTo(f.clock, T1 + SECOND + 49_999n);
      expect(f.store.expireDue()).toBe(49_000);
      expect(f.store.nextDeadline()).toBe(T1 + SECOND + 50_000n);
      advanceTo(f.clock, T1 + SECOND + BigInt(count));
      expect(f.store.expireDue()).toBe(50_000);
      expect(f.store.nextDeadline()).toBeUndefined();

      const expired = since(f.events, mark);
      expect(expired).toHaveLength(count);
      let wrong = 0;
      let previous = 0n;
      const seen = new Set<string>();
      for (const e of expired) {
        if (e.event !== StoreEventKind.EXPIRED || e.clientId !== SERVER || e.time !== deadlineOf.get(e.key) || e.time < previous) {
          wrong++;
        }
        previous = e.time;
        seen.add(e.key);
      }
      expect(wrong).toBe(0);
      expect(seen.size).toBe(count);
      expect(f.store.stats()).toMatchObject({ keys: 0n, userKeys: 0n, lifespans: 0n, totalSize: 0n });
      expect(f.store.stats().events[StoreEventKind.EXPIRED]).toBe(BigInt(count));
    });

    it("a lifespan renewed 5 000 times expires exactly once, at the last deadline", () => {
      const f = setup();
      // Other keys with lifespans spread around, to check they survive the queue's clean-ups.
      for (let i = 1; i <= 10; i++) {
        put(f.store, `other-${i}`, "x", { lifespan: BigInt(i) * MINUTE });
      }
      put(f.store, "hot", "v", { lifespan: 10n * SECOND });
      for (let i = 0; i < 5_000; i++) {
        f.clock.advance(MS);
        put(f.store, "hot", "v");
      }
      const last = f.clock.now() + 10n * SECOND;
      expect(info(f.store, "hot").lifespan).toEqual({ duration: 10n * SECOND, set: f.clock.now() });
      expect(f.store.stats().events[StoreEventKind.LIFESPAN_RENEWED]).toBe(5_000n);

      advanceTo(f.clock, last - 1n);
      expect(f.store.expireDue()).toBe(0);
      expect(f.store.exists("hot")).toBe(true);
      expect(f.store.stats().events[StoreEventKind.EXPIRED]).toBe(0n);

      f.clock.advance(1n);
      const mark = f.events.length;
      expect(f.store.expireDue()).toBe(1);
      expect(since(f.events, mark)).toEqual([event("hot", StoreEventKind.EXPIRED, last, SERVER)]);
      expect(f.store.expireDue()).toBe(0);
      expect(f.store.nextDeadline()).toBe(T1 + MINUTE);

      // The other keys still expire, each once, at their own deadlines.
      advanceTo(f.clock, T1 + 10n * MINUTE);
      expect(f.store.expireDue()).toBe(10);
      expect(f.events.filter((e) => e.event === StoreEventKind.EXPIRED)).toEqual([
        event("hot", StoreEventKind.EXPIRED, last, SERVER),
        ...Array.from({ length: 10 }, (_, i) => event(`other-${i + 1}`, StoreEventKind.EXPIRED, T1 + BigInt(i + 1) * MINUTE, SERVER)),
      ]);
      expect(f.store.nextDeadline()).toBeUndefined();
      expect(f.store.stats()).toMatchObject({ userKeys: 0n, lifespans: 0n });
    });

    it("keys whose lifespans and locks are renewed many times all expire once, at their last deadlines", () => {
      const f = setup({}, { reserved: false });
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      for (const key of keys) {
        put(f.store, key, "v", { lifespan: MINUTE, lockDuration: MINUTE });
      }
      const lastSet = new Map<string, bigint>();
      for (let round = 0; round < 300; round++) {
        f.clock.advance(MS);
        const key = keys[(round * 7) % keys.length]!;
        put(f.store, key, `r${round}`, { lockDuration: MINUTE });
        lastSet.set(key, f.clock.now());
      }
      advanceTo(f.clock, T1 + 2n * MINUTE);
      f.store.expireDue();
      const expiredAt = f.events.filter((e) => e.event === StoreEventKind.EXPIRED).map((e) => [e.key, e.time]);
      expect(new Map(expiredAt as Array<[string, bigint]>)).toEqual(
        new Map(keys.map((key) => [key, (lastSet.get(key) ?? T1) + MINUTE])),
      );
      expect(expiredAt).toHaveLength(keys.length);
      expect(f.events.filter((e) => e.event === StoreEventKind.UNLOCKED)).toHaveLength(keys.length);
      expect(f.store.stats()).toMatchObject({ keys: 0n, currentLocks: 0n, lifespans: 0n });
    });
  });
});
