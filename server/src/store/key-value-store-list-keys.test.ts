import { describe, expect, it } from "vitest";
import {
  ALICE,
  put,
  setup,
  thrownBy,
  listKeys,
  RESERVED_KEYS,
  list,
} from "./key-value-store.fixture.js";

describe("KeyValueStore", () => {
  describe("listKeys", () => {
    it("hides reserved keys unless include_reserved", () => {
      const { store } = setup();
      put(store, "foo", "1");
      put(store, "bar", "2");
      expect(list(store)).toEqual(["foo", "bar"]);
      expect(list(store, { includeReserved: true })).toEqual([...RESERVED_KEYS, "foo", "bar"]);
    });

    it("returns keys in creation order; updates keep the position, re-creation moves to the end", () => {
      const { store } = setup();
      for (const key of ["zeta", "alpha", "mid", "beta"]) {
        put(store, key, "v");
      }
      expect(list(store)).toEqual(["zeta", "alpha", "mid", "beta"]);
      put(store, "zeta", "changed");
      expect(list(store)).toEqual(["zeta", "alpha", "mid", "beta"]);
      store.delete(ALICE, "alpha");
      put(store, "alpha", "again");
      expect(list(store)).toEqual(["zeta", "mid", "beta", "alpha"]);
    });

    it("applies the limit to the listed candidates (0 = no limit)", () => {
      const { store } = setup();
      put(store, "a", "1");
      put(store, "b", "2");
      put(store, "c", "3");
      expect(list(store, { limit: 1n })).toEqual(["a"]);
      expect(list(store, { limit: 2n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 0n })).toEqual(["a", "b", "c"]);
      expect(list(store, { limit: 2n, includeReserved: true })).toEqual(RESERVED_KEYS.slice(0, 2));
    });

    it("returns everything for a limit larger than the store (the original crashed)", () => {
      const { store } = setup();
      put(store, "a", "1");
      put(store, "b", "2");
      expect(list(store, { limit: 3n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 1000n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 18_446_744_073_709_551_615n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 1000n, includeReserved: true })).toEqual([...RESERVED_KEYS, "a", "b"]);
    });

    it("returns [] on an empty store, with or without a limit", () => {
      const { store } = setup({}, { reserved: false });
      expect(list(store)).toEqual([]);
      expect(list(store, { limit: 5n, includeReserved: true })).toEqual([]);
    });

    it("matches the original TestListKeys patterns (unanchored RE2 search)", () => {
      const { store } = setup();
      put(store, "SomeKeyHere", "1");
      put(store, "AnotherKeyHere", "2");
      expect(list(store)).toEqual(["SomeKeyHere", "AnotherKeyHere"]);
      expect(list(store, { limit: 1n })).toHaveLength(1);
      expect(list(store, { pattern: "Some*" })).toEqual(["SomeKeyHere"]);
      expect(list(store, { pattern: ".+other.+" })).toEqual(["AnotherKeyHere"]);
      expect(list(store, { pattern: ".+" })).toEqual(["SomeKeyHere", "AnotherKeyHere"]);
      expect(list(store, { pattern: ".+", limit: 1n })).toEqual(["SomeKeyHere"]);
      expect(list(store, { pattern: ".+wat.+" })).toEqual([]);
    });

    it("searches unanchored and case-sensitively (`ba*` matches anything containing b)", () => {
      const { store } = setup();
      for (const key of ["bar", "foo", "baz", "abc", "xyz", "BAR"]) {
        put(store, key, "v");
      }
      expect(list(store, { pattern: "ba*" })).toEqual(["bar", "baz", "abc"]);
      expect(list(store, { pattern: "^ba" })).toEqual(["bar", "baz"]);
      expect(list(store, { pattern: "bar" })).toEqual(["bar"]);
      expect(list(store, { pattern: "(?i)bar" })).toEqual(["bar", "BAR"]);
    });

    it("counts the limit over matching keys only", () => {
      const { store } = setup();
      for (const key of ["x1", "y1", "x2", "y2", "x3"]) {
        put(store, key, "v");
      }
      expect(list(store, { pattern: "^x", limit: 2n })).toEqual(["x1", "x2"]);
      expect(list(store, { pattern: "^x", limit: 10n })).toEqual(["x1", "x2", "x3"]);
    });

    it("applies patterns to reserved keys only with include_reserved", () => {
      const { store } = setup();
      put(store, "Started", "v");
      expect(list(store, { pattern: "Started" })).toEqual(["Started"]);
      expect(list(store, { pattern: "Started", includeReserved: true })).toEqual(["keyquarry/Started", "Started"]);
      expect(list(store, { pattern: "^keyquarry/snapshot/", includeReserved: true })).toEqual([
        "keyquarry/snapshot/Enabled",
        "keyquarry/snapshot/Interval",
      ]);
    });

    it("throws BAD_PATTERN (INVALID_ARGUMENT) with the parser's reason for an invalid pattern", () => {
      const { store } = setup();
      put(store, "foo", "v");
      const error = thrownBy(() => list(store, { pattern: "(" }));
      expect({ code: error.code, message: error.message }).toEqual({
        code: "BAD_PATTERN",
        message: "invalid key pattern: error parsing regexp: missing closing ): `(`",
      });
    });

    it.each(["*a", "(?=x)", "(a)\\1", "a{1001}"])("rejects the non-RE2 pattern %j with BAD_PATTERN", (pattern) => {
      const { store } = setup();
      const error = thrownBy(() => list(store, { pattern }));
      expect(error.code).toBe("BAD_PATTERN");
      expect(error.message).toMatch(/^invalid key pattern: error parsing regexp: .+/);
    });

    it("emits no events and works in read-only mode", () => {
      const { store, events } = setup({ readonly: true });
      expect(list(store, { includeReserved: true, pattern: "Max" })).toEqual([
        "keyquarry/MaxLockDuration",
        "keyquarry/MaxKeys",
        "keyquarry/MaxValueSize",
        "keyquarry/MaxKeyLength",
      ]);
      expect(events).toEqual([]);
    });
  });
});
