import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { connectTimeoutMs, grpcTimeoutMs, holdableDeadlineMs, maxTimerMs } from "./request-deadline.js";

describe("grpcTimeoutMs", () => {
  it.each([
    ["1S", 1000],
    ["250m", 250],
    ["1500u", 1.5],
    ["2H", 7_200_000],
    ["596H", 596 * 3_600_000],
  ])("reads %s as %d ms", (value, ms) => {
    expect(grpcTimeoutMs(value)).toBe(ms);
  });

  it("counts a deadline Node's timers cannot hold as none", () => {
    expect(grpcTimeoutMs("2592000S")).toBeUndefined();
    expect(grpcTimeoutMs("99999999H")).toBeUndefined();
    // 596 hours fit (2,145,600,000 ms), 597 do not (2,149,200,000 ms).
    expect(grpcTimeoutMs("597H")).toBeUndefined();
    expect(grpcTimeoutMs("596H")).toBeLessThanOrEqual(maxTimerMs);
  });

  it.each(["", "1", "1s", "123456789S", "-1S"])("refuses %j with INVALID_ARGUMENT", (value) => {
    expect(() => grpcTimeoutMs(value)).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
  });
});

describe("connectTimeoutMs", () => {
  it("reads milliseconds up to what Node's timers hold, and beyond that none", () => {
    expect(connectTimeoutMs("0")).toBe(0);
    expect(connectTimeoutMs(String(maxTimerMs))).toBe(maxTimerMs);
    expect(connectTimeoutMs("2147483648")).toBeUndefined();
    expect(connectTimeoutMs("9999999999")).toBeUndefined();
  });

  it.each(["", "1.5", "12345678901", "soon"])("refuses %j", (value) => {
    expect(() => connectTimeoutMs(value)).toThrow(/invalid connect timeout value/);
  });
});

describe("holdableDeadlineMs", () => {
  it("removes a deadline beyond the timers' range from the headers", () => {
    const header = new Headers({ "grpc-timeout": "2592000S" });
    expect(holdableDeadlineMs(header)).toBeUndefined();
    expect(header.has("grpc-timeout")).toBe(false);
  });

  it("keeps a holdable deadline, and leaves a malformed one for the protocol handler", () => {
    const holdable = new Headers({ "connect-timeout-ms": "1000" });
    expect(holdableDeadlineMs(holdable)).toBe(1000);
    expect(holdable.get("connect-timeout-ms")).toBe("1000");
    const malformed = new Headers({ "grpc-timeout": "soon" });
    expect(holdableDeadlineMs(malformed)).toBeUndefined();
    expect(malformed.get("grpc-timeout")).toBe("soon");
    expect(holdableDeadlineMs(new Headers())).toBeUndefined();
  });
});
