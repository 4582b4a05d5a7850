import type { JournalEntry } from "./journal-entry.js";

/**
 * Where a server's journal lives: an ordered log of entries, appended in
 * batches. The SQLite and PostgreSQL snapshot stores implement it in the
 * snapshots' database (each truncates it in the transaction that saves a
 * snapshot); a replicated log (NATS JetStream) can implement the same three
 * calls, so that several servers apply one ordered log.
 */
export interface JournalLog {
  /** Appends one batch (entries in seq order, following the last one) atomically; resolves once it is durable. */
  appendJournal(name: string, entries: readonly JournalEntry[]): Promise<void>;
  /** Up to `limit` entries of `name` after `afterSeq`, in seq order. */
  readJournal(name: string, afterSeq: bigint, limit: number): Promise<JournalEntry[]>;
  /**
   * Deletes the entries of `name` up to and including `uptoSeq`, whole
   * batches only (a batch that ends after it stays), or all of them with undefined.
   */
  truncateJournal(name: string, uptoSeq?: bigint): Promise<void>;
  /** Deletes the entries of `name` after `afterSeq`: a partial last batch that replay dropped. */
  truncateJournalAfter(name: string, afterSeq: bigint): Promise<void>;
  /** How many entries `name` has, and the last one's seq (0n when empty). */
  journalLength(name: string): Promise<{ entries: number; lastSeq: bigint }>;
}
