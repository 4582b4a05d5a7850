/**
 * drizzle-kit configuration of the PostgreSQL snapshot schema. After changing
 * src/snapshot/postgres-schema.ts, generate the next migration (committed, and
 * applied automatically at start by PostgresSnapshotStore.migrate) with:
 *
 *   cd server && npx drizzle-kit generate --config drizzle.postgres.config.ts
 *
 * (or from the repository root: npm exec -w @keyquarry/server -- drizzle-kit generate --config drizzle.postgres.config.ts).
 * Paths are relative to server/, where the command must run. No database
 * connection is needed to generate.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/snapshot/postgres-schema.ts",
  out: "./drizzle/postgres",
});
