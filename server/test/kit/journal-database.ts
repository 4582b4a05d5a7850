/**
 * Direct access to a server's journal rows in its database (SQLite file or
 * PostgreSQL), bypassing keyquarry: to read what a real server committed
 * and to damage it the ways a crash or a bad disk would.
 */
import Database from "better-sqlite3";
import postgres from "postgres";
import { journalChecksum } from "../../src/journal/journal-entry-codec.js";
import type { JournalEntry } from "../../src/journal/journal-entry.js";

/** One journal row, as stored. */
export type JournalRow = JournalEntry;

/** A journal's rows, read and changed with SQL. */
export interface JournalDatabase {
  /** Every row of `serverName`, in seq order. */
  rows(): Promise<JournalRow[]>;
  /** Runs SQL that changes rows (the table is journal_entries). */
  exec(sql: string): Promise<void>;
  /** Replaces a row's command and gives it the checksum that matches, as a writer that encoded it wrongly would. */
  rewriteCommand(seq: bigint, command: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens the journal of `serverName` in `url` (`sqlite://<file>` or a postgres:// URL). */
export function openJournalDatabase(url: string, serverName: string): JournalDatabase {
  const run = url.startsWith("sqlite://") ? sqlite(url.slice("sqlite://".length)) : pg(url);
  const rows = async (): Promise<JournalRow[]> => {
    const raw = await run.query(
      `SELECT seq, format, batch, batch_size, time, revision, command, value, checksum FROM journal_entries WHERE server_name = '${serverName}' ORDER BY seq`,
    );
    return raw.map((row) => ({
      seq: BigInt(String(row["seq"])),
      format: Number(row["format"]),
      batch: BigInt(String(row["batch"])),
      batchSize: Number(row["batch_size"]),
      time: BigInt(String(row["time"])),
      revision: BigInt(String(row["revision"])),
      command: String(row["command"]),
      value: row["value"] === null ? null : new Uint8Array(row["value"] as Uint8Array),
      checksum: Number(row["checksum"]),
    }));
  };
  return {
    rows,
    exec: (sql) => run.exec(sql),
    async rewriteCommand(seq, command) {
      const row = (await rows()).find((candidate) => candidate.seq === seq)!;
      const checksum = journalChecksum({ ...row, command });
      await run.exec(
        `UPDATE journal_entries SET command = '${command.replaceAll("'", "''")}', checksum = ${checksum} WHERE server_name = '${serverName}' AND seq = ${seq}`,
      );
    },
    close: () => run.close(),
  };
}

interface Runner {
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

function sqlite(file: string): Runner {
  const db = new Database(file, { fileMustExist: true });
  return {
    // Safe integers: times in ns are beyond 2^53.
    query: async (sql) => db.prepare(sql).safeIntegers().all() as Array<Record<string, unknown>>,
    exec: async (sql) => void db.exec(sql),
    close: async () => void db.close(),
  };
}

function pg(url: string): Runner {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  return {
    query: async (text) => [...(await sql.unsafe(text))] as Array<Record<string, unknown>>,
    exec: async (text) => void (await sql.unsafe(text)),
    close: () => sql.end(),
  };
}
