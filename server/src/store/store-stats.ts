import type { Pruner } from "./pruner.js";
import type { StoreDomains } from "./state-codec.js";

/** Server-wide counters reported by Stats. */
export interface StoreStats {
  /** Keys in the store, reserved keys included. */
  keys: bigint;
  /** Keys counted against max_keys (reserved keys excluded). */
  userKeys: bigint;
  totalSize: bigint;
  currentLocks: bigint;
  /** Keys with a lifespan. */
  lifespans: bigint;
  clientIds: bigint;
  maxKeys: bigint;
  /** Events emitted since start, indexed by StoreEventKind number. */
  events: readonly bigint[];
  /** Prunes that ran (scheduled, eager or Admin). */
  pruneCompleted: bigint;
  /** Eager prunes started. */
  eagerPruneTriggered: bigint;
  historyKeys: bigint;
  historyRevisions: bigint;
}

/** The counters of `domains` at this instant (see {@link KeyValueStore.stats}). */
export function storeStats(domains: StoreDomains, pruner: Pruner, maxKeys: number): StoreStats {
  const { table, locks, lifespans, clients, metrics } = domains;
  const history = domains.history.count(table);
  return {
    keys: BigInt(table.size),
    userKeys: BigInt(table.userKeys),
    totalSize: BigInt(table.totalSize),
    currentLocks: BigInt(locks.count),
    lifespans: BigInt(lifespans.count),
    clientIds: BigInt(clients.size),
    maxKeys: BigInt(maxKeys),
    events: metrics.eventTotals(),
    pruneCompleted: pruner.completed,
    eagerPruneTriggered: pruner.eagerTriggered,
    historyKeys: BigInt(history.keys),
    historyRevisions: BigInt(history.revisions),
  };
}
