/**
 * The journal's rows in either dialect (the `journal_entries` tables of
 * sqlite-schema.ts and postgres-schema.ts) and the conditions that select
 * them, written once: Drizzle's conditions are dialect-neutral.
 */
import { and, asc, eq, gt, lte, sql, type Column, type SQL, type Table } from "drizzle-orm";
import { JournalError } from "../journal/journal-error.js";
import type { JournalEntry } from "../journal/journal-entry.js";
import type { Clauses } from "./snapshot-queries.js";
import { decodeUint64, encodeUint64 } from "./uint64-text.js";

/** The `journal_entries` table of either schema, as the queries use it. */
export type JournalTable = Table & { serverName: Column; seq: Column; batch: Column; batchSize: Column };

/** A `journal_entries` row as both dialects insert it. */
export interface JournalRow {
  serverName: string;
  seq: bigint;
  format: number;
  batch: bigint;
  batchSize: number;
  time: bigint;
  revision: string;
  command: string;
  value: Uint8Array | null;
  checksum: bigint;
}

/** Rows per INSERT: 10 columns × 500 stays far below both drivers' bind-parameter limits. */
export const journalRowsPerInsert = 500;

/** The row of an entry of server `name`. */
export function journalRow(name: string, entry: JournalEntry): JournalRow {
  return { ...entry, serverName: name, revision: encodeUint64(entry.revision), checksum: BigInt(entry.checksum) };
}

/** The entries of `name` after `afterSeq`, in order. */
export function journalAfter(table: JournalTable, name: string, afterSeq: bigint, limit: number): Clauses {
  return { where: and(eq(table.serverName, name), gt(table.seq, afterSeq)), orderBy: [asc(table.seq)], limit };
}

/**
 * The entries of `name` in the batches that end at or before `uptoSeq` (all
 * of them when undefined): whole batches only, so that what a snapshot
 * leaves of the journal is never a partial batch.
 */
export function journalUpTo(table: JournalTable, name: string, uptoSeq: bigint | undefined): SQL | undefined {
  if (uptoSeq === undefined) {
    return eq(table.serverName, name);
  }
  // A uint64 position beyond the int64 column covers every row; bound it so both drivers can bind it.
  const upto = uptoSeq > maxSeq ? maxSeq : uptoSeq;
  return and(eq(table.serverName, name), lte(table.seq, upto), sql`${table.batch} + ${table.batchSize} - 1 <= ${upto}`);
}

/** The largest seq the int64 `seq` columns hold. */
const maxSeq = (1n << 63n) - 1n;

/** The entries of `name` after `afterSeq`. */
export function journalFrom(table: JournalTable, name: string, afterSeq: bigint): SQL | undefined {
  return and(eq(table.serverName, name), gt(table.seq, afterSeq));
}

/**
 * The entry of a row as the driver returned it; a row whose columns do not
 * have their types is DAMAGED (its checksum is checked when it is decoded).
 */
export function journalEntryOf(row: Record<string, unknown>): JournalEntry {
  const where = `journal entry ${String(row["seq"])}`;
  const damaged = (column: string): never => {
    throw new JournalError("DAMAGED", `${where} is damaged: ${column} does not decode`);
  };
  const int = (column: string): bigint => {
    const value = row[column];
    return typeof value === "bigint" ? value : typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : damaged(column);
  };
  const small = (column: string): number => {
    const value = int(column);
    return value >= 0n && value <= 0xffff_ffffn ? Number(value) : damaged(column);
  };
  const revisionText = row["revision"];
  const command = row["command"];
  const value = row["value"];
  return {
    seq: int("seq"),
    format: small("format"),
    batch: int("batch"),
    batchSize: small("batchSize"),
    time: int("time"),
    revision: (typeof revisionText === "string" ? decodeUint64(revisionText) : undefined) ?? damaged("revision"),
    command: typeof command === "string" ? command : damaged("command"),
    value: value === null || value instanceof Uint8Array ? value : damaged("value"),
    checksum: small("checksum"),
  };
}
