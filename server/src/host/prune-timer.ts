import type { KeyValueStore } from "../store/key-value-store.js";

/**
 * Runs the store's scheduled prune every `intervalNs` (prune_interval; 0 =
 * never). Prunes are synchronous, so two can never overlap (§15.20a).
 * Returns a function that stops it.
 */
export function startPruneTimer(store: KeyValueStore, intervalNs: bigint): () => void {
  if (intervalNs <= 0n) {
    return () => {};
  }
  const timer = setInterval(() => store.scheduledPrune(), Number(intervalNs / 1_000_000n)).unref();
  return () => clearInterval(timer);
}
