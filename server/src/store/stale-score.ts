import type { KeyMetrics } from "./key-metrics.js";

const nsPerHour = 3_600_000_000_000;

/**
 * How recently a key was used, for pruning: the original's weighted sum of
 * 1/(hours since) its last access (0.5), last set (0.2), first set (0.2) and
 * last lock (0.1). Higher is fresher; the lowest scores are pruned first.
 * A missing or future time contributes 0. Without `accesses` (a replica, whose
 * accesses are its own) the last access does not count.
 */
export function staleScore(metrics: Readonly<KeyMetrics> | undefined, now: bigint, accesses = true): number {
  if (metrics === undefined) {
    return 0;
  }
  const inverseHours = (time: bigint | undefined) => {
    if (time === undefined || time >= now) {
      return 0;
    }
    return nsPerHour / Number(now - time);
  };
  return (
    (accesses ? 0.5 * inverseHours(metrics.lastAccessed) : 0) +
    0.2 * inverseHours(metrics.lastSet) +
    0.2 * inverseHours(metrics.firstSet) +
    0.1 * inverseHours(metrics.lastLocked)
  );
}
