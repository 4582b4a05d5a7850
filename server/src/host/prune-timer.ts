import type { KeyValueStore } from "../store/key-value-store.js";

/**
 * Runs the store's scheduled prune every `intervalNs` (prune_interval; 0 =
 * never), through `prune` (a cluster node proposes it to the cluster's log).
 * Prunes are synchronous, so two can never overlap (§15.20a).
 * Returns a function that stops it.
 */
export function startPruneTimer(store: KeyValueStore, intervalNs: bigint, prune: () => unknown = () => store.scheduledPrune()): () => void {
  if (intervalNs <= 0n) {
    return () => {};
  }
  const timer = setInterval(prune, Number(intervalNs / 1_000_000n)).unref();
  return () => clearInterval(timer);
}
