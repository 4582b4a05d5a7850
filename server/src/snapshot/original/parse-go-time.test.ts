import { describe, expect, it } from "vitest";
import { parseGoTime } from "./parse-go-time.js";

describe("parseGoTime", () => {
  it("reads Go's RFC 3339 times exactly, to the nanosecond, in any zone", () => {
    expect(parseGoTime("2023-11-14T22:13:20.123456789Z")).toBe(1_700_000_000_123_456_789n);
    expect(parseGoTime("2023-11-15T00:13:20.123456789+02:00")).toBe(1_700_000_000_123_456_789n);
    expect(parseGoTime("2023-11-14T17:13:20.1-05:00")).toBe(1_700_000_000_100_000_000n);
    expect(parseGoTime("1970-01-01T00:00:00Z")).toBe(0n);
  });

  it("reads Go's zero time as 0n (never)", () => {
    expect(parseGoTime("0001-01-01T00:00:00Z")).toBe(0n);
  });

  it("reads years before 100 as written, not as 19xx", () => {
    // Seconds from 0050-01-01 to the epoch, by Python's proleptic Gregorian calendar.
    expect(parseGoTime("0050-01-01T00:00:00Z")).toBe(-60_589_296_000n * 1_000_000_000n);
  });

  it.each(["yesterday", "2023-11-14 22:13:20Z", "2023-11-14T22:13:20", "2023-11-14T22:13:20.1234567890Z", "2023-02-30T00:00:00Z", "2023-11-14T24:00:00Z"])(
    "refuses %j, naming it",
    (text) => {
      expect(() => parseGoTime(text)).toThrow(JSON.stringify(text));
    },
  );
});
