import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * Starts the worker thread whose entry module sits beside the calling
 * module: `<basename>.js` in the built package (tsdown builds it as its own
 * entry, next to the chunk that calls this), `<basename>.ts` when running
 * from sources (vitest, tsx), where the worker registers tsx first, since
 * plain Node cannot load TypeScript.
 */
export function startModuleWorker(callerUrl: string, basename: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith(".ts")) {
    return new Worker(new URL(`./${basename}.js`, callerUrl), { workerData });
  }
  const entry = new URL(`./${basename}.ts`, callerUrl).href;
  const tsx = new URL("dist/esm/api/index.mjs", pathToFileURL(createRequire(callerUrl).resolve("tsx/package.json"))).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}
