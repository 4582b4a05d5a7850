import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "./create-test-database.js";
import { openJournalDatabase } from "./journal-database.js";
import { killServeProcesses, spawnServe, type ServeOptions, type ServeProcess } from "./spawn-serve.js";

/** The journal tests' databases. */
export const journalDrivers = ["sqlite", "postgres"] as const;

/** What {@link journalSuite} gives a suite. */
export interface JournalSuite {
  /** The snapshot database of the test running now (its SQLite file, or the suite's PostgreSQL database). */
  readonly database: string;
  /** `keyquarry serve` on {@link database} with snapshots on (the journal at its default unless `options` say otherwise). */
  serve(options?: ServeOptions): Promise<ServeProcess>;
}

/**
 * The database of a journal suite, with its hooks: a PostgreSQL database of
 * the suite's own, or a SQLite file in a folder of the test's own; after each
 * test every server is killed and the journal and snapshots are gone.
 */
export function journalSuite(driver: (typeof journalDrivers)[number], serverName: string): JournalSuite {
  let postgres: TestDatabase | undefined;
  let dir: string | undefined;
  const folder = () => (dir ??= mkdtempSync(join(tmpdir(), "kq-journal-")));

  beforeAll(async () => {
    if (driver === "postgres") {
      postgres = await createTestDatabase();
    }
  });
  afterAll(async () => {
    await postgres?.drop();
  });
  afterEach(async () => {
    await killServeProcesses();
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
    if (postgres !== undefined) {
      const journal = openJournalDatabase(postgres.url, serverName);
      await journal.exec("DELETE FROM journal_entries; DELETE FROM snapshots").catch(() => {});
      await journal.close();
    }
  });

  const suite: JournalSuite = {
    get database() {
      return driver === "sqlite" ? `sqlite://${join(folder(), "snapshots.db")}` : postgres!.url;
    },
    serve({ args = [], env = {} } = {}) {
      return spawnServe({
        args,
        // What a new user sets: snapshots on, a database and a name.
        env: { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_DATABASE: suite.database, KEYQUARRY_NAME: serverName, KEYQUARRY_DATA_DIR: folder(), ...env },
      });
    },
  };
  return suite;
}
