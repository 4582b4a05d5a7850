/**
 * The store is self-contained: its sources import nothing from the generated
 * protocol code, Connect, the server configuration or Node's modules (it does
 * no I/O). Test files and test fixtures (`*.test.ts`, `*.fixture.ts`) may.
 */
import { init, parse } from "es-module-lexer";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const storeDir = dirname(fileURLToPath(import.meta.url));
const configDir = resolve(storeDir, "../config");
const builtins = new Set(builtinModules);

/** Why importing `specifier` from `file` crosses the boundary, or undefined if it does not. */
function violation(file: string, specifier: string): string | undefined {
  if (specifier === "@keyquarry/gen" || specifier.startsWith("@keyquarry/gen/")) {
    return "generated protocol code";
  }
  if (specifier.startsWith("@connectrpc/")) {
    return "Connect";
  }
  if (specifier.startsWith("node:") || builtins.has(specifier.split("/")[0]!)) {
    return "a Node module (the store does no I/O)";
  }
  if (specifier.startsWith(".")) {
    const target = resolve(dirname(file), specifier);
    if (target === configDir || target.startsWith(configDir + sep)) {
      return "the server configuration";
    }
  }
  return undefined;
}

/** "file: import (reason)" for every import of `source` (the text of `file`) that crosses the boundary. */
function violations(file: string, source: string): string[] {
  const [imports] = parse(source, file);
  // The lexer reads JavaScript: TypeScript's `export type { ... } from` it does not see as a re-export.
  const typeReExports = [...source.matchAll(/\bexport\s+type\s*(?:\*|\{[^}]*\})\s*from\s*["']([^"']+)["']/g)].map((match) => match[1]);
  const found: string[] = [];
  for (const specifier of [...imports.map((entry) => entry.n), ...typeReExports]) {
    const reason = specifier === undefined ? undefined : violation(file, specifier);
    if (reason !== undefined) {
      found.push(`${relative(storeDir, file)}: imports ${JSON.stringify(specifier)} (${reason})`);
    }
  }
  return found;
}

/** Every source file of the store, in subfolders too, but tests and their fixtures. */
function storeSources(dir = storeDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name);
    if (item.isDirectory()) {
      return storeSources(path);
    }
    return /\.ts$/.test(item.name) && !/\.(test|fixture)\.ts$/.test(item.name) ? [path] : [];
  });
}

describe("the store's boundary", () => {
  beforeAll(async () => {
    await init;
  });

  it("holds: no store source imports gen, Connect, the configuration or a Node module", () => {
    const sources = storeSources();
    expect(sources.map((file) => relative(storeDir, file))).toContain("key-value-store.ts");
    expect(sources.flatMap((file) => violations(file, readFileSync(file, "utf8")))).toEqual([]);
  });

  it("names the file and the import of every kind of crossing, type-only imports and re-exports included", () => {
    const file = join(storeDir, "example.ts");
    const source = [
      'import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";',
      'import type { Code } from "@connectrpc/connect";',
      'export type { Config } from "../config/config.js";',
      'import { readFileSync } from "node:fs";',
      'import { join } from "path";',
      'const lazy = () => import("node:crypto");',
      'import { StoreError } from "./store-error.js";',
    ].join("\n");
    expect(violations(file, source)).toEqual([
      'example.ts: imports "@keyquarry/gen/keyquarry/keyquarry_pb.js" (generated protocol code)',
      'example.ts: imports "@connectrpc/connect" (Connect)',
      'example.ts: imports "node:fs" (a Node module (the store does no I/O))',
      'example.ts: imports "path" (a Node module (the store does no I/O))',
      'example.ts: imports "node:crypto" (a Node module (the store does no I/O))',
      'example.ts: imports "../config/config.js" (the server configuration)',
    ]);
  });
});
