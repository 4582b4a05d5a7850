import { describe, expect, it } from "vitest";
import { toByteString } from "./byte-string.js";
import { fnv1a64, fnv1a64Halves } from "./fnv1a64.js";
import { LazyValueSnapshot } from "./lazy-value-snapshot.js";

describe("LazyValueSnapshot", () => {
  const bytes = Uint8Array.of(0, 1, 127, 128, 255);
  const { hi, lo } = fnv1a64Halves(bytes);
  const snapshot = () => new LazyValueSnapshot(toByteString(bytes), hi, lo, 7n, "application/octet-stream");

  it("gives the value, its size, hash, version and content type", () => {
    const s = snapshot();
    expect(s.size).toBe(5);
    expect(s.value).toStrictEqual(bytes);
    expect(s.hash).toBe(fnv1a64(bytes));
    expect([s.version, s.contentType]).toEqual([7n, "application/octet-stream"]);
  });

  it("makes the bytes once, on first read, for every reader", () => {
    const s = snapshot();
    expect(s.value).toBe(s.value);
    expect(snapshot().value).not.toBe(s.value);
  });
});
