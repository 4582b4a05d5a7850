/** Largest uint64, 2^64 - 1. */
const maxUint64 = (1n << 64n) - 1n;

// Canonical decimal only: no sign, no leading zeros, no spaces, at most 20 digits.
const decimal = /^(?:0|[1-9][0-9]{0,19})$/;

/**
 * A uint64 (hash, version, revision, fencing token) as the decimal text that
 * snapshot tables store; lossless for the full 64 bits, which a signed
 * 64-bit column could only hold reinterpreted.
 */
export function encodeUint64(value: bigint): string {
  if (value < 0n || value > maxUint64) {
    throw new RangeError(`not a uint64: ${value}`);
  }
  return value.toString();
}

/** The uint64 that {@link encodeUint64} wrote, or undefined if `text` is not one. */
export function decodeUint64(text: string): bigint | undefined {
  if (!decimal.test(text)) {
    return undefined;
  }
  const value = BigInt(text);
  return value > maxUint64 ? undefined : value;
}
