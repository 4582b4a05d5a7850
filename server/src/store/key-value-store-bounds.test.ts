import { describe, expect, it } from "vitest";
import {
  ALICE,
  BOB,
  MINUTE,
  SECOND,
  T1,
  allKeys,
  baseOptions,
  expectError,
  put,
  setup,
  text,
} from "./key-value-store.fixture.js";
import { ManualClock } from "./clock.js";
import { KeyValueStore } from "./key-value-store.js";
import type { StoreState } from "./store-state.js";

/** Keys whose metrics GetKeyMetric still answers, of `keys`. */
const withMetrics = (store: KeyValueStore, keys: readonly string[]): string[] =>
  keys.filter((key) => {
    try {
      store.keyMetrics(key);
      return true;
    } catch {
      return false;
    }
  });

/** Sets then deletes each key, in order. */
function setAndDelete(store: KeyValueStore, keys: readonly string[]): void {
  for (const key of keys) {
    put(store, key, "v");
    store.delete(ALICE, key);
  }
}

const keys = (count: number, prefix = "k"): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe("KeyValueStore bounded state", () => {
  describe("max_clients", () => {
    it("refuses a new client id once max_clients are registered, naming the limit (RESOURCE_EXHAUSTED)", () => {
      const { store } = setup({ maxClients: 2 });
      store.register(ALICE);
      store.register(BOB);
      expectError(() => store.register("carol"), "MAX_CLIENTS", "max_clients is 2");
      // A known id is still answered as before.
      expectError(() => store.register(ALICE), "ALREADY_REGISTERED");
      expect(store.stats().clientIds).toBe(2n);
    });

    it("registers any number with max_clients 0", () => {
      const { store } = setup({ maxClients: 0 });
      for (const id of keys(1000, "client-")) {
        store.register(id);
      }
      expect(store.stats().clientIds).toBe(1000n);
    });

    it("restores every client of a snapshot beyond the limit, then refuses new ones", () => {
      const { store: source } = setup({ maxClients: 0 });
      for (const id of keys(5, "client-")) {
        source.register(id);
      }
      const store = new KeyValueStore({ ...baseOptions, maxClients: 3 }, new ManualClock(T1));
      store.importState(source.exportState(false));
      expect(store.stats().clientIds).toBe(5n);
      expectError(() => store.register("client-new"), "MAX_CLIENTS", "max_clients is 3");
      expectError(() => store.register("client-0"), "ALREADY_REGISTERED");
    });
  });

  describe("max_removed_key_metrics", () => {
    it("keeps the metrics of the most recently removed keys only, oldest dropped first", () => {
      const { store } = setup({ maxRemovedKeyMetrics: 3 });
      setAndDelete(store, keys(5));
      expect(withMetrics(store, keys(5))).toEqual(["k2", "k3", "k4"]);
      expectError(() => store.keyMetrics("k0"), "METRIC_NOT_FOUND");
    });

    it("holds no record of the keys whose metrics went, whether swept aside or not yet", () => {
      const { store } = setup({ maxRemovedKeyMetrics: 3 });
      const removed = keys(40);
      for (const [i, key] of removed.entries()) {
        setAndDelete(store, [key]);
        // Sweeps at varied points: walks (Stats) and the host's slices.
        if (i % 7 === 0) {
          store.stats();
        } else if (i % 5 === 0) {
          store.sweepRemovedSlice(2);
        }
      }
      // A snapshot lists every record of a key the store holds.
      const saved = store.exportState(false).metrics.map(({ key }) => key);
      expect(saved.filter((key) => !key.startsWith("keyquarry"))).toEqual(["k37", "k38", "k39"]);
      expect(withMetrics(store, removed)).toEqual(["k37", "k38", "k39"]);
    });

    it("never drops the metrics of existing keys", () => {
      const { store } = setup({ maxRemovedKeyMetrics: 1 });
      for (const key of keys(5, "live")) {
        put(store, key, "v");
      }
      setAndDelete(store, keys(3));
      expect(withMetrics(store, [...keys(5, "live"), ...keys(3)])).toEqual([...keys(5, "live"), "k2"]);
    });

    it("counts every removal: Delete, Pop, Clear, expiry and prune", () => {
      const f = setup({ maxRemovedKeyMetrics: 2 });
      const { store, clock } = f;
      put(store, "deleted", "v");
      store.delete(ALICE, "deleted");
      put(store, "popped", "v");
      store.pop(ALICE, "popped");
      put(store, "expired", "v", { lifespan: SECOND });
      clock.advance(2n * SECOND);
      expect(withMetrics(store, ["deleted", "popped", "expired"])).toEqual(["popped", "expired"]);
      put(store, "cleared", "v");
      store.clear(ALICE, false);
      put(store, "pruned", "v");
      store.prune(0);
      expect(withMetrics(store, ["expired", "cleared", "pruned"])).toEqual(["cleared", "pruned"]);
    });

    it("a re-created key leaves the removed ones: its metrics continue, and it does not count", () => {
      const { store } = setup({ maxRemovedKeyMetrics: 2 });
      setAndDelete(store, ["a", "b"]);
      put(store, "a", "again");
      expect(store.keyMetrics("a")).toMatchObject({ setCount: 2 });
      setAndDelete(store, ["c"]);
      // b and c are the two removed keys kept; a exists.
      expect(withMetrics(store, ["a", "b", "c"])).toEqual(["a", "b", "c"]);
      store.delete(ALICE, "a");
      expect(withMetrics(store, ["a", "b", "c"])).toEqual(["a", "c"]);
      expect(store.keyMetrics("a")).toMatchObject({ setCount: 2 });
    });

    it("stays exact when one key is removed and re-created many times", () => {
      const { store } = setup({ maxRemovedKeyMetrics: 2 });
      setAndDelete(store, ["a", "b"]);
      setAndDelete(store, Array.from({ length: 5000 }, () => "churn"));
      expect(withMetrics(store, ["a", "b", "churn"])).toEqual(["b", "churn"]);
      expect(store.keyMetrics("churn")).toMatchObject({ setCount: 5000 });
    });

    it("keeps none with 0 and all with -1", () => {
      const none = setup({ maxRemovedKeyMetrics: 0 }).store;
      setAndDelete(none, keys(3));
      expect(withMetrics(none, keys(3))).toEqual([]);
      const all = setup({ maxRemovedKeyMetrics: -1 }).store;
      setAndDelete(all, keys(3000));
      expect(withMetrics(all, keys(3000))).toHaveLength(3000);
    });

    it("counts removed keys with no value left in Stats no more after their metrics go", () => {
      const { store } = setup({ maxRemovedKeyMetrics: 1 });
      const before = store.stats();
      setAndDelete(store, keys(4));
      const after = store.stats();
      expect({ keys: after.keys, userKeys: after.userKeys, historyKeys: after.historyKeys }).toEqual({
        keys: before.keys,
        userKeys: 0n,
        historyKeys: 0n,
      });
      expect(allKeys(store)).toEqual(allKeys(setup().store));
    });

    describe("with keep_deleted_key_history", () => {
      const options = { maxRemovedKeyMetrics: 1, keepDeletedKeyHistory: true, revisionLimit: 3 };

      it("drops a removed key's metrics but keeps its history", () => {
        const { store } = setup(options);
        put(store, "a", "1");
        put(store, "a", "2");
        store.delete(ALICE, "a");
        setAndDelete(store, ["b"]);
        expectError(() => store.keyMetrics("a"), "METRIC_NOT_FOUND");
        expect(text(store.getRevision(ALICE, "a", -1n).value)).toBe("1");
        expect(store.stats()).toMatchObject({ historyKeys: 2n, historyRevisions: 3n });
        // Re-created, it continues its numbering, with metrics counted afresh.
        put(store, "a", "3");
        expect(store.inspect(ALICE, "a").version).toBe(3n);
        expect(store.keyMetrics("a")).toMatchObject({ setCount: 1 });
      });

      it("ClearHistory drops the record of a removed key whose metrics went, not the metrics of one kept", () => {
        const { store } = setup(options);
        setAndDelete(store, ["a", "b"]);
        expect(store.clearHistory(ALICE)).toEqual({ keys: 2n, cleared: 2n });
        expectError(() => store.getRevision(ALICE, "a", 1n), "REVISION_NOT_FOUND");
        expectError(() => store.keyMetrics("a"), "METRIC_NOT_FOUND");
        expect(store.keyMetrics("b")).toMatchObject({ setCount: 1 });
        expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      });
    });

    it("restores a snapshot with more removed keys' metrics than the limit, keeping the last ones", () => {
      const { store: source } = setup({ maxRemovedKeyMetrics: -1 });
      put(source, "live", "v");
      setAndDelete(source, keys(6));
      const state: StoreState = source.exportState(false);
      expect(state.metrics.map(({ key }) => key)).toEqual(["live", ...keys(6)]);
      const store = new KeyValueStore({ ...baseOptions, maxRemovedKeyMetrics: 2 }, new ManualClock(T1 + MINUTE));
      store.importState(state);
      expect(withMetrics(store, ["live", ...keys(6)])).toEqual(["live", "k4", "k5"]);
      setAndDelete(store, ["new"]);
      expect(withMetrics(store, ["live", ...keys(6), "new"])).toEqual(["live", "k5", "new"]);
    });
  });
});
