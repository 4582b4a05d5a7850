import type { JournalLog } from "../journal/journal-log.js";
import type { SpanRunner } from "./span-runner.js";

/** What the journal's commits did, for the metrics (read when scraped). */
export class JournalRecord {
  commits = 0;
  entries = 0;
  failures = 0;
  /** Sum of the commits' durations: with `commits`, the mean commit latency. */
  seconds = 0;
  last: { seconds: number; entries: number } | undefined;
  /** Entries recorded, not committed yet, and whether commits fail now (read from the writer). */
  state: () => { backlog: number; failing: boolean } = () => ({ backlog: 0, failing: false });
}

/** `log`, with each append (a journal commit) recorded in `record` and run in a `keyquarry.journal.commit` span. */
export function observedJournalLog(log: JournalLog, record: JournalRecord, span: SpanRunner): JournalLog {
  return {
    appendJournal: async (name, entries) => {
      const startedAt = performance.now();
      try {
        await span("keyquarry.journal.commit", () => log.appendJournal(name, entries), { "keyquarry.journal.entries": entries.length });
      } catch (error) {
        record.failures++;
        throw error;
      }
      const seconds = (performance.now() - startedAt) / 1000;
      record.commits++;
      record.entries += entries.length;
      record.seconds += seconds;
      record.last = { seconds, entries: entries.length };
    },
    readJournal: (name, afterSeq, limit) => log.readJournal(name, afterSeq, limit),
    truncateJournal: (name, uptoSeq) => log.truncateJournal(name, uptoSeq),
    truncateJournalAfter: (name, afterSeq) => log.truncateJournalAfter(name, afterSeq),
    journalLength: (name) => log.journalLength(name),
  };
}
