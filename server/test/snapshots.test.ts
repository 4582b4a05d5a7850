/**
 * Snapshots end to end, through the real server over real databases (a
 * SQLite file and a fresh PostgreSQL database): what a server holds when it
 * closes is what the next one starts with; expirations that passed while it
 * was down happen at start; start_fresh, retention and server names; a
 * corrupt snapshot stops the start. Then `keyquarry serve` as a process
 * (SQLite): SIGTERM under load, kill -9 after a periodic snapshot, and a
 * database that refuses writes for a while.
 */
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from "vitest";
import type { Config } from "../src/config/config.js";
import { defaultConfig } from "../src/config/default-config.js";
import { build } from "../src/host/server.js";
import { openSnapshotStore, SnapshotError, SqliteSnapshotStore, type SnapshotStore } from "../src/snapshot/index.js";
import { ManualClock } from "../src/store/clock.js";
import type { StoreState } from "../src/store/store-state.js";
import {
  backends,
  comparable,
  reservedKeyEvents,
  second,
  type SnapshotDatabaseHandle,
} from "./snapshot-helpers.js";
import { bytes, text } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { killServeProcesses, ServeExitedError, spawnServe, type ServeProcess } from "./kit/spawn-serve.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { Watcher } from "./kit/watch-helpers.js";

const seconds = (n: number) => create(DurationSchema, { seconds: BigInt(n) });
const millisecond = 1_000_000n;

let tempDir: string;
beforeAll(() => {
  tempDir = mkdtempSync(join(tmpdir(), "kq-snapshots-e2e-"));
});
afterAll(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

/** The keys of a state by name. */
const keysOf = (state: StoreState) => new Map(state.keys.map((k) => [k.key, k]));

describe.each(backends)("snapshots over $name, through the real server", (backend) => {
  let db: SnapshotDatabaseHandle;
  /** A connection of the test's own, to list and load what the servers saved. */
  let snapshots: SnapshotStore;
  const running = new Set<TestServer>();
  let serverCount = 0;
  /** A server name of this test's own: the suite shares one database. */
  let name: string;

  beforeAll(async () => {
    db = await backend.create(tempDir);
    snapshots = openSnapshotStore(db.connectionString, tempDir);
    await snapshots.migrate();
  });
  afterAll(async () => {
    await snapshots?.close();
    await db?.remove();
  });
  beforeEach(() => {
    name = `${backend.name}-server-${serverCount++}`;
  });
  afterEach(async () => {
    for (const server of running) {
      await server.close().catch(() => {});
    }
    running.clear();
    await killServeProcesses();
  });

  /** The config of this test's servers: snapshots on (at close only), generous lock and lifespan bounds. */
  function configOf(overrides: Partial<Config> = {}): Config {
    return {
      ...defaultConfig(),
      listenAddress: "127.0.0.1:0",
      name,
      dataDir: tempDir,
      privilegedClientId: "boss",
      persistentRevisions: true,
      revisionLimit: 5,
      minLockDuration: second,
      maxLockDuration: 3600n * second,
      minLifespan: second,
      snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database: db.connectionString, retain: 10 },
      ...overrides,
    };
  }

  async function start(clock: ManualClock, overrides: Partial<Config> = {}): Promise<TestServer> {
    const server = await startTestServer(configOf(overrides), { clock });
    running.add(server);
    return server;
  }

  /** Closes a server: its final snapshot is written when this resolves. */
  async function stop(server: TestServer): Promise<void> {
    running.delete(server);
    await server.close();
  }

  function clientsOf(server: TestServer) {
    return {
      alice: createClients("grpc", server.url, "alice").kv,
      bob: createClients("connect", server.url, "bob").kv,
      carol: createClients("grpc-web", server.url, "carol").kv,
      boss: createClients("connect", server.url, "boss").kv,
    };
  }

  it("restores every piece of state after a restart: keys, values, types, history, locks, lifespans, metrics, clients, counters, read-only", async () => {
    const clock = new ManualClock();
    const first = await start(clock);
    let { alice, bob, carol, boss } = clientsOf(first);
    const tick = () => clock.advance(millisecond);

    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52);
    const oddKey = "ünïcödé/🔑 with\u0000nul";
    await alice.set({ key: "text", value: bytes("hello, world") }); // content type sniffed
    tick();
    await alice.set({ key: "json", value: bytes('{"a":1}'), contentType: "application/json" });
    tick();
    await alice.set({ key: "binary", value: Uint8Array.of(0, 255, 1, 254, 0, 128), contentType: "application/octet-stream" });
    await alice.set({ key: "png", value: png }); // sniffed from the bytes
    await alice.set({ key: "empty", value: new Uint8Array(0) });
    await alice.set({ key: "explicit-empty", value: new Uint8Array(0), contentType: "text/x-nothing" });
    await bob.set({ key: oddKey, value: bytes("odd key"), contentType: "text/plain; charset=\u00fctf-8" });
    for (const version of [1, 2, 3, 4]) {
      tick();
      await alice.set({ key: "versioned", value: version === 3 ? png : bytes(`v${version}`) });
    }
    // Deleted: its metrics outlive it, its history does not.
    await alice.set({ key: "deleted", value: bytes("gone soon") });
    await alice.get({ key: "deleted" });
    await alice.delete({ key: "deleted" });
    tick();
    const aliceLock = await alice.lock({ key: "alice-lock", duration: seconds(600), createIfMissing: true });
    const bobLock = await bob.set({ key: "bob-lock", value: bytes("mine"), lockDuration: seconds(300) });
    await alice.set({ key: "ephemeral", value: bytes("temp"), lifespan: seconds(3600) });
    clock.advance(5n * second);
    await alice.set({ key: "ephemeral", value: bytes("temp 2") }); // renews the lifespan
    const both = await carol.set({ key: "locked-ephemeral", value: bytes("both"), lifespan: seconds(1800), lockDuration: seconds(900) });
    await alice.get({ key: "text" });
    await bob.get({ key: "text" });
    await alice.inspect({ key: "json", includeValue: true });
    await alice.lock({ key: "alice-lock", duration: seconds(60) }); // extends it, same token
    await carol.register({});
    await alice.register({});
    tick();
    await boss.setReadOnly({ enable: true });
    const fencingTokens = [aliceLock.fencingToken, bobLock.fencingToken!, both.fencingToken!];

    // What the clients saw (calls that record no event), and the whole state.
    const keyNames = (await alice.listKeys({})).keys;
    expect(keyNames).toEqual(["text", "json", "binary", "png", "empty", "explicit-empty", oddKey, "versioned", "alice-lock", "bob-lock", "ephemeral", "locked-ephemeral"]);
    const inspected = new Map<string, unknown>();
    for (const key of keyNames) {
      inspected.set(key, await alice.inspect({ key, includeMetrics: true }));
    }
    const deletedMetric = await alice.getKeyMetric({ key: "deleted" });
    const revisions = await Promise.all([1n, 2n, 3n, 4n, -1n, -3n].map((version) => alice.getRevision({ key: "versioned", version })));
    const statsBefore = await alice.stats({});
    const before = first.server.store.exportState(true);
    expect(statsBefore.revision).toBe(before.revision);
    expect(before.fencingToken).toBe(fencingTokens.reduce((a, b) => (a > b ? a : b)));
    expect(before.readonly).toBe(true);
    expect(before.history.map(({ key }) => key)).toContain("versioned");
    expect(before.clients.map(({ clientId }) => clientId).sort()).toEqual(["alice", "carol"]);
    await stop(first);

    const restarted = await start(clock);
    const after = restarted.server.store.exportState(true);
    // Exactly the state saved; only the reserved keys, written again at start (one command), moved the revision.
    expect(comparable(after)).toEqual({ ...comparable(before), revision: before.revision + reservedKeyEvents, commandSeq: before.commandSeq + 1n });

    ({ alice, bob, carol, boss } = clientsOf(restarted));
    expect((await alice.listKeys({})).keys).toEqual(keyNames);
    for (const key of keyNames) {
      expect(await alice.inspect({ key, includeMetrics: true }), key).toEqual(inspected.get(key));
    }
    expect(await alice.getKeyMetric({ key: "deleted" })).toEqual(deletedMetric);
    expect((await rejection(alice.inspect({ key: "deleted" }))).code).toBe(Code.NotFound);
    expect(await Promise.all([1n, 2n, 3n, 4n, -1n, -3n].map((version) => alice.getRevision({ key: "versioned", version })))).toEqual(revisions);
    const statsAfter = await alice.stats({});
    for (const field of ["keys", "totalSize", "currentLocks", "clientIds", "reapers", "pressure", "history"] as const) {
      expect(statsAfter[field], field).toEqual(statsBefore[field]);
    }
    expect(statsAfter.revision).toBe(statsBefore.revision! + reservedKeyEvents);
    // Registered clients.
    expect((await rejection(carol.register({}))).code).toBe(Code.AlreadyExists);
    // Locks: still held by their owners, with their tokens.
    expect((await rejection(bob.get({ key: "alice-lock" }))).rawMessage).toBe("Key is locked");
    expect((await rejection(alice.get({ key: "bob-lock" }))).rawMessage).toBe("Key is locked");
    expect((await rejection(alice.get({ key: "locked-ephemeral" }))).rawMessage).toBe("Key is locked");
    // Read-only mode, until the privileged client turns it off.
    const refused = await rejection(alice.set({ key: "new", value: bytes("x") }));
    expect([refused.code, refused.rawMessage]).toEqual([Code.FailedPrecondition, "server in readonly mode"]);
    await boss.setReadOnly({ enable: false });
    expect((await rejection(alice.set({ key: "bob-lock", value: bytes("x") }))).rawMessage).toBe("client_id provided does not match key");

    // Values, read last (a Get is an access and changes metrics).
    const expectValue = async (key: string, value: Uint8Array) =>
      expect((await (key === "bob-lock" ? bob : key === "locked-ephemeral" ? carol : alice).get({ key })).value, key).toEqual(value);
    await expectValue("text", bytes("hello, world"));
    await expectValue("json", bytes('{"a":1}'));
    await expectValue("binary", Uint8Array.of(0, 255, 1, 254, 0, 128));
    await expectValue("png", png);
    await expectValue("empty", new Uint8Array(0));
    await expectValue("explicit-empty", new Uint8Array(0));
    await expectValue(oddKey, bytes("odd key"));
    await expectValue("versioned", bytes("v4"));
    await expectValue("alice-lock", new Uint8Array(0));
    await expectValue("bob-lock", bytes("mine"));
    await expectValue("ephemeral", bytes("temp 2"));
    await expectValue("locked-ephemeral", bytes("both"));
    const types = Object.fromEntries(keyNames.map((key) => [key, (inspected.get(key) as { contentType: string }).contentType]));
    expect(types).toMatchObject({
      text: "text/plain; charset=utf-8",
      json: "application/json",
      png: "image/png",
      empty: "",
      "explicit-empty": "text/x-nothing",
      [oddKey]: "text/plain; charset=\u00fctf-8",
    });
    // A sniffed type stays sniffed: a new value is sniffed again.
    await alice.set({ key: "png", value: bytes("now text") });
    expect((await alice.inspect({ key: "png" })).contentType).toBe("text/plain; charset=utf-8");

    // The fencing-token counter continues: a new lock gets a higher token than any before.
    const newLock = await carol.lock({ key: "new-lock", duration: seconds(10), createIfMissing: true });
    expect(newLock.fencingToken).toBe(before.fencingToken + 1n);

    // Event revisions continue to grow: a watcher sees revisions after every one before the restart.
    const { revision: latest } = await bob.stats({});
    expect(latest).toBeGreaterThan(before.revision + reservedKeyEvents);
    const watcher = new Watcher((signal) => bob.watchStream({ keys: ["watched"], startRevision: latest }, { signal }));
    try {
      await alice.set({ key: "watched", value: bytes("seen") });
      const [event] = await watcher.take(1);
      expect(event).toMatchObject({ key: "watched", event: KeyEvent.CREATED, clientId: "alice", revision: latest! + 1n });
    } finally {
      watcher.cancel();
    }
  });

  it("expires at start what ended while the server was down; a restored lock keeps only its remaining time", async () => {
    const clock = new ManualClock();
    const first = await start(clock);
    const { alice } = clientsOf(first);
    await alice.set({ key: "short", value: bytes("10 s"), lifespan: seconds(10) });
    await alice.set({ key: "long", value: bytes("1 h"), lifespan: seconds(3600) });
    const held = await alice.lock({ key: "held", duration: seconds(60), createIfMissing: true });
    const before = first.server.store.exportState(true);
    const heldDeadline = keysOf(before).get("held")!.lock!.deadline;
    const shortDeadline = keysOf(before).get("short")!.lifespan!.deadline;
    await stop(first);

    clock.advance(30n * second); // "short" ended while down; "held" has 30 s left
    const restarted = await start(clock);
    const after = restarted.server.store.exportState(true);
    expect(after.keys.map(({ key }) => key)).toEqual(["long", "held"]);
    // Absolute deadlines: nothing was moved by the downtime.
    expect(keysOf(after).get("long")).toEqual(keysOf(before).get("long"));
    expect(keysOf(after).get("held")).toEqual(keysOf(before).get("held"));
    // The metrics of the expired key remain; its history went with it.
    expect(after.metrics.find(({ key }) => key === "short")?.metrics).toEqual(before.metrics.find(({ key }) => key === "short")?.metrics);
    expect(after.history.map(({ key }) => key)).toEqual(["long", "held"]);

    const { alice: alice2, bob } = clientsOf(restarted);
    const stats = await bob.stats({});
    expect(stats.events?.expired).toBe(1n);
    expect(stats.events?.unlocked).toBe(0n);
    expect(stats.reapers).toBe(1n);
    expect(stats.currentLocks).toBe(1n);
    expect(stats.revision).toBe(before.revision + reservedKeyEvents + 1n);
    expect((await rejection(bob.get({ key: "short" }))).code).toBe(Code.NotFound);
    expect((await bob.exists({ key: "short" })).exists).toBe(false);
    // The EXPIRED event, by the server, at the deadline, right after the reserved keys.
    const watcher = new Watcher((signal) => bob.watchStream({ keys: ["short"], startRevision: before.revision }, { signal }));
    try {
      const [expired] = await watcher.take(1);
      expect(expired).toMatchObject({ key: "short", event: KeyEvent.EXPIRED, clientId: "keyquarry", revision: before.revision + reservedKeyEvents + 1n });
      expect(expired!.time!.seconds * second + BigInt(expired!.time!.nanos)).toBe(shortDeadline);
    } finally {
      watcher.cancel();
    }

    // The lock: still alice's until its old deadline, not for another 60 s.
    expect(clock.now()).toBeLessThan(heldDeadline);
    clock.advance(heldDeadline - clock.now() - 1n);
    expect((await rejection(bob.lock({ key: "held", duration: seconds(10) }))).rawMessage).toBe("locked by another client");
    expect((await alice2.inspect({ key: "held" })).fencingToken).toBe(held.fencingToken);
    clock.advance(1n);
    const taken = await bob.lock({ key: "held", duration: seconds(10) });
    expect(taken.fencingToken).toBe(held.fencingToken + 1n);
    expect((await bob.stats({})).events?.unlocked).toBe(1n);
    expect(text((await bob.get({ key: "long" })).value)).toBe("1 h");
  });

  it("start_fresh starts empty but still snapshots at close; the next start restores that newer, empty state", async () => {
    const clock = new ManualClock();
    const first = await start(clock);
    await clientsOf(first).alice.set({ key: "old", value: bytes("from the first run") });
    await stop(first);
    expect((await snapshots.list(name)).map(({ keys }) => keys)).toEqual([1]);

    const fresh = await start(clock, { startFresh: true });
    const freshState = fresh.server.store.exportState(true);
    expect(freshState.keys).toEqual([]);
    expect(freshState.clients).toEqual([]);
    expect(freshState.revision).toBe(reservedKeyEvents);
    const { alice } = clientsOf(fresh);
    expect((await alice.exists({ key: "old" })).exists).toBe(false);
    expect((await alice.stats({})).keys).toBe(16n);
    await stop(fresh);
    expect((await snapshots.list(name)).map(({ keys }) => keys)).toEqual([0, 1]);

    const third = await start(clock);
    const state = third.server.store.exportState(true);
    expect(state.keys).toEqual([]);
    expect(state.revision).toBe(2n * reservedKeyEvents);
    expect((await clientsOf(third).alice.exists({ key: "old" })).exists).toBe(false);
  });

  it("keeps only `retain` snapshots of its name, never touching (nor restoring) another name's", async () => {
    const clock = new ManualClock();
    const ownName = name;
    const otherName = `${name}-other`;
    const other = await start(clock, { name: otherName });
    await clientsOf(other).alice.set({ key: "other-key", value: bytes("other") });
    await stop(other);
    const otherSnapshots = await snapshots.list(otherName);
    expect(otherSnapshots).toHaveLength(1);

    const ids: bigint[] = [];
    for (const run of [0, 1, 2, 3]) {
      const server = await start(clock, { snapshot: { ...configOf().snapshot, retain: 2 } });
      await clientsOf(server).alice.set({ key: `run-${run}`, value: bytes(String(run)) });
      await stop(server);
      ids.push((await snapshots.list(ownName))[0]!.id);
    }
    const kept = await snapshots.list(ownName);
    expect(kept.map(({ id }) => id)).toEqual([ids[3], ids[2]]);
    expect(kept.map(({ keys }) => keys)).toEqual([4, 3]);
    expect(await snapshots.list(otherName)).toEqual(otherSnapshots);
    const all = await snapshots.list();
    expect(all.filter(({ serverName }) => serverName === ownName || serverName === otherName).map(({ id }) => id)).toEqual([
      ids[3],
      ids[2],
      otherSnapshots[0]!.id,
    ]);
    for (const id of ids.slice(0, 2)) {
      expect(await snapshots.load(id)).toBeUndefined();
    }

    const own = await start(clock);
    expect(own.server.store.exportState(true).keys.map(({ key }) => key)).toEqual(["run-0", "run-1", "run-2", "run-3"]);
    const otherAgain = await start(clock, { name: otherName });
    expect(otherAgain.server.store.exportState(true).keys.map(({ key }) => key)).toEqual(["other-key"]);
  });

  // Regression: one snapshot of a newer format once made the whole listing fail.
  it("lists a snapshot of a newer format (another server's) with its format, instead of refusing the whole listing", async () => {
    const clock = new ManualClock();
    const newerName = `${name}-newer`;
    const other = await start(clock, { name: newerName });
    await stop(other);
    const [newer] = await snapshots.list(newerName);
    await db.execute(`UPDATE snapshots SET format = 2 WHERE id = ${newer!.id}`);
    onTestFinished(() => db.execute(`DELETE FROM snapshots WHERE id = ${newer!.id}`));
    // This server's own snapshots are not affected.
    await stop(await start(clock));
    expect(await snapshots.list(name)).toHaveLength(1);
    expect((await snapshots.list()).find(({ id }) => id === newer!.id)?.format).toBe(2);
  });

  describe.each([
    { corruption: "a key's hash is not a uint64", statement: (id: bigint) => `UPDATE snapshot_keys SET hash = 'garbage' WHERE snapshot_id = ${id}`, problem: /snapshot_keys: row 0: column hash is not a uint64/ },
    { corruption: "its format is newer than this server's", statement: (id: bigint) => `UPDATE snapshots SET format = 999 WHERE id = ${id}`, problem: /format 999 is newer/ },
  ])("a corrupt snapshot ($corruption)", ({ statement, problem }) => {
    /** The corrupt snapshot still refuses to load, the older one still loads, and no newer one was saved. */
    async function expectUntouched(corrupt: bigint, older: bigint): Promise<void> {
      await expect(snapshots.load(corrupt)).rejects.toBeInstanceOf(SnapshotError);
      expect((await snapshots.load(older))?.keys.map(({ key }) => key)).toEqual(["a"]);
      await expect(snapshots.load(corrupt + 1n)).resolves.toBeUndefined();
    }

    it("makes build() reject with a SnapshotError naming it, never restoring an empty or older state; keyquarry serve exits 1 saying why", async () => {
      const clock = new ManualClock();
      const first = await start(clock);
      await clientsOf(first).alice.set({ key: "a", value: bytes("in both snapshots") });
      await stop(first);
      const restarted = await start(clock);
      await clientsOf(restarted).alice.set({ key: "b", value: bytes("in the newest only") });
      await stop(restarted);
      const [newest, older] = await snapshots.list(name);
      expect(older).toBeDefined();
      await db.execute(statement(newest!.id));
      // The suite shares the database: the corrupt snapshot must not outlive this test.
      onTestFinished(() => db.execute(`DELETE FROM snapshots WHERE id = ${newest!.id}`));

      let error: unknown;
      try {
        const server = await build(configOf(), { clock, logger: false });
        await server.close().catch(() => {});
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SnapshotError);
      expect((error as SnapshotError).snapshotId).toBe(newest!.id);
      expect((error as SnapshotError).message).toMatch(new RegExp(`^snapshot ${newest!.id}: `));
      expect((error as SnapshotError).message).toMatch(problem);
      // Both snapshots are still there: nothing was deleted, overwritten or saved over them.
      await expectUntouched(newest!.id, older!.id);

      const serve = spawnServe({
        env: {
          KEYQUARRY_SNAPSHOT_ENABLED: "true",
          KEYQUARRY_SNAPSHOT_DATABASE: db.connectionString,
          KEYQUARRY_NAME: name,
          KEYQUARRY_DATA_DIR: tempDir,
        },
      });
      const exited = await serve.then(
        () => expect.fail("keyquarry serve started on a snapshot it cannot restore"),
        (error: unknown) => error,
      );
      expect(exited).toBeInstanceOf(ServeExitedError);
      expect((exited as ServeExitedError).exit).toEqual({ code: 1, signal: null });
      expect((exited as ServeExitedError).stderr).toMatch(new RegExp(`^keyquarry: snapshot ${newest!.id}: .*\\n$`));
      expect((exited as ServeExitedError).stderr).toMatch(problem);
      await expectUntouched(newest!.id, older!.id);
    });
  });
});

describe("keyquarry serve with a SQLite snapshot database (process)", () => {
  const serverName = "process-test";
  let dir: string;
  let file: string;
  const inProcess = new Set<TestServer>();
  const stores = new Set<SnapshotStore>();

  beforeEach(() => {
    dir = mkdtempSync(join(tempDir, "process-"));
    file = join(dir, "keyquarry.db");
  });
  afterEach(async () => {
    await killServeProcesses();
    for (const server of inProcess) {
      await server.close().catch(() => {});
    }
    inProcess.clear();
    for (const store of stores) {
      await store.close().catch(() => {});
    }
    stores.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `keyquarry serve` on `file`, once it is listening. */
  function serve(env: Record<string, string> = {}): Promise<ServeProcess> {
    return spawnServe({
      env: {
        KEYQUARRY_SNAPSHOT_ENABLED: "true",
        KEYQUARRY_SNAPSHOT_DATABASE: `sqlite://${file}`,
        KEYQUARRY_NAME: serverName,
        KEYQUARRY_DATA_DIR: dir,
        ...env,
      },
    });
  }

  /** An in-process server on the same database and name (snapshots only at close). */
  async function restart(): Promise<TestServer> {
    const server = await startTestServer({
      name: serverName,
      dataDir: dir,
      snapshot: { enabled: true, interval: 0n, journal: "off", journalInterval: 1_000_000_000n, database: `sqlite://${file}`, retain: 10 },
    });
    inProcess.add(server);
    return server;
  }

  function openStore(): SnapshotStore {
    const store = new SqliteSnapshotStore(file, { fileMustExist: true });
    stores.add(store);
    return store;
  }

  it("SIGTERM during a write load: exits 0, and the next server has every acknowledged write", { timeout: 60_000 }, async () => {
    const proc = await serve();
    /** Last acknowledged value of every key. */
    const acked = new Map<string, string>();
    /** The write in flight of each writer; what is left when it stops is the one that failed. */
    const inFlight = new Map<number, { key: string; value: string }>();
    const ackCounts = new Array<number>(8).fill(0);
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      const { kv } = createClients(writer % 2 === 0 ? "grpc" : "connect", proc.url, `writer-${writer}`);
      for (let n = 0; ; n++) {
        const write = { key: `w${writer}/k${n % 25}`, value: `${writer}:${n}` };
        inFlight.set(writer, write);
        try {
          await kv.set({ key: write.key, value: bytes(write.value) });
        } catch (error) {
          return ConnectError.from(error);
        }
        inFlight.delete(writer);
        acked.set(write.key, write.value);
        ackCounts[writer]!++;
      }
    });
    // Every writer has gone round its 25 keys at least twice: then SIGTERM, while they keep writing.
    await vi.waitFor(() => expect(Math.min(...ackCounts)).toBeGreaterThanOrEqual(50), { timeout: 20_000, interval: 10 });
    proc.child.kill("SIGTERM");
    const exit = await proc.exited;
    const failures = await Promise.all(writers);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(failures.every((failure) => failure instanceof ConnectError)).toBe(true);
    expect(acked.size).toBe(8 * 25);

    const next = await restart();
    const restored = keysOf(next.server.store.exportState(false));
    const { kv } = createClients("connect", next.url, "checker");
    for (const [key, value] of acked) {
      const writer = Number(/^w(\d+)\//.exec(key)![1]);
      const failed = inFlight.get(writer);
      // The one write that was never acknowledged may have been applied too (its answer was lost).
      const accepted = failed?.key === key ? [value, failed.value] : [value];
      expect(accepted, key).toContain(text(restored.get(key)?.value ?? bytes("<missing>")));
      expect(accepted, key).toContain(text((await kv.get({ key })).value));
    }
  });

  it("kill -9 after a periodic snapshot: the database opens fine and holds exactly the last periodic snapshot", { timeout: 60_000 }, async () => {
    // Snapshots alone: with the journal, the writes after the snapshot survive too (journal-crash.test.ts).
    const proc = await serve({ KEYQUARRY_SNAPSHOT_INTERVAL: "200ms", KEYQUARRY_SNAPSHOT_JOURNAL: "off" });
    const { kv } = createClients("connect", proc.url, "writer");
    for (let i = 0; i < 20; i++) {
      await kv.set({ key: `first/${i}`, value: bytes(`value ${i}`), lifespan: i === 0 ? seconds(3600) : undefined });
    }
    await kv.lock({ key: "first/locked", duration: seconds(600), createIfMissing: true });
    const { revision } = await kv.stats({});
    const reader = openStore();
    // Stats does not change the revision, so no snapshot follows the one holding these writes.
    await vi.waitFor(
      async () => {
        expect((await kv.stats({})).snapshotsCreated).toBeGreaterThan(0n);
        expect((await reader.list(serverName))[0]?.revision).toBe(revision);
      },
      { timeout: 15_000, interval: 50 },
    );
    // More writes, then kill -9 at once: a periodic snapshot may or may not have caught some of them.
    for (let i = 0; i < 20; i++) {
      await kv.set({ key: `second/${i}`, value: bytes(`value ${i}`) });
    }
    proc.child.kill("SIGKILL");
    expect(await proc.exited).toEqual({ code: null, signal: "SIGKILL" });

    const integrity = new Database(file, { fileMustExist: true });
    try {
      expect(integrity.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      integrity.close();
    }
    const next = await restart();
    const latest = await reader.loadLatest(serverName);
    expect(latest).toBeDefined();
    const restored = next.server.store.exportState(false);
    expect(comparable(restored)).toEqual({ ...comparable(latest!), revision: latest!.revision + reservedKeyEvents });
    const names = restored.keys.map(({ key }) => key);
    expect(names.slice(0, 21)).toEqual([...Array.from({ length: 20 }, (_, i) => `first/${i}`), "first/locked"]);
    // Of the second batch, what a snapshot holds is the writes before some instant: a prefix.
    const secondBatch = names.slice(21);
    expect(secondBatch).toEqual(Array.from({ length: secondBatch.length }, (_, i) => `second/${i}`));
    expect(keysOf(restored).get("first/locked")?.lock?.owner).toBe("writer");
    expect(keysOf(restored).get("first/0")?.lifespan?.duration).toBe(3600n * second);
  });

  it("a database that refuses writes during a periodic snapshot: the server keeps answering, the next snapshot after the lock succeeds", { timeout: 60_000 }, async () => {
    // Snapshots alone: a sync journal refuses writes while the database does (journal-failures.test.ts).
    const proc = await serve({ KEYQUARRY_SNAPSHOT_INTERVAL: "200ms", KEYQUARRY_SNAPSHOT_JOURNAL: "off" });
    const { kv } = createClients("connect", proc.url, "writer");
    await kv.set({ key: "before", value: bytes("1") });
    const { revision } = await kv.stats({});
    const reader = openStore();
    await vi.waitFor(
      async () => {
        expect((await reader.list(serverName))[0]?.revision).toBe(revision);
      },
      { timeout: 15_000, interval: 50 },
    );
    const created = (await kv.stats({})).snapshotsCreated!;
    expect(created).toBeGreaterThan(0n);

    const blocker = new Database(file, { fileMustExist: true });
    blocker.exec("BEGIN EXCLUSIVE");
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        blocker.exec("COMMIT");
        blocker.close();
      }
    };
    try {
      await kv.set({ key: "during", value: bytes("2") }); // a change: the next tick tries to save
      // The save waits for the lock (busy timeout), fails, and is logged.
      await vi.waitFor(() => expect(proc.stdout()).toMatch(/snapshot failed/), { timeout: 20_000, interval: 100 });
      // Still serving, reads and writes alike, and nothing was counted as saved.
      await kv.set({ key: "during 2", value: bytes("3") });
      expect(text((await kv.get({ key: "during" })).value)).toBe("2");
      const stats = await kv.stats({});
      expect(stats.snapshotsCreated).toBe(created);
      expect(proc.child.exitCode).toBeNull();
      expect((await reader.list(serverName))[0]?.revision).toBe(revision);
    } finally {
      release();
    }

    await vi.waitFor(
      async () => {
        expect((await kv.stats({})).snapshotsCreated).toBeGreaterThan(created);
      },
      { timeout: 20_000, interval: 100 },
    );
    const latest = await reader.loadLatest(serverName);
    expect(latest?.keys.map(({ key }) => key)).toEqual(["before", "during", "during 2"]);

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it("a final snapshot that cannot be written: keyquarry serve exits 1 and says why", { timeout: 60_000 }, async () => {
    const proc = await serve();
    await createClients("connect", proc.url, "writer").kv.set({ key: "unsaved", value: bytes("x") });
    const blocker = new Database(file, { fileMustExist: true });
    blocker.exec("BEGIN EXCLUSIVE");
    try {
      proc.child.kill("SIGTERM");
      // The final save waits for the lock (busy timeout), then fails.
      expect(await proc.exited).toEqual({ code: 1, signal: null });
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    expect(proc.stdout()).toMatch(/the final snapshot could not be written/);
    expect(proc.stdout()).toMatch(/database is locked/);
    expect(await openStore().list(serverName)).toEqual([]);
  });
});
