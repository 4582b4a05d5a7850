import { describe, expect, it } from "vitest";
import {
  bytes,
  HASH_EMPTY,
  info,
  put,
  setup,
  text,
  TEXT,
} from "./key-value-store.fixture.js";

const HTML = "text/html; charset=utf-8";
const PNG = "image/png";
const OCTETS = "application/octet-stream";

const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);

describe("KeyValueStore", () => {
  describe("content type", () => {
    it.each([
      ["text", bytes("bar"), TEXT],
      ["HTML", bytes("<html><body>hi</body></html>"), HTML],
      ["PNG", PNG_BYTES, PNG],
      ["binary", new Uint8Array([0, 1, 2, 3]), OCTETS],
    ])("is sniffed at creation (%s)", (_name, value, contentType) => {
      const { store } = setup();
      put(store, "foo", value);
      expect(info(store, "foo").contentType).toBe(contentType);
    });

    it("uses an explicit content type at creation instead of sniffing", () => {
      const { store } = setup();
      put(store, "foo", "bar", { contentType: "application/json" });
      expect(info(store, "foo").contentType).toBe("application/json");
    });

    it("is empty for an empty value with no explicit type", () => {
      const { store } = setup();
      put(store, "foo", "");
      expect(info(store, "foo")).toMatchObject({ contentType: "", size: 0n, hash: HASH_EMPTY });
    });

    it("keeps an explicit type given with an empty value", () => {
      const { store } = setup();
      put(store, "foo", "", { contentType: "application/json" });
      expect(info(store, "foo").contentType).toBe("application/json");
    });

    it("is replaced by an explicit type on a value-changing update (sniffed before)", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", "baz", { contentType: "application/x-custom" });
      expect(info(store, "foo").contentType).toBe("application/x-custom");
    });

    it("is replaced by an explicit type on a value-changing update (explicit before)", () => {
      const { store } = setup();
      put(store, "foo", "bar", { contentType: "application/json" });
      put(store, "foo", "baz", { contentType: "text/csv" });
      expect(info(store, "foo").contentType).toBe("text/csv");
    });

    it("is re-sniffed when the value of a sniffed key changes", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe(PNG);
      put(store, "foo", "<!DOCTYPE html><p>x</p>");
      expect(info(store, "foo").contentType).toBe(HTML);
    });

    it("becomes empty when a sniffed key's value becomes empty, and is sniffed again afterwards", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", "");
      expect(info(store, "foo").contentType).toBe("");
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe(PNG);
    });

    it("is sniffed on the first non-empty update of a key created empty", () => {
      const { store } = setup();
      put(store, "foo", "");
      put(store, "foo", "bar");
      expect(info(store, "foo").contentType).toBe(TEXT);
    });

    it("keeps an explicit type when a value-changing update gives none", () => {
      const { store } = setup();
      put(store, "foo", "bar", { contentType: "application/json" });
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe("application/json");
      put(store, "foo", "baz");
      expect(info(store, "foo").contentType).toBe("application/json");
    });

    it("keeps a type given explicitly on an update when later updates give none", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", "baz", { contentType: "application/json" });
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe("application/json");
    });
  });
});
