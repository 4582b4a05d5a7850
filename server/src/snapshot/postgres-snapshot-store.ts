import { and, asc, desc, eq, gt, notInArray, or } from "drizzle-orm";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import type { StoreState } from "../store/store-state.js";
import * as schema from "./postgres-schema.js";
import { decodeSnapshotHeader, readStateRows, summarize, type StateRowSource } from "./read-state-rows.js";
import { assertRetain, type SnapshotStore, type SnapshotSummary } from "./snapshot-store.js";
import { snapshotRow, writeStateRows } from "./write-state-rows.js";

const { snapshots, snapshotKeys, snapshotHistory, snapshotRevisions, snapshotMetrics, snapshotClients } = schema;

// Resolved from this file, not the working directory, so the server can start from anywhere.
const migrationsFolder = fileURLToPath(new URL("../../drizzle/postgres", import.meta.url));

/** The database or a transaction in it (a transaction is a PgDatabase). */
type Database = PgDatabase<PostgresJsQueryResultHKT, typeof schema>;

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
      const newest = tx
        .select({ id: snapshots.id })
        .from(snapshots)
        .where(eq(snapshots.serverName, name))
        .orderBy(desc(snapshots.id))
        .limit(retain);
      // Children go with ON DELETE CASCADE.
      await tx.delete(snapshots).where(and(eq(snapshots.serverName, name), notInArray(snapshots.id, newest)));
      return id;
    });
  }

  loadLatest(name: string): Promise<StoreState | undefined> {
    return this.reading(async (tx) => {
      const [row] = await tx
        .select()
        .from(snapshots)
        .where(eq(snapshots.serverName, name))
        .orderBy(desc(snapshots.id))
        .limit(1);
      return row;
    });
  }

  load(id: bigint): Promise<StoreState | undefined> {
    return this.reading(async (tx) => {
      const [row] = await tx.select().from(snapshots).where(eq(snapshots.id, id));
      return row;
    });
  }

  async list(name?: string): Promise<SnapshotSummary[]> {
    const rows = await this.db
      .select()
      .from(snapshots)
      .where(name === undefined ? undefined : eq(snapshots.serverName, name))
      .orderBy(desc(snapshots.id));
    return rows.map((row) => summarize(decodeSnapshotHeader(row, false)));
  }

  async close(): Promise<void> {
    // Lets queries in progress finish (at most 5 s), then closes every connection.
    await this.client.end({ timeout: 5 });
  }

  /** Loads the snapshot whose header `select` finds, in one consistent read-only transaction. */
  private reading(select: (tx: Database) => Promise<Record<string, unknown> | undefined>): Promise<StoreState | undefined> {
    return this.db.transaction(
      async (tx) => {
        const row = await select(tx);
        if (row === undefined) {
          return undefined;
        }
        const header = decodeSnapshotHeader(row, true);
        return readStateRows(header, this.source(tx, header.id));
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  /** Pages of the rows of snapshot `id`, by primary key. */
  private source(db: Database, id: bigint): StateRowSource {
    return {
      keys: (after, limit) =>
        db.select().from(snapshotKeys).where(and(eq(snapshotKeys.snapshotId, id), gt(snapshotKeys.position, after)))
          .orderBy(asc(snapshotKeys.position)).limit(limit),
      history: (after, limit) =>
        db.select().from(snapshotHistory).where(and(eq(snapshotHistory.snapshotId, id), gt(snapshotHistory.position, after)))
          .orderBy(asc(snapshotHistory.position)).limit(limit),
      revisions: (after, limit) =>
        db.select().from(snapshotRevisions)
          .where(and(
            eq(snapshotRevisions.snapshotId, id),
            or(
              gt(snapshotRevisions.position, after.position),
              and(eq(snapshotRevisions.position, after.position), gt(snapshotRevisions.seq, after.seq)),
            ),
          ))
          .orderBy(asc(snapshotRevisions.position), asc(snapshotRevisions.seq)).limit(limit),
      metrics: (after, limit) =>
        db.select().from(snapshotMetrics).where(and(eq(snapshotMetrics.snapshotId, id), gt(snapshotMetrics.position, after)))
          .orderBy(asc(snapshotMetrics.position)).limit(limit),
      clients: (after, limit) =>
        db.select().from(snapshotClients).where(and(eq(snapshotClients.snapshotId, id), gt(snapshotClients.position, after)))
          .orderBy(asc(snapshotClients.position)).limit(limit),
    };
  }
}
