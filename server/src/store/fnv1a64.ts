/**
 * FNV-1a, 64-bit variant, as used by the original Go server (hash/fnv New64a)
 * to fingerprint stored values.
 *
 * Values can be up to 1 MB, so the loop avoids a bigint multiply per byte:
 * the 64-bit state is kept as two unsigned 32-bit halves in plain numbers
 * and combined into a bigint once at the end (or stored as such, see
 * HashHalves).
 */

// 64-bit offset basis 0xcbf29ce484222325, split into 32-bit halves.
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;

// The 64-bit prime 0x100000001b3 = 2^40 + 0x1b3. Multiplying by it mod 2^64
// is `h * 0x1b3 + (h << 40)`, and `h << 40` only touches the high half
// (as `lo << 8`), so we never need a full 64x64 multiply.
const PRIME_LOW = 0x1b3;

const TWO_POW_32 = 0x1_0000_0000;

/** A 64-bit hash as its two 32-bit halves, each a signed int32 (a small integer to V8, so storing one allocates nothing). */
export interface HashHalves {
  readonly hi: number;
  readonly lo: number;
}

/** The FNV-1a 64-bit hash of `data` as {@link HashHalves}. */
export function fnv1a64Halves(data: Uint8Array): HashHalves {
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (let i = 0; i < data.length; i++) {
    // `data[i]` is always defined inside the bounds; `!` avoids the
    // noUncheckedIndexedAccess penalty on the hot path.
    lo = (lo ^ data[i]!) >>> 0;
    // lo * 0x1b3 < 2^41: exact in a double, so low word and carry are exact.
    const t = lo * PRIME_LOW;
    const newLo = t >>> 0;
    const carry = (t - newLo) / TWO_POW_32;
    // High word: hi * 0x1b3 (mod 2^32 via imul) + carry + (lo << 40 >> 32).
    // The sum stays well inside ±2^34, so `>>> 0` reduces it mod 2^32 exactly.
    hi = (Math.imul(hi, PRIME_LOW) + carry + (lo << 8)) >>> 0;
    lo = newLo;
  }
  return { hi: hi | 0, lo: lo | 0 };
}

/** The unsigned 64-bit value, in [0, 2^64), of hash halves. */
export function joinHashHalves(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The halves of an unsigned 64-bit hash (the inverse of {@link joinHashHalves}). */
export function splitHash(hash: bigint): HashHalves {
  return { hi: Number(BigInt.asIntN(32, hash >> 32n)), lo: Number(BigInt.asIntN(32, hash)) };
}

/**
 * Returns the FNV-1a 64-bit hash of `data` as an unsigned bigint in
 * [0, 2^64).
 */
export function fnv1a64(data: Uint8Array): bigint {
  const { hi, lo } = fnv1a64Halves(data);
  return joinHashHalves(hi, lo);
}
