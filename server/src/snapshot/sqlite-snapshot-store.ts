import type { Worker } from "node:worker_threads";
import type { JournalEntry } from "../journal/journal-entry.js";
import type { StoreState } from "../store/store-state.js";
import type { ChildTableName, SqliteSnapshotFile, SqliteSnapshotStoreOptions } from "./sqlite-snapshot-file.js";
import type { WorkerCall, WorkerMethod, WorkerReply } from "./sqlite-worker-protocol.js";
import { assertRetain, type SnapshotStore, type SnapshotSummary } from "./snapshot-store.js";
import { startModuleWorker } from "./start-module-worker.js";
import { fromWorkerError } from "./worker-error.js";
import { snapshotRow, writeStateRows, type StateRowSink } from "./write-state-rows.js";

export type { SqliteSnapshotStoreOptions } from "./sqlite-snapshot-file.js";

/** Slices of a save posted to the worker and not yet written, at most. */
const slicesInFlight = 2;

/** The result type of a {@link SqliteSnapshotFile} method, as the worker answers it. */
type Result<M extends WorkerMethod> = SqliteSnapshotFile[M] extends (...args: never[]) => infer R ? Awaited<R> : never;
type Args<M extends WorkerMethod> = SqliteSnapshotFile[M] extends (...args: infer A) => unknown ? A : never;

/**
 * Snapshots and journal in a SQLite file. The database is opened and used
 * in a worker thread of its own (sqlite-worker.ts, {@link SqliteSnapshotFile}):
 * better-sqlite3 is synchronous, and a COMMIT's fsync or a wait for another
 * connection's lock would otherwise stop the whole server. This object
 * posts each call and resolves with the worker's answer; the worker runs
 * them one at a time, in call order.
 *
 * A save encodes the state batch by batch here (a deferred export's values
 * become bytes one batch at a time) and posts each batch as a transaction
 * of its own, so journal appends queued meanwhile commit between two
 * batches instead of after the whole snapshot (see {@link SqliteSnapshotFile.beginSave}).
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private closing: Promise<void> | undefined;
  /** Saves being written: the next save must not delete their incomplete rows as leftovers. */
  private readonly saving = new Set<bigint>();
  /** Why the worker stopped, if it did: every call after that fails with it. */
  private failure: Error | undefined;

  /** Opens (creating unless told otherwise) the database file `file`, or `:memory:`; open errors surface at the first call. */
  constructor(file: string, options: SqliteSnapshotStoreOptions = {}) {
    this.worker = startModuleWorker(import.meta.url, "sqlite-worker", { file, options });
    this.worker.on("message", (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) {
        waiter?.resolve(reply.value);
      } else {
        waiter?.reject(fromWorkerError(reply.error));
      }
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", () => this.fail(new Error("snapshot store is closed")));
    // Idle, the worker must not keep the process alive; calls in flight ref it (see call()).
    this.worker.unref();
  }

  migrate(): Promise<void> {
    return this.call("migrate");
  }

  async save(name: string, state: StoreState, retain: number): Promise<bigint> {
    assertRetain(retain);
    const id = await this.call("beginSave", name, snapshotRow(name, state), [...this.saving]);
    this.saving.add(id);
    try {
      // Slices in flight: the next one is encoded while the worker writes one (a journal append waits for at most these).
      const inFlight = new Set<Promise<void>>();
      const slice = (table: ChildTableName) => async (rows: object[]) => {
        const written = this.call("insertSlice", table, rows);
        // Handled here, awaited below: a failure fails the save, never goes unhandled.
        written.catch(() => {});
        inFlight.add(written);
        void written.finally(() => inFlight.delete(written)).catch(() => {});
        if (inFlight.size >= slicesInFlight) {
          await Promise.race(inFlight);
        }
      };
      const sink: StateRowSink = {
        keys: slice("keys"),
        history: slice("history"),
        revisions: slice("revisions"),
        metrics: slice("metrics"),
        clients: slice("clients"),
      };
      const counts = await writeStateRows(id, state, sink);
      await Promise.all(inFlight);
      await this.call("finishSave", id, name, counts, retain, state.commandSeq);
      return id;
    } catch (error) {
      // Best effort: what is left incomplete is ignored by readers and deleted by the next save.
      await this.call("abortSave", id).catch(() => {});
      throw error;
    } finally {
      this.saving.delete(id);
    }
  }

  loadLatest(name: string): Promise<StoreState | undefined> {
    return this.call("loadLatest", name);
  }

  load(id: bigint): Promise<StoreState | undefined> {
    return this.call("load", id);
  }

  list(name?: string): Promise<SnapshotSummary[]> {
    return this.call("list", name);
  }

  appendJournal(name: string, entries: readonly JournalEntry[]): Promise<void> {
    return this.call("appendJournal", name, entries);
  }

  readJournal(name: string, afterSeq: bigint, limit: number): Promise<JournalEntry[]> {
    return this.call("readJournal", name, afterSeq, limit);
  }

  truncateJournal(name: string, uptoSeq?: bigint): Promise<void> {
    return this.call("truncateJournal", name, uptoSeq);
  }

  truncateJournalAfter(name: string, afterSeq: bigint): Promise<void> {
    return this.call("truncateJournalAfter", name, afterSeq);
  }

  journalLength(name: string): Promise<{ entries: number; lastSeq: bigint }> {
    return this.call("journalLength", name);
  }

  /** Waits for the calls queued before it, closes the database and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.call("close");
      } catch {
        // The database could not be opened, or the worker is gone: nothing to close.
      } finally {
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  private call<M extends WorkerMethod>(method: M, ...args: Args<M>): Promise<Result<M>> {
    if (this.failure !== undefined || (this.closing !== undefined && method !== "close")) {
      return Promise.reject(this.failure ?? new Error("snapshot store is closed"));
    }
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      if (this.pending.size === 0) {
        this.worker.ref();
      }
      const settle = (finish: () => void) => {
        finish();
        if (this.pending.size === 0) {
          this.worker.unref();
        }
      };
      this.pending.set(id, {
        resolve: (value) => settle(() => resolve(value as Result<M>)),
        reject: (error) => settle(() => reject(error)),
      });
      this.worker.postMessage({ id, method, args } satisfies WorkerCall);
    });
  }

  /** The worker stopped: fails every call in flight and every later one. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.pending.values()) {
      reject(this.failure);
    }
    this.pending.clear();
  }
}
