import { describe, expect, it } from "vitest";
import { fnv1a64, fnv1a64Halves, joinHashHalves, splitHash } from "./fnv1a64.js";

const MASK_64 = (1n << 64n) - 1n;

/** Obvious bigint implementation, straight from the FNV-1a definition. */
function referenceFnv1a64(data: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of data) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & MASK_64;
  }
  return h;
}

/** Small seeded PRNG (mulberry32) so failures are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

function randomBytes(rand: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("fnv1a64", () => {
  it("hashes known vectors", () => {
    expect(fnv1a64(utf8(""))).toBe(14695981039346656037n);
    expect(fnv1a64(utf8("bar"))).toBe(16101355973854746n);
    expect(fnv1a64(utf8("baz"))).toBe(16092559880829058n);
  });

  it("agrees with the bigint reference on random buffers", () => {
    const rand = prng(0xc0ffee);
    for (let i = 0; i < 3000; i++) {
      const data = randomBytes(rand, Math.floor(rand() * 301));
      expect(fnv1a64(data)).toBe(referenceFnv1a64(data));
    }
  });

  it("agrees with the bigint reference on extreme bytes", () => {
    for (const fill of [0x00, 0xff, 0x80, 0x7f]) {
      const data = new Uint8Array(257).fill(fill);
      expect(fnv1a64(data)).toBe(referenceFnv1a64(data));
    }
  });

  it("agrees with the bigint reference on a 1 MB buffer", () => {
    const data = randomBytes(prng(42), 1024 * 1024);
    const h = fnv1a64(data);
    expect(h).toBe(referenceFnv1a64(data));
    expect(h >= 0n && h <= MASK_64).toBe(true);
  });

  it("hashes a subarray view by its own bytes only", () => {
    const backing = utf8("xxbarxx");
    expect(fnv1a64(backing.subarray(2, 5))).toBe(fnv1a64(utf8("bar")));
  });

  it("splits a hash into int32 halves and joins them back", () => {
    for (const hash of [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 63n, MASK_64, 14695981039346656037n]) {
      const { hi, lo } = splitHash(hash);
      expect([hi, lo].every((half) => Number.isInteger(half) && half >= -(2 ** 31) && half < 2 ** 31)).toBe(true);
      expect(joinHashHalves(hi, lo)).toBe(hash);
    }
    const data = utf8("bar");
    expect(fnv1a64Halves(data)).toEqual(splitHash(referenceFnv1a64(data)));
  });
});
