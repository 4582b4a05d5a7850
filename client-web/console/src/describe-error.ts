import { Code, ConnectError } from "@connectrpc/connect";

/** The server's refusal of a call its identity's role or key_prefixes do not allow (rpc/authorize-operations.ts). */
const missingPermission = /^\w+ needs the (\w+) permission(?: on key ("(?:[^"\\]|\\.)*"))?/;

/**
 * A failed call as a person reads it: what was attempted, the status code's
 * name and the server's message; a refusal by auth says so first ("this
 * token may not write key …", "the token was not accepted").
 */
export function describeError(action: string, error: unknown): string {
  const { code, rawMessage } = ConnectError.from(error);
  const detail = `${Code[code] ?? code} — ${rawMessage}`;
  if (code === Code.Unauthenticated) {
    return `${action} failed: the server did not accept the token (${detail}); set a valid token above`;
  }
  const permission = code === Code.PermissionDenied ? missingPermission.exec(rawMessage) : null;
  if (permission !== null) {
    const [, what, key] = permission;
    return `${action} failed: this token may not ${what === "admin" ? "make admin calls" : what}${key === undefined ? "" : ` key ${key}`} (${detail})`;
  }
  return `${action} failed: ${detail}`;
}

/** The current version named by a failed `if_version` write, if it is one. */
export function versionConflict(error: unknown): string | undefined {
  const { code, rawMessage } = ConnectError.from(error);
  return code === Code.FailedPrecondition && rawMessage.startsWith("version mismatch") ? rawMessage : undefined;
}
