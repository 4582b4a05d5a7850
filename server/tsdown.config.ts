import { defineConfig } from "tsdown";
import { packageBuild } from "../tsdown.base.js";

const common = { ...packageBuild, platform: "node" as const, clean: false };

// `npm run build` empties dist/ first (the two builds share it). dist/lib and
// dist/cli sit as deep as src/snapshot, whose code finds the migrations at
// ../../drizzle. Each build has the SQLite worker as an entry of its own,
// beside its chunks, where SqliteSnapshotStore starts it (./sqlite-worker.js).
const sqliteWorker = "src/snapshot/sqlite-worker.ts";
export default defineConfig([
  // The library (build, serve, loadConfig, ...).
  { ...common, entry: { index: "src/index.ts", "sqlite-worker": sqliteWorker }, outDir: "dist/lib", dts: { eager: true } },
  // The `keyquarry` CLI. A command run from a shell pays mostly for loading
  // code, and resolving and reading the hundreds of small modules of connect
  // and protobuf cost ~0.1 s per run, so those are bundled into the CLI's own
  // chunks. The server code is reached through dynamic imports only, so
  // client commands load neither it nor its configuration loader.
  {
    ...common,
    entry: { cli: "src/cli/main.ts", "sqlite-worker": sqliteWorker },
    outDir: "dist/cli",
    dts: false,
    deps: {
      ...common.deps,
      alwaysBundle: [/^@bufbuild\/protobuf/, /^@connectrpc\/connect/, /^commander/],
      onlyBundle: false,
    },
  },
]);
