import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  MIN_LIFESPAN,
  MINUTE,
  SECOND,
  T1,
  advanceTo,
  event,
  expectError,
  expectKeyExpiresAt,
  expectNoChange,
  info,
  put,
  setup,
  since,
  text,
  unordered,
  lifespanTooShort,
  lockTooShort,
} from "./key-value-store.fixture.js";

describe("KeyValueStore lifespans", () => {
  describe("Set with a lifespan (§6.3)", () => {
    it("gives a new key a lifespan: CREATED then LIFESPAN_SET, reported by Inspect and Stats", () => {
      const f = setup();
      expect(put(f.store, "foo", "bar", { lifespan: 10n * SECOND })).toEqual({ isNew: true });
      expect(f.events).toEqual([event("foo", StoreEventKind.CREATED, T1), event("foo", StoreEventKind.LIFESPAN_SET, T1)]);
      expect(info(f.store, "foo").lifespan).toEqual({ duration: 10n * SECOND, set: T1 });
      expect(f.store.stats().lifespans).toBe(1n);
      expect(f.store.nextDeadline()).toBe(T1 + 10n * SECOND);
      expect(f.earliestDeadlines).toEqual([T1 + 10n * SECOND]);
      expectKeyExpiresAt(f, "foo", T1 + 10n * SECOND);
    });

    it("gives an existing key without one a lifespan (LIFESPAN_SET, even with the value unchanged)", () => {
      const f = setup();
      put(f.store, "foo", "bar");
      f.clock.advance(SECOND);
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      expect(since(f.events, 1)).toEqual([event("foo", StoreEventKind.LIFESPAN_SET, T1 + SECOND)]);
      expect(info(f.store, "foo")).toMatchObject({ version: 1n, lifespan: { duration: 10n * SECOND, set: T1 + SECOND } });
      expectKeyExpiresAt(f, "foo", T1 + 11n * SECOND);
    });

    it("replaces an existing lifespan: new duration from now, LIFESPAN_SET; the old deadline does nothing", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      f.clock.advance(4n * SECOND);
      const mark = f.events.length;
      put(f.store, "foo", "baz", { lifespan: 30n * SECOND });
      expect(unordered(since(f.events, mark))).toEqual(
        unordered([event("foo", StoreEventKind.LIFESPAN_SET, T1 + 4n * SECOND), event("foo", StoreEventKind.UPDATED, T1 + 4n * SECOND)]),
      );
      expect(info(f.store, "foo").lifespan).toEqual({ duration: 30n * SECOND, set: T1 + 4n * SECOND });
      expect(f.store.stats().lifespans).toBe(1n);
      advanceTo(f.clock, T1 + 10n * SECOND);
      expect(f.store.expireDue()).toBe(0);
      expectKeyExpiresAt(f, "foo", T1 + 34n * SECOND);
    });

    it("can shorten a lifespan", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: MINUTE });
      f.clock.advance(SECOND);
      put(f.store, "foo", "bar", { lifespan: 2n * SECOND });
      expectKeyExpiresAt(f, "foo", T1 + 3n * SECOND);
    });

    it("renews it on a Set without lifespan: same duration from now, LIFESPAN_RENEWED, even with the value unchanged", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      f.clock.advance(7n * SECOND);
      const mark = f.events.length;
      expect(put(f.store, "foo", "bar", { clientId: BOB })).toEqual({ isNew: false });
      expect(since(f.events, mark)).toEqual([event("foo", StoreEventKind.LIFESPAN_RENEWED, T1 + 7n * SECOND, BOB)]);
      expect(info(f.store, "foo")).toMatchObject({ version: 1n, lifespan: { duration: 10n * SECOND, set: T1 + 7n * SECOND } });
      expect(info(f.store, "foo").updated).toBeUndefined();
      expectKeyExpiresAt(f, "foo", T1 + 17n * SECOND);
    });

    it("renews it on a value-changing Set without lifespan (LIFESPAN_RENEWED and UPDATED)", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      f.clock.advance(SECOND);
      const mark = f.events.length;
      put(f.store, "foo", "baz");
      expect(unordered(since(f.events, mark))).toEqual(
        unordered([event("foo", StoreEventKind.LIFESPAN_RENEWED, T1 + SECOND), event("foo", StoreEventKind.UPDATED, T1 + SECOND)]),
      );
      expectKeyExpiresAt(f, "foo", T1 + 11n * SECOND);
    });

    it("has no maximum", () => {
      const f = setup();
      const century = 100n * 365n * 24n * 60n * MINUTE;
      put(f.store, "foo", "bar", { lifespan: century });
      expect(info(f.store, "foo").lifespan).toEqual({ duration: century, set: T1 });
      expect(f.store.nextDeadline()).toBe(T1 + century);
    });

    it("is untouched by Lock (new or extended) and Unlock", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      f.clock.advance(3n * SECOND);
      f.store.lock(ALICE, "foo", MINUTE, false);
      f.store.lock(ALICE, "foo", MINUTE, true);
      f.clock.advance(SECOND);
      f.store.unlock(ALICE, "foo");
      expect(info(f.store, "foo").lifespan).toEqual({ duration: 10n * SECOND, set: T1 });
      expect(f.store.stats().events[StoreEventKind.LIFESPAN_RENEWED]).toBe(0n);
      expect(f.store.stats().events[StoreEventKind.LIFESPAN_SET]).toBe(1n);
      expectKeyExpiresAt(f, "foo", T1 + 10n * SECOND);
    });

    it("Lock with create_if_missing creates a key without a lifespan", () => {
      const f = setup();
      f.store.lock(ALICE, "foo", MINUTE, true);
      expect(info(f.store, "foo").lifespan).toBeUndefined();
      expect(f.store.stats().lifespans).toBe(0n);
    });

    describe("LIFESPAN_INVALID and check order (§4.1)", () => {
      it.each([
        ["zero", 0n],
        ["negative", -SECOND],
        ["1 ns below min_lifespan", MIN_LIFESPAN - 1n],
      ])("refuses a %s lifespan on new and existing keys, changing nothing", (_, lifespan) => {
        const f = setup();
        put(f.store, "foo", "bar", { lifespan: MINUTE });
        f.clock.advance(SECOND);
        expectNoChange(f, () => {
          expectError(() => put(f.store, "foo", "baz", { lifespan }), "LIFESPAN_INVALID", lifespanTooShort(lifespan));
          expectError(() => put(f.store, "new", "baz", { lifespan }), "LIFESPAN_INVALID", lifespanTooShort(lifespan));
        });
        // The refused Set did not renew the existing lifespan.
        expect(info(f.store, "foo").lifespan).toEqual({ duration: MINUTE, set: T1 });
      });

      it("accepts exactly min_lifespan", () => {
        const f = setup();
        put(f.store, "foo", "bar", { lifespan: MIN_LIFESPAN });
        expectKeyExpiresAt(f, "foo", T1 + MIN_LIFESPAN);
      });

      it("checks READONLY, key length, value size and lock duration before the lifespan", () => {
        const f = setup();
        expectError(() => put(f.store, "k".repeat(1025), "v", { lifespan: 0n }), "KEY_TOO_LONG", "1025 bytes, the limit is 1024 (max_key_length)");
        expectError(() => put(f.store, "k", "v".repeat(1001), { lifespan: 0n }), "VALUE_TOO_LARGE", "1001 bytes, the limit is 1000 (max_value_size)");
        expectError(() => put(f.store, "k", "v", { lifespan: 0n, lockDuration: 0n }), "LOCK_INVALID", lockTooShort(0n));
        const ro = setup({ readonly: true });
        expectError(() => put(ro.store, "k", "v", { lifespan: 0n }), "READONLY");
      });

      it("checks the lifespan before WRONG_OWNER, VERSION_MISMATCH and MAX_KEYS", () => {
        const f = setup({ maxKeys: 1 });
        put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
        expectError(() => put(f.store, "foo", "baz", { lifespan: 0n }), "LIFESPAN_INVALID", lifespanTooShort(0n));
        expectError(() => put(f.store, "foo", "baz", { clientId: BOB, lifespan: 0n, ifVersion: 9n }), "LIFESPAN_INVALID", lifespanTooShort(0n));
        expectError(() => put(f.store, "new", "baz", { lifespan: 0n }), "LIFESPAN_INVALID", lifespanTooShort(0n));
      });

      it("a Set refused with WRONG_OWNER does not renew the lifespan", () => {
        const f = setup();
        put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE, lifespan: 10n * SECOND });
        f.clock.advance(5n * SECOND);
        expectError(() => put(f.store, "foo", "baz"), "WRONG_OWNER");
        expect(info(f.store, "foo").lifespan).toEqual({ duration: 10n * SECOND, set: T1 });
        expectKeyExpiresAt(f, "foo", T1 + 10n * SECOND);
      });
    });
  });

  describe("removal before the deadline", () => {
    it.each([
      ["Delete", (f: ReturnType<typeof setup>) => f.store.delete(ALICE, "foo")],
      ["Pop", (f: ReturnType<typeof setup>) => void f.store.pop(ALICE, "foo")],
      ["Clear", (f: ReturnType<typeof setup>) => void f.store.clear(ALICE, false)],
    ])("%s removes the lifespan; a re-created key is not removed at the old deadline", (_, remove) => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      remove(f);
      expect(f.store.stats().lifespans).toBe(0n);
      put(f.store, "foo", "again");
      const mark = f.events.length;
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.expireDue()).toBe(0);
      expect(since(f.events, mark)).toEqual([]);
      expect(text(f.store.get(ALICE, "foo"))).toBe("again");
    });

    it("a re-created key with its own lifespan expires at its new deadline only", () => {
      const f = setup();
      put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
      f.clock.advance(5n * SECOND);
      f.store.delete(ALICE, "foo");
      put(f.store, "foo", "again", { lifespan: 10n * SECOND });
      advanceTo(f.clock, T1 + 10n * SECOND);
      expect(f.store.expireDue()).toBe(0);
      expectKeyExpiresAt(f, "foo", T1 + 15n * SECOND);
    });
  });
});
