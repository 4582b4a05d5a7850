/**
 * The PostgreSQL tables of snapshots (drizzle-kit reads this file to generate
 * server/drizzle/postgres; see server/drizzle.postgres.config.ts). Same
 * tables, columns and TypeScript field names as sqlite-schema.ts, which
 * explains the layout. Self-contained on purpose: drizzle-kit loads it
 * outside the project's module resolution.
 *
 * Encodings:
 * - int64 times and durations (ns): bigint. uint64 (hash, version, revision,
 *   fencing tokens): decimal text, because a hash uses the full 64 bits and
 *   bigint is signed; text is lossless, readable, and validated at load.
 * - Strings that come from clients (keys, content types, client ids) are
 *   bytea holding UTF-8: keyquarry keys may contain U+0000, which a
 *   PostgreSQL text value cannot hold, and a snapshot must never fail because
 *   of what a client stored. (Read them in psql with convert_from(key, 'UTF8').)
 */
import { bigint, boolean, customType, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

/** bytea read back as a plain Uint8Array (a view of the driver's Buffer, not a copy). */
const bytes = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => "bytea",
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  // Anything else (a corrupted row) is left as is, for the row decoder to reject with the snapshot id.
  fromDriver: (value) =>
    Buffer.isBuffer(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : (value as never),
});

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A string stored as its UTF-8 bytes in bytea (see above: text cannot hold U+0000). */
const utf8 = customType<{ data: string; driverData: Buffer }>({
  dataType: () => "bytea",
  toDriver: (value) => Buffer.from(value, "utf8"),
  fromDriver: (value) => {
    try {
      return utf8Decoder.decode(value);
    } catch {
      // Not UTF-8 (a corrupted row): left as bytes, for the row decoder to reject with the snapshot id.
      return value as never;
    }
  },
});

/** A signed 64-bit integer as bigint. */
const int64 = (name: string) => bigint(name, { mode: "bigint" });

/** A count; bigint in SQL so that byte totals above 2 GiB fit. */
const count = (name: string) => bigint(name, { mode: "number" });

/** One snapshot of one server name; its rows are in the tables below. */
export const snapshots = pgTable(
  "snapshots",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    serverName: text("server_name").notNull(),
    /** When the row was written, ns since the epoch. */
    created: int64("created").notNull(),
    format: integer("format").notNull(),
    takenAt: int64("taken_at").notNull(),
    revision: text("revision").notNull(),
    // Snapshots written before the journal hold no command: 0.
    commandSeq: text("command_seq").notNull().default("0"),
    fencingToken: text("fencing_token").notNull(),
    readonly: boolean("readonly").notNull(),
    // Shared with SQLite, whose saves are several transactions; a PostgreSQL save is one, so always true.
    complete: boolean("complete").notNull().default(true),
    // Row counts, checked at load so that a snapshot missing rows is refused instead of restored partially.
    keyCount: count("key_count").notNull(),
    totalBytes: count("total_bytes").notNull(),
    historyCount: count("history_count").notNull(),
    revisionCount: count("revision_count").notNull(),
    metricsCount: count("metrics_count").notNull(),
    clientCount: count("client_count").notNull(),
  },
  (t) => [index("snapshots_server_name_id_idx").on(t.serverName, t.id)],
);

const snapshotId = () =>
  bigint("snapshot_id", { mode: "bigint" })
    .notNull()
    .references(() => snapshots.id, { onDelete: "cascade" });

/** The keys of a snapshot (StoreState.keys); lock and lifespan columns are all NULL when absent. */
export const snapshotKeys = pgTable(
  "snapshot_keys",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    key: utf8("key").notNull(),
    value: bytes("value").notNull(),
    contentType: utf8("content_type").notNull(),
    contentTypeSniffed: boolean("content_type_sniffed").notNull(),
    hash: text("hash").notNull(),
    created: int64("created").notNull(),
    updated: int64("updated").notNull(),
    version: text("version").notNull(),
    createdBy: utf8("created_by").notNull(),
    lockOwner: utf8("lock_owner"),
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
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/** One retained-history list per key (StoreState.history), possibly empty. */
export const snapshotHistory = pgTable(
  "snapshot_history",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    key: utf8("key").notNull(),
    revisionCount: integer("revision_count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/** The revisions of each history list, `seq` in list order. */
export const snapshotRevisions = pgTable(
  "snapshot_revisions",
  {
    snapshotId: snapshotId(),
    /** Position of the snapshot_history row. */
    position: integer("position").notNull(),
    seq: integer("seq").notNull(),
    value: bytes("value").notNull(),
    contentType: utf8("content_type").notNull(),
    hash: text("hash").notNull(),
    version: text("version").notNull(),
    timestamp: int64("timestamp").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position, t.seq] })],
);

/** Key metrics (StoreState.metrics); absent first/last times are NULL. */
export const snapshotMetrics = pgTable(
  "snapshot_metrics",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    key: utf8("key").notNull(),
    accessCount: count("access_count").notNull(),
    firstAccessed: int64("first_accessed"),
    lastAccessed: int64("last_accessed"),
    setCount: count("set_count").notNull(),
    firstSet: int64("first_set"),
    lastSet: int64("last_set"),
    lockCount: count("lock_count").notNull(),
    firstLocked: int64("first_locked"),
    lastLocked: int64("last_locked"),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/** Registered clients (StoreState.clients). */
export const snapshotClients = pgTable(
  "snapshot_clients",
  {
    snapshotId: snapshotId(),
    position: integer("position").notNull(),
    clientId: utf8("client_id").notNull(),
    firstSeen: int64("first_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.position] })],
);

/** The journal (see sqlite-schema.ts for its layout). */
export const journalEntries = pgTable(
  "journal_entries",
  {
    serverName: text("server_name").notNull(),
    seq: int64("seq").notNull(),
    format: integer("format").notNull(),
    batch: int64("batch").notNull(),
    batchSize: integer("batch_size").notNull(),
    time: int64("time").notNull(),
    revision: text("revision").notNull(),
    // JSON escapes U+0000, so text holds any key or client id here.
    command: text("command").notNull(),
    value: bytes("value"),
    checksum: int64("checksum").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serverName, t.seq] })],
);
