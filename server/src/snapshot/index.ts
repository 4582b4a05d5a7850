/** Snapshots of the store into SQLite or PostgreSQL, and the snapshotter that takes them. */
export { defaultSqliteFile, parseConnectionString, type SnapshotDatabase } from "./connection-string.js";
export { openSnapshotStore, type OpenSnapshotStoreOptions } from "./open-snapshot-store.js";
export { PostgresSnapshotStore, type PostgresSnapshotStoreOptions } from "./postgres-snapshot-store.js";
export { SnapshotError } from "./snapshot-error.js";
export type { SnapshotStore, SnapshotSummary } from "./snapshot-store.js";
export { createSnapshotter, type SnapshotLog, type SnapshotSource, type Snapshotter, type SnapshotterOptions } from "./snapshotter.js";
export { SqliteSnapshotStore, type SqliteSnapshotStoreOptions } from "./sqlite-snapshot-store.js";
