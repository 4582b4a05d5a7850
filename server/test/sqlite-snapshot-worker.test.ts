/**
 * The SQLite snapshot store's worker thread and sliced saves: a journal
 * append posted during a long save commits before the save ends; a save cut
 * short leaves an incomplete snapshot that no reader sees and the next save
 * deletes; errors cross the thread with their codes; and, through the real
 * server, a database that cannot commit delays the acknowledgement of
 * journaled writes while reads go on being answered.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config/default-config.js";
import { journalFormat, type JournalEntry } from "../src/journal/journal-entry.js";
import { snapshotRow } from "../src/snapshot/write-state-rows.js";
import { SqliteSnapshotFile } from "../src/snapshot/sqlite-snapshot-file.js";
import { SqliteSnapshotStore } from "../src/snapshot/sqlite-snapshot-store.js";
import { largeState, t0 } from "../src/snapshot/store-state.fixture.js";
import { bytes, text } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let tempDir: string;
let fileCount = 0;
const stores: SqliteSnapshotStore[] = [];
const servers: TestServer[] = [];
const blockers: Database.Database[] = [];

beforeAll(() => {
  tempDir = mkdtempSync(join(tmpdir(), "kq-sqlite-worker-"));
});
afterEach(async () => {
  for (const blocker of blockers.splice(0)) {
    if (blocker.open) {
      blocker.close();
    }
  }
  for (const server of servers.splice(0)) {
    await server.close().catch(() => {});
  }
  for (const store of stores.splice(0)) {
    await store.close();
  }
});
afterAll(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

const newFile = () => join(tempDir, `worker-${fileCount++}.db`);

async function openStore(file: string): Promise<SqliteSnapshotStore> {
  const store = new SqliteSnapshotStore(file);
  stores.push(store);
  await store.migrate();
  return store;
}

/** A journal entry as the writer appends it (its content is not decoded here). */
const entry = (seq: bigint): JournalEntry => ({
  seq,
  format: journalFormat,
  batch: seq,
  batchSize: 1,
  time: t0,
  revision: 0n,
  command: `{"op":"clear"}`,
  value: null,
  checksum: 0,
});

describe("SqliteSnapshotStore (worker thread, sliced saves)", () => {
  it("commits a journal append posted during a save before the save completes", async () => {
    const store = await openStore(newFile());
    // 4 000 keys of 2 KB: 16 slices of 250 keys (4 MB per statement at most, see batchLimits).
    const state = largeState(4000, 2000);
    const settled: string[] = [];
    const save = store.save("s", state, 1).then((id) => (settled.push("save"), id));
    const append = store.appendJournal("s", [entry(1n)]).then(() => settled.push("append"));
    const [id] = await Promise.all([save, append]);
    // A whole-save transaction would have held the journal back until its end.
    expect(settled).toEqual(["append", "save"]);
    expect((await store.loadLatest("s"))?.keys).toHaveLength(4000);
    expect((await store.list("s")).map((s) => s.id)).toEqual([id]);
    expect(await store.journalLength("s")).toEqual({ entries: 1, lastSeq: 1n });
  });

  it("ignores the incomplete snapshot a save cut short left, and the next save deletes it", async () => {
    const file = newFile();
    const store = await openStore(file);
    const first = await store.save("s", largeState(3, 10, 1n), 5);

    // A save that dies after its first slice (the process killed mid-save), written as the worker would.
    const raw = new SqliteSnapshotFile(file);
    const cut = raw.beginSave("s", snapshotRow("s", largeState(600, 10, 2n)), []);
    raw.insertSlice("keys", [keyRow(cut, 0)]);
    raw.close();

    expect((await store.list("s")).map((s) => s.id)).toEqual([first]);
    expect((await store.loadLatest("s"))?.revision).toBe(1n);
    expect(await store.load(cut)).toBeUndefined();

    const second = await store.save("s", largeState(4, 10, 3n), 5);
    const check = new Database(file, { readonly: true });
    try {
      check.defaultSafeIntegers(true);
      expect(check.prepare("SELECT id, complete FROM snapshots ORDER BY id").all()).toEqual([
        { id: first, complete: 1n },
        { id: second, complete: 1n },
      ]);
      expect(check.prepare("SELECT count(*) AS n FROM snapshot_keys WHERE snapshot_id = ?").get(cut)).toEqual({ n: 0n });
    } finally {
      check.close();
    }
  });

  it("stores a value unchanged between snapshots once, and deletes the values only deleted snapshots held", async () => {
    const file = newFile();
    const store = await openStore(file);
    // 300 distinct values; the second state changes 10 of them, the third another 10.
    const first = largeState(300, 100, 1n);
    const changed = (from: typeof first, start: number) => ({
      ...from,
      keys: from.keys.map((k, i) => (i >= start && i < start + 10 ? { ...k, value: Uint8Array.of(1, 2, i) } : k)),
    });
    const second = changed(first, 0);
    const third = changed(second, 100);
    await store.save("s", first, 2);
    await store.save("s", second, 2);
    const count = () => {
      const check = new Database(file, { readonly: true });
      try {
        return check.prepare("SELECT count(*) FROM snapshot_values").pluck().get();
      } finally {
        check.close();
      }
    };
    expect(count()).toBe(310);
    // Retention drops the first snapshot: its 10 values nobody else holds go with it.
    await store.save("s", third, 2);
    expect(count()).toBe(310);
    const loaded = await store.loadLatest("s");
    expect(loaded?.keys.map((k) => Array.from(k.value.subarray(0, 3)))).toEqual(third.keys.map((k) => Array.from(k.value.subarray(0, 3))));
    expect(loaded?.keys.map((k) => k.value.byteLength)).toEqual(third.keys.map((k) => k.value.byteLength));
  });

  it("fails its calls with SQLite's code when the file cannot be opened, and closes cleanly", async () => {
    const store = new SqliteSnapshotStore(join(tempDir, "none.db"), { readonly: true, fileMustExist: true });
    stores.push(store);
    await expect(store.list()).rejects.toMatchObject({ name: "SqliteError", code: "SQLITE_CANTOPEN" });
    await expect(store.loadLatest("s")).rejects.toMatchObject({ code: "SQLITE_CANTOPEN" });
    await store.close();
    await expect(store.list()).rejects.toThrow(/closed/);
  });
});

describe("a stalled database, through the real server", () => {
  it("delays the acknowledgement of a journaled Set, never a Get", { timeout: 30_000 }, async () => {
    const file = newFile();
    const config = defaultConfig();
    const server = await startTestServer({ dataDir: tempDir, snapshot: { ...config.snapshot, enabled: true, database: `sqlite://${file}`, journal: "sync" } });
    servers.push(server);
    const { kv } = createClients("grpc", server.url, "writer");
    await kv.set({ key: "k", value: bytes("1") });

    // Another connection holds the write lock: the worker's next commit waits for it (synchronously, in its thread).
    const blocker = new Database(file, { fileMustExist: true });
    blockers.push(blocker);
    blocker.exec("BEGIN IMMEDIATE");
    let acknowledged = false;
    const set = kv.set({ key: "k", value: bytes("2") }).then(() => (acknowledged = true));

    for (let i = 0; i < 20; i++) {
      await kv.get({ key: "k" });
    }
    // Every Get answered while the Set still waits for its commit.
    expect(acknowledged).toBe(false);

    blocker.exec("ROLLBACK");
    await set;
    expect(text((await kv.get({ key: "k" })).value)).toBe("2");
  });
});

/** A snapshot_keys row of snapshot `snapshotId` at `position`. */
function keyRow(snapshotId: bigint, position: number) {
  return {
    snapshotId,
    position,
    key: `key-${position}`,
    value: new Uint8Array(10),
    contentType: "application/octet-stream",
    contentTypeSniffed: true,
    hash: "1",
    created: t0,
    updated: 0n,
    version: "1",
    createdBy: "bulk",
    lockOwner: null,
    lockDuration: null,
    lockCreated: null,
    lockDeadline: null,
    lockFencingToken: null,
    lifespanDuration: null,
    lifespanSet: null,
    lifespanDeadline: null,
  };
}
