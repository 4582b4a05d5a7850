/**
 * The journal's database goes away while a real server runs, then comes
 * back, without a restart: SQLite locked by another connection (BEGIN
 * EXCLUSIVE, held past the server's busy timeout), PostgreSQL stopped
 * (a cluster of this file's own, `pg_ctl -m immediate`, started again).
 * - `sync`: writes fail with UNAVAILABLE and a clear message instead of
 *   being acknowledged and lost (the write whose commit failed is kept and
 *   committed once the database is back; the ones after it are refused and
 *   not applied); reads and watches keep working; writes succeed again once
 *   the database is back. A kill -9 and restart then show exactly that.
 * - `batched`: writes are acknowledged, the server logs an error and keeps
 *   retrying; once the database is back the backlog commits (kill -9 and
 *   restart: the writes made during the outage are there).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytes, text } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { textValueOf } from "./kit/text-value-of.js";
import { createPostgresCluster, type PostgresCluster } from "./kit/postgres-cluster.js";
import { killServeProcesses, spawnServe, type ServeProcess } from "./kit/spawn-serve.js";
import { Watcher } from "./kit/watch-helpers.js";

const serverName = "outage";

/** Makes the journal's database refuse commits, then accept them again. */
interface Outage {
  begin(): Promise<void>;
  end(): Promise<void>;
}

/** How a write ended: acknowledged, or refused with UNAVAILABLE before or after it was applied. */
type Outcome = "acknowledged" | "refused" | "uncommitted";

/** What a write's answer says happened (anything but the journal's UNAVAILABLE fails the test). */
function outcomeOf(error: unknown): Outcome {
  if (!(error instanceof ConnectError) || error.code !== Code.Unavailable) {
    throw error;
  }
  if (/writes are refused until the database is back/.test(error.rawMessage)) {
    return "refused";
  }
  expect(error.rawMessage).toMatch(/^the journal could not commit this write \(.+\); it is retried, and may still take effect$/);
  return "uncommitted";
}

/** Resolves once `pattern` appears in the server's log (the test's timeout bounds the wait). */
async function logged(server: ServeProcess, pattern: RegExp): Promise<string> {
  for (;;) {
    const found = server.stdout().match(pattern);
    if (found !== null) {
      return found[0];
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(["sqlite", "postgres"] as const)("the journal's database goes away and comes back (%s)", (driver) => {
  let dir: string;
  let cluster: PostgresCluster | undefined;
  let database: string;
  let outage: Outage;

  beforeAll(async () => {
    if (driver === "postgres") {
      // Stopped with -m immediate as a crash: its commits must survive that.
      cluster = await createPostgresCluster({ crashSafe: true });
    }
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  afterEach(async () => {
    // A failed test may leave the database away.
    await outage.end();
    await killServeProcesses();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh data dir (and empty journal); `outage` set for its database. */
  async function prepare(): Promise<void> {
    dir = mkdtempSync(join(tmpdir(), "kq-joutage-"));
    if (driver === "sqlite") {
      const file = join(dir, "snapshots.db");
      database = `sqlite://${file}`;
      let holder: Database.Database | undefined;
      outage = {
        // As another process writing: it holds the write lock longer than the server waits for it (5 s).
        async begin() {
          holder = new Database(file, { fileMustExist: true });
          holder.exec("BEGIN EXCLUSIVE");
        },
        async end() {
          holder?.exec("ROLLBACK");
          holder?.close();
          holder = undefined;
        },
      };
    } else {
      database = cluster!.url;
      let stopped = false;
      outage = {
        async begin() {
          stopped = true;
          await cluster!.stop();
        },
        async end() {
          if (stopped) {
            await cluster!.start();
            stopped = false;
          }
        },
      };
      // An empty database for each test.
      const admin = new URL(database);
      const name = admin.pathname.slice(1);
      admin.pathname = "/postgres";
      const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await sql.unsafe(`CREATE DATABASE ${name}`);
      } finally {
        await sql.end();
      }
    }
  }

  function serve(args: string[] = []): Promise<ServeProcess> {
    return spawnServe({ args: ["--snapshot", "--snapshot-database", database, ...args], env: { KEYQUARRY_NAME: serverName, KEYQUARRY_DATA_DIR: dir } });
  }

  /** The value of each key now (undefined: it does not exist). */
  async function values(url: string, keys: readonly string[]): Promise<Record<string, string | undefined>> {
    const { kv } = createClients("grpc", url, "reader");
    const found: Record<string, string | undefined> = {};
    for (const key of keys) {
      found[key] = await textValueOf(kv, key);
    }
    return found;
  }

  const sync = "sync: writes fail with UNAVAILABLE, reads and watches go on, writes come back without a restart; nothing acknowledged is lost";
  it(sync, { timeout: 120_000 }, async () => {
    await prepare();
    const server = await serve();
    const { kv } = createClients("grpc", server.url, "writer");
    for (let i = 0; i < 5; i++) {
      await kv.set({ key: `pre/${i}`, value: bytes(`p${i}`) });
    }
    await kv.lock({ key: "pre/lock", duration: { seconds: 600n }, createIfMissing: true });
    const keysBefore = (await kv.stats({})).keys!;

    await outage.begin();
    // The first write's commit fails: it was applied, is kept, and commits once the database is back.
    const first = await kv.set({ key: "during/uncommitted", value: bytes("u") }).then(() => "acknowledged" as const, outcomeOf);
    expect(first).toBe("uncommitted");
    await logged(server, /ERROR: journal commit failed: writes are refused until it commits again; retrying/);
    // From then on writes are refused before they change anything.
    const refusals = [
      () => kv.set({ key: "during/refused", value: bytes("r") }),
      () => kv.delete({ key: "pre/1" }),
      () => kv.lock({ key: "pre/2", duration: { seconds: 60n }, createIfMissing: false }),
      () => kv.unlock({ key: "pre/lock" }),
      () => kv.clear({ force: true }),
    ];
    for (const refusal of refusals) {
      const error = await refusal().then(() => undefined, (reason: unknown) => reason);
      expect(outcomeOf(error)).toBe("refused");
      expect((error as ConnectError).rawMessage).toMatch(/^the journal cannot commit \(.+\): writes are refused until the database is back$/);
    }
    // Reads answer from memory: Get, ListKeys, Stats, a new watch.
    expect(await values(server.url, ["pre/0", "pre/1", "during/refused"])).toEqual({ "pre/0": "p0", "pre/1": "p1", "during/refused": undefined });
    expect((await kv.listKeys({ pattern: "pre/*" })).keys.sort()).toEqual(["pre/0", "pre/1", "pre/2", "pre/3", "pre/4", "pre/lock"]);
    // The write whose commit failed is applied; the refused ones are not.
    expect((await kv.stats({})).keys).toBe(keysBefore + 1n);
    const watcher = new Watcher((signal) => kv.watchKeyValue({ key: "pre/3" }, { signal }));
    expect(text((await watcher.next()).value)).toBe("p3");

    await outage.end();
    // Writes come back (the retry commits the kept write first); until then each is refused or uncommitted.
    const attempts = new Map<string, Outcome>();
    for (let n = 0; attempts.size === 0 || [...attempts.values()].at(-1) !== "acknowledged"; n++) {
      const key = `after/${n}`;
      attempts.set(key, await kv.set({ key, value: bytes(`a${n}`) }).then(() => "acknowledged" as const, outcomeOf));
      if (attempts.get(key) !== "acknowledged") {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await logged(server, /WARN: journal commits again/);
    await kv.set({ key: "pre/3", value: bytes("p3 again") });
    expect(text((await watcher.next()).value)).toBe("p3 again");
    await kv.delete({ key: "pre/4" });

    server.child.kill("SIGKILL");
    await server.exited;
    const restarted = await serve();
    const expected: Record<string, string | undefined> = {
      "pre/0": "p0",
      "pre/1": "p1",
      "pre/2": "p2",
      "pre/3": "p3 again",
      "pre/4": undefined,
      "during/uncommitted": "u",
      "during/refused": undefined,
    };
    for (const [key, outcome] of attempts) {
      expected[key] = outcome === "refused" ? undefined : `a${key.slice("after/".length)}`;
    }
    expect(await values(restarted.url, Object.keys(expected))).toEqual(expected);
    // The lock the refused Unlock left, as the writer's.
    const lock = await createClients("grpc", restarted.url, "writer").kv.inspect({ key: "pre/lock" });
    expect(lock.locked).toBe(true);
  });

  it("batched: writes are acknowledged, the server logs an error and retries; the backlog commits once the database is back", { timeout: 120_000 }, async () => {
    await prepare();
    const server = await serve(["--journal", "batched", "--journal-interval", "200ms"]);
    const { kv } = createClients("grpc", server.url, "writer");
    await kv.set({ key: "pre", value: bytes("p") });

    await outage.begin();
    for (let i = 0; i < 10; i++) {
      await kv.set({ key: `during/${i}`, value: bytes(`d${i}`) });
    }
    await kv.delete({ key: "pre" });
    await logged(server, /ERROR: journal commit failed: writes since are not durable; retrying/);
    // Writes go on being acknowledged while it retries.
    await kv.set({ key: "during/late", value: bytes("late") });

    await outage.end();
    await logged(server, /WARN: journal commits again/);
    server.child.kill("SIGKILL");
    await server.exited;

    const restarted = await serve();
    const keys = [...Array.from({ length: 10 }, (_, i) => `during/${i}`), "during/late", "pre"];
    expect(await values(restarted.url, keys)).toEqual({
      ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`during/${i}`, `d${i}`])),
      "during/late": "late",
      pre: undefined,
    });
  });
});
