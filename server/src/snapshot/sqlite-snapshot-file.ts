import Database from "better-sqlite3";
import { and, count, eq, getTableColumns, getTableName, max, notInArray } from "drizzle-orm";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { JournalEntry } from "../journal/journal-entry.js";
import type { StoreState } from "../store/store-state.js";
import { journalAfter, journalEntryOf, journalFrom, journalRow, journalUpTo } from "./journal-rows.js";
import { decodeSnapshotHeader, readStateRows, summarize } from "./read-state-rows.js";
import { beyondRetention, newestFirst, stateRowPages, withId, type ChildTable, type Clauses, type SelectPage } from "./snapshot-queries.js";
import type { SnapshotCounts, SnapshotRow } from "./snapshot-rows.js";
import type { SnapshotSummary } from "./snapshot-store.js";
import * as schema from "./sqlite-schema.js";

const { snapshots, snapshotKeys, snapshotHistory, snapshotRevisions, snapshotMetrics, snapshotClients, journalEntries } = schema;

// Resolved from this file, not the working directory, so the server can start from anywhere.
const migrationsFolder = fileURLToPath(new URL("../../drizzle/sqlite", import.meta.url));

/** The child tables a save writes slice by slice, by the names {@link StateRowSink} uses. */
const childTables = {
  keys: snapshotKeys,
  history: snapshotHistory,
  revisions: snapshotRevisions,
  metrics: snapshotMetrics,
  clients: snapshotClients,
} as const;

/** A child table of a snapshot, as {@link SqliteSnapshotFile.insertSlice} names it. */
export type ChildTableName = keyof typeof childTables;

/** How a SQLite snapshot database is opened. */
export interface SqliteSnapshotStoreOptions {
  /** Open read-only (`?mode=ro`): restoring works, saving fails. */
  readonly?: boolean;
  /** Fail if the file does not exist instead of creating it (`?mode=rw`). */
  fileMustExist?: boolean;
  /** How long a write waits for another connection's lock before failing with SQLITE_BUSY; default 5000 ms. */
  busyTimeoutMs?: number;
}

/** SELECT * in SQLite: the one step of the shared queries (snapshot-queries.ts) that is dialect-typed. */
const selectIn =
  (db: BetterSQLite3Database<typeof schema>): SelectPage<SQLiteTable> =>
  async (table, { where, orderBy, limit }) => {
    const query = db.select().from(table).where(where).orderBy(...orderBy).$dynamic();
    return (limit === undefined ? query : query.limit(limit)).all();
  };

/** The tables whose rows hold a value (see snapshotValues in sqlite-schema.ts). */
const valueTables: ReadonlySet<SQLiteTable> = new Set<SQLiteTable>([snapshotKeys, snapshotRevisions]);

const noBytes = new Uint8Array(0);

/** Nothing to yield to: the file is used by its own worker thread (sqlite-worker.ts). */
const noYield = async () => {};

/**
 * The SQLite snapshot database itself (better-sqlite3, through Drizzle),
 * used only inside the worker thread of {@link SqliteSnapshotStore}:
 * better-sqlite3 is synchronous, so every statement, lock wait and fsync
 * here blocks that thread, never the server's event loop.
 *
 * A save is several transactions (see {@link beginSave}): slices of rows,
 * each committed on its own, under a `snapshots` row marked incomplete
 * until the last one, so that journal appends interleave with a long save
 * instead of waiting for all of it. Readers ignore incomplete snapshots.
 *
 * Durability: WAL with `synchronous = FULL`: the journal appends and the
 * save's last transaction fsync the WAL at COMMIT. The slices commit with
 * NORMAL (no fsync): the WAL is sequential, so the last transaction's fsync
 * makes them durable too, and a crash before it leaves only an incomplete
 * snapshot, which nobody reads and the next save deletes.
 */
export class SqliteSnapshotFile {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database<typeof schema>;
  private readonly statements = new Map<string, Database.Statement>();

  /** Opens (creating unless told otherwise) the database file `file`, or `:memory:`. */
  constructor(file: string, options: SqliteSnapshotStoreOptions = {}) {
    this.sqlite = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.fileMustExist ?? false,
      // Waiting for another connection's lock blocks only this worker thread.
      timeout: options.busyTimeoutMs ?? 5000,
    });
    // Every INTEGER comes back as bigint: nanosecond times exceed 2^53.
    this.sqlite.defaultSafeIntegers(true);
    if (!this.sqlite.readonly) {
      this.sqlite.pragma("journal_mode = WAL");
      // The WAL grows to the size of the largest snapshot; truncate it after checkpoints.
      this.sqlite.pragma("journal_size_limit = 67108864");
    }
    this.sqlite.pragma("synchronous = FULL");
    // Off by default in SQLite; ON DELETE CASCADE needs it.
    this.sqlite.pragma("foreign_keys = ON");
    this.db = drizzle({ client: this.sqlite, schema });
  }

  migrate(): void {
    migrate(this.db, { migrationsFolder });
  }

  /**
   * Starts a save: deletes the incomplete snapshots `name` left (a crash
   * during a save) except those still being written (`inProgress`), and
   * inserts `row`, incomplete; returns its id.
   */
  beginSave(name: string, row: SnapshotRow, inProgress: readonly bigint[]): bigint {
    return this.transaction(true, () => {
      const leftovers = and(eq(snapshots.serverName, name), eq(snapshots.complete, false), notInArray(snapshots.id, [...inProgress]));
      this.db.delete(snapshots).where(leftovers).run();
      return this.db.insert(snapshots).values({ ...row, complete: false }).returning({ id: snapshots.id }).get().id;
    });
  }

  /**
   * Inserts one slice of a save's rows, in a transaction of its own. Values
   * go to snapshot_values by SHA-256 (once per distinct value across all
   * snapshots); the rows refer to them.
   */
  insertSlice(table: ChildTableName, rows: ReadonlyArray<{ value?: Uint8Array }>): void {
    const target = childTables[table];
    const insert = this.rowInserter(target);
    this.transaction(false, () => {
      for (const row of rows) {
        insert(valueTables.has(target) ? { ...row, value: noBytes, valueHash: this.storeValue(row.value!) } : row);
      }
    });
  }

  /**
   * Completes save `id` of `name` (its counts, complete), deletes the
   * snapshots of `name` beyond the newest `retain` complete ones and the
   * journal it covers (up to `commandSeq`), in one durable transaction.
   */
  finishSave(id: bigint, name: string, counts: SnapshotCounts, retain: number, commandSeq: bigint): void {
    this.transaction(true, () => {
      const { changes } = this.db
        .update(snapshots)
        .set({ ...counts, complete: true })
        .where(and(eq(snapshots.id, id), eq(snapshots.complete, false)))
        .run();
      if (changes !== 1) {
        throw new Error(`snapshot ${id} was deleted while it was being written`);
      }
      this.db.delete(snapshots).where(beyondRetention(snapshots, name, retain)).run();
      this.db.delete(journalEntries).where(journalUpTo(journalEntries, name, commandSeq)).run();
      this.collectValues();
    });
  }

  /** Deletes the incomplete snapshot `id` of a save that failed. */
  abortSave(id: bigint): void {
    this.transaction(true, () => {
      this.db
        .delete(snapshots)
        .where(and(eq(snapshots.id, id), eq(snapshots.complete, false)))
        .run();
      this.collectValues();
    });
  }

  loadLatest(name: string): Promise<StoreState | undefined> {
    return this.reading(newestFirst(snapshots, name));
  }

  load(id: bigint): Promise<StoreState | undefined> {
    return this.reading(withId(snapshots, id));
  }

  async list(name?: string): Promise<SnapshotSummary[]> {
    const rows = await selectIn(this.db)(snapshots, newestFirst(snapshots, name));
    return rows.map((row) => summarize(decodeSnapshotHeader(row, false)));
  }

  appendJournal(name: string, entries: readonly JournalEntry[]): void {
    // One prepared statement per row: Drizzle's query builder cost 31-45 µs per entry, this 5-8 (bench journal stage).
    const insert = this.rowInserter(journalEntries);
    this.transaction(true, () => {
      for (const entry of entries) {
        insert(journalRow(name, entry));
      }
    });
  }

  async readJournal(name: string, afterSeq: bigint, limit: number): Promise<JournalEntry[]> {
    const rows = await selectIn(this.db)(journalEntries, journalAfter(journalEntries, name, afterSeq, limit));
    return rows.map(journalEntryOf);
  }

  truncateJournal(name: string, uptoSeq?: bigint): void {
    this.db.delete(journalEntries).where(journalUpTo(journalEntries, name, uptoSeq)).run();
  }

  truncateJournalAfter(name: string, afterSeq: bigint): void {
    this.db.delete(journalEntries).where(journalFrom(journalEntries, name, afterSeq)).run();
  }

  journalLength(name: string): { entries: number; lastSeq: bigint } {
    const [row] = this.db
      .select({ entries: count(), lastSeq: max(journalEntries.seq) })
      .from(journalEntries)
      .where(journalUpTo(journalEntries, name, undefined))
      .all();
    return { entries: Number(row?.entries ?? 0), lastSeq: BigInt(row?.lastSeq ?? 0) };
  }

  close(): void {
    this.sqlite.close();
  }

  /**
   * Runs `work` in a BEGIN IMMEDIATE transaction (the write lock first, so
   * no deadlock with another writer), fsynced at COMMIT when `durable`.
   */
  private transaction<T>(durable: boolean, work: () => T): T {
    if (!durable) {
      this.sqlite.pragma("synchronous = NORMAL");
    }
    try {
      return this.sqlite.transaction(work).immediate();
    } finally {
      if (!durable) {
        this.sqlite.pragma("synchronous = FULL");
      }
    }
  }

  /**
   * The prepared statement of `sql`, prepared on first use: the value
   * statements need snapshot_values, which a read-only connection to a
   * database not yet migrated does not have (and its rows do not refer to).
   */
  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      prepared = this.sqlite.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Inserts one row into `table` with one prepared statement, reused for
   * every row: a multi-row INSERT through Drizzle is a new statement of
   * thousands of parameters to compile at every slice. Values go through
   * the columns' own driver mappings, as Drizzle would send them.
   */
  private rowInserter(table: SQLiteTable): (row: object) => void {
    const columns = Object.entries(getTableColumns(table));
    const sql = `INSERT INTO "${getTableName(table)}" (${columns.map(([, c]) => `"${c.name}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
    const statement = this.statement(sql);
    return (row) => {
      const fields = row as Record<string, unknown>;
      statement.run(columns.map(([key, column]) => (fields[key] === undefined || fields[key] === null ? null : column.mapToDriverValue(fields[key]))));
    };
  }

  /** Stores `value` in snapshot_values unless it is there; returns its hash. */
  private storeValue(value: Uint8Array): Buffer {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const hash = createHash("sha256").update(bytes).digest();
    this.statement("INSERT OR IGNORE INTO snapshot_values (hash, value) VALUES (?, ?)").run(hash, bytes);
    return hash;
  }

  /** Deletes the values no snapshot refers to any more. */
  private collectValues(): void {
    this.statement(
      "DELETE FROM snapshot_values WHERE NOT EXISTS (SELECT 1 FROM snapshot_keys WHERE value_hash = snapshot_values.hash)" +
        " AND NOT EXISTS (SELECT 1 FROM snapshot_revisions WHERE value_hash = snapshot_values.hash)",
    ).run();
  }

  /** SELECT * with each row's value read from snapshot_values when the row refers to it (a missing one stays null: damaged). */
  private selectResolvingValues(): SelectPage<SQLiteTable> {
    const select = selectIn(this.db);
    return async (table, clauses) => {
      const rows = await select(table, clauses);
      if (valueTables.has(table)) {
        for (const row of rows as Array<Record<string, unknown>>) {
          const hash = row["valueHash"];
          if (hash instanceof Uint8Array) {
            const value = this.statement("SELECT value FROM snapshot_values WHERE hash = ?").pluck().get(hash) as Buffer | undefined;
            row["value"] = value === undefined ? null : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
          }
        }
      }
      return rows;
    };
  }

  /** Loads the first snapshot `header` selects, in one read transaction (a consistent view across pages). */
  private async reading(header: Clauses): Promise<StoreState | undefined> {
    this.sqlite.exec("BEGIN");
    try {
      const select = this.selectResolvingValues();
      const [row] = await select(snapshots, { ...header, limit: 1 });
      let state: StoreState | undefined;
      if (row !== undefined) {
        const decoded = decodeSnapshotHeader(row, true);
        const pages = stateRowPages<SQLiteTable & ChildTable>(schema, decoded.id, select);
        state = await readStateRows(decoded, pages, noYield);
      }
      this.sqlite.exec("COMMIT");
      return state;
    } catch (error) {
      if (this.sqlite.inTransaction) {
        this.sqlite.exec("ROLLBACK");
      }
      throw error;
    }
  }
}
