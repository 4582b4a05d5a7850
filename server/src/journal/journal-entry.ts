/**
 * One journal row as the databases store it (see the `journal_entries`
 * tables): a {@link CommandRecord} encoded by {@link encodeJournalEntry},
 * with its place in a batch and a checksum.
 */
export interface JournalEntry {
  seq: bigint;
  /** Layout of `command`: {@link journalFormat} when written. */
  format: number;
  /** seq of the first entry of the batch this one was committed in. */
  batch: bigint;
  batchSize: number;
  time: bigint;
  revision: bigint;
  /** The command as JSON, without its value. */
  command: string;
  /** A Set's value; null for every other command. */
  value: Uint8Array | null;
  /** CRC-32 of the other fields (see {@link journalChecksum}). */
  checksum: number;
}

/** The layout of journal entries this server writes and the newest it reads. */
export const journalFormat = 1;
