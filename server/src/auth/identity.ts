/** What an identity may do: read < write < admin, each role including the ones before it. */
export type Role = "admin" | "readwrite" | "readonly";

/** The roles, in the order the identities file documents them. */
export const roles: readonly Role[] = ["admin", "readwrite", "readonly"];

/** A permission an RPC requires (see the table in rpc/operation-permissions.ts). */
export type Permission = "read" | "write" | "admin";

/** An authenticated caller, as the identities file describes it. */
export interface Identity {
  /** The client id every call of this identity runs as (locks, events, metrics, Register). */
  readonly id: string;
  readonly role: Role;
  /** Keys it may address start with one of these; undefined: every key. */
  readonly keyPrefixes: readonly string[] | undefined;
}

const granted: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(["read", "write", "admin"]),
  readwrite: new Set(["read", "write"]),
  readonly: new Set(["read"]),
};

/** Whether `identity`'s role grants `permission`, and (given a key) its key_prefixes cover `key`. */
export function can(identity: Identity, permission: Permission, key?: string): boolean {
  return granted[identity.role].has(permission) && (key === undefined || coversKey(identity, key));
}

/** Whether `identity`'s key_prefixes cover `key` (every key without key_prefixes). */
export function coversKey(identity: Identity, key: string): boolean {
  return identity.keyPrefixes === undefined || identity.keyPrefixes.some((prefix) => key.startsWith(prefix));
}
