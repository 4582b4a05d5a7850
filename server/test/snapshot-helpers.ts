/**
 * Helpers of snapshots.test.ts and signals.test.ts: the two real snapshot
 * databases (a SQLite file, a fresh PostgreSQL database) with raw SQL access
 * to corrupt them, `keyquarry serve` as a child process started as in
 * production (node running the bin, no wrapper), and the comparison of store
 * states across a restart.
 */
import Database from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { vi } from "vitest";
import { isReservedKey } from "../src/store/reserved-keys.js";
import type { StoreState } from "../src/store/store-state.js";
import { createTestDatabase } from "./postgres/test-database.js";
import { bin as keyquarryBin } from "./cli-process.js";
import { createClients } from "./test-server.js";

/** One second in nanoseconds. */
export const second = 1_000_000_000n;

/** Events written at every start: the CREATED of each of the 16 reserved keys. */
export const reservedKeyEvents = 16n;

/** A snapshot database that exists for one test suite. */
export interface SnapshotDatabaseHandle {
  /** `snapshot.database` of the servers. */
  connectionString: string;
  /** Runs one SQL statement (an UPDATE, say) on a connection of its own, closed right after. */
  execute(statement: string): Promise<void>;
  /** Removes the database (every server using it must be closed). */
  remove(): Promise<void>;
}

/** A kind of snapshot database. */
export interface Backend {
  name: "sqlite" | "postgres";
  create(dir: string): Promise<SnapshotDatabaseHandle>;
}

let sqliteFiles = 0;

export const backends: readonly Backend[] = [
  {
    name: "sqlite",
    async create(dir) {
      const file = join(dir, `snapshots-${sqliteFiles++}.db`);
      return {
        connectionString: `sqlite://${file}`,
        async execute(statement) {
          const raw = new Database(file, { fileMustExist: true });
          // As the server's connection does, so that a DELETE cascades.
          raw.pragma("foreign_keys = ON");
          try {
            raw.exec(statement);
          } finally {
            raw.close();
          }
        },
        async remove() {
          for (const suffix of ["", "-wal", "-shm"]) {
            rmSync(file + suffix, { force: true });
          }
        },
      };
    },
  },
  {
    name: "postgres",
    async create() {
      const database = await createTestDatabase();
      return {
        connectionString: database.url,
        async execute(statement) {
          const raw = postgres(database.url, { max: 1, onnotice: () => {} });
          try {
            await raw.unsafe(statement);
          } finally {
            await raw.end();
          }
        },
        remove: () => database.drop(),
      };
    },
  },
];

/**
 * A state as it must come back after a restart: without `takenAt` (when it
 * was exported) and without the metrics of the reserved keys, which the
 * server rewrites (one more CREATED each) at every start.
 */
export function comparable(state: StoreState): Omit<StoreState, "takenAt"> {
  const { takenAt: _takenAt, ...rest } = state;
  return { ...rest, metrics: state.metrics.filter(({ key }) => !isReservedKey(key)) };
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => probe.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** How a `keyquarry serve` child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `keyquarry serve` running as a child process. */
export interface ServeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Everything written to stdout (the log) so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once the process has exited. */
  exited: Promise<Exit>;
}

/** Child processes started by {@link spawnServe} and not yet known to have exited. */
const children = new Set<ServeProcess>();

/**
 * Starts `keyquarry serve --listen 127.0.0.1:<free port>` with `env` on top
 * of this process's environment, whose own KEYQUARRY_* variables are left out.
 */
export async function spawnServe(env: Record<string, string>): Promise<ServeProcess> {
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KEYQUARRY_")));
  const child = spawn(process.execPath, [keyquarryBin, "serve", "--listen", `127.0.0.1:${port}`], {
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const started: ServeProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    // "close", not "exit": the output is complete by then.
    exited: new Promise<Exit>((resolve) => child.once("close", (code, signal) => resolve({ code, signal }))),
  };
  children.add(started);
  void started.exited.then(() => children.delete(started));
  return started;
}

/** Resolves once `started` answers Stats; fails at once if it exits first. */
export async function waitUntilServing(started: ServeProcess): Promise<void> {
  const { kv } = createClients("connect", started.url, "probe");
  await vi.waitFor(
    async () => {
      if (started.child.exitCode !== null) {
        throw new Error(`keyquarry serve exited with ${started.child.exitCode}: ${started.stderr()}`);
      }
      await kv.stats({});
    },
    { timeout: 20_000, interval: 100 },
  );
}

/** Kills (SIGKILL) every child process still running and waits for them to exit. */
export async function killChildren(): Promise<void> {
  const running = [...children];
  for (const { child } of running) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
    }
  }
  await Promise.all(running.map(({ exited }) => exited));
}
