import { count, eq, max } from "drizzle-orm";
import type { PgDatabase, PgTable } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import type { JournalEntry } from "../journal/journal-entry.js";
import type { StoreState } from "../store/store-state.js";
import { journalAfter, journalEntryOf, journalFrom, journalRow, journalRowsPerInsert, journalUpTo } from "./journal-rows.js";
import * as schema from "./postgres-schema.js";
import { decodeSnapshotHeader, readStateRows, summarize } from "./read-state-rows.js";
import { beyondRetention, newestFirst, stateRowPages, withId, type ChildTable, type Clauses, type SelectPage } from "./snapshot-queries.js";
import { assertRetain, type SnapshotStore, type SnapshotSummary } from "./snapshot-store.js";
import { snapshotRow, writeStateRows } from "./write-state-rows.js";

const { snapshots, snapshotKeys, snapshotHistory, snapshotRevisions, snapshotMetrics, snapshotClients, journalEntries } = schema;

// Resolved from this file, not the working directory, so the server can start from anywhere.
const migrationsFolder = fileURLToPath(new URL("../../drizzle/postgres", import.meta.url));

/** The database or a transaction in it (a transaction is a PgDatabase). */
type Database = PgDatabase<PostgresJsQueryResultHKT, typeof schema>;

/** SELECT * in PostgreSQL: the one step of the shared queries (snapshot-queries.ts) that is dialect-typed. */
const selectIn =
  (db: Database): SelectPage<PgTable> =>
  (table, { where, orderBy, limit }) => {
    const query = db.select().from(table).where(where).orderBy(...orderBy).$dynamic();
    return limit === undefined ? query : query.limit(limit);
  };

/** How the PostgreSQL connection pool is set up. */
export interface PostgresSnapshotStoreOptions {
  /** Pool size; a server saves one snapshot at a time, so a few suffice. Default 4. */
  maxConnections?: number;
  /** Seconds to wait for a connection before failing. Default 10. */
  connectTimeoutSeconds?: number;
}

/**
 * Snapshots in a PostgreSQL database (postgres.js, through Drizzle). A save
 * is one transaction; a load reads in one REPEATABLE READ, READ ONLY
 * transaction, so its pages see one consistent state even while another
 * server prunes old snapshots.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  private readonly client: postgres.Sql;
  private readonly db: Database;

  /** Connects lazily to `url` (`postgres://` or `postgresql://`), on the first query. */
  constructor(url: string, options: PostgresSnapshotStoreOptions = {}) {
    this.client = postgres(url, {
      max: options.maxConnections ?? 4,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      // Idle between snapshots: give connections back to the server.
      idle_timeout: 60,
      // Migrations' "already exists, skipping" notices are not worth logging.
      onnotice: () => {},
    });
    this.db = drizzle({ client: this.client, schema });
  }

  async migrate(): Promise<void> {
    await migrate(this.db, { migrationsFolder });
  }

  async save(name: string, state: StoreState, retain: number): Promise<bigint> {
    assertRetain(retain);
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx.insert(snapshots).values(snapshotRow(name, state)).returning({ id: snapshots.id });
      if (inserted === undefined) {
        throw new Error("INSERT INTO snapshots returned no id");
      }
      const { id } = inserted;
      const counts = await writeStateRows(id, state, {
        keys: async (rows) => void (await tx.insert(snapshotKeys).values(rows)),
        history: async (rows) => void (await tx.insert(snapshotHistory).values(rows)),
        revisions: async (rows) => void (await tx.insert(snapshotRevisions).values(rows)),
        metrics: async (rows) => void (await tx.insert(snapshotMetrics).values(rows)),
        clients: async (rows) => void (await tx.insert(snapshotClients).values(rows)),
      });
      await tx.update(snapshots).set(counts).where(eq(snapshots.id, id));
      await tx.delete(snapshots).where(beyondRetention(snapshots, name, retain));
      await tx.delete(journalEntries).where(journalUpTo(journalEntries, name, state.commandSeq));
      return id;
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

  async appendJournal(name: string, entries: readonly JournalEntry[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < entries.length; i += journalRowsPerInsert) {
        await tx.insert(journalEntries).values(entries.slice(i, i + journalRowsPerInsert).map((entry) => journalRow(name, entry)));
      }
    });
  }

  async readJournal(name: string, afterSeq: bigint, limit: number): Promise<JournalEntry[]> {
    const rows = await selectIn(this.db)(journalEntries, journalAfter(journalEntries, name, afterSeq, limit));
    return rows.map(journalEntryOf);
  }

  async truncateJournal(name: string, uptoSeq?: bigint): Promise<void> {
    await this.db.delete(journalEntries).where(journalUpTo(journalEntries, name, uptoSeq));
  }

  async truncateJournalAfter(name: string, afterSeq: bigint): Promise<void> {
    await this.db.delete(journalEntries).where(journalFrom(journalEntries, name, afterSeq));
  }

  async journalLength(name: string): Promise<{ entries: number; lastSeq: bigint }> {
    const [row] = await this.db
      .select({ entries: count(), lastSeq: max(journalEntries.seq) })
      .from(journalEntries)
      .where(journalUpTo(journalEntries, name, undefined));
    return { entries: Number(row?.entries ?? 0), lastSeq: BigInt(row?.lastSeq ?? 0) };
  }

  async close(): Promise<void> {
    // Lets queries in progress finish (at most 5 s), then closes every connection.
    await this.client.end({ timeout: 5 });
  }

  /** Loads the first snapshot `header` selects, in one consistent read-only transaction. */
  private reading(header: Clauses): Promise<StoreState | undefined> {
    return this.db.transaction(
      async (tx) => {
        const [row] = await selectIn(tx)(snapshots, { ...header, limit: 1 });
        if (row === undefined) {
          return undefined;
        }
        const decoded = decodeSnapshotHeader(row, true);
        return readStateRows(decoded, stateRowPages<PgTable & ChildTable>(schema, decoded.id, selectIn(tx)));
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }
}
