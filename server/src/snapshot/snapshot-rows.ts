/**
 * The rows a snapshot is stored as, dialect-neutral: field names are those
 * of the Drizzle tables in sqlite-schema.ts and postgres-schema.ts, which
 * both accept these shapes on insert. uint64 values are decimal text
 * (see uint64-text.ts); absent optional values are null.
 */

/** The `snapshots` row, without its generated id. */
export interface SnapshotRow {
  serverName: string;
  created: bigint;
  format: number;
  takenAt: bigint;
  revision: string;
  commandSeq: string;
  fencingToken: string;
  readonly: boolean;
  keyCount: number;
  totalBytes: number;
  historyCount: number;
  revisionCount: number;
  metricsCount: number;
  clientCount: number;
}

/** The row counts of a snapshot, known only once its rows are written. */
export type SnapshotCounts = Pick<
  SnapshotRow,
  "keyCount" | "totalBytes" | "historyCount" | "revisionCount" | "metricsCount" | "clientCount"
>;

/** A `snapshot_keys` row. */
export interface KeyRow {
  snapshotId: bigint;
  position: number;
  key: string;
  value: Uint8Array;
  contentType: string;
  contentTypeSniffed: boolean;
  hash: string;
  created: bigint;
  updated: bigint;
  version: string;
  createdBy: string;
  lockOwner: string | null;
  lockDuration: bigint | null;
  lockCreated: bigint | null;
  lockDeadline: bigint | null;
  lockFencingToken: string | null;
  lifespanDuration: bigint | null;
  lifespanSet: bigint | null;
  lifespanDeadline: bigint | null;
}

/** A `snapshot_history` row: one key's list of revisions. */
export interface HistoryRow {
  snapshotId: bigint;
  position: number;
  key: string;
  revisionCount: number;
}

/** A `snapshot_revisions` row: revision `seq` of history list `position`. */
export interface RevisionRow {
  snapshotId: bigint;
  position: number;
  seq: number;
  value: Uint8Array;
  contentType: string;
  hash: string;
  version: string;
  timestamp: bigint;
}

/** A `snapshot_metrics` row. */
export interface MetricsRow {
  snapshotId: bigint;
  position: number;
  key: string;
  accessCount: number;
  firstAccessed: bigint | null;
  lastAccessed: bigint | null;
  setCount: number;
  firstSet: bigint | null;
  lastSet: bigint | null;
  lockCount: number;
  firstLocked: bigint | null;
  lastLocked: bigint | null;
}

/** A `snapshot_clients` row. */
export interface ClientRow {
  snapshotId: bigint;
  position: number;
  clientId: string;
  firstSeen: bigint;
}
