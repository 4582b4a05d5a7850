import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  MAX_LOCK,
  MIN_LOCK,
  MINUTE,
  SECOND,
  T1,
  event,
  expectError,
  expectLockExpiresAt,
  expectNoChange,
  info,
  put,
  setup,
  since,
  text,
  unordered,
  lockTooLong,
  lockTooShort,
} from "./key-value-store.fixture.js";

describe("KeyValueStore locks", () => {
  describe("Set with lock_duration", () => {
    it("creates and locks a new key: returns the fencing token; CREATED then LOCKED", () => {
      const f = setup();
      expect(put(f.store, "foo", "bar", { lockDuration: 10n * SECOND })).toStrictEqual({ isNew: true, fencingToken: 1n });
      expect(f.events).toEqual([event("foo", StoreEventKind.CREATED, T1), event("foo", StoreEventKind.LOCKED, T1)]);
      expect(info(f.store, "foo")).toMatchObject({ locked: true, fencingToken: 1n });
      expect(f.store.stats().currentLocks).toBe(1n);
      expectLockExpiresAt(f, "foo", T1 + 10n * SECOND);
    });

    it("locks an existing unlocked key with a new token", () => {
      const f = setup();
      put(f.store, "a", "1", { lockDuration: MINUTE });
      put(f.store, "foo", "bar");
      expect(put(f.store, "foo", "baz", { lockDuration: MINUTE })).toStrictEqual({ isNew: false, fencingToken: 2n });
    });

    it("returns no fencing token without lock_duration, even on a key the caller holds", () => {
      const f = setup();
      const created = put(f.store, "foo", "bar");
      expect(created).toEqual({ isNew: true });
      expect(created.fencingToken).toBeUndefined();
      f.store.lock(ALICE, "foo", MINUTE, false);
      const updated = put(f.store, "foo", "baz");
      expect(updated).toEqual({ isNew: false });
      expect(updated.fencingToken).toBeUndefined();
    });

    it("on a held lock replaces the deadline with now + d (shorter or longer) and keeps the token", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", MAX_LOCK, false);
      f.clock.advance(10n * SECOND);
      expect(put(f.store, "foo", "baz", { lockDuration: 5n * SECOND }).fencingToken).toBe(1n);
      expect(info(f.store, "foo").fencingToken).toBe(1n);
      expectLockExpiresAt(f, "foo", T1 + 15n * SECOND);
    });

    it("replacing with a longer duration is not added to the remaining time", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      f.clock.advance(4n * SECOND);
      expect(put(f.store, "foo", "baz", { lockDuration: 20n * SECOND }).fencingToken).toBe(1n);
      // now + d = T1 + 24s (Lock would have given T1 + 30s).
      expectLockExpiresAt(f, "foo", T1 + 24n * SECOND);
    });

    it("relocks even when the value is unchanged (LOCKED, no UPDATED)", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      f.clock.advance(SECOND);
      const mark = f.events.length;
      expect(put(f.store, "foo", "bar", { lockDuration: 10n * SECOND })).toStrictEqual({ isNew: false, fencingToken: 1n });
      expect(since(f.events, mark)).toEqual([event("foo", StoreEventKind.LOCKED, T1 + SECOND)]);
      expectLockExpiresAt(f, "foo", T1 + 11n * SECOND);
    });

    it("without lock_duration leaves the caller's lock untouched", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lockDuration: 10n * SECOND });
      f.clock.advance(5n * SECOND);
      const mark = f.events.length;
      put(f.store, "foo", "baz");
      expect(since(f.events, mark)).toEqual([event("foo", StoreEventKind.UPDATED, T1 + 5n * SECOND)]);
      expectLockExpiresAt(f, "foo", T1 + 10n * SECOND);
    });

    it("with lock_duration, lifespan and a new value on an existing key emits LIFESPAN_SET, LOCKED and UPDATED", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      const mark = f.events.length;
      put(f.store, "foo", "baz", { lockDuration: MINUTE, lifespan: MINUTE });
      expect(unordered(since(f.events, mark))).toEqual(
        unordered([
          event("foo", StoreEventKind.LIFESPAN_SET, T1),
          event("foo", StoreEventKind.LOCKED, T1),
          event("foo", StoreEventKind.UPDATED, T1),
        ]),
      );
    });

    describe("check order and errors (§4.1)", () => {
      it.each([
        ["zero", 0n],
        ["negative", -1n],
        ["1 ns below the minimum", MIN_LOCK - 1n],
      ])("refuses a %s lock duration with LOCK_INVALID, on new and existing keys", (_, lockDuration) => {
        const f = setup();
        put(f.store, "foo", "bar");
        expectNoChange(f, () => {
          expectError(() => put(f.store, "foo", "baz", { lockDuration }), "LOCK_INVALID", lockTooShort(lockDuration));
          expectError(() => put(f.store, "new", "baz", { lockDuration }), "LOCK_INVALID", lockTooShort(lockDuration));
        });
      });

      it("refuses 1 ns above max_lock_duration with LOCK_TOO_LONG", () => {
        const f = setup();
        put(f.store, "foo", "bar");
        expectNoChange(f, () => {
          expectError(() => put(f.store, "foo", "baz", { lockDuration: MAX_LOCK + 1n }), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n));
          expectError(() => put(f.store, "new", "baz", { lockDuration: MAX_LOCK + 1n }), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n));
        });
        expect(put(f.store, "new", "baz", { lockDuration: MAX_LOCK }).fencingToken).toBe(1n);
      });

      it("checks the key length and value size before the lock duration", () => {
        const f = setup();
        expectError(() => put(f.store, "k".repeat(1025), "v", { lockDuration: 0n }), "KEY_TOO_LONG", "1025 bytes, the limit is 1024 (max_key_length)");
        expectError(() => put(f.store, "k", "v".repeat(1001), { lockDuration: 0n }), "VALUE_TOO_LARGE", "1001 bytes, the limit is 1000 (max_value_size)");
      });

      it("checks READONLY before the lock duration", () => {
        const f = setup({ readonly: true });
        expectError(() => put(f.store, "k", "v", { lockDuration: 0n }), "READONLY");
      });

      it("checks the lock duration before the lifespan", () => {
        const f = setup();
        expectError(() => put(f.store, "k", "v", { lockDuration: 0n, lifespan: 0n }), "LOCK_INVALID", lockTooShort(0n));
        expectError(() => put(f.store, "k", "v", { lockDuration: MAX_LOCK + 1n, lifespan: 0n }), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n));
      });

      it("checks the lock duration before WRONG_OWNER and the capacity", () => {
        const f = setup({ maxKeys: 1 });
        put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
        expectError(() => put(f.store, "foo", "baz", { lockDuration: 0n }), "LOCK_INVALID", lockTooShort(0n));
        expectError(() => put(f.store, "new", "baz", { lockDuration: 0n }), "LOCK_INVALID", lockTooShort(0n));
      });

      it("refuses a key locked by another client with WRONG_OWNER, lock duration or not", () => {
        const f = setup();
        put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE, lifespan: MINUTE });
        f.clock.advance(SECOND);
        expectNoChange(f, () => {
          expectError(() => put(f.store, "foo", "baz"), "WRONG_OWNER");
          expectError(() => put(f.store, "foo", "bar"), "WRONG_OWNER");
          expectError(() => put(f.store, "foo", "baz", { lockDuration: MINUTE }), "WRONG_OWNER");
          expectError(() => put(f.store, "foo", "baz", { lifespan: 2n * MINUTE }), "WRONG_OWNER");
        });
        // Bob's lifespan was not renewed by the refused Sets.
        expect(info(f.store, "foo").lifespan).toEqual({ duration: MINUTE, set: T1 });
        expect(text(f.store.get(BOB, "foo"))).toBe("bar");
      });
    });
  });
});
