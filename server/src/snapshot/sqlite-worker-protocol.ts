import type { SqliteSnapshotFile } from "./sqlite-snapshot-file.js";
import type { WorkerError } from "./worker-error.js";

/** The methods of {@link SqliteSnapshotFile} the main thread calls in the worker. */
export type WorkerMethod = keyof SqliteSnapshotFile;

/** A call posted to the SQLite worker. */
export interface WorkerCall {
  id: number;
  method: WorkerMethod;
  args: unknown[];
}

/** The worker's answer to call `id`. */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WorkerError };
