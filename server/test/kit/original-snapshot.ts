/**
 * Snapshots of the original Go keyquarry for the import tests: documents in
 * the format BEHAVIOR.md §11.3 describes (Go's encoding/json conventions),
 * and its `snapshots` table (§11.2) in SQLite and PostgreSQL.
 */
import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import { stringify } from "lossless-json";
import postgres from "postgres";
import { fnv1a64 } from "../../src/store/fnv1a64.js";

/** A value as a test writes it: text (UTF-8) or bytes; null is Go's nil. */
export type OriginalValue = string | Uint8Array | null;

/** One key of an original snapshot, in the test's terms: times ns since the epoch, durations ns. */
export interface OriginalKeySpec {
  key: string;
  value: OriginalValue;
  contentType?: string;
  created: bigint;
  /** 0n or absent: never updated (Go's zero time). */
  updated?: bigint;
  version: bigint;
  createdBy: string;
  lock?: { clientId: string; duration: bigint; created: bigint };
  lifespan?: { lifespan: bigint; set: bigint };
  /** Retained revisions, oldest first (the original's newest is the current value). */
  history?: Array<{ value: OriginalValue; contentType?: string; version: bigint; timestamp: bigint }>;
}

/** ns since the epoch of `Date.now() + offsetMs`. */
export function nanosFromNow(offsetMs: number): bigint {
  return BigInt(Date.now() + offsetMs) * 1_000_000n;
}

/**
 * A time as Go's encoding/json writes it: RFC 3339 with the nanoseconds
 * (trailing zeros dropped) in the zone `offsetMinutes` east of UTC; 0n is Go's zero time.
 */
export function goTime(ns: bigint, offsetMinutes = 0): string {
  if (ns === 0n) {
    return "0001-01-01T00:00:00Z";
  }
  const local = ns + BigInt(offsetMinutes) * 60_000_000_000n;
  const seconds = new Date(Number(local / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  const fraction = (local % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const sign = offsetMinutes < 0 ? "-" : "+";
  const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, "0");
  return `${seconds}${fraction === "" ? "" : `.${fraction}`}${offsetMinutes === 0 ? "Z" : `${sign}${hours}:${minutes}`}`;
}

const bytesOf = (value: OriginalValue) => (typeof value === "string" ? new TextEncoder().encode(value) : (value ?? new Uint8Array(0)));
const base64 = (value: OriginalValue) => (value === null ? null : Buffer.from(bytesOf(value)).toString("base64"));

/**
 * The document the original would have written for `keys` (with
 * persistent_revisions if any key has history): fields omitted as Go's
 * `omitempty` does, uint64 hashes as exact integers, times in a +02:00 zone
 * (as a server outside UTC writes them), nil slices as null.
 */
export function originalDocument(keys: readonly OriginalKeySpec[], options: { clients?: string[]; version?: string } = {}): string {
  const time = (ns: bigint) => goTime(ns, 120);
  const omitEmpty = <T>(value: T, empty: T) => (value === empty ? undefined : value);
  const locks = keys.filter((spec) => spec.lock);
  const reapers = keys.filter((spec) => spec.lifespan);
  const withHistory = keys.filter((spec) => spec.history);
  const document = {
    keys: keys.map((spec) => ({
      key: spec.key,
      value: base64(spec.value),
      content_type: omitEmpty(spec.contentType ?? "", ""),
      hash: omitEmpty(fnv1a64(bytesOf(spec.value)), 0n),
      created: time(spec.created),
      updated: time(spec.updated ?? 0n),
      version: omitEmpty(spec.version, 0n),
      created_by: spec.createdBy,
    })),
    clients: options.clients?.map((clientId) => ({ client_id: clientId })) ?? null,
    locks: locks.length === 0 ? null : locks.map(({ key, lock }) => ({ key, duration: lock!.duration, client_id: lock!.clientId, created: time(lock!.created), id: randomUUID() })),
    reapers:
      reapers.length === 0 ? null : reapers.map(({ key, lifespan }) => ({ key, lifespan: lifespan!.lifespan, lifespan_set: time(lifespan!.set), id: randomUUID() })),
    version: options.version ?? "unknown",
    metrics: null,
    history:
      withHistory.length === 0
        ? null
        : Object.fromEntries(
            withHistory.map(({ key, history }) => [
              key,
              history!.map((revision) => ({
                key,
                value: base64(revision.value),
                content_type: omitEmpty(revision.contentType ?? "", ""),
                size: bytesOf(revision.value).length,
                hash: omitEmpty(fnv1a64(bytesOf(revision.value)), 0n),
                version: revision.version,
                timestamp: time(revision.timestamp),
              })),
            ]),
          ),
  };
  return stringify(document)!;
}

/** One row to write into the original's `snapshots` table. */
export interface OriginalRow {
  serverName: string;
  /** The `data` column: text, or bytes (e.g. gzip-compressed, SQLite only). */
  data: string | Uint8Array;
}

/** Creates the original's table in a SQLite file as its server did (§11.2) and appends `rows`, in order; returns their ids. */
export function writeOriginalSqlite(file: string, rows: readonly OriginalRow[]): bigint[] {
  const db = new Database(file);
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
      id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB, created DATETIME DEFAULT CURRENT_TIMESTAMP, server_name text);
      CREATE INDEX IF NOT EXISTS snapshots_server_name_idx ON snapshots (server_name)`);
    const insert = db.prepare<[Buffer, string]>("INSERT INTO snapshots (data, server_name) VALUES (?, ?)");
    return rows.map(({ serverName, data }) => BigInt(insert.run(Buffer.from(data), serverName).lastInsertRowid));
  } finally {
    db.close();
  }
}

/** Creates the original's table in a PostgreSQL database (§11.2) and appends `rows` (text: JSONB), in order; returns their ids. */
export async function writeOriginalPostgres(url: string, rows: readonly OriginalRow[]): Promise<bigint[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE TABLE IF NOT EXISTS snapshots (
      id SERIAL PRIMARY KEY, data JSONB, created TIMESTAMP DEFAULT CURRENT_TIMESTAMP, server_name text)`);
    await sql.unsafe("CREATE INDEX IF NOT EXISTS snapshots_server_name_idx ON snapshots (server_name)");
    const ids: bigint[] = [];
    for (const { serverName, data } of rows) {
      const text = typeof data === "string" ? data : new TextDecoder().decode(data);
      // Sent as text: a parameter typed jsonb would be JSON-encoded by postgres.js (a JSON string, not the document).
      const [row] = await sql<Array<{ id: number }>>`INSERT INTO snapshots (data, server_name) VALUES (${text}::text::jsonb, ${serverName}) RETURNING id`;
      ids.push(BigInt(row!.id));
    }
    return ids;
  } finally {
    await sql.end();
  }
}
