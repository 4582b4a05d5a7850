import { describe, expect, it } from "vitest";
import { fromByteString, toByteString } from "./byte-string.js";

describe("byte strings", () => {
  it("round-trip all 256 byte values, one char each", () => {
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => 255 - (i % 256));
    const value = toByteString(bytes);
    expect(value).toHaveLength(512);
    expect(fromByteString(value)).toStrictEqual(bytes);
  });

  it("round-trip the empty value", () => {
    expect(toByteString(new Uint8Array(0))).toBe("");
    expect(fromByteString("")).toStrictEqual(new Uint8Array(0));
  });

  it("round-trip a 1 MB value", () => {
    const bytes = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7919) & 0xff);
    const back = fromByteString(toByteString(bytes));
    // Buffer.equals: an element-wise toStrictEqual of 1 MB takes seconds.
    expect(back).toHaveLength(bytes.length);
    expect(Buffer.from(back.buffer).equals(bytes)).toBe(true);
  });

  it("copy only the viewed bytes of a larger buffer", () => {
    const buffer = Uint8Array.of(1, 2, 3, 4, 5);
    const value = toByteString(buffer.subarray(1, 4));
    buffer.fill(0);
    expect(fromByteString(value)).toStrictEqual(Uint8Array.of(2, 3, 4));
  });

  it("give every caller bytes of its own", () => {
    const value = toByteString(Uint8Array.of(9, 9));
    const first = fromByteString(value);
    first[0] = 0;
    expect(fromByteString(value)).toStrictEqual(Uint8Array.of(9, 9));
    expect(first.buffer.byteLength).toBe(2);
  });
});
