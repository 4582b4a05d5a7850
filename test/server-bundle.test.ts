/**
 * A server without metrics or tracing loads neither prom-client nor
 * OpenTelemetry: the built library (server/dist/lib, made by `npm run build`)
 * reaches them through dynamic imports only, taken when `prometheus` or
 * `trace` is on.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { builtImportGraph, type ImportGraph } from "./kit/static-import-graph.js";

const entry = fileURLToPath(new URL("../server/dist/lib/index.js", import.meta.url));

describe("the built server library", () => {
  let graph: ImportGraph;

  beforeAll(async () => {
    graph = await builtImportGraph(entry);
  });

  it("imports OpenTelemetry and prom-client only dynamically", () => {
    const observability = [...graph.packages].filter((name) => name.startsWith("@opentelemetry/") || name === "prom-client");
    expect(observability).toEqual([]);
    const lazySource = [...graph.lazyChunks].map((chunk) => readFileSync(chunk, "utf8")).join("\n");
    expect(lazySource).toContain(`from "@opentelemetry/sdk-trace-node"`);
    expect(lazySource).toContain(`from "prom-client"`);
  });
});
