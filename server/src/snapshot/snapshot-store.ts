import type { JournalLog } from "../journal/journal-log.js";
import type { StoreState } from "../store/store-state.js";

/** One saved snapshot as listed, without its keys. */
export interface SnapshotSummary {
  /** Increasing with every save, across all names. */
  id: bigint;
  serverName: string;
  /** When the snapshot was written, ns since the epoch. */
  created: bigint;
  /** The {@link StoreState.format} it was written with. */
  format: number;
  /** Number of keys. */
  keys: number;
  /** Sum of the keys' current value sizes, in bytes. */
  bytes: number;
  /** The store revision it holds. */
  revision: bigint;
}

/**
 * Durable storage of {@link StoreState} snapshots, one database per server
 * (or shared by several servers under different names). Implementations are
 * SQLite ({@link SqliteSnapshotStore}) and PostgreSQL ({@link PostgresSnapshotStore}).
 */
export interface SnapshotStore extends JournalLog {
  /** Creates or upgrades the tables; idempotent, run once at start. */
  migrate(): Promise<void>;
  /**
   * Writes `state` as a new snapshot of `name` (a failure leaves the
   * previous snapshots as they were, and nothing of this one that any
   * reader sees), then deletes the snapshots of `name` beyond the newest
   * `retain` (>= 1) and the journal entries the new one covers
   * (seq <= `state.commandSeq`). PostgreSQL writes it in one transaction;
   * SQLite in slices, under a row marked complete in the last one. Resolves
   * with the new id once it is durable.
   */
  save(name: string, state: StoreState, retain: number): Promise<bigint>;
  /** The newest snapshot of `name`, or undefined if it has none; throws SnapshotError if it does not decode. */
  loadLatest(name: string): Promise<StoreState | undefined>;
  /** Snapshot `id`, or undefined if there is none; throws SnapshotError if it does not decode. */
  load(id: bigint): Promise<StoreState | undefined>;
  /** Snapshots of `name` (all names if omitted), newest first. */
  list(name?: string): Promise<SnapshotSummary[]>;
  /** Waits for the operation in progress and closes the connection. */
  close(): Promise<void>;
}

/** Throws a RangeError unless `retain` is a whole number >= 1 (0 would delete the snapshot just saved). */
export function assertRetain(retain: number): void {
  if (!Number.isSafeInteger(retain) || retain < 1) {
    throw new RangeError(`snapshots to retain must be a whole number >= 1, got ${retain}`);
  }
}
