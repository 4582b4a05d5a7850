import { describe, expect, it } from "vitest";
import { decodeUint64, encodeUint64 } from "./uint64-text.js";

describe("uint64 as text", () => {
  it("round-trips the whole range", () => {
    for (const value of [0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(decodeUint64(encodeUint64(value))).toBe(value);
    }
    expect(encodeUint64(2n ** 64n - 1n)).toBe("18446744073709551615");
  });

  it("refuses values outside uint64", () => {
    expect(() => encodeUint64(-1n)).toThrow(RangeError);
    expect(() => encodeUint64(2n ** 64n)).toThrow(RangeError);
  });

  it.each(["", "garbage", "-1", "+1", "01", " 1", "1 ", "1.0", "0x10", "18446744073709551616", "999999999999999999999"])(
    "refuses %j",
    (text) => {
      expect(decodeUint64(text)).toBeUndefined();
    },
  );
});
