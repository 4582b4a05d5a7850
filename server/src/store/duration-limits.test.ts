import { describe, expect, it } from "vitest";
import { tooLong, tooShort } from "./duration-limits.js";

const ms = 1_000_000n;
const s = 1000n * ms;

describe("duration limits", () => {
  it("names the duration, the minimum and its option when too short", () => {
    expect(tooShort(ms, s, "min_lifespan")).toBe("1ms is below the minimum of 1s (min_lifespan)");
    expect(tooShort(0n, s, "min_lock_duration")).toBe("0s is below the minimum of 1s (min_lock_duration)");
    expect(tooShort(s, s, "min_lifespan")).toBeUndefined();
  });

  it("refuses zero and negative durations when the minimum is 0", () => {
    expect(tooShort(0n, 0n, "min_lifespan")).toBe("0s is not a positive duration");
    expect(tooShort(-s, -2n * s, "min_lifespan")).toBe("-1s is not a positive duration");
    expect(tooShort(1n, 0n, "min_lifespan")).toBeUndefined();
  });

  it("names the duration, the maximum and its option when too long", () => {
    expect(tooLong(7200n * s, 3600n * s, "max_lock_duration")).toBe("2h0m0s is above the maximum of 1h0m0s (max_lock_duration)");
    expect(tooLong(3600n * s, 3600n * s, "max_lock_duration")).toBeUndefined();
  });
});
