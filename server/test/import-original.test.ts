/**
 * `keyquarry snapshot import-original`: snapshots of the original Go
 * keyquarry, in its own table (SQLite and PostgreSQL, plain and gzip), into
 * our snapshot database (then restored by `keyquarry serve`) and into a
 * running server through the API.
 */
import { createKeyquarryClient, type KeyquarryClient } from "@keyquarry/client-node";
import { Code } from "@connectrpc/connect";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keyquarry } from "./kit/cli-process.js";
import { freePort } from "./kit/free-port.js";
import { createTestDatabase, type TestDatabase } from "./kit/create-test-database.js";
import { nanosFromNow, originalDocument, writeOriginalPostgres, writeOriginalSqlite, type OriginalKeySpec, type OriginalRow } from "./kit/original-snapshot.js";
import { killServeProcesses, spawnServe } from "./kit/spawn-serve.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { rejection } from "./kit/rejection.js";

const second = 1_000_000_000n;
const minute = 60n * second;
const hour = 60n * minute;
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
/** ns since the epoch of a google.protobuf.Timestamp. */
const nanosOf = (timestamp: { seconds: bigint; nanos: number } | undefined) => timestamp!.seconds * second + BigInt(timestamp!.nanos);
/** ns of a google.protobuf.Duration. */
const durationNanos = (duration: { seconds: bigint; nanos: number } | undefined) => duration!.seconds * second + BigInt(duration!.nanos);

const serverName = "alice@old-host";
/** Beyond 2^53: survives only if uint64 are read losslessly. */
const bigVersion = 9_007_199_254_740_993n;

/** The snapshot under test, built at `now` (locks and lifespans are relative to it). */
function snapshotKeys(now: bigint): OriginalKeySpec[] {
  const created = 1_700_000_000_123_456_789n;
  return [
    {
      key: "plain",
      value: "hello v7",
      contentType: "text/plain; charset=utf-8",
      created,
      updated: created + 3n * second + 7n,
      version: 7n,
      createdBy: "alice",
      history: [
        { value: "hello v5", contentType: "text/plain; charset=utf-8", version: 5n, timestamp: created + second },
        { value: "hello v6", contentType: "text/plain; charset=utf-8", version: 6n, timestamp: created + 2n * second },
        { value: "hello v7", contentType: "text/plain; charset=utf-8", version: 7n, timestamp: created + 3n * second + 7n },
      ],
    },
    { key: "binary", value: Uint8Array.of(0, 1, 2, 255), contentType: "application/x-custom", created, version: bigVersion, createdBy: "bob" },
    { key: "page", value: "<html><body>hi</body></html>", contentType: "text/html; charset=utf-8", created, version: 1n, createdBy: "alice" },
    { key: "empty", value: null, created, version: 1n, createdBy: "alice" },
    { key: "locked", value: "mine", created, version: 2n, createdBy: "bob", lock: { clientId: "bob", duration: 10n * minute, created: now - minute } },
    { key: "stale-lock", value: "free", created, version: 1n, createdBy: "bob", lock: { clientId: "bob", duration: 10n * second, created: now - hour } },
    { key: "ttl", value: "soon gone", created, version: 1n, createdBy: "alice", lifespan: { lifespan: hour, set: now - 10n * minute } },
    { key: "expired", value: "gone", created, version: 1n, createdBy: "alice", lifespan: { lifespan: 10n * second, set: now - hour } },
  ];
}

/** Three rows: an older snapshot and another server's, before the newest of `serverName`. */
function rows(newest: string | Uint8Array): OriginalRow[] {
  const older = originalDocument([{ key: "old-only", value: "old", created: 1n, version: 1n, createdBy: "alice" }]);
  return [
    { serverName, data: older },
    { serverName: "someone@else", data: older },
    { serverName, data: newest },
  ];
}

/** The original's snapshot database of each kind: where it is, and how to fill it. */
interface OriginalDatabase {
  location: string;
  write(rows: OriginalRow[]): Promise<bigint[]>;
}

/** Our snapshot database of the same kind: what `--into` takes, and `serve`'s snapshot.database. */
interface OurDatabase {
  into: string;
  connectionString: string;
}

/** A fresh PostgreSQL database, dropped after the suite. */
async function postgresDatabase(): Promise<string> {
  const database = await createTestDatabase();
  databases.push(database);
  return database.url;
}

let dir: string;
const databases: TestDatabase[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kq-import-original-"));
});
afterEach(async () => {
  await killServeProcesses();
});
afterAll(async () => {
  for (const database of databases) {
    await database.drop();
  }
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
const kinds: Array<{ name: string; compress: boolean; create(): Promise<OriginalDatabase>; ours(): Promise<OurDatabase> }> = [
  {
    name: "SQLite, gzip-compressed",
    compress: true,
    async create() {
      const file = join(dir, `original-${files++}.db`);
      return { location: file, write: async (rows) => writeOriginalSqlite(file, rows) };
    },
    async ours() {
      // A bare path, as the original's database is given.
      const file = join(dir, `ours-${files++}.db`);
      return { into: file, connectionString: `sqlite://${file}` };
    },
  },
  {
    name: "PostgreSQL (JSONB)",
    compress: false,
    async create() {
      const url = await postgresDatabase();
      return { location: url, write: (rows) => writeOriginalPostgres(url, rows) };
    },
    async ours() {
      const url = await postgresDatabase();
      return { into: url, connectionString: url };
    },
  },
];

/** A client calling as `clientId`. */
const clientAs = (url: string, clientId: string): KeyquarryClient => createKeyquarryClient(url, { clientId });

describe.each(kinds)("import-original from $name", (kind) => {
  it("saves the newest snapshot of the name into our snapshot database, which serve restores exactly", async () => {
    const now = nanosFromNow(0);
    const document = originalDocument(snapshotKeys(now), { clients: ["alice", "bob"] });
    const original = await kind.create();
    const [, , newestId] = await original.write(rows(kind.compress ? gzipSync(document) : document));
    const ours = await kind.ours();

    const result = await keyquarry(["snapshot", "import-original", original.location, "--name", serverName, "--into", ours.into, "--as", "imported"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.slice(0, -1)).toEqual([
      { key: "stale-lock", skipped: "lock", reason: expect.stringContaining("ended") },
      { key: "expired", skipped: "key", reason: expect.stringContaining("lifespan ended") },
    ]);
    expect(lines.at(-1)).toMatchObject({
      from: { id: Number(newestId), serverName },
      saved: { serverName: "imported" },
      keys: 7,
      locks: 1,
      lifespans: 1,
      history: { keys: 1, revisions: 3 },
      clients: 2,
    });

    // What the API does not show: creators, lock owners and clients, as the original saved them.
    const shown = await keyquarry(["snapshot", "--database", ours.connectionString, "show", String(lines.at(-1).saved.id)]);
    expect(shown.code).toBe(0);
    const saved = JSON.parse(shown.stdout);
    expect(saved.clients.map(({ clientId }: { clientId: string }) => clientId)).toEqual(["alice", "bob"]);
    expect(saved.keys.find(({ key }: { key: string }) => key === "binary")).toMatchObject({ createdBy: "bob", contentTypeSniffed: false });
    expect(saved.keys.find(({ key }: { key: string }) => key === "locked")).toMatchObject({ lock: { owner: "bob", duration: "10m0s" } });

    const serve = await spawnServe({
      env: { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_DATABASE: ours.connectionString, KEYQUARRY_NAME: "imported" },
    });
    const carol = clientAs(serve.url, "carol");
    const bob = clientAs(serve.url, "bob");

    const plain = await carol.inspect({ key: "plain", includeValue: true });
    expect(plain).toMatchObject({ version: 7n, contentType: "text/plain; charset=utf-8", value: utf8("hello v7") });
    expect(nanosOf(plain.created)).toBe(1_700_000_000_123_456_789n);
    expect(nanosOf(plain.updated)).toBe(1_700_000_000_123_456_789n + 3n * second + 7n);
    const v5 = await carol.getRevision({ key: "plain", version: 5n });
    expect(text(v5.value)).toBe("hello v5");
    expect(nanosOf(v5.timestamp)).toBe(1_700_000_000_123_456_789n + second);
    expect(text((await carol.getRevision({ key: "plain", version: 6n })).value)).toBe("hello v6");

    expect(await carol.inspect({ key: "binary", includeValue: true })).toMatchObject({
      version: bigVersion,
      contentType: "application/x-custom",
      value: Uint8Array.of(0, 1, 2, 255),
    });
    expect(await carol.inspect({ key: "page" })).toMatchObject({ contentType: "text/html; charset=utf-8" });
    expect(await carol.inspect({ key: "empty", includeValue: true })).toMatchObject({ size: 0n, version: 1n });

    // The lock is bob's, as in the original; others are refused until bob unlocks.
    expect(await carol.inspect({ key: "locked" })).toMatchObject({ locked: true, fencingToken: 1n });
    expect((await rejection(carol.set({ key: "locked", value: utf8("stolen") }))).code).toBe(Code.PermissionDenied);
    await bob.unlock({ key: "locked" });
    expect((await carol.inspect({ key: "stale-lock" })).locked).toBeFalsy();

    const ttl = await carol.inspect({ key: "ttl" });
    expect(durationNanos(ttl.lifespan)).toBe(hour);
    // lifespan_set as the original saved it: the deadline is lifespan_set + lifespan, not the restart.
    expect(nanosOf(ttl.lifespanSet)).toBe(now - 10n * minute);
    expect((await carol.exists({ key: "expired" })).exists).toBe(false);
    expect((await carol.exists({ key: "old-only" })).exists).toBe(false);
  });

  it("imports into a running server through the API: values, content types, remaining lifespans, history as versions, locks for their owners", async () => {
    const now = nanosFromNow(0);
    const document = originalDocument(snapshotKeys(now));
    const original = await kind.create();
    await original.write(rows(kind.compress ? gzipSync(document) : document));
    const server: TestServer = await startTestServer();
    try {
      const before = nanosFromNow(0);
      const result = await keyquarry(["snapshot", "import-original", original.location, "--name", serverName, "--server", "--address", server.url, "--client-id", "importer"]);
      const after = nanosFromNow(0);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
      expect(lines).toContainEqual({ key: "plain", success: true, version: 3, revisions: 3 });
      expect(lines).toContainEqual({ key: "locked", success: true, version: 1, revisions: 1, lock: "taken" });
      expect(lines).toContainEqual({ key: "expired", skipped: "key", reason: expect.stringContaining("lifespan ended") });
      expect(result.stderr).toContain("imported 7 of 7 keys");

      const carol = clientAs(server.url, "carol");
      // Versions are the server's own: the three retained values in order.
      expect(await carol.inspect({ key: "plain", includeValue: true })).toMatchObject({ version: 3n, value: utf8("hello v7") });
      expect(text((await carol.getRevision({ key: "plain", version: 1n })).value)).toBe("hello v5");
      expect(text((await carol.getRevision({ key: "plain", version: 2n })).value)).toBe("hello v6");
      expect(await carol.inspect({ key: "binary", includeValue: true })).toMatchObject({
        contentType: "application/x-custom",
        value: Uint8Array.of(0, 1, 2, 255),
      });
      expect(await carol.inspect({ key: "page" })).toMatchObject({ contentType: "text/html; charset=utf-8" });

      // What the lifespan had left when it was sent: between the time left at the end and at the start of the import.
      const ttl = durationNanos((await carol.inspect({ key: "ttl" })).lifespan);
      const deadline = now - 10n * minute + hour;
      expect(ttl).toBeGreaterThanOrEqual(deadline - after);
      expect(ttl).toBeLessThanOrEqual(deadline - before);
      expect((await carol.exists({ key: "expired" })).exists).toBe(false);

      expect((await carol.inspect({ key: "locked" })).locked).toBe(true);
      expect((await rejection(carol.set({ key: "locked", value: utf8("x") }))).code).toBe(Code.PermissionDenied);
      await clientAs(server.url, "bob").unlock({ key: "locked" });

      // Again: every key exists now, and none is overwritten.
      const again = await keyquarry(["snapshot", "import-original", original.location, "--name", serverName, "--server", "--address", server.url, "--locks", "skip"]);
      expect(again.code).toBe(4);
      const failures = again.stdout.trim().split("\n").map((line) => JSON.parse(line)).filter((line) => "error" in line);
      expect(failures).toHaveLength(7);
      expect(failures[0]).toMatchObject({ error: { code: "failed_precondition" } });
      expect(await carol.inspect({ key: "plain" })).toMatchObject({ version: 3n });

      // --overwrite sets them over again (a value that differs makes a new version); --locks skip leaves the lock out.
      const overwrite = await keyquarry(["snapshot", "import-original", original.location, "--name", serverName, "--server", "--address", server.url, "--overwrite", "--locks", "skip"]);
      expect(overwrite.code).toBe(0);
      expect(overwrite.stdout).toContain(JSON.stringify({ key: "locked", success: true, version: 1, revisions: 1, lock: "skipped" }));
      expect(await carol.inspect({ key: "plain" })).toMatchObject({ version: 6n });
      expect((await carol.inspect({ key: "locked" })).locked).toBeFalsy();
    } finally {
      await server.close();
    }
  });
});

describe("import-original selects", () => {
  it("the snapshot --id names, instead of the newest of the name", async () => {
    const file = join(dir, "by-id.db");
    const [olderId] = writeOriginalSqlite(file, rows(originalDocument([{ key: "newest-only", value: "new", created: 1n, version: 1n, createdBy: "a" }])));
    const ours = join(dir, "by-id-ours.db");
    const result = await keyquarry(["snapshot", "import-original", file, "--id", String(olderId), "--into", ours]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ from: { id: Number(olderId), serverName }, saved: { serverName }, keys: 1 });
    const serve = await spawnServe({ env: { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_DATABASE: `sqlite://${ours}`, KEYQUARRY_NAME: serverName } });
    const client = clientAs(serve.url, "carol");
    expect((await client.exists({ key: "old-only" })).exists).toBe(true);
    expect((await client.exists({ key: "newest-only" })).exists).toBe(false);
  });
});

describe("import-original refuses", () => {
  it("a malformed document, naming the problem, with exit status 4 and nothing saved", async () => {
    const file = join(dir, "malformed.db");
    const bad = JSON.stringify({ keys: [{ key: "a", value: "aGk=", created: "yesterday" }], locks: [{ key: "a", duration: "10s" }] });
    writeOriginalSqlite(file, [{ serverName, data: gzipSync(bad) }]);
    const ours = join(dir, "not-written.db");
    const result = await keyquarry(["snapshot", "import-original", file, "--name", serverName, "--into", ours]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('keys[0].created: invalid time "yesterday"');
    expect(result.stderr).toContain("locks[0].duration: must be an integer number of nanoseconds");
    expect(result.stdout).toBe("");
    expect(existsSync(ours)).toBe(false);
  });

  it("a document that is not JSON", async () => {
    const file = join(dir, "not-json.db");
    writeOriginalSqlite(file, [{ serverName, data: "{\"keys\": [" }]);
    const result = await keyquarry(["snapshot", "import-original", file, "--name", serverName, "--into", join(dir, "unused.db")]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^keyquarry: malformed snapshot document: not JSON/);
  });

  it("a name without snapshots, listing the names there are (exit status 1)", async () => {
    const file = join(dir, "names.db");
    writeOriginalSqlite(file, rows(originalDocument([])));
    const result = await keyquarry(["snapshot", "import-original", file, "--name", "nobody", "--into", join(dir, "unused.db")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no snapshot of server name "nobody" in the original's snapshots table (it holds: "${serverName}" (2), "someone@else" (1))`);
  });

  it("our own snapshot database in place of the original's", async () => {
    const ours = join(dir, "ours-as-original.db");
    const serve = await spawnServe({ env: { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_DATABASE: `sqlite://${ours}` } });
    serve.child.kill("SIGTERM");
    await serve.exited;
    const result = await keyquarry(["snapshot", "import-original", ours, "--server"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not a snapshot database of the original keyquarry");
  });

  it("a target name that already has snapshots", async () => {
    const file = join(dir, "twice.db");
    writeOriginalSqlite(file, [{ serverName, data: originalDocument([{ key: "k", value: "v", created: 1n, version: 1n, createdBy: "a" }]) }]);
    const ours = join(dir, "twice-ours.db");
    expect((await keyquarry(["snapshot", "import-original", file, "--name", serverName, "--into", ours])).code).toBe(0);
    const again = await keyquarry(["snapshot", "import-original", file, "--name", serverName, "--into", ours]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain(`already holds 1 snapshot(s) and 0 journal entries of server name "${serverName}"`);
  });

  it("a server that is not there, with exit status 3", async () => {
    const file = join(dir, "no-server.db");
    writeOriginalSqlite(file, [{ serverName, data: originalDocument([{ key: "k", value: "v", created: 1n, version: 1n, createdBy: "a" }]) }]);
    const result = await keyquarry(["snapshot", "import-original", file, "--name", serverName, "--server", "--address", `127.0.0.1:${await freePort()}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^keyquarry: unavailable: /);
  });

  it("a command line without a target", async () => {
    const result = await keyquarry(["snapshot", "import-original", join(dir, "whatever.db")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--into <database>");
  });
});
