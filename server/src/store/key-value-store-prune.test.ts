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
  RESERVED_COUNT,
  userKeys,
  fill,
  expunged,
} from "./key-value-store.fixture.js";
import { isReservedKey } from "./reserved-keys.js";
import type { StoreEvent } from "./store-event.js";

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
});
