import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  CAROL,
  MIN_LOCK,
  MINUTE,
  SECOND,
  SERVER,
  T1,
  advanceTo,
  event,
  expectError,
  expectLockExpiresAt,
  expectVersionMismatch,
  info,
  put,
  setup,
  since,
} from "./key-value-store.fixture.js";

describe("KeyValueStore locks", () => {
  describe("fencing tokens", () => {
    it("grow across keys and clients, are never reused after unlock, delete or expiry", () => {
      const f = setup();
      put(f.store, "a", "1");
      put(f.store, "b", "2");
      expect(f.store.lock(ALICE, "a", MIN_LOCK, false)).toBe(1n);
      expect(f.store.lock(BOB, "b", MIN_LOCK, false)).toBe(2n);
      f.store.unlock(ALICE, "a");
      expect(f.store.lock(CAROL, "a", MIN_LOCK, false)).toBe(3n);
      f.store.delete(CAROL, "a");
      expect(put(f.store, "a", "x", { lockDuration: MIN_LOCK }).fencingToken).toBe(4n);
      f.clock.advance(MIN_LOCK);
      // Both locks expired; the next acquisitions continue the sequence.
      expect(f.store.lock(BOB, "a", MIN_LOCK, false)).toBe(5n);
      expect(f.store.lock(ALICE, "c", MIN_LOCK, true)).toBe(6n);
      expect(f.store.lock(CAROL, "b", MIN_LOCK, false)).toBe(7n);
    });

    it("stay the same across extensions by Lock and renewals by Set", () => {
      const f = setup();
      put(f.store, "other", "x", { lockDuration: MIN_LOCK });
      expect(f.store.lock(ALICE, "foo", MIN_LOCK, true)).toBe(2n);
      for (let i = 0; i < 5; i++) {
        f.clock.advance(MIN_LOCK / 2n);
        expect(f.store.lock(ALICE, "foo", MIN_LOCK, false)).toBe(2n);
        expect(put(f.store, "foo", `v${i}`, { lockDuration: MIN_LOCK }).fencingToken).toBe(2n);
        expect(info(f.store, "foo").fencingToken).toBe(2n);
      }
      expect(f.store.lock(BOB, "bar", MIN_LOCK, true)).toBe(3n);
    });

    it("an extension 1 ns before the deadline keeps the token; at the deadline it is a new lock with a new token", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", 10n * SECOND, false);
      advanceTo(f.clock, T1 + 10n * SECOND - 1n);
      expect(f.store.lock(ALICE, "foo", 10n * SECOND, false)).toBe(1n);
      advanceTo(f.clock, T1 + 20n * SECOND);
      const mark = f.events.length;
      expect(f.store.lock(ALICE, "foo", 10n * SECOND, false)).toBe(2n);
      expect(since(f.events, mark)).toEqual([
        event("foo", StoreEventKind.UNLOCKED, T1 + 20n * SECOND, SERVER),
        event("foo", StoreEventKind.LOCKED, T1 + 20n * SECOND),
      ]);
      // A fresh lock: now + d, not an extension of the expired one.
      expectLockExpiresAt(f, "foo", T1 + 30n * SECOND);
    });

    it("are reported by Inspect only while locked", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expect(info(f.store, "foo").fencingToken).toBeUndefined();
      f.store.lock(ALICE, "foo", MIN_LOCK, false);
      expect(info(f.store, "foo", BOB).fencingToken).toBe(1n);
      f.clock.advance(MIN_LOCK);
      expect(info(f.store, "foo").fencingToken).toBeUndefined();
      expect("fencingToken" in info(f.store, "foo")).toBe(false);
    });

    it("are not consumed by refused acquisitions", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
      expectError(() => f.store.lock(ALICE, "foo", MINUTE, false), "LOCKED_OTHER");
      expectError(() => put(f.store, "foo", "x", { lockDuration: MINUTE }), "WRONG_OWNER");
      expectVersionMismatch(() => put(f.store, "foo", "x", { clientId: BOB, lockDuration: MINUTE, ifVersion: 7n }), 1n);
      expect(f.store.lock(ALICE, "other", MINUTE, true)).toBe(2n);
    });
  });
});
