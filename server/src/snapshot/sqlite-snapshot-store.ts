import Database from "better-sqlite3";
import { count, eq, max } from "drizzle-orm";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { fileURLToPath } from "node:url";
import type { JournalEntry } from "../journal/journal-entry.js";
import type { StoreState } from "../store/store-state.js";
import { journalAfter, journalEntryOf, journalFrom, journalRow, journalRowsPerInsert, journalUpTo } from "./journal-rows.js";
import { decodeSnapshotHeader, readStateRows, summarize } from "./read-state-rows.js";
import { SerialQueue } from "./serial-queue.js";
import { beyondRetention, newestFirst, stateRowPages, withId, type ChildTable, type Clauses, type SelectPage } from "./snapshot-queries.js";
import { assertRetain, type SnapshotStore, type SnapshotSummary } from "./snapshot-store.js";
import * as schema from "./sqlite-schema.js";
import { snapshotRow, writeStateRows, type StateRowSink } from "./write-state-rows.js";

const { snapshots, snapshotKeys, snapshotHistory, snapshotRevisions, snapshotMetrics, snapshotClients, journalEntries } = schema;

// Resolved from this file, not the working directory, so the server can start from anywhere.
const migrationsFolder = fileURLToPath(new URL("../../drizzle/sqlite", import.meta.url));

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

/** Yields to the event loop, letting requests run between two batches of a long save or load. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Snapshots in a SQLite file (better-sqlite3, through Drizzle). better-sqlite3
 * is synchronous, so a save runs BEGIN … batches … COMMIT by hand and yields
 * to the event loop between batches instead of blocking for the whole write;
 * every operation goes through one queue, so nothing else uses the
 * connection while a transaction is open.
 *
 * Durability: WAL journal with `synchronous = FULL`, so the WAL is fsynced at
 * every COMMIT and a snapshot survives a crash or power loss once save()
 * resolved (NORMAL could lose the last commits on power loss). Snapshots are
 * rare, so one fsync per save costs nothing noticeable.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database<typeof schema>;
  private readonly queue = new SerialQueue();
  private readonly busyTimeoutMs: number;
  private closed = false;

  /** Opens (creating unless told otherwise) the database file `file`, or `:memory:`. */
  constructor(file: string, options: SqliteSnapshotStoreOptions = {}) {
    this.sqlite = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.fileMustExist ?? false,
      // better-sqlite3 would wait for a lock synchronously, freezing the whole server:
      // save() waits asynchronously instead (see beginImmediate).
      timeout: 0,
    });
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
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

  /**
   * BEGIN IMMEDIATE takes the write lock before any work. While another
   * connection holds it, retry with short asynchronous pauses (the server
   * keeps serving) until busyTimeoutMs, then fail with SQLITE_BUSY.
   */
  private async beginImmediate(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (;;) {
      try {
        this.sqlite.exec("BEGIN IMMEDIATE");
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== "SQLITE_BUSY" || Date.now() >= deadline) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  migrate(): Promise<void> {
    return this.exclusive(() => {
      // At start-up nothing is served yet, so waiting synchronously for a lock is fine here.
      this.sqlite.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      try {
        migrate(this.db, { migrationsFolder });
      } finally {
        this.sqlite.pragma("busy_timeout = 0");
      }
    });
  }

  save(name: string, state: StoreState, retain: number): Promise<bigint> {
    return this.exclusive(async () => {
      assertRetain(retain);
      await this.beginImmediate();
      try {
        const { id } = this.db.insert(snapshots).values(snapshotRow(name, state)).returning({ id: snapshots.id }).get();
        const sink: StateRowSink = {
          keys: (rows) => this.insertThenYield(() => this.db.insert(snapshotKeys).values(rows).run()),
          history: (rows) => this.insertThenYield(() => this.db.insert(snapshotHistory).values(rows).run()),
          revisions: (rows) => this.insertThenYield(() => this.db.insert(snapshotRevisions).values(rows).run()),
          metrics: (rows) => this.insertThenYield(() => this.db.insert(snapshotMetrics).values(rows).run()),
          clients: (rows) => this.insertThenYield(() => this.db.insert(snapshotClients).values(rows).run()),
        };
        const counts = await writeStateRows(id, state, sink);
        this.db.update(snapshots).set(counts).where(eq(snapshots.id, id)).run();
        this.db.delete(snapshots).where(beyondRetention(snapshots, name, retain)).run();
        this.db.delete(journalEntries).where(journalUpTo(journalEntries, name, state.commandSeq)).run();
        this.sqlite.exec("COMMIT");
        return id;
      } catch (error) {
        // SQLite may already have rolled back by itself (e.g. disk full).
        if (this.sqlite.inTransaction) {
          this.sqlite.exec("ROLLBACK");
        }
        throw error;
      }
    });
  }

  loadLatest(name: string): Promise<StoreState | undefined> {
    return this.exclusive(() => this.reading(newestFirst(snapshots, name)));
  }

  load(id: bigint): Promise<StoreState | undefined> {
    return this.exclusive(() => this.reading(withId(snapshots, id)));
  }

  list(name?: string): Promise<SnapshotSummary[]> {
    return this.exclusive(async () => {
      const rows = await selectIn(this.db)(snapshots, newestFirst(snapshots, name));
      return rows.map((row) => summarize(decodeSnapshotHeader(row, false)));
    });
  }

  appendJournal(name: string, entries: readonly JournalEntry[]): Promise<void> {
    return this.exclusive(async () => {
      await this.beginImmediate();
      try {
        for (let i = 0; i < entries.length; i += journalRowsPerInsert) {
          const rows = entries.slice(i, i + journalRowsPerInsert).map((entry) => journalRow(name, entry));
          this.db.insert(journalEntries).values(rows).run();
        }
        this.sqlite.exec("COMMIT");
      } catch (error) {
        if (this.sqlite.inTransaction) {
          this.sqlite.exec("ROLLBACK");
        }
        throw error;
      }
    });
  }

  readJournal(name: string, afterSeq: bigint, limit: number): Promise<JournalEntry[]> {
    return this.exclusive(async () => {
      const rows = await selectIn(this.db)(journalEntries, journalAfter(journalEntries, name, afterSeq, limit));
      return rows.map(journalEntryOf);
    });
  }

  truncateJournal(name: string, uptoSeq?: bigint): Promise<void> {
    return this.exclusive(() => {
      this.db.delete(journalEntries).where(journalUpTo(journalEntries, name, uptoSeq)).run();
    });
  }

  truncateJournalAfter(name: string, afterSeq: bigint): Promise<void> {
    return this.exclusive(() => {
      this.db.delete(journalEntries).where(journalFrom(journalEntries, name, afterSeq)).run();
    });
  }

  journalLength(name: string): Promise<{ entries: number; lastSeq: bigint }> {
    return this.exclusive(() => {
      const [row] = this.db
        .select({ entries: count(), lastSeq: max(journalEntries.seq) })
        .from(journalEntries)
        .where(journalUpTo(journalEntries, name, undefined))
        .all();
      return { entries: Number(row?.entries ?? 0), lastSeq: BigInt(row?.lastSeq ?? 0) };
    });
  }

  close(): Promise<void> {
    return this.exclusive(() => {
      this.closed = true;
      this.sqlite.close();
    });
  }

  /** Runs `task` alone on the connection, after the operations queued before it. */
  private exclusive<T>(task: () => T | Promise<T>): Promise<T> {
    return this.queue.run(() => {
      if (this.closed) {
        throw new Error("snapshot store is closed");
      }
      return task();
    });
  }

  private async insertThenYield(insert: () => void): Promise<void> {
    insert();
    await yieldToEventLoop();
  }

  /** Loads the first snapshot `header` selects, in one read transaction (a consistent view across pages). */
  private async reading(header: Clauses): Promise<StoreState | undefined> {
    this.sqlite.exec("BEGIN");
    try {
      const select = selectIn(this.db);
      const [row] = await select(snapshots, { ...header, limit: 1 });
      let state: StoreState | undefined;
      if (row !== undefined) {
        const decoded = decodeSnapshotHeader(row, true);
        const pages = stateRowPages<SQLiteTable & ChildTable>(schema, decoded.id, select);
        state = await readStateRows(decoded, pages, yieldToEventLoop);
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
