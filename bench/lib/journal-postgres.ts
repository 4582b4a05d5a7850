// A throwaway PostgreSQL server for the journal stage, with the durable
// defaults (fsync on, synchronous_commit on: a commit waits for its WAL
// flush), unlike the tests' cluster. It runs in the foreground as a tracked
// child (setpriv, not pg_ctl, which would daemonize it), so the bench stops
// it on exit, Ctrl-C or error like every other server.
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../server/test/kit/free-port.js";
import { run, spawnTracked, waitForPort, which } from "./procs.js";

/** A running server: its URL for `snapshot.database`, or why there is none. */
export type BenchPostgres = { url: string; child: ChildProcess } | { skipped: string };

/** initdb's directory: PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian). */
async function binDir(): Promise<string | undefined> {
  const onPath = await which("initdb");
  if (onPath !== undefined) return path.dirname(onPath);
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb"))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : path.join(root, newest, "bin");
}

/**
 * Starts PostgreSQL in a temp dir of its own, removed at exit (as the
 * postgres user when we are root: it refuses root, and cannot enter the bench's private temp dir).
 */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const bin = await binDir();
  if (bin === undefined) return { skipped: "PostgreSQL not installed (apt-get install -y postgresql)" };
  const asRoot = process.getuid?.() === 0;
  const asPostgres = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ["setpriv", ["--reuid", "postgres", "--regid", "postgres", "--init-groups", "--", command, ...args]] : [command, args];
  const dir = mkdtempSync(path.join(os.tmpdir(), "keyquarry-bench-postgres-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  if (asRoot) {
    const id = async (flag: string) => Number((await run("id", [flag, "postgres"], 5000)).stdout.trim());
    chownSync(dir, await id("-u"), await id("-g"));
  }
  const data = path.join(dir, "data");
  const initdb = await run(...asPostgres(path.join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"]), 120_000);
  if (initdb.code !== 0) return { skipped: `initdb failed: ${initdb.stderr.trim().split("\n").slice(-2).join(" | ")}` };
  const port = await freePort();
  const child = spawnTracked(...asPostgres(path.join(bin, "postgres"), ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"]));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-1000)));
  if (!(await waitForPort(port, 60_000, child))) return { skipped: `postgres did not start: ${stderr.trim().split("\n").slice(-2).join(" | ")}` };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, child };
}
