import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  MIN_LOCK,
  MINUTE,
  SECOND,
  SERVER,
  T1,
  advanceTo,
  event,
  expectError,
  expectLockExpiresAt,
  info,
  put,
  setup,
  since,
  text,
} from "./key-value-store.fixture.js";

describe("KeyValueStore locks", () => {
  describe("lock expiry (§6.2)", () => {
    it("releases the lock at the deadline with UNLOCKED by the server, at the deadline's time", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      expect(f.store.nextDeadline()).toBe(T1 + 10n * SECOND);
      // Observed well after the deadline: the event still carries the deadline.
      advanceTo(f.clock, T1 + 25n * SECOND);
      expect(f.store.exists("foo")).toBe(true);
      expect(since(f.events, 2)).toEqual([event("foo", StoreEventKind.UNLOCKED, T1 + 10n * SECOND, SERVER)]);
      expect(f.store.stats().currentLocks).toBe(0n);
      expect(f.store.nextDeadline()).toBeUndefined();
    });

    it("is applied by expireDue without any other operation", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND - 1n);
      expect(f.store.expireDue()).toBe(0);
      f.clock.advance(1n);
      const mark = f.events.length;
      expect(f.store.expireDue()).toBe(1);
      expect(since(f.events, mark)).toEqual([event("foo", StoreEventKind.UNLOCKED, T1 + 10n * SECOND, SERVER)]);
      expect(f.store.expireDue()).toBe(0);
    });

    it("at the deadline the lock is gone for every caller; 1 ns before it is there for every caller", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND - 1n);
      expectError(() => f.store.get(ALICE, "foo"), "LOCKED");
      expectError(() => f.store.lock(ALICE, "foo", MIN_LOCK, false), "LOCKED_OTHER");
      expect(info(f.store, "foo", BOB).locked).toBe(true);
      f.clock.advance(1n);
      expect(info(f.store, "foo", BOB).locked).toBe(false);
      expect(text(f.store.get(ALICE, "foo"))).toBe("bar");
    });

    it("leaves the value, version and lifespan alone", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND, lifespan: MINUTE });
      advanceTo(f.clock, T1 + 10n * SECOND);
      expect(info(f.store, "foo")).toMatchObject({ version: 1n, size: 3n, lifespan: { duration: MINUTE, set: T1 } });
      expect(f.store.stats()).toMatchObject({ currentLocks: 0n, lifespans: 1n });
    });

    it("releases several locks in deadline order", () => {
      const f = setup();
      put(f.store, "c", "3", { lockDuration: 30n * SECOND });
      put(f.store, "a", "1", { lockDuration: 10n * SECOND });
      put(f.store, "b", "2", { lockDuration: 20n * SECOND });
      const mark = f.events.length;
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.expireDue()).toBe(3);
      expect(since(f.events, mark)).toEqual([
        event("a", StoreEventKind.UNLOCKED, T1 + 10n * SECOND, SERVER),
        event("b", StoreEventKind.UNLOCKED, T1 + 20n * SECOND, SERVER),
        event("c", StoreEventKind.UNLOCKED, T1 + 30n * SECOND, SERVER),
      ]);
    });
  });

  describe("races", () => {
    it("two clients fight for a lock: LOCKED_OTHER until Unlock, then the other acquires with a higher token", () => {
      const f = setup();
      put(f.store, "job", "");
      const aliceToken = f.store.lock(ALICE, "job", MINUTE, false);
      for (let i = 0; i < 3; i++) {
        f.clock.advance(SECOND);
        expectError(() => f.store.lock(BOB, "job", MINUTE, false), "LOCKED_OTHER");
        expectError(() => f.store.lock(BOB, "job", MINUTE, true), "LOCKED_OTHER");
        expectError(() => put(f.store, "job", "bob", { clientId: BOB, lockDuration: MINUTE }), "WRONG_OWNER");
      }
      f.store.unlock(ALICE, "job");
      const bobToken = f.store.lock(BOB, "job", MINUTE, false);
      expect(bobToken).toBeGreaterThan(aliceToken);
      expectError(() => f.store.lock(ALICE, "job", MINUTE, false), "LOCKED_OTHER");
      expect(since(f.events, 1)).toEqual([
        event("job", StoreEventKind.LOCKED, T1),
        event("job", StoreEventKind.UNLOCKED, T1 + 3n * SECOND),
        event("job", StoreEventKind.LOCKED, T1 + 3n * SECOND, BOB),
      ]);
    });

    it("two clients fight for a lock: LOCKED_OTHER until 1 ns before expiry, acquired at the deadline", () => {
      const f = setup();
      put(f.store, "job", "");
      const aliceToken = f.store.lock(ALICE, "job", 10n * SECOND, false);
      const deadline = T1 + 10n * SECOND;
      advanceTo(f.clock, deadline - 1n);
      expectError(() => f.store.lock(BOB, "job", MINUTE, false), "LOCKED_OTHER");
      f.clock.advance(1n);
      const bobToken = f.store.lock(BOB, "job", MINUTE, false);
      expect(bobToken).toBeGreaterThan(aliceToken);
      // Alice's late extension attempt is now refused: the lock is Bob's.
      expectError(() => f.store.lock(ALICE, "job", MINUTE, false), "LOCKED_OTHER");
      expect(since(f.events, 1)).toEqual([
        event("job", StoreEventKind.LOCKED, T1),
        event("job", StoreEventKind.UNLOCKED, deadline, SERVER),
        event("job", StoreEventKind.LOCKED, deadline, BOB),
      ]);
      expect(f.store.stats().currentLocks).toBe(1n);
    });

    it("a lock expiring while its owner updates: owner writes at deadline − 1 ns, another client at the deadline", () => {
      const f = setup();
      put(f.store, "doc", "v1", { lockDuration: 10n * SECOND });
      const deadline = T1 + 10n * SECOND;
      advanceTo(f.clock, deadline - 1n);
      expectError(() => put(f.store, "doc", "bob", { clientId: BOB }), "WRONG_OWNER");
      expect(put(f.store, "doc", "v2")).toEqual({ isNew: false });
      expect(info(f.store, "doc")).toMatchObject({ version: 2n, locked: true });
      f.clock.advance(1n);
      expect(put(f.store, "doc", "bob", { clientId: BOB })).toEqual({ isNew: false });
      expect(text(f.store.get(ALICE, "doc"))).toBe("bob");
      expect(since(f.events, 2)).toEqual([
        event("doc", StoreEventKind.UPDATED, deadline - 1n),
        event("doc", StoreEventKind.UNLOCKED, deadline, SERVER),
        event("doc", StoreEventKind.UPDATED, deadline, BOB),
        event("doc", StoreEventKind.ACCESSED, deadline),
      ]);
    });

    it("the owner writing at the deadline no longer holds the lock: the write succeeds unlocked", () => {
      const f = setup();
      put(f.store, "doc", "v1", { lockDuration: 10n * SECOND });
      const deadline = T1 + 10n * SECOND;
      advanceTo(f.clock, deadline);
      expect(put(f.store, "doc", "v2")).toEqual({ isNew: false });
      expect(info(f.store, "doc").locked).toBe(false);
      expect(since(f.events, 2)).toEqual([
        event("doc", StoreEventKind.UNLOCKED, deadline, SERVER),
        event("doc", StoreEventKind.UPDATED, deadline),
      ]);
      expect(put(f.store, "doc", "bob", { clientId: BOB })).toEqual({ isNew: false });
    });

    it("an owner renewing at deadline − 1 ns keeps the key from the other client", () => {
      const f = setup();
      put(f.store, "doc", "v1", { lockDuration: 10n * SECOND });
      const deadline = T1 + 10n * SECOND;
      advanceTo(f.clock, deadline - 1n);
      expect(put(f.store, "doc", "v2", { lockDuration: 10n * SECOND }).fencingToken).toBe(1n);
      f.clock.advance(1n);
      expectError(() => put(f.store, "doc", "bob", { clientId: BOB }), "WRONG_OWNER");
      expectLockExpiresAt(f, "doc", deadline - 1n + 10n * SECOND);
    });

    it("a writer holding a stale token sees a higher token on the key after losing the lock", () => {
      const f = setup();
      const alice = put(f.store, "doc", "v1", { lockDuration: 10n * SECOND }).fencingToken!;
      advanceTo(f.clock, T1 + 10n * SECOND);
      const bob = put(f.store, "doc", "bob", { clientId: BOB, lockDuration: 10n * SECOND }).fencingToken!;
      expect(bob).toBeGreaterThan(alice);
      expect(info(f.store, "doc").fencingToken).toBe(bob);
      expectError(() => put(f.store, "doc", "v2"), "WRONG_OWNER");
    });
  });
});
