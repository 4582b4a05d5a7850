import { Code, ConnectError } from "@connectrpc/connect";

/** A failed call as a person reads it: what was attempted, the status code's name and the server's message. */
export function describeError(action: string, error: unknown): string {
  const { code, rawMessage } = ConnectError.from(error);
  return `${action} failed: ${Code[code] ?? code} — ${rawMessage}`;
}

/** Whether `error` is the server's refusal to write in read-only mode. */
export function isReadOnlyError(error: unknown): boolean {
  const { code, rawMessage } = ConnectError.from(error);
  return code === Code.FailedPrecondition && rawMessage.includes("readonly");
}

/** The current version named by a failed `if_version` write, if it is one. */
export function versionConflict(error: unknown): string | undefined {
  const { code, rawMessage } = ConnectError.from(error);
  return code === Code.FailedPrecondition && rawMessage.startsWith("version mismatch") ? rawMessage : undefined;
}
