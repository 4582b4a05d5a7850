import { describe, expect, it } from "vitest";
import type { KeyMetrics } from "./key-metrics.js";
import { staleScore } from "./stale-score.js";

const emptyKeyMetrics = (): KeyMetrics => ({ accessCount: 0, setCount: 0, lockCount: 0 });

const hour = 3_600_000_000_000n;
const now = 1_000n * hour;

describe("staleScore", () => {
  it("orders keys as the original's tests do: older and untouched first", () => {
    // BEHAVIOR.md §14.1 TestKeySort: created 12h ago < created 12h ago and updated 11h ago < created now.
    const bar = { ...emptyKeyMetrics(), setCount: 1, firstSet: now - 12n * hour, lastSet: now - 12n * hour };
    const wat = { ...emptyKeyMetrics(), setCount: 2, firstSet: now - 12n * hour, lastSet: now - 11n * hour };
    const foo = { ...emptyKeyMetrics(), setCount: 1, firstSet: now - 1n, lastSet: now - 1n };
    expect(staleScore(bar, now)).toBeLessThan(staleScore(wat, now));
    expect(staleScore(wat, now)).toBeLessThan(staleScore(foo, now));
  });

  it("weighs each time as documented", () => {
    const metrics = {
      ...emptyKeyMetrics(),
      lastAccessed: now - hour,
      lastSet: now - 2n * hour,
      firstSet: now - 4n * hour,
      lastLocked: now - 10n * hour,
    };
    expect(staleScore(metrics, now)).toBeCloseTo(0.5 * 1 + 0.2 * 0.5 + 0.2 * 0.25 + 0.1 * 0.1, 12);
  });

  it("counts missing and future times as 0", () => {
    expect(staleScore(undefined, now)).toBe(0);
    expect(staleScore(emptyKeyMetrics(), now)).toBe(0);
    expect(staleScore({ ...emptyKeyMetrics(), lastSet: now + hour, firstSet: now }, now)).toBe(0);
  });
});
