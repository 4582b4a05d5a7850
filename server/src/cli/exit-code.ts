import { Code, ConnectError } from "@connectrpc/connect";
import { CommanderError } from "commander";

/** The exit statuses of `keyquarry`, for scripts. */
export const ExitCode = {
  ok: 0,
  /** The key (or revision, snapshot, database) does not exist; `exists` of a missing key. */
  notFound: 1,
  /** Some items of a bulk command (load, dump, restore) failed; the others were done. */
  someFailed: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** No server to talk to: refused, unknown host, TLS handshake failed, no answer in time. */
  unreachable: 3,
  /** Any other failure, e.g. the server refused the request. */
  failed: 4,
} as const;

/** A failure that knows its exit status; printed as its message alone. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

// Node's codes for a connection that could not be made or was cut: system
// errors (connect, DNS, socket) and TLS handshake and certificate failures.
const connectionErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ENOENT",
]);
const tlsErrorCode = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_)/;

/** The exit status for a failed command (see {@link ExitCode}). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) {
    return error.exitCode;
  }
  if (error instanceof CommanderError) {
    // Commander "fails" with status 0 after printing help or the version.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (!(error instanceof ConnectError)) {
    return ExitCode.failed;
  }
  switch (error.code) {
    case Code.NotFound:
      return ExitCode.notFound;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return ExitCode.unreachable;
    default:
      return isConnectionFailure(error.cause) ? ExitCode.unreachable : ExitCode.failed;
  }
}

function isConnectionFailure(cause: unknown): boolean {
  for (let error = cause; error instanceof Error; error = error.cause) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && (connectionErrorCodes.has(code) || tlsErrorCode.test(code))) {
      return true;
    }
  }
  return false;
}
