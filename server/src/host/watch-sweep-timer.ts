import type { WatchHub } from "../watch/watch-hub.js";

/** Longest time between two sweeps: the total byte budget is enforced at least this often. */
const maxSweepIntervalMs = 100;

/**
 * Runs `hub.sweep()` periodically: often enough that a watcher is cut off
 * within a quarter past its send timeout (`sendTimeout` in ns, 0 = none),
 * and at least every 100 ms for the total byte budget. Returns a function
 * that stops it.
 */
export function startWatchSweepTimer(hub: WatchHub, sendTimeout: bigint): () => void {
  const quarterMs = Number(sendTimeout / 4_000_000n);
  const intervalMs = sendTimeout > 0n ? Math.min(Math.max(quarterMs, 1), maxSweepIntervalMs) : maxSweepIntervalMs;
  const timer = setInterval(() => hub.sweep(), intervalMs).unref();
  return () => clearInterval(timer);
}
