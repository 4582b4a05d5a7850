import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./parse-duration.js";

const s = 1_000_000_000n;

describe("parseDuration", () => {
  it.each<[string, bigint]>([
    ["0", 0n],
    ["-0", 0n],
    ["10ns", 10n],
    ["300us", 300_000n],
    ["300\u00b5s", 300_000n],
    ["300\u03bcs", 300_000n],
    ["500ms", 500_000_000n],
    ["5s", 5n * s],
    ["1m", 60n * s],
    ["1h30m", 5400n * s],
    ["1.5h", 5400n * s],
    ["1h0m0s", 3600n * s],
    ["2h45m30.5s", 9930n * s + 500_000_000n],
    [".5s", 500_000_000n],
    ["1.s", s],
    ["1.0000000009s", s], // below a nanosecond is truncated, like Go
    ["1000", 1000n], // unit-less integer = nanoseconds
    ["+5s", 5n * s],
    ["-5s", -5n * s],
    ["-1m30s", -90n * s],
    ["  5s  ", 5n * s],
    ["9223372036854775807ns", 9223372036854775807n],
    ["-9223372036854775808", -9223372036854775808n],
  ])("%j = %s ns", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each<[string, RegExp]>([
    ["", /empty/],
    ["   ", /empty/],
    ["-", /expected a number/],
    ["s", /expected a number/],
    [".s", /expected a number/],
    ["abc", /expected a number/],
    ["1.5", /missing unit/],
    ["1h30", /missing unit/],
    ["5x", /unknown unit "x"/],
    ["5 s", /unknown unit " s"/],
    ["5S", /unknown unit "S"/],
    ["1d", /unknown unit "d"/],
    ["1h-5m", /unknown unit "h-"/],
    ["9223372036854775808ns", /out of range/],
    ["3000000h", /out of range/],
  ])("rejects %j", (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
    expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)}`);
  });
});

describe("formatDuration", () => {
  it.each<[bigint, string]>([
    [0n, "0s"],
    [1n, "1ns"],
    [999n, "999ns"],
    [1_500n, "1.5\u00b5s"],
    [300_000n, "300\u00b5s"],
    [500_000_000n, "500ms"],
    [1_250_000n, "1.25ms"],
    [s, "1s"],
    [1_500_000_000n, "1.5s"],
    [60n * s, "1m0s"],
    [60n * s + 500_000_000n, "1m0.5s"],
    [5400n * s, "1h30m0s"],
    [900n * s, "15m0s"],
    [-5n * s, "-5s"],
    [100n * 3600n * s + 1n, "100h0m0.000000001s"],
  ])("%s ns = %j", (ns, expected) => {
    expect(formatDuration(ns)).toBe(expected);
  });

  it("round-trips through parseDuration", () => {
    for (const ns of [0n, 7n, 1_234n, 1_234_567n, 1_234_567_890n, 98_765_432_101_234n, -3_600_000_000_001n]) {
      expect(parseDuration(formatDuration(ns))).toBe(ns);
    }
  });
});
