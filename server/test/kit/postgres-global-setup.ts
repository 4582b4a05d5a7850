/**
 * vitest globalSetup: provides `postgresUrl`, a PostgreSQL database for the
 * snapshot tests (`inject("postgresUrl")`). KEYQUARRY_TEST_POSTGRES_URL is
 * used if set (its role needs CREATEDB: suites create their own databases);
 * otherwise a throwaway cluster is started in a temp dir with the machine's
 * PostgreSQL binaries (Debian package `postgresql`) and removed at the end.
 * If PostgreSQL cannot be started this THROWS: the tests must fail, never skip.
 */
import { execFile as execFileCallback } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { freePort } from "./free-port.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a PostgreSQL database the tests may use and create databases from. */
    postgresUrl: string;
  }
}

const execFile = promisify(execFileCallback);

/** Prefix of the clusters' temp dirs; each holds owner.pid, the pid of the vitest process that started it. */
const clusterPrefix = "kq-pg-";

/** Database created in a throwaway cluster for the provided URL. */
const testDatabase = "keyquarry_test";

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env["KEYQUARRY_TEST_POSTGRES_URL"];
  if (external !== undefined && external !== "") {
    project.provide("postgresUrl", external);
    return undefined;
  }
  const cluster = await startCluster();
  project.provide("postgresUrl", cluster.url);
  return cluster.stop;
}

interface Cluster {
  url: string;
  stop(): Promise<void>;
}

async function startCluster(): Promise<Cluster> {
  const bin = findBinaries();
  // initdb and postgres refuse to run as root: run them as the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) =>
    asRoot ? execFile("runuser", ["-u", "postgres", "--", command, ...args]) : execFile(command, args);

  await stopAbandonedClusters(bin.pgCtl, run);
  const dir = mkdtempSync(join(tmpdir(), clusterPrefix));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  let started = false;
  const stop = async () => {
    try {
      if (started) {
        await run(bin.pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    if (asRoot) {
      const uid = Number((await execFile("id", ["-u", "postgres"])).stdout.trim());
      const gid = Number((await execFile("id", ["-g", "postgres"])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    // --no-sync and fsync=off: a throwaway cluster needs no durability, and it makes the tests fast.
    await run(bin.initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    // -l: the server must not inherit our pipes, or waiting for pg_ctl would wait for the server too.
    await run(bin.pgCtl, ["-D", data, "-o", options, "-l", log, "-w", "-t", "60", "start"]);
    started = true;

    const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE DATABASE ${testDatabase}`);
    } finally {
      await admin.end();
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/${testDatabase}`, stop };
  } catch (error) {
    const serverLog = existsSync(log) ? `\nserver log:\n${readFileSync(log, "utf8").slice(-2000)}` : "";
    await stop().catch(() => {});
    throw new Error(
      `cannot start PostgreSQL for the snapshot tests (install the Debian package postgresql, ` +
        `or set KEYQUARRY_TEST_POSTGRES_URL): ${describe(error)}${serverLog}`,
      { cause: error },
    );
  }
}

/**
 * Stops and removes the clusters of test runs that died without their
 * teardown (killed by a timeout, say): postgres daemonizes, so it would
 * otherwise run on forever. Dirs without owner.pid are left alone.
 */
async function stopAbandonedClusters(pgCtl: string, run: (command: string, args: string[]) => Promise<unknown>): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(clusterPrefix)) {
      continue;
    }
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) {
      continue;
    }
    await run(pgCtl, ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** initdb and pg_ctl from PATH, else from the newest /usr/lib/postgresql/<version>/bin (Debian keeps them there). */
function findBinaries(): { initdb: string; pgCtl: string } {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "");
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => join(debian, v, "bin")));
  }
  for (const dir of dirs) {
    const initdb = join(dir, "initdb");
    const pgCtl = join(dir, "pg_ctl");
    if (existsSync(initdb) && existsSync(pgCtl)) {
      return { initdb, pgCtl };
    }
  }
  throw new Error(`initdb and pg_ctl not found on PATH nor in ${debian}/*/bin`);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    return typeof stderr === "string" && stderr.trim() !== "" ? `${error.message}\n${stderr.trim()}` : error.message;
  }
  return String(error);
}
