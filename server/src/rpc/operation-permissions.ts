import type { DescService, MessageShape } from "@bufbuild/protobuf";
import type { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { Permission } from "../auth/identity.js";
import type { UnaryOperations } from "./unary-operations.js";

/** What a unary RPC requires of its caller: a permission and, for a key-addressed call, the key. */
export interface OperationRule<Request> {
  readonly permission: Permission | ((request: Request) => Permission);
  /** The key the call addresses: the caller's key_prefixes must cover it. */
  readonly key?: (request: Request) => string;
}

/** One rule for every unary RPC of a service: a new RPC without one does not compile. */
export type OperationRules<S extends DescService> = {
  [K in keyof UnaryOperations<S>]: OperationRule<MessageShape<S["method"][K]["input"]>>;
};

const byKey = (request: { key: string }) => request.key;

/**
 * The KeyQuarry service's rules. ListKeys lists only the keys the caller's
 * key_prefixes cover and Clear removes only those (both in their
 * operation); Clear with force and ClearHistory are an admin's.
 */
export const keyQuarryRules: OperationRules<typeof KeyQuarry> = {
  set: { permission: "write", key: byKey },
  get: { permission: "read", key: byKey },
  inspect: { permission: "read", key: byKey },
  delete: { permission: "write", key: byKey },
  exists: { permission: "read", key: byKey },
  pop: { permission: "write", key: byKey },
  clear: { permission: (request) => (request.force ? "admin" : "write") },
  listKeys: { permission: "read" },
  stats: { permission: "read" },
  clearHistory: { permission: "admin" },
  lock: { permission: "write", key: byKey },
  unlock: { permission: "write", key: byKey },
  getRevision: { permission: "read", key: byKey },
  register: { permission: "write" },
  setReadOnly: { permission: "admin" },
  getKeyMetric: { permission: "read", key: byKey },
};

/** The Admin service: an admin's only. */
export const adminRules: OperationRules<typeof Admin> = {
  prune: { permission: "admin" },
  shutdown: { permission: "admin" },
};
