import type { KeyEntry } from "./key-entry.js";
import { KeyMetricsRecord } from "./key-metrics.js";
import type { KeyTable } from "./key-table.js";
import { RemovalQueue } from "./removal-queue.js";
import { StoreEventKind, storeEventKinds } from "./store-event-kind.js";

/**
 * The store's metrics: events counted by kind, each key's metrics (which
 * outlive the key), and the bound on removed keys' metrics
 * (max_removed_key_metrics).
 */
export class Metrics {
  // Numbers, not bigints: a bigint addition allocates, and this runs on every event.
  private readonly eventCounts: number[] = storeEventKinds.map(() => 0);
  /** Removed keys' records that hold metrics, oldest removal first (see keepRemoved). */
  private readonly removedMetrics = new RemovalQueue<KeyEntry>((record) => record.metrics !== null);

  constructor(
    /** Removed keys whose metrics are kept: 0 none, -1 all. */
    private readonly maxRemovedKeyMetrics: number,
    private readonly table: KeyTable,
  ) {}

  /** Counts an event of `entry`; accesses, locks and (when recorded) sets go into its metrics. */
  count(entry: KeyEntry, kind: StoreEventKind, time: bigint): void {
    this.eventCounts[kind]!++;
    // Sets of an entry whose metrics are implied are implied too.
    if (
      kind === StoreEventKind.ACCESSED ||
      kind === StoreEventKind.LOCKED ||
      ((kind === StoreEventKind.CREATED || kind === StoreEventKind.UPDATED) && entry.metrics !== undefined)
    ) {
      this.of(entry).record(kind, time);
    }
  }

  /** Events emitted since start, indexed by {@link StoreEventKind}. */
  eventTotals(): bigint[] {
    return this.eventCounts.map(BigInt);
  }

  /** The entry's metrics record, made (from its implied metrics, or empty) if it has none yet. */
  of(entry: KeyEntry): KeyMetricsRecord {
    return (entry.metrics ??= entry.metrics === undefined ? entry.impliedMetrics() : new KeyMetricsRecord());
  }

  /** A new entry of a removed key's name takes over the metrics of `previous`, its record. */
  takeOver(entry: KeyEntry, previous: KeyEntry): void {
    // Queued among the removed keys' metrics unless they were dropped (or never recorded).
    const queued = previous.metrics !== null;
    entry.metrics = this.of(previous);
    if (queued) {
      // It leaves the queue: its metrics live on in the new entry.
      previous.metrics = null;
      this.removedMetrics.forget();
    }
  }

  /** The records of removed keys whose metrics are kept, oldest removal first (the order they are dropped in). */
  removedOldestFirst(): Iterable<KeyEntry> {
    return this.removedMetrics.values();
  }

  /**
   * Keeps a removed key's metrics within max_removed_key_metrics: the
   * oldest removed keys' metrics go first; a record left with nothing (no
   * kept history) goes too, now if swept aside, else when swept (a map
   * operation per removal here would slow a mass expiry). Kept history is
   * never dropped here: it follows keep_deleted_key_history and ClearHistory
   * alone.
   */
  keepRemoved(record: KeyEntry): void {
    this.removedMetrics.push(record);
    const limit = this.maxRemovedKeyMetrics;
    while (limit >= 0 && this.removedMetrics.size > limit) {
      const oldest = this.removedMetrics.shift()!;
      oldest.metrics = null;
      // The oldest is its key's current record (re-created keys' records leave the queue): swept, or still in the table's map.
      if (oldest.history === undefined) {
        this.table.forgetRemoved(oldest.key);
      }
    }
  }
}
