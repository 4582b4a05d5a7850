import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ALICE,
  BOB,
  HASH_EMPTY,
  MINUTE,
  SECOND,
  T1,
  TEXT,
  advanceTo,
  bytes,
  event,
  expectError,
  expectNoChange,
  info,
  put,
  setup,
  since,
  text,
  type Fixture,
  retained,
} from "./key-value-store.fixture.js";
import { fnv1a64 } from "./fnv1a64.js";

describe("KeyValueStore history and versions", () => {
  describe("version numbering", () => {
    it("Lock with create_if_missing continues the numbering of retained history, like Set", () => {
      const f = setup({ keepDeletedKeyHistory: true });
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      f.store.delete(ALICE, "foo");
      f.store.lock(ALICE, "foo", MINUTE, true);
      expect(info(f.store, "foo")).toMatchObject({ version: 3n, size: 0n, hash: HASH_EMPTY, contentType: "" });
      expect(retained(f, "foo", [1n, 2n, 3n])).toEqual([
        [1n, "v1"],
        [2n, "v2"],
        [3n, ""],
      ]);
      put(f.store, "foo", "v4");
      expect(info(f.store, "foo").version).toBe(4n);
    });

    it("Lock with create_if_missing starts at 1 when no history is retained", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      f.store.delete(ALICE, "foo");
      f.store.lock(ALICE, "foo", MINUTE, true);
      expect(info(f.store, "foo").version).toBe(1n);
    });

    it("continues after the newest retained version when the history was truncated", () => {
      const f = setup({ keepDeletedKeyHistory: true });
      for (let i = 1; i <= 5; i++) {
        put(f.store, "foo", `v${i}`);
      }
      f.store.delete(ALICE, "foo");
      put(f.store, "foo", "v6");
      expect(info(f.store, "foo").version).toBe(6n);
      expect(retained(f, "foo", [1n, 2n, 3n, 4n, 5n, 6n]).map(([v]) => v)).toEqual([4n, 5n, 6n]);
    });
  });

  describe("GetRevision (§4.13)", () => {
    function threeVersions(overrides = {}) {
      const f = setup(overrides);
      put(f.store, "foo", "v1");
      f.clock.advance(SECOND);
      put(f.store, "foo", "v2");
      f.clock.advance(SECOND);
      put(f.store, "foo", "v3", { contentType: "text/x-custom" });
      return f;
    }

    it("returns a retained version by number, the current one included, with its timestamp", () => {
      const f = threeVersions();
      expect(f.store.getRevision(BOB, "foo", 1n)).toStrictEqual({
        value: bytes("v1"),
        contentType: TEXT,
        hash: fnv1a64(bytes("v1")),
        version: 1n,
        timestamp: T1,
      });
      expect(f.store.getRevision(BOB, "foo", 2n)).toMatchObject({ value: bytes("v2"), version: 2n, timestamp: T1 + SECOND });
      expect(f.store.getRevision(BOB, "foo", 3n)).toMatchObject({ value: bytes("v3"), version: 3n, timestamp: T1 + 2n * SECOND });
    });

    it("counts negative versions back from the newest entry: −1 is the one before the current", () => {
      const f = threeVersions();
      expect(f.store.getRevision(ALICE, "foo", -1n).version).toBe(2n);
      expect(f.store.getRevision(ALICE, "foo", -2n).version).toBe(1n);
      expectError(() => f.store.getRevision(ALICE, "foo", -3n), "REVISION_NOT_FOUND");
      expectError(() => f.store.getRevision(ALICE, "foo", -1_000_000n), "REVISION_NOT_FOUND");
    });

    it("counts back by position after truncation (not by version number)", () => {
      const f = threeVersions();
      put(f.store, "foo", "v4");
      put(f.store, "foo", "v5");
      expect(retained(f, "foo", [1n, 2n, 3n, 4n, 5n]).map(([v]) => v)).toEqual([3n, 4n, 5n]);
      expect(text(f.store.getRevision(ALICE, "foo", -1n).value)).toBe("v4");
      expect(text(f.store.getRevision(ALICE, "foo", -2n).value)).toBe("v3");
      expectError(() => f.store.getRevision(ALICE, "foo", -3n), "REVISION_NOT_FOUND");
    });

    it("has nothing before a key's only version", () => {
      const f = setup();
      put(f.store, "foo", "v1");
      expectError(() => f.store.getRevision(ALICE, "foo", -1n), "REVISION_NOT_FOUND");
    });

    it("refuses unknown versions and keys with REVISION_NOT_FOUND", () => {
      const f = threeVersions();
      expectError(() => f.store.getRevision(ALICE, "foo", 4n), "REVISION_NOT_FOUND");
      expectError(() => f.store.getRevision(ALICE, "missing", 1n), "REVISION_NOT_FOUND");
      expectError(() => f.store.getRevision(ALICE, "missing", -1n), "REVISION_NOT_FOUND");
      expectError(() => f.store.getRevision(ALICE, "keyquarry/Started", 1n), "REVISION_NOT_FOUND");
    });

    it("refuses version 0 with REVISION_ZERO", () => {
      const f = threeVersions();
      expectError(() => f.store.getRevision(ALICE, "foo", 0n), "REVISION_ZERO");
      expectError(() => f.store.getRevision(ALICE, "missing", 0n), "REVISION_ZERO");
    });

    it("refuses everything with NO_VERSIONING when revision_limit is 0, before REVISION_ZERO", () => {
      const f = setup({ revisionLimit: 0 });
      put(f.store, "foo", "v1");
      expectError(() => f.store.getRevision(ALICE, "foo", 1n), "NO_VERSIONING");
      expectError(() => f.store.getRevision(ALICE, "foo", 0n), "NO_VERSIONING");
      expectError(() => f.store.getRevision(ALICE, "foo", -1n), "NO_VERSIONING");
    });

    it("refuses a key locked by another client with LOCKED; the owner may read", () => {
      const f = threeVersions();
      f.store.lock(BOB, "foo", MINUTE, false);
      expectNoChange(f, () => {
        expectError(() => f.store.getRevision(ALICE, "foo", 1n), "LOCKED");
        expectError(() => f.store.getRevision(ALICE, "foo", -1n), "LOCKED");
        expectError(() => f.store.getRevision(ALICE, "foo", 99n), "LOCKED");
      });
      expectError(() => f.store.getRevision(ALICE, "foo", 0n), "REVISION_ZERO");
      expect(text(f.store.getRevision(BOB, "foo", 1n).value)).toBe("v1");
      advanceTo(f.clock, f.clock.now() + MINUTE);
      expect(text(f.store.getRevision(ALICE, "foo", 1n).value)).toBe("v1");
    });

    it("emits no events and works in read-only mode", () => {
      const f = threeVersions();
      f.store.setReadOnly(ADMIN, true);
      expectNoChange(f, () => {
        f.store.getRevision(ALICE, "foo", 2n);
      });
      expect(f.store.keyMetrics("foo").accessCount).toBe(0);
    });

    it("reads the retained history of a removed key (keep_deleted_key_history), −1 counting from its newest", () => {
      const f = threeVersions({ keepDeletedKeyHistory: true });
      f.store.delete(ALICE, "foo");
      expect(text(f.store.getRevision(BOB, "foo", 3n).value)).toBe("v3");
      expect(text(f.store.getRevision(BOB, "foo", -1n).value)).toBe("v2");
    });
  });

  describe("ClearHistory (§4.10)", () => {
    it("keeps only the current version of existing keys and returns the keys and the SUM of revisions removed", () => {
      const f = setup();
      put(f.store, "a", "a1");
      put(f.store, "a", "a2");
      put(f.store, "a", "a3");
      put(f.store, "b", "b1");
      put(f.store, "b", "b2");
      put(f.store, "c", "c1");
      expect(f.store.stats()).toMatchObject({ historyKeys: 3n, historyRevisions: 6n });
      const mark = f.events.length;
      expect(f.store.clearHistory(ALICE)).toEqual({ keys: 3n, cleared: 3n });
      expect(since(f.events, mark)).toEqual([]);
      expect(f.store.stats()).toMatchObject({ historyKeys: 3n, historyRevisions: 3n });
      expect(retained(f, "a", [1n, 2n, 3n])).toEqual([[3n, "a3"]]);
      expect(retained(f, "b", [1n, 2n])).toEqual([[2n, "b2"]]);
      expect(retained(f, "c", [1n])).toEqual([[1n, "c1"]]);
      expectError(() => f.store.getRevision(ALICE, "a", -1n), "REVISION_NOT_FOUND");
      // Nothing left to clear.
      expect(f.store.clearHistory(ALICE)).toEqual({ keys: 3n, cleared: 0n });
    });

    it("numbering and history continue after it", () => {
      const f = setup();
      put(f.store, "a", "a1");
      put(f.store, "a", "a2");
      f.store.clearHistory(ALICE);
      put(f.store, "a", "a3");
      expect(retained(f, "a", [1n, 2n, 3n])).toEqual([
        [2n, "a2"],
        [3n, "a3"],
      ]);
      expect(text(f.store.getRevision(ALICE, "a", -1n).value)).toBe("a2");
    });

    it("removes the whole history of removed keys and counts it", () => {
      const f = setup({ keepDeletedKeyHistory: true });
      put(f.store, "gone", "g1");
      put(f.store, "gone", "g2");
      f.store.delete(ALICE, "gone");
      put(f.store, "kept", "k1");
      expect(f.store.clearHistory(ALICE)).toEqual({ keys: 2n, cleared: 2n });
      expect(f.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 1n });
      expectError(() => f.store.getRevision(ALICE, "gone", 2n), "REVISION_NOT_FOUND");
      put(f.store, "gone", "again");
      expect(info(f.store, "gone").version).toBe(1n);
    });

    it("skips keys locked by another client (not counted), but clears the caller's own locked keys", () => {
      const f = setup();
      put(f.store, "bobs", "b1", { clientId: BOB });
      put(f.store, "bobs", "b2", { clientId: BOB, lockDuration: MINUTE });
      put(f.store, "mine", "m1");
      put(f.store, "mine", "m2", { lockDuration: MINUTE });
      put(f.store, "free", "f1");
      put(f.store, "free", "f2");
      expect(f.store.clearHistory(ALICE)).toEqual({ keys: 2n, cleared: 2n });
      expect(retained(f, "bobs", [1n, 2n], BOB)).toEqual([
        [1n, "b1"],
        [2n, "b2"],
      ]);
      expect(f.store.clearHistory(BOB)).toEqual({ keys: 2n, cleared: 1n });
      expect(retained(f, "bobs", [1n, 2n], BOB)).toEqual([[2n, "b2"]]);
      expect(f.store.stats().historyRevisions).toBe(3n);
    });

    it("processes a key whose lock expired by the time of the call", () => {
      const f = setup();
      put(f.store, "bobs", "b1", { clientId: BOB });
      put(f.store, "bobs", "b2", { clientId: BOB, lockDuration: MINUTE });
      advanceTo(f.clock, T1 + MINUTE);
      expect(f.store.clearHistory(ALICE)).toEqual({ keys: 1n, cleared: 1n });
    });

    it("checks READONLY before NO_VERSIONING, and clears nothing when refused", () => {
      const ro = setup({ readonly: true, revisionLimit: 0 });
      expectError(() => ro.store.clearHistory(ALICE), "READONLY");
      const off = setup({ revisionLimit: 0 });
      expectError(() => off.store.clearHistory(ALICE), "NO_VERSIONING");
      const f = setup();
      put(f.store, "a", "1");
      put(f.store, "a", "2");
      f.store.setReadOnly(ADMIN, true);
      expectNoChange(f, () => expectError(() => f.store.clearHistory(ALICE), "READONLY"));
      expect(f.store.stats().historyRevisions).toBe(2n);
    });

    it("returns zeros on a store without history", () => {
      const f = setup();
      expect(f.store.clearHistory(ALICE)).toEqual({ keys: 0n, cleared: 0n });
    });
  });

  describe("one history rule for every removal", () => {
    type Removal = (f: Fixture) => void;
    const removals: Array<[string, Removal, StoreEventKind]> = [
      ["Delete", (f) => f.store.delete(ALICE, "foo"), StoreEventKind.DELETED],
      ["Delete with ifVersion", (f) => f.store.delete(ALICE, "foo", 2n), StoreEventKind.DELETED],
      ["Pop", (f) => void f.store.pop(ALICE, "foo"), StoreEventKind.DELETED],
      ["Clear", (f) => void f.store.clear(ALICE, false), StoreEventKind.DELETED],
      [
        "Clear with force (locked key)",
        (f) => {
          f.store.lock(BOB, "foo", MINUTE, false);
          f.store.clear(ALICE, true);
        },
        StoreEventKind.DELETED,
      ],
      [
        "lifespan expiry",
        (f) => {
          put(f.store, "foo", "v2", { lifespan: 10n * SECOND });
          advanceTo(f.clock, f.clock.now() + 10n * SECOND);
          f.store.expireDue();
        },
        StoreEventKind.EXPIRED,
      ],
      [
        "lifespan expiry of a locked key",
        (f) => {
          put(f.store, "foo", "v2", { lifespan: 10n * SECOND, lockDuration: MINUTE });
          advanceTo(f.clock, f.clock.now() + 10n * SECOND);
          f.store.expireDue();
        },
        StoreEventKind.EXPIRED,
      ],
    ];

    function twoVersions(keepDeletedKeyHistory: boolean): Fixture {
      const f = setup({ keepDeletedKeyHistory });
      put(f.store, "foo", "v1");
      put(f.store, "foo", "v2");
      return f;
    }

    it.each(removals)("%s drops the history without keep_deleted_key_history", (_, remove, kind) => {
      const f = twoVersions(false);
      remove(f);
      expect(f.events.at(-1)).toMatchObject({ key: "foo", event: kind });
      expect(f.store.exists("foo")).toBe(false);
      expect(f.store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expectError(() => f.store.getRevision(ALICE, "foo", 1n), "REVISION_NOT_FOUND");
      expect(put(f.store, "foo", "again")).toEqual({ isNew: true });
      expect(info(f.store, "foo").version).toBe(1n);
    });

    it.each(removals)("%s keeps the history with keep_deleted_key_history; re-creation continues", (_, remove, kind) => {
      const f = twoVersions(true);
      remove(f);
      expect(f.events.at(-1)).toMatchObject({ key: "foo", event: kind });
      expect(f.store.exists("foo")).toBe(false);
      expect(f.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      expect(retained(f, "foo", [1n, 2n])).toEqual([
        [1n, "v1"],
        [2n, "v2"],
      ]);
      expect(put(f.store, "foo", "again")).toEqual({ isNew: true });
      expect(info(f.store, "foo").version).toBe(3n);
    });
  });
});
