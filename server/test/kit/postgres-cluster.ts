/**
 * A throwaway PostgreSQL cluster in a temp dir, run with the machine's
 * PostgreSQL binaries (Debian package `postgresql`): the one the end-to-end
 * tests share (postgres-global-setup.ts), or one of a test's own that it may
 * stop and start again (a database that goes away and comes back).
 */
import { execFile as execFileCallback } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { freePort } from "./free-port.js";

const execFile = promisify(execFileCallback);

/** Prefix of the clusters' temp dirs; each holds owner.pid, the pid of the process that started it. */
export const clusterPrefix = "kq-pg-";

/** Database created in each cluster for the tests. */
const testDatabase = "keyquarry_test";

/** A running (or stopped) cluster. */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/keyquarry_test`. */
  url: string;
  /** Stops the server at once (`pg_ctl -m immediate`: no checkpoint, as a crash). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it if running and removes its dir. */
  destroy(): Promise<void>;
}

/** Runs a PostgreSQL program; as the postgres user when we are root (initdb and postgres refuse root). */
export function runPostgresProgram(command: string, args: string[]): Promise<unknown> {
  return process.getuid?.() === 0 ? execFile("runuser", ["-u", "postgres", "--", command, ...args]) : execFile(command, args);
}

/**
 * Creates and starts a cluster with a `keyquarry_test` database. Throws (with
 * the server's log) if PostgreSQL cannot be started: tests must fail, never skip.
 * `crashSafe`: a commit survives {@link PostgresCluster.stop} (synchronous
 * commits; otherwise the last ones may be lost, as the shared cluster allows
 * for speed).
 */
export async function createPostgresCluster({ crashSafe = false } = {}): Promise<PostgresCluster> {
  const bin = findPostgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), clusterPrefix));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  let running = false;
  let options = "";
  const start = async () => {
    // -l: the server must not inherit our pipes, or waiting for pg_ctl would wait for the server too.
    await runPostgresProgram(bin.pgCtl, ["-D", data, "-o", options, "-l", log, "-w", "-t", "60", "start"]);
    running = true;
  };
  const stop = async () => {
    if (running) {
      await runPostgresProgram(bin.pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]);
      running = false;
    }
  };
  const destroy = async () => {
    try {
      await stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    if (process.getuid?.() === 0) {
      const uid = Number((await execFile("id", ["-u", "postgres"])).stdout.trim());
      const gid = Number((await execFile("id", ["-g", "postgres"])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    // --no-sync and fsync=off: a throwaway cluster needs no durability against power loss, and it makes the tests fast.
    await runPostgresProgram(bin.initdb, ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
    const port = await freePort();
    const asynchronous = crashSafe ? "" : " -c synchronous_commit=off";
    options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off${asynchronous} -c full_page_writes=off`;
    await start();
    const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE DATABASE ${testDatabase}`);
    } finally {
      await admin.end();
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/${testDatabase}`, stop, start, destroy };
  } catch (error) {
    const serverLog = existsSync(log) ? `\nserver log:\n${readFileSync(log, "utf8").slice(-2000)}` : "";
    await destroy().catch(() => {});
    throw new Error(
      `cannot start PostgreSQL (install the Debian package postgresql, or set KEYQUARRY_TEST_POSTGRES_URL): ${describe(error)}${serverLog}`,
      { cause: error },
    );
  }
}

/** initdb and pg_ctl from PATH, else from the newest /usr/lib/postgresql/<version>/bin (Debian keeps them there). */
export function findPostgresBinaries(): { initdb: string; pgCtl: string } {
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
