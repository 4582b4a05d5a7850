import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The registry of every error the store reports: a status code and the exact
 * message of the original keyquarry (clients may match on them), plus our
 * own additions at the end.
 */
export const storeErrors = {
  EMPTY_KEY: [Code.InvalidArgument, "Empty key"],
  RESERVED: [Code.InvalidArgument, "Key cannot begin with 'keyquarry'"],
  READONLY: [Code.FailedPrecondition, "server in readonly mode"],
  // The detail of these two and of MAX_KEYS names the limit (our extension).
  KEY_TOO_LONG: [Code.FailedPrecondition, "Key length greater than maximum"],
  VALUE_TOO_LARGE: [Code.FailedPrecondition, "value size is greater than maximum"],
  // The detail of these two names the limit (our extension).
  LOCK_TOO_LONG: [Code.OutOfRange, "lock Duration too long"],
  LOCK_INVALID: [Code.OutOfRange, "invalid lock Duration"],
  // The original said "invalid expire_after" (the Go field's name); the detail names the limit.
  LIFESPAN_INVALID: [Code.InvalidArgument, "invalid lifespan"],
  WRONG_OWNER: [Code.PermissionDenied, "client_id provided does not match key"],
  LOCKED: [Code.PermissionDenied, "Key is locked"],
  LOCKED_OTHER: [Code.PermissionDenied, "locked by another client"],
  NOT_FOUND: [Code.NotFound, "Key not found"],
  METRIC_NOT_FOUND: [Code.NotFound, "key not found"],
  MAX_KEYS: [Code.ResourceExhausted, "maximum number of keys reached"],
  BAD_PATTERN: [Code.InvalidArgument, "invalid key pattern"],
  PATTERN_TOO_LONG: [Code.InvalidArgument, "pattern too long"],
  PATTERN_TOO_COMPLEX: [Code.InvalidArgument, "pattern too complex"],
  BAD_CURSOR: [Code.InvalidArgument, "invalid cursor"],
  NO_VERSIONING: [Code.FailedPrecondition, "versioning is not enabled"],
  REVISION_ZERO: [Code.InvalidArgument, "revision must be greater or less than zero"],
  REVISION_NOT_FOUND: [Code.NotFound, "revision not found"],
  ALREADY_REGISTERED: [Code.AlreadyExists, "already registered"],
  NO_PRIVILEGED: [Code.FailedPrecondition, "privileged client ID not set"],
  NOT_AUTHORIZED: [Code.PermissionDenied, "not authorized"],
  ADMIN_ONLY: [Code.PermissionDenied, "missing or invalid client ID for admin function"],
  // The original answered a missing id with "reserved client_id used" (§15.1).
  CID_MISSING: [
    Code.InvalidArgument,
    "missing client_id: send your client id as request metadata 'client_id' (or 'client-id')",
  ],
  CID_EMPTY: [Code.InvalidArgument, "empty client_id"],
  CID_RESERVED: [Code.InvalidArgument, "reserved client_id used"],
  SUB_LIMIT: [Code.ResourceExhausted, "subscriber limit reached"],
  // Our extension; the detail names the client and event_stream_client_limit.
  CLIENT_SUB_LIMIT: [Code.ResourceExhausted, "watch limit per client reached"],
  // Compare-and-set (our extension); the detail names the current version.
  VERSION_MISMATCH: [Code.FailedPrecondition, "version mismatch"],
  // Bounded state (our extension); the detail names the limit.
  CID_TOO_LONG: [Code.InvalidArgument, "client_id too long"],
  MAX_CLIENTS: [Code.ResourceExhausted, "maximum number of registered clients reached"],
} as const satisfies Record<string, readonly [Code, string]>;

/** The name of an entry of {@link storeErrors}. */
export type StoreErrorId = keyof typeof storeErrors;

/**
 * The one error type of the store: an entry of {@link storeErrors}, with an
 * optional detail appended to the message. It is a ConnectError, so every
 * transport reports it with its status code as is.
 */
export class StoreError extends ConnectError {
  constructor(
    readonly id: StoreErrorId,
    detail?: string,
  ) {
    const [code, message] = storeErrors[id];
    super(detail === undefined ? message : `${message}: ${detail}`, code);
  }
}
