import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Turns an error into the one line the CLI prints after `keyquarry: `.
 * RPC failures read `<code>: <message>` with the snake_case status code name
 * (`permission_denied: Key is locked`); anything else is its message. Stack
 * traces are left out on purpose: these are user-facing, expected failures.
 */
export function describeError(err: unknown): string {
  if (err instanceof ConnectError) {
    return oneLine(`${statusCodeName(err.code)}: ${err.rawMessage}`);
  }
  return oneLine(err instanceof Error ? err.message : String(err));
}

/** The snake_case name of a status code, as the CLI prints it: `permission_denied`. */
export function statusCodeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
