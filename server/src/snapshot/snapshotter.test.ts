import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StoreState } from "../store/store-state.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { createSnapshotter, type SnapshotLog, type Snapshotter } from "./snapshotter.js";
import { SqliteSnapshotStore } from "./sqlite-snapshot-store.js";
import { largeState } from "./store-state.fixture.js";

/** A store stand-in whose revision the test moves; its state is a small one at that revision. */
class FakeSource {
  revision = 0n;
  keys = 2;
  exports = 0;
  exportState(): StoreState {
    this.exports++;
    return largeState(this.keys, 16, this.revision);
  }
}

function recordingLog() {
  const lines: Array<{ level: "notice" | "error"; obj: object; msg: string }> = [];
  const log: SnapshotLog = {
    notice: (obj, msg) => lines.push({ level: "notice", obj, msg }),
    error: (obj, msg) => lines.push({ level: "error", obj, msg }),
  };
  return { log, lines, errors: () => lines.filter((l) => l.level === "error") };
}

describe("snapshotter", () => {
  let dir: string;
  let file: string;
  let snapshots: SqliteSnapshotStore;
  let snapshotter: Snapshotter | undefined;
  const source = new FakeSource();

  beforeEach(async () => {
    // The snapshotter's timer and clock are faked: time passes when a test
    // says so (vi.waitFor advances it too), so "nothing happened during 80 ms"
    // means the timer really fired over those 80 ms. I/O stays real.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    dir = mkdtempSync(join(tmpdir(), "kq-snapshotter-"));
    file = join(dir, "snapshots.db");
    // A short busy timeout: a locked database fails the save quickly.
    snapshots = new SqliteSnapshotStore(file, { busyTimeoutMs: 20 });
    await snapshots.migrate();
    source.revision = 0n;
    source.keys = 2;
    source.exports = 0;
  });

  afterEach(async () => {
    await snapshotter?.stop();
    snapshotter = undefined;
    await snapshots.close();
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (intervalMs: number, log: SnapshotLog, store: Pick<SnapshotStore, "save"> = snapshots) =>
    (snapshotter = createSnapshotter({ store: source, snapshots: store, name: "test", retain: 100, intervalNs: BigInt(intervalMs) * 1_000_000n, log }));

  it("snapshots periodically, only when the revision changed", async () => {
    const { log, lines } = recordingLog();
    source.revision = 5n; // e.g. restored: unchanged since start, nothing to save
    const s = create(15, log);
    s.start();
    await vi.advanceTimersByTimeAsync(80);
    expect(s.created).toBe(0);
    expect(source.exports).toBe(0);

    source.revision = 6n;
    await vi.waitFor(() => expect(s.created).toBe(1), { timeout: 2000, interval: 5 });
    await vi.advanceTimersByTimeAsync(80);
    expect(s.created).toBe(1);

    source.revision = 9n;
    await vi.waitFor(() => expect(s.created).toBe(2), { timeout: 2000, interval: 5 });
    expect((await snapshots.list("test")).map((x) => x.revision)).toEqual([9n, 6n]);
    expect(lines.filter((l) => l.msg === "snapshot saved")).toHaveLength(2);
    expect(lines[0]!.obj).toMatchObject({ revision: "6", keys: 2 });
  });

  it("logs a failed snapshot, keeps going and retries at the next tick", async () => {
    const { log, errors } = recordingLog();
    const s = create(15, log);
    s.start();

    // Another connection holds the write lock: the save fails with SQLITE_BUSY.
    const blocker = new Database(file);
    blocker.exec("BEGIN EXCLUSIVE");
    try {
      source.revision = 1n;
      await vi.waitFor(() => expect(errors().length).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 5 });
      expect(s.created).toBe(0);
      expect(errors()[0]!.msg).toMatch(/snapshot failed/);
      expect(String((errors()[0]!.obj as { err: Error }).err)).toMatch(/locked|busy/i);
    } finally {
      blocker.exec("COMMIT");
      blocker.close();
    }
    await vi.waitFor(() => expect(s.created).toBe(1), { timeout: 2000, interval: 5 });
    expect((await snapshots.loadLatest("test"))?.revision).toBe(1n);
  });

  it("does not run periodically with interval 0, and snapshotNow saves unconditionally", async () => {
    const { log } = recordingLog();
    const s = create(0, log);
    s.start();
    source.revision = 3n;
    await vi.advanceTimersByTimeAsync(50);
    expect(s.created).toBe(0);
    const first = await s.snapshotNow();
    const second = await s.snapshotNow(); // revision unchanged: saved anyway
    expect(second).toBeGreaterThan(first);
    expect(s.created).toBe(2);
    expect((await snapshots.list("test")).map((x) => x.id)).toEqual([second, first]);
  });

  it("snapshotNow waits for the save in progress, never saving twice at once", async () => {
    // Counts overlapping saves around the real store.
    let active = 0;
    let maxActive = 0;
    const saved: bigint[] = [];
    const counting: Pick<SnapshotStore, "save"> = {
      save: async (name, state, retain) => {
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          const id = await snapshots.save(name, state, retain);
          saved.push(state.revision);
          return id;
        } finally {
          active--;
        }
      },
    };
    const { log } = recordingLog();
    const s = create(5, log, counting);
    source.keys = 5_000; // a save long enough (many batches) to be caught in progress
    s.start();
    source.revision = 1n;
    await vi.waitFor(() => expect(active).toBe(1), { timeout: 2000, interval: 1 });

    source.revision = 2n;
    const id = await s.snapshotNow();
    expect(maxActive).toBe(1);
    expect(saved.slice(0, 2)).toEqual([1n, 2n]);
    expect((await snapshots.load(id))?.revision).toBe(2n);
    expect(s.created).toBeGreaterThanOrEqual(2);
  });

  it("stops the timer, waiting for the save in progress; snapshotNow still works after", async () => {
    const { log } = recordingLog();
    const s = create(10, log);
    s.start();
    source.revision = 1n;
    await vi.waitFor(() => expect(s.created).toBe(1), { timeout: 2000, interval: 5 });
    await s.stop();
    source.revision = 2n;
    await vi.advanceTimersByTimeAsync(60);
    expect(s.created).toBe(1);
    const id = await s.snapshotNow();
    expect((await snapshots.load(id))?.revision).toBe(2n);
    expect(s.created).toBe(2);
  });

  it("rejects snapshotNow when the save fails, without counting it", async () => {
    const { log } = recordingLog();
    const s = create(0, log);
    const blocker = new Database(file);
    blocker.exec("BEGIN EXCLUSIVE");
    try {
      const refused = expect(s.snapshotNow()).rejects.toThrow(/locked|busy/i);
      // The store retries the lock in short pauses until its busy timeout (20 ms).
      await vi.advanceTimersByTimeAsync(100);
      await refused;
    } finally {
      blocker.exec("COMMIT");
      blocker.close();
    }
    expect(s.created).toBe(0);
    await s.snapshotNow();
    expect(s.created).toBe(1);
  });
});
