import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseConnectionString } from "./connection-string.js";
import { PostgresSnapshotStore } from "./postgres-snapshot-store.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { SqliteSnapshotStore } from "./sqlite-snapshot-store.js";

/** Options of {@link openSnapshotStore}. */
export interface OpenSnapshotStoreOptions {
  /** Only to read (`keyquarry snapshot`): a SQLite file is opened read-only and never created. */
  readonly?: boolean;
}

/**
 * Opens the snapshot store that `snapshot.database` names (see
 * {@link parseConnectionString}; "" is `<dataDir>/keyquarry.db`, whose
 * directory is created unless `readonly`). Throws a ConfigError for an
 * unsupported string, or the driver's error if a SQLite file cannot be
 * opened; PostgreSQL connects on first use. Call migrate() before anything
 * else, unless `readonly`.
 */
export function openSnapshotStore(
  connectionString: string,
  dataDir: string,
  options: OpenSnapshotStoreOptions = {},
): SnapshotStore {
  const database = parseConnectionString(connectionString, dataDir);
  if (database.driver === "postgres") {
    return new PostgresSnapshotStore(database.url);
  }
  if (options.readonly) {
    return new SqliteSnapshotStore(database.file, { readonly: true, fileMustExist: true });
  }
  if (database.isDefault) {
    mkdirSync(dirname(database.file), { recursive: true });
  }
  return new SqliteSnapshotStore(database.file, { readonly: database.readonly, fileMustExist: database.fileMustExist });
}
