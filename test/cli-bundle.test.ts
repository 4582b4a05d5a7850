/**
 * The `keyquarry` CLI starts fast because a client command loads only what it
 * needs: the built CLI (server/dist/cli, made by `npm run build`) reaches the
 * server, its configuration loader and their dependencies through dynamic
 * imports only. This walks the static import graph of the built entry.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { builtImportGraph, type ImportGraph } from "./kit/static-import-graph.js";

const cliDir = fileURLToPath(new URL("../server/dist/cli/", import.meta.url));
const entry = join(cliDir, "cli.js");

describe("the built CLI", () => {
  let graph: ImportGraph;

  beforeAll(async () => {
    graph = await builtImportGraph(entry);
  });

  it("loads only Node built-ins and its own chunks before a command runs", () => {
    expect([...graph.packages].filter((name) => !name.startsWith("node:"))).toEqual([]);
  });

  it("reaches the server code through a dynamic import only", () => {
    const lazyOnly = [...graph.lazyChunks].filter((chunk) => !graph.chunks.includes(chunk));
    expect(lazyOnly.length).toBeGreaterThan(0);
    const lazySource = lazyOnly.map((chunk) => readFileSync(chunk, "utf8")).join("\n");
    // The server's own dependencies live there, not in what every command loads
    // (better-sqlite3 is further away still: only the SQLite worker thread loads it).
    for (const name of ["fastify", "yaml", "drizzle-orm"]) {
      expect(lazySource).toContain(`from "${name}"`);
    }
  });
});
