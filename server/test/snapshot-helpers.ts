/**
 * Helpers of snapshots.test.ts: the two real snapshot databases (a SQLite
 * file, a fresh PostgreSQL database) with raw SQL access to corrupt them,
 * and the comparison of store states across a restart.
 */
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { isReservedKey } from "../src/store/reserved-keys.js";
import type { StoreState } from "../src/store/store-state.js";
import { createTestDatabase } from "./kit/create-test-database.js";

/** One second in nanoseconds. */
export const second = 1_000_000_000n;

/** Events written at every start: the CREATED of each of the 16 reserved keys. */
export const reservedKeyEvents = 16n;

/** A snapshot database that exists for one test suite. */
export interface SnapshotDatabaseHandle {
  /** `snapshot.database` of the servers. */
  connectionString: string;
  /** Runs one SQL statement (an UPDATE, say) on a connection of its own, closed right after. */
  execute(statement: string): Promise<void>;
  /** Removes the database (every server using it must be closed). */
  remove(): Promise<void>;
}

/** A kind of snapshot database. */
export interface Backend {
  name: "sqlite" | "postgres";
  create(dir: string): Promise<SnapshotDatabaseHandle>;
}

let sqliteFiles = 0;

export const backends: readonly Backend[] = [
  {
    name: "sqlite",
    async create(dir) {
      const file = join(dir, `snapshots-${sqliteFiles++}.db`);
      return {
        connectionString: `sqlite://${file}`,
        async execute(statement) {
          const raw = new Database(file, { fileMustExist: true });
          // As the server's connection does, so that a DELETE cascades.
          raw.pragma("foreign_keys = ON");
          try {
            raw.exec(statement);
          } finally {
            raw.close();
          }
        },
        async remove() {
          for (const suffix of ["", "-wal", "-shm"]) {
            rmSync(file + suffix, { force: true });
          }
        },
      };
    },
  },
  {
    name: "postgres",
    async create() {
      const database = await createTestDatabase();
      return {
        connectionString: database.url,
        async execute(statement) {
          const raw = postgres(database.url, { max: 1, onnotice: () => {} });
          try {
            await raw.unsafe(statement);
          } finally {
            await raw.end();
          }
        },
        remove: () => database.drop(),
      };
    },
  },
];

/**
 * A state as it must come back after a restart: without `takenAt` (when it
 * was exported) and without the metrics of the reserved keys, which the
 * server rewrites (one more CREATED each) at every start.
 */
export function comparable(state: StoreState): Omit<StoreState, "takenAt"> {
  const { takenAt: _takenAt, ...rest } = state;
  return { ...rest, metrics: state.metrics.filter(({ key }) => !isReservedKey(key)) };
}
