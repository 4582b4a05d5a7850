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
  SERVER,
  T1,
  advanceTo,
  allKeys,
  event,
  expectError,
  expectNoChange,
  put,
  setup,
  since,
  text,
  unordered,
  type Fixture,
  listKeys,
} from "./key-value-store.fixture.js";
import type { KeyValueStore } from "./key-value-store.js";
import { isReservedKey } from "./reserved-keys.js";
import { StoreError } from "./store-error.js";
import type { StoreEvent } from "./store-event.js";

/** Reserved keys written by setup(); they never count toward any pruning threshold. */
const RESERVED_COUNT = 16;

/** User key names, in creation order. */
const userKeys = (store: KeyValueStore): string[] => listKeys(store, { pattern: "", limit: 0n, includeReserved: false });

/** Keys `k0`, `k1`, … (or with `prefix`), each created one `step` after the previous (so k0 is the stalest). */
function fill({ store, clock }: Fixture, count: number, { prefix = "k", step = MINUTE, from = 0 } = {}): string[] {
  const keys: string[] = [];
  for (let i = from; i < from + count; i++) {
    const key = `${prefix}${i}`;
    put(store, key, `value ${i}`);
    keys.push(key);
    clock.advance(step);
  }
  return keys;
}

/** A small clock step for loops that must not let 1h locks expire. */
const MS_STEP = 1_000_000n;

const expunged = (keys: readonly string[], time: bigint) => keys.map((key) => event(key, StoreEventKind.EXPUNGED, time, SERVER));

describe("KeyValueStore pruning (§8, with our deliberate differences)", () => {
  describe("Prune(target, ignore): which keys go", () => {
    it("removes the lowest stale scores first, in TestKeySort's order (§14.1)", () => {
      const f = setup();
      // bar: created 12h before the prune; wat: created 12h before, updated 11h before;
      // foo: created just before; baz: created just before and locked (never pruned).
      put(f.store, "bar", "1");
      put(f.store, "wat", "1");
      advanceTo(f.clock, T1 + HOUR);
      put(f.store, "wat", "2");
      advanceTo(f.clock, T1 + 12n * HOUR - SECOND);
      put(f.store, "foo", "1");
      f.store.lock(ALICE, "baz", MAX_LOCK, true);
      advanceTo(f.clock, T1 + 12n * HOUR);
      const now = f.clock.now();

      const removedOneByOne: string[] = [];
      for (const target of [3, 2, 1]) {
        const mark = f.events.length;
        expect(f.store.prune(target)).toBe(1);
        const removed = since(f.events, mark);
        expect(removed).toHaveLength(1);
        expect(removed[0]).toMatchObject({ event: StoreEventKind.EXPUNGED, clientId: SERVER, time: now });
        removedOneByOne.push(removed[0]!.key);
      }
      expect(removedOneByOne).toEqual(["bar", "wat", "foo"]);
      // The locked key stays even with target 0.
      expect(f.store.prune(0)).toBe(0);
      expect(userKeys(f.store)).toEqual(["baz"]);
    });

    it("keeps a recently accessed key (Get) and removes the next stalest ones", () => {
      const f = setup();
      fill(f, 5, { step: HOUR }); // k0 at T1 … k4 at T1+4h
      advanceTo(f.clock, T1 + 10n * HOUR);
      f.store.get(BOB, "k0");
      f.clock.advance(MINUTE);
      const mark = f.events.length;
      expect(f.store.prune(3)).toBe(2);
      expect(unordered(since(f.events, mark))).toEqual(unordered(expunged(["k1", "k2"], f.clock.now())));
      expect(userKeys(f.store)).toEqual(["k0", "k3", "k4"]);
    });

    it("keeps a recently updated key (Set with a new value)", () => {
      const f = setup();
      fill(f, 3, { step: HOUR });
      advanceTo(f.clock, T1 + 10n * HOUR);
      put(f.store, "k0", "new value");
      f.clock.advance(MINUTE);
      expect(f.store.prune(2)).toBe(1);
      expect(userKeys(f.store)).toEqual(["k0", "k2"]);
    });

    it("keeps a recently locked key after it was unlocked", () => {
      const f = setup();
      fill(f, 3, { step: HOUR });
      advanceTo(f.clock, T1 + 10n * HOUR);
      f.store.lock(BOB, "k0", MIN_LOCK, false);
      f.store.unlock(BOB, "k0");
      f.clock.advance(MINUTE);
      expect(f.store.prune(2)).toBe(1);
      expect(userKeys(f.store)).toEqual(["k0", "k2"]);
    });

    it("never removes locked keys, whoever holds them", () => {
      const f = setup();
      fill(f, 5);
      f.store.lock(ALICE, "k0", MAX_LOCK, false);
      f.store.lock(BOB, "k1", MAX_LOCK, false);
      const mark = f.events.length;
      // 5 − 0 = 5 keys should go, but only 3 can.
      expect(f.store.prune(0)).toBe(3);
      expect(unordered(since(f.events, mark))).toEqual(unordered(expunged(["k2", "k3", "k4"], f.clock.now())));
      expect(userKeys(f.store)).toEqual(["k0", "k1"]);
      expect(f.store.stats()).toMatchObject({ userKeys: 2n, currentLocks: 2n, pruneCompleted: 1n });
    });

    it("removes a key whose lock has expired (UNLOCKED by the server at the deadline, then EXPUNGED)", () => {
      const f = setup();
      f.store.lock(BOB, "lease", 10n * SECOND, true);
      const deadline = f.clock.now() + 10n * SECOND;
      advanceTo(f.clock, deadline + MINUTE);
      const mark = f.events.length;
      expect(f.store.prune(0)).toBe(1);
      expect(since(f.events, mark)).toEqual([
        event("lease", StoreEventKind.UNLOCKED, deadline, SERVER),
        event("lease", StoreEventKind.EXPUNGED, deadline + MINUTE, SERVER),
      ]);
      expect(f.store.stats().currentLocks).toBe(0n);
    });

    it("never removes reserved keys, and they do not count toward the target", () => {
      const f = setup();
      const reserved = allKeys(f.store);
      expect(reserved).toHaveLength(RESERVED_COUNT);
      expect(reserved.every(isReservedKey)).toBe(true);
      fill(f, 4);
      // 4 user keys + 16 reserved: target 2 removes 2 user keys (the original counted 20 keys).
      expect(f.store.prune(2)).toBe(2);
      expect(f.store.prune(0)).toBe(2);
      expect(allKeys(f.store)).toEqual(reserved);
      expect(f.store.stats()).toMatchObject({ keys: BigInt(RESERVED_COUNT), userKeys: 0n, pruneCompleted: 2n });
    });

    it("never removes ignored keys; they still count toward the target", () => {
      const f = setup();
      fill(f, 6);
      const mark = f.events.length;
      // 6 user keys, target 3: remove 3, skipping the two stalest (ignored).
      expect(f.store.prune(3, new Set(["k0", "k1", "no-such-key", "keyquarry/Started"]))).toBe(3);
      expect(unordered(since(f.events, mark))).toEqual(unordered(expunged(["k2", "k3", "k4"], f.clock.now())));
      expect(userKeys(f.store)).toEqual(["k0", "k1", "k5"]);
      // Ignoring limits how many can go: target 0, only k5 is prunable.
      expect(f.store.prune(0, new Set(["k0", "k1"]))).toBe(1);
      expect(userKeys(f.store)).toEqual(["k0", "k1"]);
    });

    it("matches ignored names exactly", () => {
      const f = setup();
      fill(f, 3);
      expect(f.store.prune(0, new Set(["K0", "k", "k1 "]))).toBe(3);
      expect(userKeys(f.store)).toEqual([]);
    });
  });

  describe("Prune: counts, events and what a removal does", () => {
    it("removes user keys − target keys, each with EXPUNGED by the server carrying its value", () => {
      const f = setup();
      const values: StoreEvent[] = [];
      f.store.subscribe((e) => values.push(e));
      fill(f, 5);
      const before = f.store.stats();
      const mark = f.events.length;
      const now = f.clock.now();
      expect(f.store.prune(2)).toBe(3);
      expect(unordered(since(f.events, mark))).toEqual(unordered(expunged(["k0", "k1", "k2"], now)));
      const expungedEvents = values.filter((e) => e.event === StoreEventKind.EXPUNGED);
      expect(expungedEvents.map((e) => [e.key, text(e.value!.value), e.value!.version, e.lockOwner])).toEqual(
        expect.arrayContaining([
          ["k0", "value 0", 1n, undefined],
          ["k1", "value 1", 1n, undefined],
          ["k2", "value 2", 1n, undefined],
        ]),
      );
      const after = f.store.stats();
      expect(after.userKeys).toBe(2n);
      expect(after.keys).toBe(BigInt(RESERVED_COUNT + 2));
      expect(after.totalSize).toBe(before.totalSize - 3n * BigInt("value 0".length));
      expect(after.events[StoreEventKind.EXPUNGED]).toBe(3n);
      expect(after.events[StoreEventKind.DELETED]).toBe(0n);
      expect(after.pruneCompleted).toBe(1n);
      expect(after.eagerPruneTriggered).toBe(0n);
      for (const key of ["k0", "k1", "k2"]) {
        expect(f.store.exists(key)).toBe(false);
      }
    });

    it("keeps the key metrics of removed keys", () => {
      const f = setup();
      fill(f, 2);
      f.store.prune(0);
      expect(f.store.keyMetrics("k0")).toMatchObject({ setCount: 1, firstSet: T1 });
    });

    it("removes a key's lifespan with it: no EXPIRED later", () => {
      const f = setup();
      put(f.store, "short", "x", { lifespan: HOUR });
      f.clock.advance(MINUTE);
      expect(f.store.stats().lifespans).toBe(1n);
      expect(f.store.prune(0)).toBe(1);
      expect(f.store.stats().lifespans).toBe(0n);
      const mark = f.events.length;
      f.clock.advance(2n * HOUR);
      expect(f.store.expireDue()).toBe(0);
      expect(f.store.exists("short")).toBe(false);
      expect(since(f.events, mark)).toEqual([]);
    });

    it("applies due expirations first: expired keys are EXPIRED, not EXPUNGED, and no longer count", () => {
      const f = setup();
      put(f.store, "a", "1");
      put(f.store, "b", "1");
      put(f.store, "c", "1", { lifespan: HOUR });
      put(f.store, "d", "1", { lifespan: HOUR });
      put(f.store, "e", "1");
      const deadline = T1 + HOUR;
      advanceTo(f.clock, deadline + HOUR);
      const mark = f.events.length;
      // After c and d expire, 3 user keys remain: target 2 removes one (the stalest of a, b, e).
      expect(f.store.prune(2)).toBe(1);
      expect(since(f.events, mark)).toEqual([
        event("c", StoreEventKind.EXPIRED, deadline, SERVER),
        event("d", StoreEventKind.EXPIRED, deadline, SERVER),
        event("a", StoreEventKind.EXPUNGED, deadline + HOUR, SERVER),
      ]);
    });

    it("drops the history of removed keys (one removal rule)", () => {
      const f = setup({ revisionLimit: 3 });
      put(f.store, "h", "v1");
      put(f.store, "h", "v2");
      put(f.store, "h", "v3");
      expect(f.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 3n });
      expect(f.store.prune(0)).toBe(1);
      expect(f.store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expectError(() => f.store.getRevision(ALICE, "h", 1n), "REVISION_NOT_FOUND");
      put(f.store, "h", "again");
      expect(f.store.inspect(ALICE, "h").version).toBe(1n);
    });

    it("keeps the history of removed keys with keep_deleted_key_history", () => {
      const f = setup({ revisionLimit: 3, keepDeletedKeyHistory: true });
      put(f.store, "h", "v1");
      put(f.store, "h", "v2");
      expect(f.store.prune(0)).toBe(1);
      expect(f.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      expect(text(f.store.getRevision(ALICE, "h", 1n).value)).toBe("v1");
      // A re-created key continues the numbering.
      put(f.store, "h", "v3");
      expect(f.store.inspect(ALICE, "h").version).toBe(3n);
    });

    it("prunes in readonly mode too (§4.20)", () => {
      const f = setup({ pruneAt: 2, pruneTo: 1 });
      fill(f, 3);
      f.store.setReadOnly(ADMIN, true);
      expect(f.store.scheduledPrune()).toBe(2);
      expect(f.store.prune(0)).toBe(1);
      expect(userKeys(f.store)).toEqual([]);
    });
  });

  describe("Prune: when it runs and counts", () => {
    it("does nothing and counts nothing when there are fewer user keys than the target", () => {
      const f = setup();
      fill(f, 5);
      // 5 user keys + 16 reserved = 21 ≥ 6, but only user keys count.
      expectNoChange(f, () => expect(f.store.prune(6)).toBe(0));
      expect(f.store.stats().pruneCompleted).toBe(0n);
    });

    it("runs and counts when user keys equal the target, even though nothing is removed", () => {
      const f = setup();
      fill(f, 5);
      const mark = f.events.length;
      expect(f.store.prune(5)).toBe(0);
      expect(since(f.events, mark)).toEqual([]);
      expect(f.store.stats().pruneCompleted).toBe(1n);
    });

    it("runs and counts when nothing can be removed (all locked or ignored)", () => {
      const f = setup();
      f.store.lock(ALICE, "l0", MAX_LOCK, true);
      f.store.lock(ALICE, "l1", MAX_LOCK, true);
      put(f.store, "ignored", "x");
      expect(f.store.prune(0, new Set(["ignored"]))).toBe(0);
      expect(f.store.stats()).toMatchObject({ pruneCompleted: 1n, userKeys: 3n });
      expect(f.store.stats().events[StoreEventKind.EXPUNGED]).toBe(0n);
    });

    it("prunes an empty store to 0 (a run, nothing removed)", () => {
      const f = setup();
      expect(f.store.prune(0)).toBe(0);
      expect(f.store.stats().pruneCompleted).toBe(1n);
      expect(allKeys(f.store)).toHaveLength(RESERVED_COUNT);
    });

    it("prunes to 0: target 0 removes every prunable key", () => {
      const f = setup();
      fill(f, 7);
      expect(f.store.prune(0)).toBe(7);
      expect(userKeys(f.store)).toEqual([]);
    });
  });

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
