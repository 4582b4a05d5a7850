import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { init, parse } from "es-module-lexer";

/** What a built module loads: statically (before it runs) and through `import()`. */
export interface ImportGraph {
  /** Chunk files loaded before the entry runs (the entry and its static imports). */
  chunks: string[];
  /** Bare or `node:` specifiers imported statically by those chunks. */
  packages: Set<string>;
  /** Chunk files reached only through `import()`. */
  lazyChunks: Set<string>;
}

/** Walks the static imports of the built module `file` (await es-module-lexer's `init` first). */
export function staticImportGraph(file: string): ImportGraph {
  const graph: ImportGraph = { chunks: [], packages: new Set(), lazyChunks: new Set() };
  const pending = [file];
  while (pending.length > 0) {
    const chunk = pending.pop() as string;
    if (graph.chunks.includes(chunk)) {
      continue;
    }
    graph.chunks.push(chunk);
    const [imports] = parse(readFileSync(chunk, "utf8"));
    for (const { n: specifier, d: dynamicAt } of imports) {
      if (specifier === undefined) {
        continue;
      }
      const isDynamic = dynamicAt > -1;
      if (!specifier.startsWith(".")) {
        if (!isDynamic) {
          graph.packages.add(specifier);
        }
        continue;
      }
      const target = join(dirname(chunk), specifier);
      if (isDynamic) {
        graph.lazyChunks.add(target);
      } else {
        pending.push(target);
      }
    }
  }
  return graph;
}

/** The static import graph of the built module `file`; fails with what to do when it is not built. */
export async function builtImportGraph(file: string): Promise<ImportGraph> {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  }
  await init;
  return staticImportGraph(file);
}
