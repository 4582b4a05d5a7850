import type { KeyEntry } from "./key-entry.js";
import type { KeyTable } from "./key-table.js";
import { isReservedKey } from "./reserved-keys.js";
import { staleScore } from "./stale-score.js";

/** When the store prunes, and down to how many user keys (0 = never). */
export interface PruneOptions {
  maxKeys: number;
  pruneAt: number;
  pruneTo: number;
  eagerPruneAt: number;
  eagerPruneTo: number;
  /** A replica ranks without accesses (see StoreOptions.replicated). */
  replicated?: boolean;
}

/**
 * Pruning: which user keys go when the store holds too many (the least
 * recently used first, see {@link staleScore}), when the scheduled and the
 * eager prune run, and their counters. The store removes the keys it picks.
 */
export class Pruner {
  /** Prunes that ran (scheduled, eager or Admin). */
  completed = 0n;
  /** Eager prunes started. */
  eagerTriggered = 0n;

  constructor(private readonly options: PruneOptions) {}

  /**
   * The keys to remove so that at most `target` user keys remain, stalest
   * first, never locked, reserved or `ignore`d ones; undefined (nothing
   * runs or counts) when there are already fewer than `target`.
   */
  select(table: KeyTable, target: number, ignore: ReadonlySet<string>, now: bigint): KeyEntry[] | undefined {
    if (table.userKeys < target) {
      return undefined;
    }
    const candidates: Array<{ entry: KeyEntry; score: number }> = [];
    for (const entry of table.existingEntries()) {
      if (!isReservedKey(entry.key) && entry.lock === undefined && !ignore.has(entry.key)) {
        candidates.push({ entry, score: staleScore(entry.metricsView(), now, this.options.replicated !== true) });
      }
    }
    candidates.sort((a, b) => a.score - b.score);
    const count = Math.min(table.userKeys - target, candidates.length);
    return candidates.slice(0, count).map(({ entry }) => entry);
  }

  /** The scheduled prune's target (prune_to) once prune_at user keys are reached, else undefined. */
  scheduledTarget(userKeys: number): number | undefined {
    const { pruneAt, pruneTo } = this.options;
    return pruneAt > 0 && userKeys >= pruneAt ? pruneTo : undefined;
  }

  /** Whether a new key must first make room: at max_keys with eager pruning on (the original just refused, §15.19). */
  mustMakeRoom(userKeys: number): boolean {
    const { maxKeys, eagerPruneAt } = this.options;
    return maxKeys > 0 && userKeys >= maxKeys && eagerPruneAt > 0;
  }

  /** Whether a new key took the store past eager_prune_at user keys. */
  eagerDue(userKeys: number): boolean {
    const { eagerPruneAt } = this.options;
    return eagerPruneAt > 0 && userKeys > eagerPruneAt;
  }

  /** Counts an eager prune starting; returns its target (eager_prune_to). */
  startEager(): number {
    this.eagerTriggered++;
    return this.options.eagerPruneTo;
  }
}
