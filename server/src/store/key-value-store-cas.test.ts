import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  CAROL,
  MINUTE,
  SECOND,
  T1,
  bytes,
  event,
  expectError,
  expectNoChange,
  expectVersionMismatch,
  info,
  put,
  setup,
  since,
  text,
  lifespanTooShort,
  lockTooShort,
  retained,
} from "./key-value-store.fixture.js";

/** Five writers' worth of client ids. */
const WRITERS = [ALICE, BOB, CAROL, "dave", "erin"];

describe("KeyValueStore history and versions", () => {
  describe("compare-and-set: Set with ifVersion", () => {
    it("succeeds when the current version matches, bumping it", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      expect(put(f.store, "foo", "v2", { ifVersion: 1n })).toEqual({ isNew: false });
      expect(put(f.store, "foo", "v3", { ifVersion: 2n })).toEqual({ isNew: false });
      expect(info(f.store, "foo").version).toBe(3n);
    });

    it("with 0 creates the key only if it does not exist", () => {
      const f = setup();
      expect(put(f.store, "foo", "v1", { ifVersion: 0n })).toEqual({ isNew: true });
      expectNoChange(f, () => expectVersionMismatch(() => put(f.store, "foo", "v2", { ifVersion: 0n }), 1n));
    });

    it("refuses a missing key for any other version: 'the key does not exist'", () => {
      const f = setup();
      expectNoChange(f, () => {
        expectVersionMismatch(() => put(f.store, "foo", "v1", { ifVersion: 1n }), undefined);
        expectVersionMismatch(() => put(f.store, "foo", "v1", { ifVersion: 5n }), undefined);
      });
      expect(f.store.exists("foo")).toBe(false);
      expectError(() => f.store.keyMetrics("foo"), "METRIC_NOT_FOUND");
    });

    it("refuses a mismatch with VERSION_MISMATCH (FAILED_PRECONDITION) naming the current version", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      expectError(() => put(f.store, "foo", "v3", { ifVersion: 1n }), "VERSION_MISMATCH", "the current version is 2");
      expectError(() => put(f.store, "foo", "v3", { ifVersion: 3n }), "VERSION_MISMATCH", "the current version is 2");
    });

    it("a mismatching Set changes nothing: no events, no lifespan renewal, no lock, no token used", () => {
      const f = setup();
      put(f.store, "foo", "v1", { lifespan: MINUTE });
      f.clock.advance(10n * SECOND);
      expectNoChange(f, () => {
        expectVersionMismatch(() => put(f.store, "foo", "v2", { ifVersion: 7n }), 1n);
        expectVersionMismatch(() => put(f.store, "foo", "v1", { ifVersion: 7n }), 1n);
        expectVersionMismatch(() => put(f.store, "foo", "v2", { ifVersion: 7n, lockDuration: MINUTE }), 1n);
        expectVersionMismatch(() => put(f.store, "foo", "v2", { ifVersion: 7n, lifespan: 2n * MINUTE }), 1n);
        expectVersionMismatch(
          () => put(f.store, "new", "v2", { ifVersion: 7n, lockDuration: MINUTE, lifespan: MINUTE }),
          undefined,
        );
      });
      expect(info(f.store, "foo")).toMatchObject({ locked: false, lifespan: { duration: MINUTE, set: T1 } });
      expect(f.store.lock(ALICE, "foo", MINUTE, false)).toBe(1n);
    });

    it("a matching Set with the same value succeeds without a new version", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      expect(put(f.store, "foo", "v1", { ifVersion: 1n })).toEqual({ isNew: false });
      expect(info(f.store, "foo").version).toBe(1n);
    });

    it("checks the lock before the version: another client's lock gives WRONG_OWNER (PERMISSION_DENIED)", () => {
      const f = setup();
      put(f.store, "foo", "v1", { clientId: BOB, lockDuration: MINUTE });
      expectNoChange(f, () => {
        expectError(() => put(f.store, "foo", "v2", { ifVersion: 9n }), "WRONG_OWNER");
        expectError(() => put(f.store, "foo", "v2", { ifVersion: 1n }), "WRONG_OWNER");
      });
      // The owner passes the lock check and then meets the version check.
      expectVersionMismatch(() => put(f.store, "foo", "v2", { clientId: BOB, ifVersion: 9n }), 1n);
      expect(put(f.store, "foo", "v2", { clientId: BOB, ifVersion: 1n, lockDuration: MINUTE }).fencingToken).toBe(1n);
    });

    it("checks key, value, lock duration and lifespan validity before the version", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      expectError(() => put(f.store, "k".repeat(1025), "v", { ifVersion: 9n }), "KEY_TOO_LONG", "1025 bytes, the limit is 1024 (max_key_length)");
      expectError(() => put(f.store, "foo", "v".repeat(1001), { ifVersion: 9n }), "VALUE_TOO_LARGE", "1001 bytes, the limit is 1000 (max_value_size)");
      expectError(() => put(f.store, "foo", "v2", { ifVersion: 9n, lockDuration: 0n }), "LOCK_INVALID", lockTooShort(0n));
      expectError(() => put(f.store, "foo", "v2", { ifVersion: 9n, lifespan: 0n }), "LIFESPAN_INVALID", lifespanTooShort(0n));
      const ro = setup({ readonly: true });
      expectError(() => put(ro.store, "foo", "v", { ifVersion: 9n }), "READONLY");
    });

    it("treats a removed key with retained history as missing (0 matches) and continues its numbering", () => {
      const f = setup({ keepDeletedKeyHistory: true });
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      f.store.delete(ALICE, "foo");
      expectVersionMismatch(() => put(f.store, "foo", "v3", { ifVersion: 2n }), undefined);
      expect(put(f.store, "foo", "v3", { ifVersion: 0n })).toEqual({ isNew: true });
      expect(info(f.store, "foo").version).toBe(3n);
    });
  });

  describe("compare-and-delete: Delete with ifVersion", () => {
    it("deletes when the version matches", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      f.store.delete(BOB, "foo", 2n);
      expect(f.store.exists("foo")).toBe(false);
      expect(since(f.events, 2)).toEqual([event("foo", StoreEventKind.DELETED, T1, BOB)]);
    });

    it("refuses a mismatch (0 included) naming the current version, changing nothing", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      expectNoChange(f, () => {
        expectVersionMismatch(() => f.store.delete(ALICE, "foo", 1n), 2n);
        expectVersionMismatch(() => f.store.delete(ALICE, "foo", 0n), 2n);
        expectVersionMismatch(() => f.store.delete(ALICE, "foo", 3n), 2n);
      });
    });

    it("checks RESERVED, READONLY, NOT_FOUND and the lock (WRONG_OWNER) before the version", () => {
      const f = setup();
      put(f.store, "foo", "v1", { clientId: BOB, lockDuration: MINUTE });
      expectError(() => f.store.delete(ALICE, "missing", 0n), "NOT_FOUND");
      expectError(() => f.store.delete(ALICE, "missing", 1n), "NOT_FOUND");
      expectError(() => f.store.delete(ALICE, "foo", 9n), "WRONG_OWNER");
      expectError(() => f.store.delete(ALICE, "keyquarry/Started", 9n), "RESERVED");
      expectVersionMismatch(() => f.store.delete(BOB, "foo", 9n), 1n);
      f.store.setReadOnly(ADMIN, true);
      expectError(() => f.store.delete(BOB, "foo", 9n), "READONLY");
    });
  });

  describe("compare-and-set races", () => {
    it("several clients read version v and all Set with ifVersion v: exactly one wins, the others learn v+1", () => {
      const f = setup();
      put(f.store, "counter", "0");
      put(f.store, "counter", "1");
      const v = info(f.store, "counter").version;
      expect(v).toBe(2n);
      const read = WRITERS.map((writer) => f.store.inspect(writer, "counter", { value: true }));
      const outcomes = WRITERS.map((writer, i) => {
        try {
          put(f.store, "counter", `${writer}:${text(read[i]!.value!)}+1`, { clientId: writer, ifVersion: read[i]!.version });
          return "won";
        } catch (error) {
          expectVersionMismatch(() => {
            throw error;
          }, v + 1n);
          return "lost";
        }
      });
      expect(outcomes).toEqual(["won", "lost", "lost", "lost", "lost"]);
      expect(text(f.store.get(ALICE, "counter"))).toBe("alice:1+1");
      expect(info(f.store, "counter").version).toBe(v + 1n);
      expect(f.events.filter((e) => e.event === StoreEventKind.UPDATED)).toEqual([
        event("counter", StoreEventKind.UPDATED, T1),
        event("counter", StoreEventKind.UPDATED, T1),
      ]);
      // A loser retries with the version it was told and wins.
      expect(put(f.store, "counter", "bob:retry", { clientId: BOB, ifVersion: v + 1n })).toEqual({ isNew: false });
    });

    it("several clients create with ifVersion 0: one creates, the others learn version 1", () => {
      const f = setup();
      const outcomes = WRITERS.map((writer) => {
        try {
          return put(f.store, "leader", writer, { clientId: writer, ifVersion: 0n }).isNew ? "created" : "?";
        } catch (error) {
          expectVersionMismatch(() => {
            throw error;
          }, 1n);
          return "lost";
        }
      });
      expect(outcomes).toEqual(["created", "lost", "lost", "lost", "lost"]);
      expect(text(f.store.get(BOB, "leader"))).toBe(ALICE);
      expect(f.store.stats().events[StoreEventKind.CREATED]).toBe(17n);
    });

    it("a Delete racing an update: the stale deleter is refused with the new version", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      const seen = info(f.store, "foo").version;
      put(f.store, "foo", "v2", { clientId: BOB, ifVersion: seen });
      expectVersionMismatch(() => f.store.delete(ALICE, "foo", seen), 2n);
      expect(text(f.store.get(ALICE, "foo"))).toBe("v2");
    });

    it("an update racing a Delete: the stale writer is told the key does not exist", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      f.store.delete(BOB, "foo", 1n);
      expectVersionMismatch(() => put(f.store, "foo", "v2", { ifVersion: 1n }), undefined);
      expect(f.store.exists("foo")).toBe(false);
    });
  });
});
