/**
 * drizzle-kit configuration of the SQLite snapshot schema. After changing
 * src/snapshot/sqlite-schema.ts, generate the next migration (committed, and
 * applied automatically at start by SqliteSnapshotStore.migrate) with:
 *
 *   cd server && npx drizzle-kit generate --config drizzle.sqlite.config.ts
 *
 * (or from the repository root: npm exec -w @keyquarry/server -- drizzle-kit generate --config drizzle.sqlite.config.ts).
 * Paths are relative to server/, where the command must run.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/snapshot/sqlite-schema.ts",
  out: "./drizzle/sqlite",
});
