/** The journal: every change between two snapshots, committed before it is acknowledged (sync) or in batches. */
export { JournalError, type JournalErrorCode } from "./journal-error.js";
export { journalFormat, type JournalEntry } from "./journal-entry.js";
export type { JournalLog } from "./journal-log.js";
export { JournalWriter, type JournalLogger, type JournalMode, type JournalWriterOptions } from "./journal-writer.js";
export { replayJournal, type ReplayResult } from "./replay-journal.js";
