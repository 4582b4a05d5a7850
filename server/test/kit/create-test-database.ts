import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";

/** A database of its own for one test file, so suites running in parallel never see each other's rows. */
export interface TestDatabase {
  url: string;
  /** Drops the database (close every connection to it first). */
  drop(): Promise<void>;
}

/** Creates an empty database next to the one postgres-global-setup.ts provides. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = inject("postgresUrl");
  const name = `kq_test_${randomBytes(6).toString("hex")}`;
  const admin = () => postgres(base, { max: 1, onnotice: () => {} });
  const sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = admin();
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}
