import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  MINUTE,
  SECOND,
  T1,
  advanceTo,
  allKeys,
  event,
  expectError,
  expectNoChange,
  info,
  put,
  setup,
  since,
  text,
} from "./key-value-store.fixture.js";

describe("KeyValueStore locks", () => {
  describe("Unlock (§4.12)", () => {
    it("releases the caller's lock: UNLOCKED by the caller, counter down, no token reported", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: MINUTE });
      f.clock.advance(SECOND);
      f.store.unlock(ALICE, "foo");
      expect(since(f.events, 2)).toEqual([event("foo", StoreEventKind.UNLOCKED, T1 + SECOND)]);
      expect(info(f.store, "foo")).toMatchObject({ locked: false });
      expect(info(f.store, "foo").fencingToken).toBeUndefined();
      expect(f.store.stats().currentLocks).toBe(0n);
      expect(text(f.store.get(BOB, "foo"))).toBe("bar");
    });

    it("the released lock's deadline does nothing later", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      f.store.unlock(ALICE, "foo");
      const mark = f.events.length;
      advanceTo(f.clock, T1 + 10n * SECOND);
      expect(f.store.expireDue()).toBe(0);
      expect(since(f.events, mark)).toEqual([]);
      expect(f.store.stats().currentLocks).toBe(0n);
    });

    it("does not touch the lifespan", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: MINUTE, lifespan: 10n * SECOND });
      f.clock.advance(SECOND);
      f.store.unlock(ALICE, "foo");
      expect(info(f.store, "foo").lifespan).toEqual({ duration: 10n * SECOND, set: T1 });
      expect(f.store.stats().events[StoreEventKind.LIFESPAN_RENEWED]).toBe(0n);
    });

    it("is fine on a key that is not locked, without an event", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expectNoChange(f, () => f.store.unlock(BOB, "foo"));
    });

    it("refuses a lock held by another client with WRONG_OWNER and keeps it", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: MINUTE });
      expectNoChange(f, () => expectError(() => f.store.unlock(BOB, "foo"), "WRONG_OWNER"));
      expect(info(f.store, "foo").fencingToken).toBe(1n);
    });

    it("checks RESERVED, then READONLY, then NOT_FOUND, then the owner", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: MINUTE });
      expectError(() => f.store.unlock(ALICE, "missing"), "NOT_FOUND");
      expectError(() => f.store.unlock(ALICE, ""), "NOT_FOUND");
      f.store.setReadOnly(ADMIN, true);
      expectError(() => f.store.unlock(ALICE, "keyquarry/Started"), "RESERVED");
      expectError(() => f.store.unlock(ALICE, "KEYQUARRY/missing"), "RESERVED");
      expectError(() => f.store.unlock(ALICE, "missing"), "READONLY");
      expectError(() => f.store.unlock(BOB, "foo"), "READONLY");
      expectError(() => f.store.unlock(ALICE, "foo"), "READONLY");
      expect(f.store.stats().currentLocks).toBe(1n);
    });
  });

  describe("a key locked by another client (§6.2)", () => {
    function lockedByBob() {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
      return f;
    }

    it("refuses Get, Pop and Inspect with value with LOCKED, changing nothing", () => {
      const f = lockedByBob();
      expectNoChange(f, () => {
        expectError(() => f.store.get(ALICE, "foo"), "LOCKED");
        expectError(() => f.store.pop(ALICE, "foo"), "LOCKED");
        expectError(() => f.store.inspect(ALICE, "foo", { value: true }), "LOCKED");
        expectError(() => f.store.inspect(ALICE, "foo", { value: true, metrics: true }), "LOCKED");
      });
    });

    it("refuses Set, Delete and Unlock with WRONG_OWNER and Lock with LOCKED_OTHER", () => {
      const f = lockedByBob();
      expectNoChange(f, () => {
        expectError(() => put(f.store, "foo", "baz"), "WRONG_OWNER");
        expectError(() => f.store.delete(ALICE, "foo"), "WRONG_OWNER");
        expectError(() => f.store.unlock(ALICE, "foo"), "WRONG_OWNER");
        expectError(() => f.store.lock(ALICE, "foo", MINUTE, false), "LOCKED_OTHER");
      });
    });

    it("allows Inspect without value, Exists and ListKeys to anyone", () => {
      const f = lockedByBob();
      expectNoChange(f, () => {
        expect(f.store.inspect(ALICE, "foo", {})).toMatchObject({ key: "foo", locked: true, fencingToken: 1n, size: 3n });
        expect(f.store.inspect(ALICE, "foo", { metrics: true }).metrics).toMatchObject({ setCount: 1, lockCount: 1 });
        expect(f.store.exists("foo")).toBe(true);
        expect(allKeys(f.store)).toContain("foo");
      });
    });

    it("checks NOT_FOUND before the lock for Get and Pop; RESERVED and READONLY before it for Delete and Pop", () => {
      const f = lockedByBob();
      expectError(() => f.store.get(ALICE, "missing"), "NOT_FOUND");
      expectError(() => f.store.pop(ALICE, "missing"), "NOT_FOUND");
      f.store.setReadOnly(ADMIN, true);
      expectError(() => f.store.delete(ALICE, "foo"), "READONLY");
      expectError(() => f.store.pop(ALICE, "foo"), "READONLY");
      expectError(() => f.store.get(ALICE, "foo"), "LOCKED");
    });

    it("the owner reads it (Get, Inspect with value) as usual", () => {
      const f = lockedByBob();
      expect(text(f.store.get(BOB, "foo"))).toBe("bar");
      expect(text(f.store.inspect(BOB, "foo", { value: true }).value!)).toBe("bar");
    });

    it("the owner's Delete removes the lock silently (no UNLOCKED) and the counter goes back to 0", () => {
      const f = lockedByBob();
      f.clock.advance(SECOND);
      f.store.delete(BOB, "foo");
      expect(since(f.events, 2)).toEqual([event("foo", StoreEventKind.DELETED, T1 + SECOND, BOB)]);
      expect(f.store.stats().currentLocks).toBe(0n);
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.expireDue()).toBe(0);
    });

    it("the owner's Pop removes the lock silently (ACCESSED, DELETED) and the counter goes back to 0", () => {
      const f = lockedByBob();
      expect(text(f.store.pop(BOB, "foo"))).toBe("bar");
      expect(since(f.events, 2)).toEqual([event("foo", StoreEventKind.ACCESSED, T1, BOB), event("foo", StoreEventKind.DELETED, T1, BOB)]);
      expect(f.store.stats().currentLocks).toBe(0n);
    });

    it("a key re-created after the owner's Delete is not locked by the old lock's deadline", () => {
      const f = lockedByBob();
      f.store.delete(BOB, "foo");
      put(f.store, "foo", "again");
      const mark = f.events.length;
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.expireDue()).toBe(0);
      expect(since(f.events, mark)).toEqual([]);
      expect(text(f.store.get(BOB, "foo"))).toBe("again");
    });
  });

  describe("Clear and locks (§4.7)", () => {
    it("without force skips locked keys (the caller's own too)", () => {
      const f = setup();
      put(f.store, "mine", "1", { lockDuration: MINUTE });
      put(f.store, "bobs", "2", { clientId: BOB, lockDuration: MINUTE });
      put(f.store, "free", "3");
      expect(f.store.clear(ALICE, false)).toBe(1n);
      expect(allKeys(f.store).filter((k) => !k.startsWith("keyquarry"))).toEqual(["mine", "bobs"]);
      expect(f.store.stats().currentLocks).toBe(2n);
    });

    it("with force removes locked keys: UNLOCKED (caller) then DELETED for each, counter back to 0", () => {
      const f = setup();
      put(f.store, "bobs", "2", { clientId: BOB, lockDuration: MINUTE, lifespan: MINUTE });
      put(f.store, "free", "3");
      f.clock.advance(SECOND);
      const mark = f.events.length;
      expect(f.store.clear(ALICE, true)).toBe(2n);
      const now = T1 + SECOND;
      expect(since(f.events, mark)).toEqual([
        event("bobs", StoreEventKind.UNLOCKED, now),
        event("bobs", StoreEventKind.DELETED, now),
        event("free", StoreEventKind.DELETED, now),
      ]);
      expect(f.store.stats()).toMatchObject({ userKeys: 0n, currentLocks: 0n, lifespans: 0n });
    });

    it("with force leaves no live deadline behind: the old lock and lifespan do nothing later", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: 10n * SECOND, lifespan: 20n * SECOND });
      f.store.clear(ALICE, true);
      put(f.store, "foo", "new");
      const mark = f.events.length;
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.expireDue()).toBe(0);
      expect(since(f.events, mark)).toEqual([]);
      expect(info(f.store, "foo")).toMatchObject({ locked: false, version: 1n });
      expect(f.store.stats().currentLocks).toBe(0n);
    });
  });
});
