/**
 * The registry of every error the store (and the layers serving it) reports,
 * by code: the exact message of the original keyquarry (clients may match on
 * them), plus our own additions at the end. The RPC layer gives each code its
 * status (rpc/to-connect-error.ts).
 */
export const storeErrorMessages = {
  EMPTY_KEY: "Empty key",
  RESERVED: "Key cannot begin with 'keyquarry'",
  READONLY: "server in readonly mode",
  // The detail of these two and of MAX_KEYS names the limit (our extension).
  KEY_TOO_LONG: "Key length greater than maximum",
  VALUE_TOO_LARGE: "value size is greater than maximum",
  // The detail of these two names the limit (our extension).
  LOCK_TOO_LONG: "lock Duration too long",
  LOCK_INVALID: "invalid lock Duration",
  // The original said "invalid expire_after" (the Go field's name); the detail names the limit.
  LIFESPAN_INVALID: "invalid lifespan",
  WRONG_OWNER: "client_id provided does not match key",
  LOCKED: "Key is locked",
  LOCKED_OTHER: "locked by another client",
  NOT_FOUND: "Key not found",
  METRIC_NOT_FOUND: "key not found",
  MAX_KEYS: "maximum number of keys reached",
  BAD_PATTERN: "invalid key pattern",
  PATTERN_TOO_LONG: "pattern too long",
  PATTERN_TOO_COMPLEX: "pattern too complex",
  BAD_CURSOR: "invalid cursor",
  NO_VERSIONING: "versioning is not enabled",
  REVISION_ZERO: "revision must be greater or less than zero",
  REVISION_NOT_FOUND: "revision not found",
  ALREADY_REGISTERED: "already registered",
  NO_PRIVILEGED: "privileged client ID not set",
  NOT_AUTHORIZED: "not authorized",
  ADMIN_ONLY: "missing or invalid client ID for admin function",
  // The original answered a missing id with "reserved client_id used" (§15.1).
  CID_MISSING: "missing client_id: send your client id as request metadata 'client_id' (or 'client-id')",
  CID_EMPTY: "empty client_id",
  CID_RESERVED: "reserved client_id used",
  SUB_LIMIT: "subscriber limit reached",
  // Our extension; the detail names the client and event_stream_client_limit.
  CLIENT_SUB_LIMIT: "watch limit per client reached",
  // Compare-and-set (our extension); the detail names the current version.
  VERSION_MISMATCH: "version mismatch",
  // Bounded state (our extension); the detail names the limit.
  CID_TOO_LONG: "client_id too long",
  MAX_CLIENTS: "maximum number of registered clients reached",
} as const satisfies Record<string, string>;

/** The code of an entry of {@link storeErrorMessages}. */
export type StoreErrorCode = keyof typeof storeErrorMessages;

/**
 * The one error type of the store: an entry of {@link storeErrorMessages},
 * with an optional detail appended to the message. Transport-neutral: the
 * RPC layer maps it to its status.
 */
export class StoreError extends Error {
  override readonly name = "StoreError";

  constructor(
    readonly code: StoreErrorCode,
    detail?: string,
  ) {
    const message = storeErrorMessages[code];
    super(detail === undefined ? message : `${message}: ${detail}`);
  }
}
