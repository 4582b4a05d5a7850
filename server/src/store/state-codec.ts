import { fromByteString, toByteString } from "./byte-string.js";
import type { Clients } from "./clients.js";
import { joinHashHalves, splitHash } from "./fnv1a64.js";
import type { History } from "./history.js";
import { KeyEntry } from "./key-entry.js";
import { KeyMetricsRecord } from "./key-metrics.js";
import type { KeyTable } from "./key-table.js";
import type { Lifespans } from "./lifespans.js";
import type { Locks } from "./locks.js";
import type { Metrics } from "./metrics.js";
import { isReservedKey } from "./reserved-keys.js";
import { storeStateFormat, type KeyState, type StoreState } from "./store-state.js";
import { DeferredKeyState, DeferredRevisionState } from "./deferred-value-state.js";

/**
 * How an export holds values: "copied" into bytes of their own (a state to
 * compare or keep), or "deferred": by reference, bytes made when read (see
 * {@link DeferredKeyState}), for a snapshot writer that converts them in
 * batches instead of blocking for the whole store at once.
 */
export type ExportedValues = "copied" | "deferred";

/** The domains of a store whose state a snapshot holds. */
export interface StoreDomains {
  table: KeyTable;
  locks: Locks;
  lifespans: Lifespans;
  history: History;
  metrics: Metrics;
  clients: Clients;
}

/**
 * The whole state of `domains` (see {@link KeyValueStore.exportState}):
 * user keys with their locks and lifespans, metrics, clients, counters, and
 * the history when `includeHistory`; values as `values` says.
 */
export function exportState(
  domains: StoreDomains,
  takenAt: bigint,
  revision: bigint,
  commandSeq: bigint,
  includeHistory: boolean,
  values: ExportedValues = "copied",
): StoreState {
  const deferred = values === "deferred";
  const { table, locks, metrics: keyMetricsDomain, clients } = domains;
  const keys: KeyState[] = [];
  // Reserved keys are rewritten at every start, and so are their metrics.
  const saved = (record: KeyEntry) => !isReservedKey(record.key);
  const existing = [...table.existingEntries()].filter(saved);
  // Existing keys first, then removed ones in the order they were removed, then those that kept only
  // history: importState rebuilds the same order, so that max_removed_key_metrics drops the same ones next.
  const removed = new Set([...keyMetricsDomain.removedOldestFirst(), ...table.removedRecords().values()]);
  const records = [...existing, ...[...removed].filter(saved)];
  for (const entry of existing) {
    if (deferred) {
      keys.push(new DeferredKeyState(entry));
      continue;
    }
    const { lock, lifespan } = entry;
    keys.push({
      key: entry.key,
      value: fromByteString(entry.value),
      contentType: entry.contentType,
      contentTypeSniffed: entry.contentTypeSniffed,
      hash: joinHashHalves(entry.hashHi, entry.hashLo),
      created: entry.created,
      updated: entry.updated,
      version: entry.version,
      createdBy: entry.createdBy,
      lock: lock && {
        owner: lock.owner,
        duration: lock.duration,
        created: lock.created,
        deadline: lock.deadline,
        fencingToken: lock.fencingToken,
      },
      lifespan: lifespan && { duration: lifespan.duration, set: lifespan.set, deadline: lifespan.deadline },
    });
  }
  const history: StoreState["history"] = [];
  const metrics: StoreState["metrics"] = [];
  for (const record of records) {
    if (includeHistory && record.hasHistory) {
      const revisions = record.retainedRevisions().map((revision) => (deferred ? new DeferredRevisionState(revision) : revision.toState()));
      history.push({ key: record.key, revisions });
    }
    // Implied metrics (most keys) straight as reported: no record made only to be copied.
    const keyMetrics = record.metrics === undefined ? record.impliedKeyMetrics() : record.metrics?.toKeyMetrics();
    if (keyMetrics !== undefined) {
      metrics.push({ key: record.key, metrics: keyMetrics });
    }
  }
  const { readonly, clients: clientList } = clients.exportState();
  return {
    format: storeStateFormat,
    takenAt,
    revision,
    commandSeq,
    fencingToken: locks.fencingToken,
    readonly,
    keys,
    history,
    metrics,
    clients: clientList,
  };
}

/**
 * Restores `state` into the empty `domains`, without events (see
 * {@link KeyValueStore.importState}); the caller restores the revision.
 */
export function importState(domains: StoreDomains, state: StoreState): void {
  const { table, locks, lifespans, history, metrics, clients } = domains;
  for (const saved of state.keys) {
    const { hi, lo } = splitHash(saved.hash);
    const entry = new KeyEntry(
      saved.key,
      toByteString(saved.value),
      saved.contentType,
      saved.contentTypeSniffed,
      hi,
      lo,
      saved.created,
      saved.version,
      saved.createdBy,
    );
    entry.updated = saved.updated;
    // Set below if the state has them.
    entry.metrics = null;
    if (saved.lock) {
      locks.restore(entry, saved.lock);
    }
    if (saved.lifespan) {
      lifespans.restore(entry, saved.lifespan);
    }
    table.insert(entry);
  }
  // Metrics before history: removed keys then get the order exportState wrote.
  const removedWithMetrics: KeyEntry[] = [];
  for (const { key, metrics: keyMetrics } of state.metrics) {
    const record = table.restoredRecordOf(key, emptyRecord);
    record.metrics = KeyMetricsRecord.of(keyMetrics);
    if (record.removed) {
      removedWithMetrics.push(record);
    }
  }
  for (const { key, revisions } of state.history) {
    history.restore(table.restoredRecordOf(key, emptyRecord), revisions);
  }
  // After the history, which a record may keep without its metrics; removed keys come in the order they were removed.
  for (const record of removedWithMetrics) {
    metrics.keepRemoved(record);
  }
  clients.importState(state);
  locks.fencingToken = state.fencingToken;
}

/** The record of a removed key that left nothing but what is being restored. */
function emptyRecord(key: string): KeyEntry {
  const record = new KeyEntry(key, "", "", false, 0, 0, 0n, 0n, "");
  record.removed = true;
  record.metrics = null;
  return record;
}
