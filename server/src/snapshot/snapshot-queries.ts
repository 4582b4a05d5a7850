/**
 * The snapshot queries both dialects share, written once against the
 * columns: Drizzle's conditions and `sql` fragments are dialect-neutral, its
 * query builders are not. So each store keeps only the small dialect-typed
 * step that runs a query (a {@link SelectPage}, a delete).
 */
import { and, asc, desc, eq, gt, notInArray, or, sql, type Column, type SQL, type Table } from "drizzle-orm";
import type { StateRowSource } from "./read-state-rows.js";
import type { RawRow } from "./row-decoder.js";

/** The `snapshots` table of either schema (sqlite-schema.ts, postgres-schema.ts), as the queries use it. */
export type SnapshotsTable = Table & { id: Column; serverName: Column; complete: Column };

/** A child table of either schema: a snapshot's rows, keyed by (snapshotId, position). */
export type ChildTable = Table & { snapshotId: Column; position: Column };

/** The child tables of either schema; revisions are keyed by (snapshotId, position, seq). */
export interface ChildTables<T extends ChildTable> {
  snapshotKeys: T;
  snapshotHistory: T;
  snapshotRevisions: T & { seq: Column };
  snapshotMetrics: T;
  snapshotClients: T;
}

/** The clauses of a SELECT * on one table. */
export interface Clauses {
  where: SQL | undefined;
  orderBy: SQL[];
  limit?: number;
}

/** Runs `SELECT * FROM table WHERE … ORDER BY … LIMIT …` in a store's dialect. */
export type SelectPage<T extends Table> = (table: T, clauses: Clauses) => Promise<readonly RawRow[]>;

/** The child rows of snapshot `id`, page by page in primary-key order (keyset pagination). */
export function stateRowPages<T extends ChildTable>(tables: ChildTables<T>, id: bigint, select: SelectPage<T>): StateRowSource {
  const byPosition = (table: T) => (after: number, limit: number) =>
    select(table, { where: and(eq(table.snapshotId, id), gt(table.position, after)), orderBy: [asc(table.position)], limit });
  const revisions = tables.snapshotRevisions;
  return {
    keys: byPosition(tables.snapshotKeys),
    history: byPosition(tables.snapshotHistory),
    revisions: (after, limit) =>
      select(revisions, {
        where: and(
          eq(revisions.snapshotId, id),
          or(
            gt(revisions.position, after.position),
            and(eq(revisions.position, after.position), gt(revisions.seq, after.seq)),
          ),
        ),
        orderBy: [asc(revisions.position), asc(revisions.seq)],
        limit,
      }),
    metrics: byPosition(tables.snapshotMetrics),
    clients: byPosition(tables.snapshotClients),
  };
}

/** The complete snapshots of server `name` (of every server when undefined), newest first. */
export function newestFirst(snapshots: SnapshotsTable, name: string | undefined): Clauses {
  const complete = eq(snapshots.complete, true);
  return { where: name === undefined ? complete : and(complete, eq(snapshots.serverName, name)), orderBy: [desc(snapshots.id)] };
}

/** The snapshot `id`, if complete. */
export function withId(snapshots: SnapshotsTable, id: bigint): Clauses {
  return { where: and(eq(snapshots.id, id), eq(snapshots.complete, true)), orderBy: [] };
}

/**
 * The complete snapshots of server `name` older than its `retain` newest
 * complete ones: what a save deletes (rows cascade). A snapshot still being
 * written is never counted nor deleted.
 */
export function beyondRetention(snapshots: SnapshotsTable, name: string, retain: number): SQL | undefined {
  // Parenthesized by hand: notInArray does that for a query builder's subquery, not for an sql fragment.
  // `and complete`: a boolean (PostgreSQL) or 0/1 (SQLite) column is a condition in both dialects.
  const newest = sql`(select ${snapshots.id} from ${snapshots} where ${snapshots.serverName} = ${name} and ${snapshots.complete} order by ${snapshots.id} desc limit ${retain})`;
  return and(eq(snapshots.serverName, name), eq(snapshots.complete, true), notInArray(snapshots.id, newest));
}
