/**
 * The SQLite snapshot database's worker thread (see {@link SqliteSnapshotStore}):
 * opens the file named in workerData and runs each call the main thread
 * posts, one at a time in order, answering with its result or error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { SerialQueue } from "./serial-queue.js";
import { SqliteSnapshotFile, type SqliteSnapshotStoreOptions } from "./sqlite-snapshot-file.js";
import { toWorkerError } from "./worker-error.js";
import type { WorkerCall, WorkerReply } from "./sqlite-worker-protocol.js";

const { file, options } = workerData as { file: string; options: SqliteSnapshotStoreOptions };
const port = parentPort!;
const queue = new SerialQueue();

let database: SqliteSnapshotFile | undefined;
let openError: unknown;
try {
  database = new SqliteSnapshotFile(file, options);
} catch (error) {
  // Answered to every call: the store was made synchronously and fails on first use.
  openError = error;
}

port.on("message", ({ id, method, args }: WorkerCall) => {
  void queue
    .run(async () => {
      if (database === undefined) {
        throw openError;
      }
      const call = database[method] as (...a: unknown[]) => unknown;
      return call.apply(database, args);
    })
    .then(
      (value) => port.postMessage({ id, ok: true, value } satisfies WorkerReply),
      (error: unknown) => port.postMessage({ id, ok: false, error: toWorkerError(error) } satisfies WorkerReply),
    );
});
