import { join } from "node:path";
import { ConfigError } from "../config/config-error.js";

/** Where snapshots go, as parsed from `snapshot.database`. */
export type SnapshotDatabase =
  | { driver: "sqlite"; file: string; readonly: boolean; fileMustExist: boolean; isDefault: boolean }
  | { driver: "postgres"; url: string };

/** File name of the embedded database in `data_dir`. */
export const defaultSqliteFile = "keyquarry.db";

// The whole message: the connection string is never echoed, it may hold a password.
const invalid = "unsupported or invalid database driver in connection string";

/**
 * Parses a `snapshot.database` connection string:
 * - "" → the SQLite file `<dataDir>/keyquarry.db` (`isDefault`, so the caller creates the directory);
 * - `sqlite://<dsn>` → SQLite; the DSN is everything after `sqlite://`
 *   (`sqlite:///abs/file.db` → `/abs/file.db`, `sqlite://rel.db` → `rel.db`,
 *   relative to the working directory, `sqlite://:memory:`), with the query
 *   parameter `mode` = `ro` (read-only), `rw` (must exist) or `rwc` (default);
 * - `postgres://…` or `postgresql://…` → PostgreSQL, the whole URL.
 * Anything else throws a ConfigError for `snapshot.database` that does not
 * repeat the string.
 */
export function parseConnectionString(connectionString: string, dataDir: string): SnapshotDatabase {
  if (connectionString === "") {
    return { driver: "sqlite", file: join(dataDir, defaultSqliteFile), readonly: false, fileMustExist: false, isDefault: true };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(connectionString)?.[1]?.toLowerCase();
  if (scheme === "sqlite") {
    return parseSqlite(connectionString.slice("sqlite://".length));
  }
  if (scheme === "postgres" || scheme === "postgresql") {
    try {
      new URL(connectionString);
    } catch {
      throw error(invalid);
    }
    return { driver: "postgres", url: connectionString };
  }
  throw error(invalid);
}

function parseSqlite(dsn: string): SnapshotDatabase {
  const question = dsn.indexOf("?");
  const file = question < 0 ? dsn : dsn.slice(0, question);
  if (file === "") {
    throw error(invalid);
  }
  const result = { driver: "sqlite" as const, file, readonly: false, fileMustExist: false, isDefault: false };
  const params = new URLSearchParams(question < 0 ? "" : dsn.slice(question + 1));
  for (const [name, value] of params) {
    if (name !== "mode") {
      // Names only: they are driver options, not secrets.
      throw error(`unsupported SQLite connection parameter '${name}' (supported: mode=ro|rw|rwc)`);
    }
    if (value === "ro") {
      result.readonly = true;
      result.fileMustExist = true;
    } else if (value === "rw") {
      result.fileMustExist = true;
    } else if (value !== "rwc") {
      throw error(`unsupported SQLite mode '${value}' (supported: ro, rw, rwc)`);
    }
  }
  return result;
}

function error(problem: string): ConfigError {
  return ConfigError.invalidValue("snapshot.database", problem);
}
