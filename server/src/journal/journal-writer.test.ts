/**
 * JournalWriter against a real SQLite snapshot store (a file in a temp dir)
 * and a real store: group commit, order, flush at shutdown, refusals while
 * commits fail, and recovery. The database is made to fail the real way:
 * another connection holds its write lock (BEGIN EXCLUSIVE) past the
 * store's busy timeout.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteSnapshotStore } from "../snapshot/sqlite-snapshot-store.js";
import { ManualClock } from "../store/clock.js";
import { baseOptions, bytes, SECOND, T1, text } from "../store/key-value-store.fixture.js";
import { KeyValueStore } from "../store/key-value-store.js";
import { decodeEntry } from "./journal-entry-codec.js";
import { JournalError } from "./journal-error.js";
import { JournalWriter, type JournalMode } from "./journal-writer.js";
import { replayJournal } from "./replay-journal.js";

const name = "writer-test";

/** What the writer logged. */
interface LogLine {
  level: "error" | "warn";
  msg: string;
}

describe("JournalWriter on a SQLite file", () => {
  let dir: string;
  let file: string;
  let log: SqliteSnapshotStore;
  let writer: JournalWriter | undefined;
  let holder: Database.Database | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "kq-jwriter-"));
    file = join(dir, "journal.db");
    // A short busy timeout: a held lock fails a commit quickly.
    log = new SqliteSnapshotStore(file, { busyTimeoutMs: 50 });
    await log.migrate();
  });

  afterEach(async () => {
    holder?.close();
    holder = undefined;
    await writer?.flush().catch(() => {});
    writer = undefined;
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A store journaled by a started writer; `commits` counts the writer's commits (onCommit). */
  function journaled(mode: JournalMode, intervalMs = 3_600_000) {
    const clock = new ManualClock(T1);
    const store = new KeyValueStore(baseOptions, clock);
    const lines: LogLine[] = [];
    const commits: number[] = [];
    writer = new JournalWriter({
      log,
      name,
      after: 0n,
      mode,
      intervalMs,
      logger: { error: (_, msg) => lines.push({ level: "error", msg }), warn: (_, msg) => lines.push({ level: "warn", msg }) },
      onCommit: (entries) => commits.push(entries),
      retryMs: { first: 10, max: 50 },
    });
    store.attachCommandSink(writer);
    writer.start();
    const w = writer;
    /** A Set answered as the RPC layer answers it: once durable (sync). */
    const set = (key: string, value: string, clientId = "alice") => {
      const mark = w.mark();
      return w.acknowledge(mark, store.set(clientId, { key, value: bytes(value), contentType: "" }));
    };
    return { store, clock, writer: w, lines, commits, set };
  }

  /** Takes the database's write lock from another connection until {@link release}. */
  function holdWriteLock(): void {
    holder = new Database(file, { fileMustExist: true });
    holder.exec("BEGIN EXCLUSIVE");
  }

  function release(): void {
    holder!.exec("ROLLBACK");
    holder!.close();
    holder = undefined;
  }

  /** Resolves once `condition` holds (polled; the test's timeout bounds the wait). */
  async function until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it("group commit: many concurrent sync writes share far fewer commits, in the order they were applied", async () => {
    const { store, commits, set } = journaled("sync");
    const clients = 50;
    const perClient = 20;
    // Each client writes its keys one after the other, waiting for each to be durable.
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < perClient; i++) {
          await set(`c${c}`, `${i}`, `client-${c}`);
        }
      }),
    );
    const writes = clients * perClient;
    expect(commits.reduce((sum, entries) => sum + entries, 0)).toBe(writes);
    // Every commit but the first carries the writes that arrived while the one before ran.
    expect(commits.length).toBeLessThanOrEqual(writes / 10);

    const entries = await log.readJournal(name, 0n, writes + 1);
    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: writes }, (_, i) => BigInt(i + 1)));
    // Batches as committed: each holds its size of contiguous entries, named by the first.
    const sizes: number[] = [];
    for (const entry of entries) {
      if (entry.seq === entry.batch) {
        sizes.push(entry.batchSize);
      }
      expect(entry.seq - entry.batch).toBeLessThan(BigInt(entry.batchSize));
    }
    expect(sizes).toEqual(commits);
    // Each client's values in its order; replayed, the journal gives the store's state.
    const records = entries.map(decodeEntry);
    for (let c = 0; c < clients; c++) {
      const values = records.flatMap(({ command }) => (command.op === "set" && command.request.key === `c${c}` ? [text(command.request.value)] : []));
      expect(values).toEqual(Array.from({ length: perClient }, (_, i) => `${i}`));
    }
    const copy = new KeyValueStore(baseOptions, new ManualClock(T1));
    await replayJournal(log, name, copy);
    expect(copy.exportState(true)).toEqual(store.exportState(true));
  });

  it("batched: nothing commits before the interval; flush at shutdown commits everything, then refuses writes", async () => {
    const { store, writer: w, commits, set } = journaled("batched");
    for (let i = 0; i < 5; i++) {
      // Answered at once.
      expect(set(`k${i}`, "v")).toEqual({ isNew: true });
    }
    store.delete("alice", "k0");
    expect(w.backlog).toBe(6);
    expect(await log.journalLength(name)).toEqual({ entries: 0, lastSeq: 0n });

    await w.flush();
    expect(commits).toEqual([6]);
    expect(await log.journalLength(name)).toEqual({ entries: 6, lastSeq: 6n });
    expect(w.lastCommitted).toBe(6n);
    expect(() => store.set("alice", { key: "late", value: bytes("x"), contentType: "" })).toThrow(
      new JournalError("UNAVAILABLE", "the server is shutting down: the journal takes no more writes"),
    );
    expect(() => store.get("alice", "late")).toThrow(/Key not found/);
  });

  it("batched: commits by itself every interval", async () => {
    const { commits, set } = journaled("batched", 20);
    set("a", "1");
    await until(() => commits.length > 0);
    set("b", "2");
    await until(() => commits.length > 1);
    expect(commits).toEqual([1, 1]);
    expect(await log.journalLength(name)).toEqual({ entries: 2, lastSeq: 2n });
  });

  it("sync: a failed commit rejects its writes (UNAVAILABLE), admit refuses the next ones, reads go on; the kept batch commits once released", async () => {
    const { store, clock, writer: w, lines, commits, set } = journaled("sync");
    await set("before", "b");
    await w.acknowledge(w.mark(), store.set("alice", { key: "short", value: bytes("s"), contentType: "", lifespan: SECOND }));
    holdWriteLock();

    const failed = set("kept", "k");
    await expect(failed).rejects.toMatchObject({
      name: "JournalError",
      code: "UNAVAILABLE",
      message: expect.stringMatching(/^the journal could not commit this write \(.*locked.*\); it is retried, and may still take effect$/),
    });
    expect(w.failing).toBe(true);
    expect(lines).toEqual([{ level: "error", msg: "journal commit failed: writes are refused until it commits again; retrying" }]);

    const revision = store.revision;
    const refusal = /^the journal cannot commit \(.*\): writes are refused until the database is back$/;
    expect(() => store.set("alice", { key: "refused", value: bytes("r"), contentType: "" })).toThrow(refusal);
    expect(() => store.lock("alice", "before", 10n * SECOND, false)).toThrow(refusal);
    expect(() => store.delete("alice", "before")).toThrow(refusal);
    // Nothing of the refused writes was applied; reads answer.
    expect(store.revision).toBe(revision);
    expect(text(store.get("alice", "before"))).toBe("b");
    expect(text(store.get("alice", "kept"))).toBe("k");
    expect(() => store.get("alice", "refused")).toThrow(/Key not found/);
    // The server's own commands are never refused: an expiry waits in the backlog.
    clock.advance(2n * SECOND);
    expect(store.expireDue()).toBe(1);
    expect(w.backlog).toBeGreaterThanOrEqual(2);

    release();
    await until(() => !w.failing);
    expect(lines.at(-1)).toEqual({ level: "warn", msg: "journal commits again" });
    await set("after", "a");
    expect(commits.reduce((sum, entries) => sum + entries, 0)).toBe(6);

    const records = (await log.readJournal(name, 0n, 100)).map(decodeEntry);
    expect(records.map(({ seq, command }) => [seq, command.op, "request" in command ? command.request.key : undefined])).toEqual([
      [1n, "set", "before"],
      [2n, "set", "short"],
      [3n, "set", "kept"],
      // The first read's ACCESSED event: its revision (unrecorded) is reserved first.
      [4n, "reserveRevisions", undefined],
      [5n, "expire", undefined],
      [6n, "set", "after"],
    ]);
    const copy = new KeyValueStore(baseOptions, new ManualClock(clock.now()));
    await replayJournal(log, name, copy);
    const comparable = (state: ReturnType<KeyValueStore["exportState"]>) => ({ ...state, metrics: [], revision: 0n });
    expect(comparable(copy.exportState(true))).toEqual(comparable(store.exportState(true)));
  });

  it("batched: commits go on being retried while they fail, and writes go on being answered; the backlog commits once the lock is gone", async () => {
    const { writer: w, lines, commits, set } = journaled("batched", 10);
    holdWriteLock();
    set("a", "1");
    await until(() => w.failing);
    expect(lines).toEqual([{ level: "error", msg: "journal commit failed: writes since are not durable; retrying" }]);
    // Still answered at once.
    expect(set("b", "2")).toEqual({ isNew: true });
    expect(commits).toEqual([]);

    release();
    await until(() => !w.failing);
    await until(() => w.backlog === 0);
    expect(commits.reduce((sum, entries) => sum + entries, 0)).toBe(2);
    expect(await log.journalLength(name)).toEqual({ entries: 2, lastSeq: 2n });
  });
});
