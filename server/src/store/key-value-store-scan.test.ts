/**
 * ListKeys' scan steps: creation order, resumable from a step's `after`
 * across deletes, re-creates and sweeps, bounded by keys, bytes and time;
 * and the patterns it refuses.
 */
import { describe, expect, it } from "vitest";
import { ALICE, put, setup, thrownBy } from "./key-value-store.fixture.js";
import { listedKeySize, type KeyScanBudget, type KeyValueStore } from "./key-value-store.js";

const unlimited: KeyScanBudget = { maxKeys: Infinity, maxBytes: Infinity, pageEmpty: true, expired: () => false };

/** Scans in steps of `maxKeys` keys, returning every page. */
function pages(store: KeyValueStore, maxKeys: number, between: (page: number) => void = () => {}): string[][] {
  const result: string[][] = [];
  let after = 0;
  for (;;) {
    const step = store.scanKeys({ pattern: undefined, includeReserved: false, after }, { ...unlimited, maxKeys });
    result.push(step.keys);
    after = step.after;
    if (step.end === "last") {
      return result;
    }
    expect(step.end).toBe("full");
    between(result.length);
  }
}

describe("KeyValueStore.scanKeys", () => {
  it("pages through the keys in creation order, ending on the last one", () => {
    const { store } = setup();
    for (const key of ["c", "a", "b", "e", "d"]) put(store, key, "v");
    expect(pages(store, 2)).toEqual([["c", "a"], ["b", "e"], ["d"]]);
  });

  it("continues after deleted, re-created and swept keys; keys present throughout come once", () => {
    const { store } = setup();
    for (let i = 0; i < 10; i++) put(store, `k${i}`, "v");
    const seen = pages(store, 3, (page) => {
      if (page === 1) {
        // k2 was the last key returned, k3 the next one: both go, k0 (already listed) comes back at the end.
        store.delete(ALICE, "k2");
        store.delete(ALICE, "k3");
        store.delete(ALICE, "k0");
        put(store, "k0", "again");
        put(store, "new", "v");
        store.sweepRemovedSlice(Infinity);
      }
      if (page === 2) {
        // Most entries removed: the creation-order index is compacted before the next step.
        for (const key of ["k4", "k5", "k6", "k7", "k8", "k1"]) store.delete(ALICE, key);
        put(store, "later", "v");
      }
    });
    expect(seen).toEqual([["k0", "k1", "k2"], ["k4", "k5", "k6"], ["k9", "k0", "new"], ["later"]]);
  });

  it("filters by pattern and reserved keys, counting only matches against the budget", () => {
    const { store } = setup();
    for (const key of ["user/1", "other", "user/2", "user/3"]) put(store, key, "v");
    const pattern = store.keyPattern("^user/");
    const first = store.scanKeys({ pattern, includeReserved: false, after: 0 }, { ...unlimited, maxKeys: 2 });
    expect(first.keys).toEqual(["user/1", "user/2"]);
    const rest = store.scanKeys({ pattern, includeReserved: false, after: first.after }, unlimited);
    expect([rest.keys, rest.end]).toEqual([["user/3"], "last"]);
    const reserved = store.scanKeys({ pattern: store.keyPattern("^keyquarry"), includeReserved: true, after: 0 }, unlimited);
    expect(reserved.keys.length).toBeGreaterThan(0);
    expect(store.scanKeys({ pattern: store.keyPattern("^keyquarry"), includeReserved: false, after: 0 }, unlimited).keys).toEqual([]);
  });

  it("stops before the key that does not fit in maxBytes, but always takes a page's first key", () => {
    const { store } = setup();
    for (const key of ["aaaa", "bb", "cccccc"]) put(store, key, "v");
    const maxBytes = listedKeySize("aaaa") + listedKeySize("bb") + 1;
    const first = store.scanKeys({ pattern: undefined, includeReserved: false, after: 0 }, { ...unlimited, maxBytes });
    expect([first.keys, first.bytes, first.end]).toEqual([["aaaa", "bb"], maxBytes - 1, "full"]);
    const tiny = { ...unlimited, maxBytes: 1 };
    const second = store.scanKeys({ pattern: undefined, includeReserved: false, after: first.after }, tiny);
    expect([second.keys, second.end]).toEqual([["cccccc"], "last"]);
    const notFirst = store.scanKeys({ pattern: undefined, includeReserved: false, after: first.after }, { ...tiny, pageEmpty: false });
    expect([notFirst.keys, notFirst.after, notFirst.end]).toEqual([[], first.after, "full"]);
  });

  it("ends a step when the budget expires, after one key looked at, and resumes after it", () => {
    const { store } = setup({}, { reserved: false });
    for (const key of ["a", "skip", "b", "c"]) put(store, key, "v");
    const budget = { ...unlimited, expired: () => true };
    const pattern = store.keyPattern("^[a-c]$");
    const steps = [];
    let after = 0;
    for (let end = ""; end !== "last"; ) {
      const step = store.scanKeys({ pattern, includeReserved: false, after }, budget);
      steps.push(step.keys);
      ({ after, end } = step);
    }
    expect(steps).toEqual([["a"], [], ["b"], ["c"]]);
  });

  it("refuses a cursor it never issued", () => {
    const { store } = setup();
    put(store, "a", "v");
    for (const after of [-1, 1.5, 1e9]) {
      expect(thrownBy(() => store.scanKeys({ pattern: undefined, includeReserved: false, after }, unlimited)).code).toBe("BAD_CURSOR");
    }
  });
});

describe("KeyValueStore.keyPattern", () => {
  it("matches everything for the empty pattern and compiles ordinary ones", () => {
    const { store } = setup();
    expect(store.keyPattern("")).toBeUndefined();
    for (const pattern of ["^user/[0-9]+/(profile|settings)$", ".*foo.*", "alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu"]) {
      expect(store.keyPattern(pattern)).toBeDefined();
    }
  });

  it("refuses a pattern over max_pattern_length bytes, counting UTF-8 bytes", () => {
    const { store } = setup({ maxPatternLength: 8 });
    expect(store.keyPattern("abcdefgh")).toBeDefined();
    const error = thrownBy(() => store.keyPattern("ééééé"));
    expect([error.code, error.message]).toEqual([
      "PATTERN_TOO_LONG",
      "pattern too long: 10 bytes, the limit is 8 (max_pattern_length)",
    ]);
  });

  it("refuses a pattern whose program is too large, and reports bad syntax", () => {
    const { store } = setup();
    const error = thrownBy(() => store.keyPattern("(?:k?){1000}k{1000}"));
    expect(error.code).toBe("PATTERN_TOO_COMPLEX");
    expect(error.message).toMatch(/^pattern too complex: it compiles to 3002 instructions, the limit is 500/);
    expect(thrownBy(() => store.keyPattern("(a")).code).toBe("BAD_PATTERN");
  });
});
