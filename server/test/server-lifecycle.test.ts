/**
 * What a server runs, and when: build() starts nothing (no timer, no
 * snapshot); listen() starts the background work (expiry, prune and watch
 * sweep timers, the snapshotter) and close() stops all of it; a listen()
 * that fails leaves no timer, no database connection, nothing that would
 * keep the process alive.
 */
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { setImmediate as nextTurn } from "node:timers/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../src/config/config.js";
import { defaultConfig } from "../src/config/default-config.js";
import { build, type KeyquarryServer } from "../src/host/server.js";
import { SqliteSnapshotStore } from "../src/snapshot/index.js";
import { watchTimers, type PendingTimer, type TimerWatch } from "./pending-timers.js";
import { createTestDatabase, type TestDatabase } from "./kit/create-test-database.js";
import { createClients } from "./kit/create-clients.js";

const hour = 3600n * 1_000_000_000n;

/** The server's source files that created pending timers (Node's http.Server and the test's clients have their own). */
const creators = (timers: PendingTimer[]) =>
  [...new Set(timers.flatMap((timer) => /\/server\/src\/\S+?\.ts/.exec(timer.createdBy)?.[0] ?? []))].sort();

/**
 * The process's sockets and listening servers (process.getActiveResourcesInfo(): what keeps it alive),
 * after letting handles closed just before finish closing. Ref'd timers are left out: vitest has its own.
 */
async function openHandles(): Promise<string[]> {
  await nextTurn();
  await nextTurn();
  return process.getActiveResourcesInfo().filter((resource) => resource !== "Timeout").sort();
}

let dir: string;
/** Started by each test itself: vitest's own timers (a test's timeout) are not the server's. */
let timers: TimerWatch | undefined;
const servers: KeyquarryServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kq-lifecycle-"));
});
afterEach(async () => {
  timers?.stop();
  for (const server of servers.splice(0)) {
    await server.close().catch(() => {});
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A config with every piece of background work on: snapshots into `database`, scheduled prunes. */
function configOf(database: string, overrides: Partial<Config> = {}): Config {
  return {
    ...defaultConfig(),
    listenAddress: "127.0.0.1:0",
    name: "lifecycle",
    dataDir: dir,
    pruneInterval: hour,
    snapshot: { enabled: true, interval: hour, journal: "sync", journalInterval: 1_000_000_000n, database, retain: 10 },
    ...overrides,
  };
}

/** Builds a server (closed after the test), watching the timers from now on. */
async function buildServer(config: Config): Promise<KeyquarryServer> {
  timers = watchTimers();
  const server = await build(config, { logger: false });
  servers.push(server);
  return server;
}

/** The snapshots saved under "lifecycle" in a SQLite file. */
async function snapshotsIn(file: string) {
  const store = new SqliteSnapshotStore(file);
  try {
    return await store.list("lifecycle");
  } finally {
    await store.close();
  }
}

describe("build() and close() without listen()", () => {
  it("start no timer and write no snapshot", async () => {
    const file = join(dir, "snapshots.db");
    const server = await buildServer(configOf(`sqlite://${file}`));
    expect(creators(await timers!.pending())).toEqual([]);

    await server.close();
    expect(await timers!.pending()).toEqual([]);
    expect(await snapshotsIn(file)).toEqual([]);
  });
});

describe("listen() then close()", () => {
  it("runs every timer and the snapshotter while listening; close() stops them all and writes the final snapshot", async () => {
    const file = join(dir, "snapshots.db");
    const server = await buildServer(configOf(`sqlite://${file}`));
    const url = await server.listen();
    // A lock arms the expiry timer for its end.
    const { kv } = createClients("connect", url, "alice");
    await kv.lock({ key: "mutex", duration: create(DurationSchema, { seconds: 600n }), createIfMissing: true });
    expect(creators(await timers!.pending())).toEqual([
      "/server/src/host/expiry-timer.ts",
      "/server/src/host/prune-timer.ts",
      "/server/src/host/watch-sweep-timer.ts",
      "/server/src/snapshot/snapshotter.ts",
    ]);

    await server.close();
    expect(creators(await timers!.pending())).toEqual([]);
    expect(await snapshotsIn(file)).toHaveLength(1);
  });
});

describe("a listen() that fails", () => {
  let database: TestDatabase;
  let occupier: Server;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    occupier = createServer();
    await new Promise<void>((resolve) => occupier.listen(0, "127.0.0.1", resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => occupier.close(resolve));
  });

  const failures = [
    { on: "a port in use", listenAddress: () => `127.0.0.1:${(occupier.address() as AddressInfo).port}`, error: /listen EADDRINUSE/ },
    { on: "a unix socket in a missing directory", listenAddress: () => `unix://${join(dir, "missing", "kq.sock")}`, error: /listen (ENOENT|EACCES)/ },
  ];

  it.each(failures)("on $on leaves no timer, no database connection and no open handle behind", async ({ listenAddress, error }) => {
    const baseline = await openHandles();
    // Postgres: the restore's connection is a socket, an active resource until the snapshot store closes.
    const server = await buildServer(configOf(database.url, { listenAddress: listenAddress() }));
    expect(await openHandles()).toEqual([...baseline, "TCPSocketWrap"].sort());

    await expect(server.listen()).rejects.toThrow(error);
    expect(await timers!.pending()).toEqual([]);
    expect(await openHandles()).toEqual(baseline);
    // Closing again is harmless.
    await server.close();
  });

  it("still lets a SQLite-backed server close cleanly, writing no snapshot", async () => {
    const file = join(dir, "snapshots.db");
    const server = await buildServer(configOf(`sqlite://${file}`, { listenAddress: failures[0]!.listenAddress() }));
    await expect(server.listen()).rejects.toThrow(/EADDRINUSE/);
    expect(await timers!.pending()).toEqual([]);
    expect(await snapshotsIn(file)).toEqual([]);
  });
});
