import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  CAROL,
  HASH_EMPTY,
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
  expectLockExpiresAt,
  expectVersionMismatch,
  expectNoChange,
  info,
  put,
  setup,
  since,
  text,
  unordered,
  lockTooLong,
  lockTooShort,
  noLockDuration,
} from "./key-value-store.fixture.js";

describe("KeyValueStore locks", () => {
  describe("Lock: check order and errors (§4.11)", () => {
    it("checks EMPTY_KEY first", () => {
      const f = setup({ readonly: true });
      expectError(() => f.store.lock(ALICE, "", undefined, true), "EMPTY_KEY");
    });

    it.each(["keyquarry/Started", "KeyQuarry/new", "keyquarryx"])(
      "refuses reserved key %j with RESERVED before READONLY",
      (key) => {
        const f = setup({ readonly: true });
        expectError(() => f.store.lock(ALICE, key, undefined, true), "RESERVED");
      },
    );

    it("checks READONLY before the key length and the duration", () => {
      const f = setup({ readonly: true });
      expectError(() => f.store.lock(ALICE, "k".repeat(1025), undefined, true), "READONLY");
    });

    it("checks KEY_TOO_LONG (UTF-8 bytes) only with create_if_missing, before the duration", () => {
      const f = setup();
      expectError(() => f.store.lock(ALICE, "k".repeat(1025), undefined, true), "KEY_TOO_LONG", "1025 bytes, the limit is 1024 (max_key_length)");
      expectError(() => f.store.lock(ALICE, "é".repeat(513), 0n, true), "KEY_TOO_LONG", "1026 bytes, the limit is 1024 (max_key_length)");
      // Without create_if_missing the length is not checked: the key is just not found.
      expectError(() => f.store.lock(ALICE, "k".repeat(1025), MIN_LOCK, false), "NOT_FOUND");
      // Exactly max_key_length bytes is fine.
      expect(f.store.lock(ALICE, "é".repeat(512), MIN_LOCK, true)).toBe(1n);
    });

    it("refuses a missing duration with LOCK_INVALID, before looking at the key", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MIN_LOCK });
      expectError(() => f.store.lock(ALICE, "missing", undefined, false), "LOCK_INVALID", noLockDuration);
      expectError(() => f.store.lock(ALICE, "foo", undefined, false), "LOCK_INVALID", noLockDuration);
      expectError(() => f.store.lock(BOB, "foo", undefined, false), "LOCK_INVALID", noLockDuration);
    });

    it.each([
      ["zero", 0n],
      ["negative", -SECOND],
      ["very negative", -MAX_LOCK - 1n],
      ["1 ns below the minimum", MIN_LOCK - 1n],
    ])("refuses a %s duration with LOCK_INVALID", (_, duration) => {
      const f = setup();
      put(f.store, "foo", "bar");
      expectNoChange(f, () => expectError(() => f.store.lock(ALICE, "foo", duration, false), "LOCK_INVALID", lockTooShort(duration)));
      expectError(() => f.store.lock(ALICE, "new", duration, true), "LOCK_INVALID", lockTooShort(duration));
      expect(f.store.exists("new")).toBe(false);
    });

    it("refuses 1 ns above max_lock_duration with LOCK_TOO_LONG", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expectNoChange(f, () => expectError(() => f.store.lock(ALICE, "foo", MAX_LOCK + 1n, false), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n)));
      expectError(() => f.store.lock(ALICE, "new", MAX_LOCK + 1n, true), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n));
      expect(f.store.exists("new")).toBe(false);
    });

    it("accepts exactly the minimum and exactly the maximum", () => {
      const f = setup();
      put(f.store, "a", "1");
      put(f.store, "b", "2");
      expect(f.store.lock(ALICE, "a", MIN_LOCK, false)).toBe(1n);
      expect(f.store.lock(ALICE, "b", MAX_LOCK, false)).toBe(2n);
      expectLockExpiresAt(f, "a", T1 + MIN_LOCK);
      expectLockExpiresAt(f, "b", T1 + MAX_LOCK);
    });

    it("checks the duration before LOCKED_OTHER and NOT_FOUND", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MIN_LOCK });
      expectError(() => f.store.lock(ALICE, "foo", 0n, false), "LOCK_INVALID", lockTooShort(0n));
      expectError(() => f.store.lock(ALICE, "foo", MAX_LOCK + 1n, true), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n));
      expectError(() => f.store.lock(ALICE, "missing", MIN_LOCK - 1n, false), "LOCK_INVALID", lockTooShort(MIN_LOCK - 1n));
      expectError(() => f.store.lock(ALICE, "missing", MAX_LOCK + 1n, false), "LOCK_TOO_LONG", lockTooLong(MAX_LOCK + 1n));
    });

    it("refuses a key locked by another client with LOCKED_OTHER, with or without create_if_missing", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
      expectNoChange(f, () => {
        expectError(() => f.store.lock(ALICE, "foo", MIN_LOCK, false), "LOCKED_OTHER");
        expectError(() => f.store.lock(ALICE, "foo", MIN_LOCK, true), "LOCKED_OTHER");
      });
    });

    it("refuses a missing key with NOT_FOUND without create_if_missing, creating nothing", () => {
      const f = setup();
      expectNoChange(f, () => expectError(() => f.store.lock(ALICE, "missing", MIN_LOCK, false), "NOT_FOUND"));
      expectError(() => f.store.keyMetrics("missing"), "METRIC_NOT_FOUND");
    });

    it("refuses create_if_missing at max_keys with MAX_KEYS", () => {
      const f = setup({ maxKeys: 1 });
      put(f.store, "a", "1");
      expectNoChange(f, () => expectError(() => f.store.lock(ALICE, "b", MIN_LOCK, true), "MAX_KEYS", "the limit is 1 (max_keys)"));
      // Locking an existing key is not a creation.
      expect(f.store.lock(ALICE, "a", MIN_LOCK, true)).toBe(1n);
    });

    it("a refused Lock changes nothing and consumes no fencing token", () => {
      const f = setup();
      put(f.store, "foo", "bar", { clientId: BOB });
      expectError(() => f.store.lock(ALICE, "foo", 0n, false), "LOCK_INVALID", lockTooShort(0n));
      expectError(() => f.store.lock(ALICE, "nope", MIN_LOCK, false), "NOT_FOUND");
      expect(f.store.lock(ALICE, "foo", MIN_LOCK, false)).toBe(1n);
    });
  });

  describe("Lock: acquiring", () => {
    it("locks an existing key: token, LOCKED, locked for others, value and version untouched", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.clock.advance(SECOND);
      expect(f.store.lock(ALICE, "foo", MINUTE, false)).toBe(1n);
      expect(since(f.events, 1)).toEqual([event("foo", StoreEventKind.LOCKED, T1 + SECOND)]);
      expect(info(f.store, "foo", BOB)).toMatchObject({ locked: true, fencingToken: 1n, version: 1n });
      expect(info(f.store, "foo").updated).toBeUndefined();
      expect(f.store.stats().currentLocks).toBe(1n);
      expectError(() => f.store.get(BOB, "foo"), "LOCKED");
      expect(text(f.store.get(ALICE, "foo"))).toBe("bar");
    });

    it("creates a missing key with create_if_missing: empty value, version 1, CREATED then LOCKED", () => {
      const f = setup();
      expect(f.store.lock(ALICE, "new", MINUTE, true)).toBe(1n);
      expect(info(f.store, "new")).toStrictEqual({
        key: "new",
        hash: HASH_EMPTY,
        created: T1,
        version: 1n,
        size: 0n,
        locked: true,
        fencingToken: 1n,
        contentType: "",
      });
      expect(f.events).toEqual([event("new", StoreEventKind.CREATED, T1), event("new", StoreEventKind.LOCKED, T1)]);
      expect(f.store.stats()).toMatchObject({ userKeys: 1n, currentLocks: 1n, historyRevisions: 1n });
      expect(f.store.getRevision(ALICE, "new", 1n)).toMatchObject({ version: 1n, hash: HASH_EMPTY, timestamp: T1 });
    });

    it("with create_if_missing on an existing key only locks it (no CREATED)", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", MINUTE, true);
      expect(f.events).toEqual([event("foo", StoreEventKind.CREATED, T1), event("foo", StoreEventKind.LOCKED, T1)]);
      expect(text(f.store.get(ALICE, "foo"))).toBe("bar");
    });

    it("does not touch the key's lifespan", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      f.clock.advance(3n * SECOND);
      f.store.lock(ALICE, "foo", MINUTE, false);
      expect(info(f.store, "foo").lifespan).toEqual({ duration: 10n * SECOND, set: T1 });
      expect(f.store.stats().events[StoreEventKind.LIFESPAN_RENEWED]).toBe(0n);
    });

    it("lets the owner re-lock after its own Unlock with a new token", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expect(f.store.lock(ALICE, "foo", MINUTE, false)).toBe(1n);
      f.store.unlock(ALICE, "foo");
      expect(f.store.lock(ALICE, "foo", MINUTE, false)).toBe(2n);
    });
  });

  describe("Lock: extending a lock the caller holds", () => {
    it("moves the deadline to the old deadline + d and keeps the token", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      expect(f.store.lock(ALICE, "foo", 10n * SECOND, false)).toBe(1n);
      f.clock.advance(4n * SECOND);
      expect(f.store.lock(ALICE, "foo", 10n * SECOND, false)).toBe(1n);
      expect(info(f.store, "foo").fencingToken).toBe(1n);
      expect(f.store.stats().currentLocks).toBe(1n);
      expect(since(f.events, 1)).toEqual([
        event("foo", StoreEventKind.LOCKED, T1),
        event("foo", StoreEventKind.LOCKED, T1 + 4n * SECOND),
      ]);
      // Not now + d (T1 + 14s): the old deadline (T1 + 10s) + d.
      expectLockExpiresAt(f, "foo", T1 + 20n * SECOND);
    });

    it("old deadlines are ignored after an extension", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", 10n * SECOND, false);
      f.store.lock(ALICE, "foo", 5n * SECOND, false);
      advanceTo(f.clock, T1 + 10n * SECOND);
      expect(f.store.expireDue()).toBe(0);
      expect(info(f.store, "foo").locked).toBe(true);
      expectLockExpiresAt(f, "foo", T1 + 15n * SECOND);
    });

    it("caps the extended deadline at now + max_lock_duration", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", MAX_LOCK, false);
      f.clock.advance(30n * MINUTE);
      // Old deadline + 1h would be T1 + 2h; the cap is now + 1h = T1 + 1h30.
      expect(f.store.lock(ALICE, "foo", MAX_LOCK, false)).toBe(1n);
      expectLockExpiresAt(f, "foo", T1 + 30n * MINUTE + MAX_LOCK);
    });

    it("caps an immediate re-lock for the maximum at now + max_lock_duration", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", MAX_LOCK, false);
      f.store.lock(ALICE, "foo", MAX_LOCK, false);
      expectLockExpiresAt(f, "foo", T1 + MAX_LOCK);
    });

    it("a lock acquired by Set is extended the same way", () => {
      const f = setup();
      expect(put(f.store, "foo", "bar", { lockDuration: 10n * SECOND }).fencingToken).toBe(1n);
      f.clock.advance(SECOND);
      expect(f.store.lock(ALICE, "foo", 10n * SECOND, true)).toBe(1n);
      expectLockExpiresAt(f, "foo", T1 + 20n * SECOND);
    });

    it("extends exactly (min of old + d and now + max) over many extensions, and expires once", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.store.lock(ALICE, "foo", MIN_LOCK, false);
      let deadline = T1 + MIN_LOCK;
      for (let i = 0; i < 5_000; i++) {
        f.clock.advance(100n * 1_000_000n);
        expect(f.store.lock(ALICE, "foo", 2n * SECOND, false)).toBe(1n);
        const extended = deadline + 2n * SECOND;
        const cap = f.clock.now() + MAX_LOCK;
        deadline = extended < cap ? extended : cap;
      }
      // The cap was reached along the way: 5 000 × 2s > 1h.
      expect(deadline).toBe(f.clock.now() + MAX_LOCK);
      const mark = f.events.length;
      expectLockExpiresAt(f, "foo", deadline);
      expect(since(f.events, mark)).toEqual([event("foo", StoreEventKind.UNLOCKED, deadline, SERVER)]);
      expect(f.store.expireDue()).toBe(0);
      expect(f.store.nextDeadline()).toBeUndefined();
      expect(f.store.stats()).toMatchObject({ currentLocks: 0n });
      expect(f.store.stats().events[StoreEventKind.UNLOCKED]).toBe(1n);
      expect(f.store.stats().events[StoreEventKind.LOCKED]).toBe(5_001n);
    });
  });

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

