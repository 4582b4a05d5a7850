import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { StoreError, storeErrorMessages, type StoreErrorCode } from "../store/store-error.js";
import { fromStoreError, toConnectError } from "./to-connect-error.js";

/** Status and exact message of every store error on the wire (BEHAVIOR §1.6 and our additions), written out independently. */
const onTheWire: Record<StoreErrorCode, readonly [Code, string]> = {
  EMPTY_KEY: [Code.InvalidArgument, "Empty key"],
  RESERVED: [Code.InvalidArgument, "Key cannot begin with 'keyquarry'"],
  READONLY: [Code.FailedPrecondition, "server in readonly mode"],
  KEY_TOO_LONG: [Code.FailedPrecondition, "Key length greater than maximum"],
  VALUE_TOO_LARGE: [Code.FailedPrecondition, "value size is greater than maximum"],
  LOCK_TOO_LONG: [Code.OutOfRange, "lock Duration too long"],
  LOCK_INVALID: [Code.OutOfRange, "invalid lock Duration"],
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
  CID_MISSING: [Code.InvalidArgument, "missing client_id: send your client id as request metadata 'client_id' (or 'client-id')"],
  CID_EMPTY: [Code.InvalidArgument, "empty client_id"],
  CID_RESERVED: [Code.InvalidArgument, "reserved client_id used"],
  SUB_LIMIT: [Code.ResourceExhausted, "subscriber limit reached"],
  CLIENT_SUB_LIMIT: [Code.ResourceExhausted, "watch limit per client reached"],
  VERSION_MISMATCH: [Code.FailedPrecondition, "version mismatch"],
  CID_TOO_LONG: [Code.InvalidArgument, "client_id too long"],
  MAX_CLIENTS: [Code.ResourceExhausted, "maximum number of registered clients reached"],
};

describe("toConnectError", () => {
  it("reports every store error code with its status and the store's exact message", () => {
    expect(Object.keys(onTheWire).sort()).toEqual(Object.keys(storeErrorMessages).sort());
    for (const [code, [status, message]] of Object.entries(onTheWire) as Array<[StoreErrorCode, readonly [Code, string]]>) {
      const reported = toConnectError(new StoreError(code));
      expect([code, reported.code, reported.rawMessage]).toEqual([code, status, message]);
    }
  });

  it("keeps the detail after the message, and the store error as the cause", () => {
    const error = new StoreError("VERSION_MISMATCH", "the current version is 3");
    const reported = toConnectError(error);
    expect([reported.code, reported.rawMessage, reported.cause]).toEqual([
      Code.FailedPrecondition,
      "version mismatch: the current version is 3",
      error,
    ]);
  });

  it("passes a ConnectError through and reports anything else with the fallback status", () => {
    const connectError = new ConnectError("gone", Code.Unavailable);
    expect(toConnectError(connectError)).toBe(connectError);
    const other = toConnectError(new Error("boom"), Code.Unknown);
    expect([other.code, other.rawMessage]).toEqual([Code.Unknown, "boom"]);
    expect(toConnectError(new Error("boom")).code).toBe(Code.Internal);
  });

  it("fromStoreError maps store errors only", () => {
    const other = new Error("boom");
    expect(fromStoreError(other)).toBe(other);
    expect(fromStoreError(new StoreError("NOT_FOUND"))).toBeInstanceOf(ConnectError);
  });
});
