/**
 * The SQLite tables of snapshots (drizzle-kit reads this file to generate
 * server/drizzle/sqlite; see server/drizzle.sqlite.config.ts). Self-contained
 * on purpose: drizzle-kit loads it outside the project's module resolution.
 *
 * Encodings (shared with postgres-schema.ts, same TypeScript field names):
 * - int64 times and durations (ns): INTEGER, read back exactly because the
 *   connection returns INTEGERs as bigint (`defaultSafeIntegers`).
 * - uint64 (hash, version, revision, fencing tokens): decimal TEXT. A hash
 *   uses the full 64 bits, which INTEGER (signed) cannot hold; text keeps it
 *   lossless and readable in SQL, and the loader validates it.
 * - booleans: INTEGER 0/1. Values: BLOB.
 * - one row per key, revision, metrics entry and client, inserted in batches,
 *   so a large state is never built as one document in memory.
 *   `position` keeps the state's order, so a snapshot loads back exactly.
 */
import { customType, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** A BLOB read back as a plain Uint8Array (a view of the driver's Buffer, not a copy). */
const bytes = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => "blob",
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  // Anything else (a corrupted row) is left as is, for the row decoder to reject with the snapshot id.
  fromDriver: (value) =>
    Buffer.isBuffer(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : (value as never),
});

/** A boolean as INTEGER 0/1. */
const flag = customType<{ data: boolean; driverData: number | bigint }>({
  dataType: () => "integer",
  toDriver: (value) => (value ? 1 : 0),
  // A value other than 0/1 is left as is, for the row decoder to reject.
  fromDriver: (value) => (value === 1n || value === 1 ? true : value === 0n || value === 0 ? false : (value as never)),
});

/** A signed 64-bit INTEGER (bigint with safe integers on). */
const int64 = (name: string) => integer(name).$type<bigint>();

/** One snapshot of one server name; its rows are in the tables below. */
export const snapshots = sqliteTable(
  "snapshots",
  {
    // AUTOINCREMENT: ids are never reused, even after deletes, so a logged id names one snapshot forever.
    id: integer("id").primaryKey({ autoIncrement: true }).$type<bigint>(),
    serverName: text("server_name").notNull(),
    /** When the row was written, ns since the epoch. */
    created: int64("created").notNull(),
    format: integer("format").notNull(),
    takenAt: int64("taken_at").notNull(),
    revision: text("revision").notNull(),
    // Snapshots written before the journal hold no command: 0.
    commandSeq: text("command_seq").notNull().default("0"),
    fencingToken: text("fencing_token").notNull(),
    readonly: flag("readonly").notNull(),
    // False while a save writes the snapshot's rows in several transactions; readers skip such rows.
    complete: flag("complete").notNull().default(true),
    // Row counts, checked at load so that a snapshot missing rows is refused instead of restored partially.
    keyCount: integer("key_count").notNull(),
    totalBytes: integer("total_bytes").notNull(),
    historyCount: integer("history_count").notNull(),
    revisionCount: integer("revision_count").notNull(),
    metricsCount: integer("metrics_count").notNull(),
    clientCount: integer("client_count").notNull(),
  },
  (t) => [index("snapshots_server_name_id_idx").on(t.serverName, t.id)],
);

const snapshotId = () =>
  int64("snapshot_id")
    .notNull()
    .references(() => snapshots.id, { onDelete: "cascade" });

/**
 * Values shared by the snapshots, by SHA-256 of their bytes: a value that
 * did not change between two snapshots is stored once. A save deletes the
 * values no row refers to any more.
 */
export const snapshotValues = sqliteTable("snapshot_values", {
  hash: bytes("hash").primaryKey(),
  value: bytes("value").notNull(),
});

/**
 * The value of a key or revision row: in snapshot_values when `value_hash`
 * is set (`value` is then empty), else in `value` (rows written before
 * snapshot_values existed).
 */
const valueHash = () => bytes("value_hash");

/** The keys of a snapshot (StoreState.keys); lock and lifespan columns are all NULL when absent. */
export const snapshotKeys = sqliteTable(
  "snapshot_keys",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    key: text("key").notNull(),
    value: bytes("value").notNull(),
    valueHash: valueHash(),
    contentType: text("content_type").notNull(),
    contentTypeSniffed: flag("content_type_sniffed").notNull(),
    hash: text("hash").notNull(),
    created: int64("created").notNull(),
    updated: int64("updated").notNull(),
    version: text("version").notNull(),
    createdBy: text("created_by").notNull(),
    lockOwner: text("lock_owner"),
    lockDuration: int64("lock_duration"),
    lockCreated: int64("lock_created"),
    lockDeadline: int64("lock_deadline"),
    lockFencingToken: text("lock_fencing_token"),
    lifespanDuration: int64("lifespan_duration"),
    lifespanSet: int64("lifespan_set"),
    lifespanDeadline: int64("lifespan_deadline"),
  },
  // No unique index on key: PostgreSQL btree entries are limited to ~2.7 kB and keys may be longer
  // (max_key_length can be raised); the loader refuses a snapshot with a duplicate key instead.
  // value_hash is indexed for the deletion of unreferenced values.
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] }), index("snapshot_keys_value_hash_idx").on(t.valueHash)],
);

/** One retained-history list per key (StoreState.history), possibly empty. */
export const snapshotHistory = sqliteTable(
  "snapshot_history",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    key: text("key").notNull(),
    revisionCount: integer("revision_count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/** The revisions of each history list, `seq` in list order. */
export const snapshotRevisions = sqliteTable(
  "snapshot_revisions",
  {
    snapshotId: snapshotId(),
    /** Position of the snapshot_history row. */
    position: integer("position").notNull(),
    seq: integer("seq").notNull(),
    value: bytes("value").notNull(),
    valueHash: valueHash(),
    contentType: text("content_type").notNull(),
    hash: text("hash").notNull(),
    version: text("version").notNull(),
    timestamp: int64("timestamp").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position, t.seq] }), index("snapshot_revisions_value_hash_idx").on(t.valueHash)],
);

/** Key metrics (StoreState.metrics); absent first/last times are NULL. */
export const snapshotMetrics = sqliteTable(
  "snapshot_metrics",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    key: text("key").notNull(),
    accessCount: integer("access_count").notNull(),
    firstAccessed: int64("first_accessed"),
    lastAccessed: int64("last_accessed"),
    setCount: integer("set_count").notNull(),
    firstSet: int64("first_set"),
    lastSet: int64("last_set"),
    lockCount: integer("lock_count").notNull(),
    firstLocked: int64("first_locked"),
    lastLocked: int64("last_locked"),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/** Registered clients (StoreState.clients). */
export const snapshotClients = sqliteTable(
  "snapshot_clients",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    clientId: text("client_id").notNull(),
    firstSeen: int64("first_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/**
 * The journal: every command applied since the newest snapshot of a server
 * name, one row each, appended in batches (one transaction per batch: group
 * commit). `batch` and `batchSize` let a reader tell a complete batch from a
 * partial one; `checksum` (CRC-32 of the row's content) a damaged row from a
 * sound one. A snapshot deletes the rows it covers (seq <= its command_seq).
 */
export const journalEntries = sqliteTable(
  "journal_entries",
  {
    serverName: text("server_name").notNull(),
    seq: int64("seq").notNull(),
    /** Layout of `command` (journal/journal-entry-codec.ts); a newer one is refused, not misread. */
    format: integer("format").notNull(),
    /** seq of the first row of this row's batch. */
    batch: int64("batch").notNull(),
    batchSize: integer("batch_size").notNull(),
    /** When the command ran, ns since the epoch: the clock of its replay. */
    time: int64("time").notNull(),
    /** The store's revision before the command (uint64 as decimal text). */
    revision: text("revision").notNull(),
    /** The command as JSON, without its value. */
    command: text("command").notNull(),
    /** A Set's value. */
    value: bytes("value"),
    checksum: int64("checksum").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serverName, t.seq] })],
);
