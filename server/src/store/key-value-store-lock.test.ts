import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  HASH_EMPTY,
  MAX_LOCK,
  MIN_LOCK,
  MINUTE,
  SECOND,
  SERVER,
  T1,
  advanceTo,
  event,
  expectError,
  expectLockExpiresAt,
  expectNoChange,
  info,
  put,
  setup,
  since,
  text,
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
        lock: { deadline: T1 + MINUTE, heldByCaller: true },
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
});
