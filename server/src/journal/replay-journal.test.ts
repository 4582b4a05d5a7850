/**
 * replayJournal with a real SQLite snapshot store: a snapshot taken while
 * a batch was still being gathered covers part of that batch; saving it
 * keeps the whole batch (it truncates whole batches only), and a restore
 * (the snapshot, then the journal) applies only the batch's entries after
 * the snapshot's position, reaching the state the run ended with.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteSnapshotStore } from "../snapshot/sqlite-snapshot-store.js";
import { ManualClock } from "../store/clock.js";
import { baseOptions, bytes, SECOND, T1 } from "../store/key-value-store.fixture.js";
import { KeyValueStore } from "../store/key-value-store.js";
import type { CommandRecord } from "../store/store-command.js";
import { encodeRecord, sealBatch } from "./journal-entry-codec.js";
import { replayJournal } from "./replay-journal.js";

const name = "replay-test";

describe("replayJournal after a snapshot inside a batch (SQLite)", () => {
  let dir: string;
  let log: SqliteSnapshotStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "kq-jreplay-"));
    log = new SqliteSnapshotStore(join(dir, "journal.db"));
    await log.migrate();
  });

  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the straddling batch at save and replays only its entries after the snapshot", async () => {
    const clock = new ManualClock(T1);
    const store = new KeyValueStore(baseOptions, clock);
    const records: CommandRecord[] = [];
    store.attachCommandSink({ admit: () => {}, record: (record) => void records.push(record) });
    const set = (key: string, value: string, lifespan?: bigint) =>
      store.set("alice", { key, value: bytes(value), contentType: "", ...(lifespan === undefined ? {} : { lifespan }) });

    // Batch 1 (seq 1-2) committed before the snapshot.
    set("a", "1");
    set("b", "1", 5n * SECOND);
    await log.appendJournal(name, sealBatch(records.map(encodeRecord)));
    // Batch 2 (seq 3-6) is gathered while the snapshot is taken after seq 4.
    set("a", "2");
    store.lock("alice", "c", 10n * SECOND, true);
    clock.advance(6n * SECOND);
    const snapshot = store.exportState(true);
    // Taking the state applied b's expiry: it is seq 5, recorded before the state.
    expect(snapshot.commandSeq).toBe(5n);
    set("a", "3");
    await log.appendJournal(name, sealBatch(records.slice(2).map(encodeRecord)));
    expect(await log.journalLength(name)).toEqual({ entries: 6, lastSeq: 6n });

    await log.save(name, snapshot, 1);
    // Batch 1 is covered and gone; batch 2 ends after the snapshot and stays whole.
    const kept = await log.readJournal(name, 0n, 100);
    expect(kept.map((entry) => [entry.seq, entry.batch])).toEqual([
      [3n, 3n],
      [4n, 3n],
      [5n, 3n],
      [6n, 3n],
    ]);

    const [newest] = await log.list(name);
    const restored = new KeyValueStore(baseOptions, new ManualClock(clock.now()));
    restored.importState((await log.load(newest!.id))!);
    const result = await replayJournal(log, name, restored);
    expect(result).toMatchObject({ entries: 1, lastSeq: 6n, droppedTail: 0, diverged: 0 });
    expect(restored.exportState(true)).toEqual(store.exportState(true));
  });
});
