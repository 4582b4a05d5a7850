// keyquarry as the bench runs it: the real CLI in its own process, default
// configuration, and its resident memory read from /proc.
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { spawnTracked } from "./procs.js";

/**
 * Starts `keyquarry serve --listen 127.0.0.1:port` with `node` (tracked, so it
 * is stopped on exit): defaults only (plus `extra` flags and environment), no
 * KEYQUARRY_* setting from the caller's environment, errors-only logs and a
 * private data dir.
 */
export function spawnKeyquarry(
  node: string,
  rootDir: string,
  port: number,
  dataDir: string,
  extra: { args?: string[]; env?: Record<string, string> } = {},
): ChildProcess {
  return spawnTracked(node, [path.join(rootDir, "server/bin/keyquarry.js"), "serve", "--listen", `127.0.0.1:${port}`, ...(extra.args ?? [])], {
    cwd: rootDir,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KEYQUARRY_"))),
      KEYQUARRY_LOG_LEVEL: "ERROR",
      XDG_DATA_HOME: dataDir,
      ...extra.env,
    },
  });
}

/** A process's resident set size in MiB (VmRSS), or undefined once it is gone. */
export function rssMiB(pid: number | undefined): number | undefined {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak, until stopped. */
export function sampleRss(pid: number | undefined, everyMs = 50): { readonly peakMiB: number | undefined; stop(): void } {
  let peakMiB = rssMiB(pid);
  const timer = setInterval(() => {
    const rss = rssMiB(pid);
    if (rss !== undefined && (peakMiB === undefined || rss > peakMiB)) peakMiB = rss;
  }, everyMs);
  return {
    get peakMiB() {
      return peakMiB;
    },
    stop: () => clearInterval(timer),
  };
}
