import { Counter, Gauge, type Registry } from "prom-client";
import type { KeyValueStore } from "../store/key-value-store.js";
import { StoreEventKind, storeEventKinds } from "../store/store-event-kind.js";
import type { WatchHub } from "../watch/watch-hub.js";
import type { JournalRecord } from "./journal-record.js";
import type { SnapshotRecord } from "./snapshot-record.js";

/** What the `keyquarry_` metrics are read from. */
export interface StoreMetricSources {
  store: Pick<KeyValueStore, "stats">;
  hub: Pick<WatchHub, "size" | "eventLogLength" | "watchersCut">;
  /** Present when snapshots are on. */
  snapshots: SnapshotRecord | undefined;
  /** Present when the journal is on. */
  journal: JournalRecord | undefined;
}

/**
 * Registers the store's, the watchers' and the snapshots' gauges and
 * counters under `keyquarry_`. Each is read from its source when Prometheus
 * scrapes (one store.stats() per scrape), never updated on the calls' path.
 */
export function registerStoreMetrics(registry: Registry, sources: StoreMetricSources): void {
  const registers = [registry];
  let stats: ReturnType<KeyValueStore["stats"]> | undefined;
  // One stats() per scrape: a scrape runs every collector in one turn, the next turn reads afresh.
  const current = () => {
    if (stats === undefined) {
      stats = sources.store.stats();
      setImmediate(() => (stats = undefined));
    }
    return stats;
  };
  const gauge = (name: string, help: string, read: () => number | bigint | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const value = read();
        if (value !== undefined) {
          this.set(Number(value));
        }
      },
    });
  const counter = (name: string, help: string, read: () => number | bigint) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(Number(read()));
      },
    });

  gauge("keyquarry_keys", "Keys in the store, reserved keys included.", () => current().keys);
  gauge("keyquarry_value_bytes", "Bytes of the keys' current values.", () => current().totalSize);
  gauge("keyquarry_locks", "Keys locked now.", () => current().currentLocks);
  gauge("keyquarry_lifespans", "Keys with a pending lifespan.", () => current().lifespans);
  gauge("keyquarry_clients", "Registered client ids.", () => current().clientIds);
  gauge("keyquarry_history_keys", "Keys with revision history.", () => current().historyKeys);
  gauge("keyquarry_history_revisions", "Revisions held in history.", () => current().historyRevisions);
  counter("keyquarry_prunes_total", "Prunes that ran (scheduled, eager or Admin).", () => current().pruneCompleted);
  counter("keyquarry_eager_prunes_total", "Eager prunes started.", () => current().eagerPruneTriggered);
  new Counter({
    name: "keyquarry_events_total",
    help: "Key events since start, by kind.",
    labelNames: ["kind"],
    registers,
    collect() {
      this.reset();
      const totals = current().events;
      for (const kind of storeEventKinds) {
        this.inc({ kind: StoreEventKind[kind].toLowerCase() }, Number(totals[kind] ?? 0n));
      }
    },
  });
  gauge("keyquarry_watchers", "Open watch streams.", () => sources.hub.size);
  gauge("keyquarry_event_log_events", "Events held for resuming watchers.", () => sources.hub.eventLogLength);
  counter("keyquarry_watchers_cut_total", "Watchers cut off for being slow or too far behind.", () => sources.hub.watchersCut);
  const { snapshots } = sources;
  if (snapshots !== undefined) {
    counter("keyquarry_snapshots_saved_total", "Snapshots saved.", () => snapshots.saved);
    counter("keyquarry_snapshot_failures_total", "Snapshot saves that failed.", () => snapshots.failed);
    gauge("keyquarry_snapshot_duration_seconds", "Duration of the last successful snapshot save.", () => snapshots.last?.seconds);
    gauge("keyquarry_snapshot_keys", "Keys in the last successful snapshot.", () => snapshots.last?.keys);
    gauge("keyquarry_snapshot_bytes", "Value bytes in the last successful snapshot.", () => snapshots.last?.bytes);
    gauge("keyquarry_snapshot_last_success_timestamp_seconds", "When the last successful snapshot ended (Unix time).", () =>
      snapshots.last === undefined ? undefined : snapshots.last.at / 1000,
    );
  }
  const { journal } = sources;
  if (journal !== undefined) {
    counter("keyquarry_journal_commits_total", "Journal commits (each one batch: group commit).", () => journal.commits);
    counter("keyquarry_journal_entries_total", "Journal entries committed.", () => journal.entries);
    counter("keyquarry_journal_commit_seconds_total", "Time spent committing (÷ commits: mean commit latency).", () => journal.seconds);
    counter("keyquarry_journal_commit_failures_total", "Journal commits that failed (and were retried).", () => journal.failures);
    gauge("keyquarry_journal_last_commit_seconds", "Duration of the last journal commit.", () => journal.last?.seconds);
    gauge("keyquarry_journal_last_batch_entries", "Entries in the last journal commit.", () => journal.last?.entries);
    gauge("keyquarry_journal_backlog", "Journal entries recorded and not committed yet.", () => journal.state().backlog);
    gauge("keyquarry_journal_failing", "1 while journal commits fail (sync: writes are refused).", () => (journal.state().failing ? 1 : 0));
  }
}
