import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Turns an error into the one line the CLI prints after `keyquarry: `.
 * RPC failures read `<code>: <message>` with the snake_case status code name
 * (`permission_denied: Key is locked`); anything else is its message. Stack
 * traces are left out on purpose: these are user-facing, expected failures.
 */
export function describeError(err: unknown): string {
  if (err instanceof ConnectError) {
    return oneLine(`${statusName(err.code)}: ${err.rawMessage}`);
  }
  return oneLine(err instanceof Error ? err.message : String(err));
}

/** The snake_case name of an RPC status code, e.g. `permission_denied`. */
export function statusName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

/** `{code, message}` of a failed call, for a JSON output line (`{"code":"failed_precondition","message":…}`). */
export function errorFields(error: unknown): { code: string; message: string } {
  const connectError = ConnectError.from(error);
  return { code: statusName(connectError.code), message: connectError.rawMessage };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
