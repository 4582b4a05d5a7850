/** Why the journal failed: it cannot commit now, or what it holds cannot be replayed. */
export type JournalErrorCode = "UNAVAILABLE" | "DAMAGED" | "NEWER_FORMAT";

/**
 * The journal's one error type. UNAVAILABLE refuses a write (the RPC layer
 * answers UNAVAILABLE: the database cannot commit it now); the others stop
 * a server from starting on a journal it cannot replay exactly.
 */
export class JournalError extends Error {
  override name = "JournalError";

  constructor(
    readonly code: JournalErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
