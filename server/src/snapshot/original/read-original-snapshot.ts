import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import postgres from "postgres";
import { parseConnectionString, type SnapshotDatabase } from "../connection-string.js";
import { OriginalSnapshotError } from "./original-snapshot-error.js";

/** Which row of the original's `snapshots` table to read. */
export type OriginalSnapshotSelector = { name: string } | { id: bigint };

/** One row of the original's `snapshots` table (BEHAVIOR.md §11.2). */
export interface OriginalSnapshotRow {
  id: bigint;
  serverName: string;
  /** When the row was written, ns since the epoch (second precision); undefined if the database cannot tell. */
  created: bigint | undefined;
  /** The document: bytes from SQLite (JSON, maybe gzip-compressed), text from PostgreSQL's JSONB. */
  data: Uint8Array | string;
}

/** The row columns both drivers select, `created` as seconds since the epoch. */
interface RawRow {
  id: bigint | number | string;
  server_name: string | null;
  created: bigint | number | string | null;
  data: Uint8Array | string | null;
}

/** How many snapshots each server name has, for the message when the wanted one is not there. */
type NameCounts = Array<{ server_name: string | null; count: bigint | number | string }>;

/**
 * Reads one snapshot from the `snapshots` table of the original Go
 * keyquarry, touching nothing: `database` is a SQLite file path, a
 * `sqlite://` or a `postgres://` connection string (as the original's
 * snapshot.database). A name selects its newest snapshot (highest id, as the
 * original's restore did). Throws an {@link OriginalSnapshotError}
 * (`notFound`) when there is no such database, table or snapshot; the
 * message lists the server names the table holds.
 */
export async function readOriginalSnapshot(database: string, selector: OriginalSnapshotSelector): Promise<OriginalSnapshotRow> {
  const parsed = /^[a-z][a-z0-9+.-]*:\/\//i.test(database) ? connectionOf(database) : undefined;
  const raw = parsed?.driver === "postgres" ? await readPostgres(parsed.url, selector) : readSqlite(parsed?.file ?? database, selector);
  if (!("row" in raw)) {
    const wanted = "id" in selector ? `with id ${selector.id}` : `of server name ${JSON.stringify(selector.name)}`;
    const names = raw.names.map(({ server_name, count }) => `${JSON.stringify(server_name ?? "")} (${count})`);
    throw new OriginalSnapshotError(
      `no snapshot ${wanted} in the original's snapshots table (${names.length === 0 ? "it is empty" : `it holds: ${names.join(", ")}`})`,
      true,
    );
  }
  const { row } = raw;
  if (row.data === null) {
    throw new OriginalSnapshotError(`malformed snapshot document: snapshot ${row.id} has no data (NULL)`);
  }
  return {
    id: BigInt(row.id),
    serverName: row.server_name ?? "",
    created: row.created === null ? undefined : BigInt(row.created) * 1_000_000_000n,
    data: row.data,
  };
}

/** The original's connection strings are ours (BEHAVIOR.md §11.1). */
function connectionOf(database: string): SnapshotDatabase {
  try {
    return parseConnectionString(database, "");
  } catch {
    // Not the parser's message: it names our snapshot.database option, and would not repeat a password anyway.
    throw new OriginalSnapshotError("unsupported database: expected a SQLite file path, sqlite:///path/file.db or postgres://...", true);
  }
}

// One statement per dialect (the columns are the original's, BEHAVIOR.md §11.2).
const selectRow = (created: string, data: string) => `SELECT id, server_name, ${created} AS created, ${data} AS data FROM snapshots`;
const byId = (placeholder: string) => ` WHERE id = ${placeholder}`;
const newestOf = (placeholder: string) => ` WHERE server_name = ${placeholder} ORDER BY id DESC LIMIT 1`;
const countByName = "SELECT server_name, count(*) AS count FROM snapshots GROUP BY server_name ORDER BY server_name";

/** The columns of the original's table; ours (same name, other columns) lacks `data`. */
function checkColumns(columns: readonly string[]): void {
  if (columns.length === 0) {
    throw new OriginalSnapshotError("no snapshots table: not a snapshot database of the original keyquarry", true);
  }
  const missing = ["id", "data", "server_name", "created"].filter((column) => !columns.includes(column));
  if (missing.length > 0) {
    throw new OriginalSnapshotError(
      `the snapshots table has no ${missing.join(", ")} column: not a snapshot database of the original keyquarry (one of ours? see \`keyquarry snapshot list\`)`,
      true,
    );
  }
}

function readSqlite(file: string, selector: OriginalSnapshotSelector): { row: RawRow } | { names: NameCounts } {
  if (!existsSync(file)) {
    throw new OriginalSnapshotError(`no SQLite database at ${file}`, true);
  }
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    checkColumns(db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('snapshots')").all().map(({ name }) => name));
    const select = selectRow("CAST(strftime('%s', created) AS INTEGER)", "data");
    const row =
      "id" in selector
        ? db.prepare<[bigint], RawRow>(select + byId("?")).get(selector.id)
        : db.prepare<[string], RawRow>(select + newestOf("?")).get(selector.name);
    return row === undefined ? { names: db.prepare<[], NameCounts[number]>(countByName).all() } : { row };
  } finally {
    db.close();
  }
}

async function readPostgres(url: string, selector: OriginalSnapshotSelector): Promise<{ row: RawRow } | { names: NameCounts }> {
  // Read-only at the server too: this command never writes to the original's database.
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { default_transaction_read_only: true } });
  try {
    const columns = await sql<Array<{ column_name: string }>>`
      SELECT column_name FROM information_schema.columns WHERE table_name = 'snapshots' AND table_schema = current_schema()`;
    checkColumns(columns.map(({ column_name }) => column_name));
    // JSONB as text: postgres.js would parse it with JSON.parse, which rounds uint64 hashes.
    const select = selectRow("extract(epoch FROM created)::bigint", "data::text");
    const [row] =
      "id" in selector
        ? await sql.unsafe<RawRow[]>(select + byId("$1"), [selector.id.toString()])
        : await sql.unsafe<RawRow[]>(select + newestOf("$1"), [selector.name]);
    return row === undefined ? { names: await sql.unsafe<NameCounts>(countByName) } : { row };
  } finally {
    await sql.end();
  }
}
