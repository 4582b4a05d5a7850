import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "./kit/create-test-database.js";
import { storeStateFormat, type KeyState, type StoreState } from "../src/store/store-state.js";
import { PostgresSnapshotStore } from "../src/snapshot/postgres-snapshot-store.js";
import { pageSize } from "../src/snapshot/read-state-rows.js";
import { SnapshotError } from "../src/snapshot/snapshot-error.js";
import type { SnapshotStore } from "../src/snapshot/snapshot-store.js";
import { SqliteSnapshotStore } from "../src/snapshot/sqlite-snapshot-store.js";
import { largeState, manyRowsState, richState } from "../src/snapshot/store-state.fixture.js";

/** A fresh, migrated-or-not snapshot database, with raw SQL access to corrupt it. */
interface Opened {
  store: SnapshotStore;
  /** Runs raw SQL on a separate connection, returning rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

interface Backend {
  name: string;
  open(): Promise<Opened>;
}

let tempDir: string;
beforeAll(() => {
  tempDir = mkdtempSync(join(tmpdir(), "kq-snapshots-"));
});
afterAll(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

let fileCount = 0;
const backends: Backend[] = [
  {
    name: "sqlite",
    async open() {
      const file = join(tempDir, `test-${fileCount++}.db`);
      const store = new SqliteSnapshotStore(file);
      const raw = new Database(file);
      raw.defaultSafeIntegers(true);
      return {
        store,
        async query(sql) {
          const statement = raw.prepare(sql);
          return statement.reader ? (statement.all() as Record<string, unknown>[]) : (statement.run(), []);
        },
        async cleanup() {
          raw.close();
          await store.close().catch(() => {});
        },
      };
    },
  },
  {
    name: "postgres",
    async open() {
      const database = await createTestDatabase();
      const store = new PostgresSnapshotStore(database.url);
      const raw = postgres(database.url, { max: 1, onnotice: () => {} });
      return {
        store,
        async query(sql) {
          return [...(await raw.unsafe(sql))];
        },
        async cleanup() {
          await raw.end();
          await store.close().catch(() => {});
          await database.drop();
        },
      };
    },
  },
];

/** A state whose keys yield `good` keys, then throw: a failure in the middle of a save. */
function failingState(good: number): StoreState {
  const state = largeState(good, 64, 77n);
  const keys = state.keys;
  state.keys = {
    *[Symbol.iterator]() {
      yield* keys;
      throw new Error("export failed midway");
    },
  } as unknown as KeyState[];
  return state;
}

/**
 * toStrictEqual, with values compared as bytes: vitest's deep equality walks
 * 20 MB of typed arrays element by element, which takes minutes.
 */
function expectSameState(actual: StoreState, expected: StoreState): void {
  const withoutValues = (state: StoreState) => ({ ...state, keys: state.keys.map((k) => ({ ...k, value: k.value.byteLength })) });
  expect(withoutValues(actual)).toStrictEqual(withoutValues(expected));
  expected.keys.forEach((k, i) => {
    const value = actual.keys[i]!.value;
    expect(value).toBeInstanceOf(Uint8Array);
    if (Buffer.compare(value, k.value) !== 0) {
      expect.fail(`value of ${k.key} differs`);
    }
  });
}

async function count(opened: Opened, table: string): Promise<number> {
  const [row] = await opened.query(`SELECT count(*) AS n FROM ${table}`);
  return Number(row?.["n"]);
}

const childTables = ["snapshot_keys", "snapshot_history", "snapshot_revisions", "snapshot_metrics", "snapshot_clients"];

describe.each(backends)("$name snapshot store", (backend) => {
  let opened: Opened;
  let store: SnapshotStore;

  const withStore = (name: string, test: () => Promise<void>, timeout?: number) =>
    it(name, async () => {
      opened = await backend.open();
      store = opened.store;
      try {
        await store.migrate();
        await test();
      } finally {
        await opened.cleanup();
      }
    }, timeout);

  withStore("migrates idempotently and starts empty", async () => {
    await store.migrate();
    await store.migrate();
    expect(await store.list()).toEqual([]);
    expect(await store.loadLatest("nobody")).toBeUndefined();
    expect(await store.load(12345n)).toBeUndefined();
  });

  withStore("round-trips every field of a state exactly", async () => {
    const state = richState();
    const id = await store.save("server-a", state, 3);
    expect(typeof id).toBe("bigint");
    expect(await store.loadLatest("server-a")).toStrictEqual(state);
    expect(await store.load(id)).toStrictEqual(state);
    expect(await store.loadLatest("server-b")).toBeUndefined();

    const [summary] = await store.list("server-a");
    expect(summary).toMatchObject({ id, serverName: "server-a", format: storeStateFormat, keys: 5, bytes: 5 + 0 + 6 + 13 + 1, revision: state.revision });
    const now = BigInt(Date.now()) * 1_000_000n;
    expect(summary!.created).toBeGreaterThan(now - 60_000_000_000n);
    expect(summary!.created).toBeLessThanOrEqual(now);
  });

  withStore("round-trips a state of more rows than a page in every table, a page of revisions ending mid-list", async () => {
    expect(pageSize % 3).not.toBe(0);
    const state = manyRowsState(Math.ceil(pageSize * 1.5));
    const id = await store.save("many", state, 1);
    expect(await store.load(id)).toStrictEqual(state);
  });

  withStore("round-trips an empty state", async () => {
    const state = largeState(0, 0);
    const id = await store.save("empty", state, 1);
    expect(await store.load(id)).toStrictEqual(state);
  });

  withStore("keeps only the newest `retain` snapshots of a name, and other names' alone", async () => {
    const a: bigint[] = [];
    for (let i = 1; i <= 5; i++) {
      a.push(await store.save("a", largeState(3, 10, BigInt(i)), 3));
      if (i <= 2) {
        await store.save("b", largeState(2, 10, BigInt(100 + i)), 3);
      }
    }
    expect((await store.list("a")).map((s) => s.id)).toEqual([a[4], a[3], a[2]]);
    expect((await store.list("a")).map((s) => s.revision)).toEqual([5n, 4n, 3n]);
    expect((await store.list("b")).map((s) => s.revision)).toEqual([102n, 101n]);
    expect((await store.list()).map((s) => s.serverName).sort()).toEqual(["a", "a", "a", "b", "b"]);
    expect(await store.load(a[0]!)).toBeUndefined();
    expect((await store.loadLatest("a"))?.revision).toBe(5n);
    // Deleted snapshots' rows went with them (ON DELETE CASCADE).
    expect(await count(opened, "snapshot_keys")).toBe(3 * 3 + 2 * 2);

    // Retaining fewer later prunes more.
    await store.save("a", largeState(1, 1, 6n), 1);
    expect((await store.list("a")).map((s) => s.revision)).toEqual([6n]);
    expect((await store.list("b")).length).toBe(2);
  });

  withStore("lists newest first with sizes", async () => {
    const first = await store.save("x", largeState(4, 100, 1n), 10);
    const second = await store.save("y", largeState(2, 50, 2n), 10);
    const list = await store.list();
    expect(list.map((s) => [s.id, s.serverName, s.keys, s.bytes, s.revision])).toEqual([
      [second, "y", 2, 100, 2n],
      [first, "x", 4, 400, 1n],
    ]);
    expect(second).toBeGreaterThan(first);
  });

  withStore("refuses retain < 1", async () => {
    await expect(store.save("x", largeState(1, 1), 0)).rejects.toThrow(RangeError);
  });

  withStore("leaves the previous snapshot intact when a save fails midway", async () => {
    const previous = richState();
    const previousId = await store.save("s", previous, 5);
    const rowsBefore = await Promise.all(childTables.map((t) => count(opened, t)));

    // The state's iteration throws after several batches of keys were inserted.
    await expect(store.save("s", failingState(1_234), 5)).rejects.toThrow("export failed midway");
    expect(await store.loadLatest("s")).toStrictEqual(previous);
    expect((await store.list()).map((s) => s.id)).toEqual([previousId]);
    expect(await Promise.all(childTables.map((t) => count(opened, t)))).toEqual(rowsBefore);

    // A constraint violation (NOT NULL value) in a later batch.
    const bad = largeState(1_200, 16, 78n);
    (bad.keys[1_100] as { value: unknown }).value = null;
    await expect(store.save("s", bad, 5)).rejects.toThrow();
    expect(await store.loadLatest("s")).toStrictEqual(previous);
    expect(await Promise.all(childTables.map((t) => count(opened, t)))).toEqual(rowsBefore);

    // The connection is usable again (no transaction left open).
    const next = largeState(3, 3, 79n);
    const nextId = await store.save("s", next, 5);
    expect(nextId).toBeGreaterThan(previousId);
    expect(await store.loadLatest("s")).toStrictEqual(next);
  });

  withStore("throws SnapshotError for a hash that is not a uint64", async () => {
    const id = await store.save("s", richState(), 5);
    await opened.query(`UPDATE snapshot_keys SET hash = 'garbage' WHERE position = 2`);
    const error = await store.loadLatest("s").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).snapshotId).toBe(id);
    expect((error as Error).message).toContain(`snapshot ${id}`);
    expect((error as Error).message).toMatch(/snapshot_keys: row 2: column hash is not a uint64/);
    await expect(store.load(id)).rejects.toThrow(SnapshotError);
  });

  withStore("throws SnapshotError for a hash above 2^64 - 1", async () => {
    const id = await store.save("s", richState(), 5);
    await opened.query(`UPDATE snapshot_revisions SET hash = '18446744073709551616' WHERE seq = 0`);
    await expect(store.load(id)).rejects.toThrow(/snapshot_revisions: .*column hash is not a uint64/);
  });

  withStore("throws SnapshotError for a format newer than this server's", async () => {
    const id = await store.save("s", richState(), 5);
    await opened.query(`UPDATE snapshots SET format = 999`);
    await expect(store.loadLatest("s")).rejects.toThrow(SnapshotError);
    await expect(store.loadLatest("s")).rejects.toThrow(`snapshot ${id}: snapshots: format 999 is newer than this server's format ${storeStateFormat}`);
  });

  withStore("throws SnapshotError when rows are missing", async () => {
    const id = await store.save("s", richState(), 5);
    await opened.query(`DELETE FROM snapshot_keys WHERE position = 0`);
    await expect(store.load(id)).rejects.toThrow(`snapshot ${id}: snapshot_keys has 4 rows, the snapshot row counts 5`);
  });

  withStore("throws SnapshotError for a partly NULL lock", async () => {
    await store.save("s", richState(), 5);
    await opened.query(`UPDATE snapshot_keys SET lock_deadline = NULL WHERE position = 2`);
    await expect(store.loadLatest("s")).rejects.toThrow(/lock columns are partly NULL/);
  });

  withStore(
    "saves and loads 20 000 keys of 1 KB, serving other work meanwhile",
    async () => {
      const state = largeState(20_000, 1024, 5n);
      // A turn of the event loop the save must let through between its batches.
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns++;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      const id = await store.save("big", state, 2);
      spinning = false;
      expect(turns).toBeGreaterThanOrEqual(20);

      const loaded = await store.loadLatest("big");
      expect(loaded?.keys.length).toBe(20_000);
      expectSameState(loaded!, state);
      const [summary] = await store.list("big");
      expect(summary).toMatchObject({ id, keys: 20_000, bytes: 20_000 * 1024 });

      // A load racing a save sees the previous snapshot or the new one, never part of it.
      const next = largeState(20_000, 1024, 6n);
      const [, during] = await Promise.all([store.save("big", next, 2), store.loadLatest("big")]);
      expect([5n, 6n]).toContain(during?.revision);
      expect(during?.keys.length).toBe(20_000);
    },
    120_000,
  );
});
