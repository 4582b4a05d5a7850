/**
 * Values are stored as byte strings: one char per byte (latin1), which V8
 * keeps as a one-byte string with a 16-byte header, instead of a Uint8Array
 * whose own ArrayBuffer and backing store cost ~250 bytes more. The mapping
 * is lossless for all 256 byte values, and strings are immutable, so history
 * and events share a value without copying it.
 */

/** The byte string of `bytes` (a copy: `bytes` may be a view into a larger, reused buffer). */
export function toByteString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** The bytes of a byte string, in a Uint8Array of their own. */
export function fromByteString(value: string): Uint8Array {
  const bytes = new Uint8Array(value.length);
  Buffer.from(bytes.buffer, 0, bytes.byteLength).write(value, "latin1");
  return bytes;
}
