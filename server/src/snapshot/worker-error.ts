import { JournalError, type JournalErrorCode } from "../journal/journal-error.js";
import { SnapshotError } from "./snapshot-error.js";

/** An error as it crosses from the SQLite worker to the main thread (structured clone keeps no class nor `code`). */
export interface WorkerError {
  name: string;
  message: string;
  /** SQLite's code (SQLITE_BUSY, ...) or the JournalError's. */
  code?: string;
  snapshotId?: bigint;
}

/** `error` as the worker posts it. */
export function toWorkerError(error: unknown): WorkerError {
  if (!(error instanceof Error)) {
    return { name: "Error", message: String(error) };
  }
  const { code } = error as { code?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(error instanceof SnapshotError ? { snapshotId: error.snapshotId } : {}),
  };
}

/** The error the worker posted, as its own class again where callers test for one (SnapshotError, JournalError). */
export function fromWorkerError(posted: WorkerError): Error {
  let error: Error;
  if (posted.name === "SnapshotError" && posted.snapshotId !== undefined) {
    error = new SnapshotError(posted.snapshotId, "");
  } else if (posted.name === "JournalError" && posted.code !== undefined) {
    error = new JournalError(posted.code as JournalErrorCode, "");
  } else {
    error = Object.assign(new Error(""), posted.code === undefined ? {} : { code: posted.code });
    error.name = posted.name;
  }
  error.message = posted.message;
  return error;
}
