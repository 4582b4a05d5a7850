import { describe, expect, it } from "vitest";
import { ALICE, info, put, setup } from "./key-value-store.fixture.js";

describe("KeyValueStore", () => {
  describe("revision history", () => {
    it("with revision_limit 3 keeps the current version plus two older ones", () => {
      const { store } = setup({ revisionLimit: 3 });
      const history = () => {
        const { historyKeys, historyRevisions } = store.stats();
        return { historyKeys, historyRevisions };
      };
      put(store, "foo", "v1");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 1n });
      put(store, "foo", "v2");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 2n });
      put(store, "foo", "v3");
      put(store, "foo", "v4");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 3n });
      put(store, "foo", "v5");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 3n });
      put(store, "bar", "v1");
      expect(history()).toEqual({ historyKeys: 2n, historyRevisions: 4n });
      expect(info(store, "foo").version).toBe(5n);
    });

    it("retains the newest versions (a re-created key continues after the latest one)", () => {
      const { store } = setup({ revisionLimit: 3, keepDeletedKeyHistory: true });
      for (const value of ["v1", "v2", "v3", "v4"]) {
        put(store, "foo", value);
      }
      store.delete(ALICE, "foo");
      put(store, "foo", "v5");
      expect(info(store, "foo").version).toBe(5n);
      expect(store.stats().historyRevisions).toBe(3n);
    });

    it("does not add a revision for a same-value Set", () => {
      const { store } = setup({ revisionLimit: -1 });
      put(store, "foo", "bar");
      put(store, "foo", "bar");
      put(store, "foo", "bar");
      expect(store.stats().historyRevisions).toBe(1n);
    });

    it("keeps no history with revision_limit 0, while versions still count", () => {
      const { store } = setup({ revisionLimit: 0 });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      put(store, "bar", "v1");
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expect(info(store, "foo").version).toBe(2n);
    });

    it("keeps every revision with revision_limit -1", () => {
      const { store } = setup({ revisionLimit: -1 });
      for (let i = 1; i <= 11; i++) {
        put(store, "foo", `v${i}`);
      }
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 11n });
      expect(info(store, "foo").version).toBe(11n);
    });

    it("keeps only the current version with revision_limit 1", () => {
      const { store } = setup({ revisionLimit: 1 });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      put(store, "foo", "v3");
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 1n });
    });

    it("keeps no history for reserved keys", () => {
      const { store } = setup({ revisionLimit: -1 });
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
    });
  });
});
