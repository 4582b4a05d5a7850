import type { KeyValueStore } from "../store/key-value-store.js";
import type { CommandRecord } from "../store/store-command.js";
import { decodeEntry } from "./journal-entry-codec.js";
import { JournalError } from "./journal-error.js";
import type { JournalEntry } from "./journal-entry.js";
import type { JournalLog } from "./journal-log.js";

/** What {@link replayJournal} did. */
export interface ReplayResult {
  /** Entries applied. */
  entries: number;
  /** seq of the last one applied (the snapshot's when none was). */
  lastSeq: bigint;
  /** Entries of a partial or damaged last batch that were dropped instead of applied. */
  droppedTail: number;
  /** Entries after which the store's revision was ahead of the recorded one (should stay 0). */
  diverged: number;
  ms: number;
}

/** Entries read per query. */
const pageSize = 2000;

/**
 * Replays the journal of `name` after the store's command position (0, or
 * the restored snapshot's) through the store's own operations, at the
 * recorded times: the store ends exactly as it was after the last committed
 * batch. Entries are applied a whole batch at a time, after the batch has
 * been checked (complete, contiguous, every checksum right). The last batch
 * may be partial or damaged (a crash while it was written): it is dropped,
 * and deleted so that new entries can take its place. Anything wrong before
 * it, a gap, or a newer format throws a {@link JournalError}: a journal is
 * never misread.
 */
export async function replayJournal(log: JournalLog, name: string, store: KeyValueStore): Promise<ReplayResult> {
  const started = performance.now();
  const result: ReplayResult = { entries: 0, lastSeq: store.commandSeq, droppedTail: 0, diverged: 0, ms: 0 };
  let batch: JournalEntry[] = [];
  const apply = (records: readonly CommandRecord[]) => {
    for (const record of records) {
      // A batch committed after the snapshot was taken may begin with commands the snapshot holds.
      if (record.seq <= result.lastSeq) {
        continue;
      }
      if (!store.applyCommand(record).inStep) {
        result.diverged++;
      }
      result.lastSeq = record.seq;
      result.entries++;
    }
  };
  let after = store.commandSeq;
  // The batch holding the entry after the snapshot may begin before it: read it whole, to check it.
  const [next] = await log.readJournal(name, after, 1);
  if (next !== undefined && next.batch <= after) {
    after = next.batch - 1n;
  }
  for (;;) {
    const page = await log.readJournal(name, after, pageSize);
    for (const entry of page) {
      if (batch.length > 0 && entry.batch !== batch[0]!.batch) {
        apply(checkBatch(batch, result.lastSeq, false));
        batch = [];
      }
      batch.push(entry);
    }
    if (page.length < pageSize) {
      break;
    }
    after = page[page.length - 1]!.seq;
  }
  if (batch.length > 0) {
    const records = checkBatch(batch, result.lastSeq, true);
    if (records.length === 0) {
      result.droppedTail = batch.length;
      await log.truncateJournalAfter(name, result.lastSeq);
    }
    apply(records);
  }
  result.ms = performance.now() - started;
  return result;
}

/**
 * The records of a batch that follows `lastSeq`, or none for a last batch
 * that is partial or damaged; throws for anything else that is wrong.
 */
function checkBatch(batch: readonly JournalEntry[], lastSeq: bigint, isLast: boolean): CommandRecord[] {
  const first = batch[0]!;
  const end = first.seq + BigInt(batch.length);
  if (first.seq > lastSeq + 1n || end <= lastSeq) {
    throw new JournalError(
      "DAMAGED",
      `the journal has a gap: entry ${lastSeq + 1n} is missing before ${first.seq} (start with start_fresh to discard it)`,
    );
  }
  let problem: JournalError | undefined;
  const records: CommandRecord[] = [];
  for (const [i, entry] of batch.entries()) {
    if (entry.seq !== first.seq + BigInt(i) || entry.batch !== first.seq || entry.batchSize !== first.batchSize) {
      problem = new JournalError("DAMAGED", `journal entry ${entry.seq} does not belong to batch ${first.batch}`);
      break;
    }
    try {
      records.push(decodeEntry(entry));
    } catch (error) {
      if (error instanceof JournalError && error.code === "DAMAGED") {
        problem = error;
        break;
      }
      throw error;
    }
  }
  problem ??= batch.length === first.batchSize ? undefined : new JournalError("DAMAGED", `journal batch ${first.batch} holds ${batch.length} of its ${first.batchSize} entries`);
  if (problem === undefined) {
    return records;
  }
  if (isLast) {
    return [];
  }
  throw problem;
}
