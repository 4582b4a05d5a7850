import { Code, ConnectError } from "@connectrpc/connect";
import { JournalError } from "../journal/journal-error.js";
import { StoreError, type StoreErrorCode } from "../store/store-error.js";

/** The status of every store error code (the message is the store's, as is). */
export const storeErrorStatus = {
  EMPTY_KEY: Code.InvalidArgument,
  RESERVED: Code.InvalidArgument,
  READONLY: Code.FailedPrecondition,
  KEY_TOO_LONG: Code.FailedPrecondition,
  VALUE_TOO_LARGE: Code.FailedPrecondition,
  LOCK_TOO_LONG: Code.OutOfRange,
  LOCK_INVALID: Code.OutOfRange,
  LIFESPAN_INVALID: Code.InvalidArgument,
  WRONG_OWNER: Code.PermissionDenied,
  LOCKED: Code.PermissionDenied,
  LOCKED_OTHER: Code.PermissionDenied,
  NOT_FOUND: Code.NotFound,
  METRIC_NOT_FOUND: Code.NotFound,
  MAX_KEYS: Code.ResourceExhausted,
  BAD_PATTERN: Code.InvalidArgument,
  PATTERN_TOO_LONG: Code.InvalidArgument,
  PATTERN_TOO_COMPLEX: Code.InvalidArgument,
  BAD_CURSOR: Code.InvalidArgument,
  NO_VERSIONING: Code.FailedPrecondition,
  REVISION_ZERO: Code.InvalidArgument,
  REVISION_NOT_FOUND: Code.NotFound,
  ALREADY_REGISTERED: Code.AlreadyExists,
  NO_PRIVILEGED: Code.FailedPrecondition,
  NOT_AUTHORIZED: Code.PermissionDenied,
  ADMIN_ONLY: Code.PermissionDenied,
  CID_MISSING: Code.InvalidArgument,
  CID_EMPTY: Code.InvalidArgument,
  CID_RESERVED: Code.InvalidArgument,
  SUB_LIMIT: Code.ResourceExhausted,
  CLIENT_SUB_LIMIT: Code.ResourceExhausted,
  VERSION_MISMATCH: Code.FailedPrecondition,
  CID_TOO_LONG: Code.InvalidArgument,
  MAX_CLIENTS: Code.ResourceExhausted,
} as const satisfies Record<StoreErrorCode, Code>;

/**
 * The error as the RPC layer reports it: a {@link StoreError} becomes the
 * ConnectError of its code's status with the same message; a ConnectError
 * stays as is; anything else becomes a ConnectError of `fallback`
 * (ConnectError.from: the error's message).
 */
export function toConnectError(error: unknown, fallback: Code = Code.Internal): ConnectError {
  if (error instanceof StoreError) {
    return new ConnectError(error.message, storeErrorStatus[error.code], undefined, undefined, error);
  }
  if (error instanceof JournalError) {
    // A write the journal could not commit: the client may retry once the database is back.
    return new ConnectError(error.message, error.code === "UNAVAILABLE" ? Code.Unavailable : Code.Internal, undefined, undefined, error);
  }
  return ConnectError.from(error, fallback);
}

/** Like {@link toConnectError}, but leaves anything but a StoreError as it is (for callers with their own fallback). */
export function fromStoreError(error: unknown): unknown {
  return error instanceof StoreError || error instanceof JournalError ? toConnectError(error) : error;
}
