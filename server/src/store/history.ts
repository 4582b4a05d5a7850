import { type KeyEntry, StoredRevision } from "./key-entry.js";
import type { KeyTable } from "./key-table.js";
import type { RevisionState } from "./store-state.js";
import { StoreError } from "./store-error.js";

/** The history settings of a store. */
export interface HistoryOptions {
  /** Revisions kept per key: -1 unlimited, 0 none, N the current value and N-1 older ones. */
  revisionLimit: number;
  /** Keep a key's history after it is removed. */
  keepDeletedKeyHistory: boolean;
}

/**
 * The revision history of keys: each key's retained versions within
 * revision_limit, what outlives a removed key, reading a revision back and
 * clearing them.
 */
export class History {
  constructor(private readonly options: HistoryOptions) {}

  /** Refuses history requests when versioning is off (NO_VERSIONING). */
  checkEnabled(): void {
    if (this.options.revisionLimit === 0) {
      throw new StoreError("NO_VERSIONING");
    }
  }

  /**
   * Retains `entry`'s new current version (just created or changed) as its
   * newest revision, after `previous`, the version it replaced if that was
   * retained; the oldest go beyond revision_limit.
   */
  retain(entry: KeyEntry, previous: StoredRevision | undefined): void {
    const limit = this.options.revisionLimit;
    if (limit === 0) {
      return;
    }
    let history = entry.history;
    if (previous !== undefined) {
      (history ??= []).push(previous);
    }
    if (limit > 0 && history !== undefined && history.length >= limit) {
      history.splice(0, history.length - limit + 1);
    }
    entry.history = history?.length === 0 ? undefined : history;
    entry.versioned = true;
  }

  /** A removed key's history: kept (with its last version) under keep_deleted_key_history, else dropped. */
  retire(entry: KeyEntry): void {
    if (!this.options.keepDeletedKeyHistory) {
      entry.history = undefined;
    } else if (entry.versioned) {
      (entry.history ??= []).push(entry.currentRevision());
    }
    entry.versioned = false;
  }

  /** A retained revision of `record` (see {@link KeyEntry.retainedRevision}); REVISION_NOT_FOUND if there is none. */
  revisionOf(record: KeyEntry | undefined, version: bigint): RevisionState {
    const revision = record?.retainedRevision(version);
    if (revision === undefined) {
      throw new StoreError("REVISION_NOT_FOUND");
    }
    return revision.toState();
  }

  /**
   * Drops retained history: every version but the current one of existing
   * keys (skipping keys another client has locked), and the whole history of
   * removed keys. Returns the keys processed and the revisions removed.
   */
  clear(table: KeyTable, clientId: string): { keys: bigint; cleared: bigint } {
    let keys = 0n;
    let cleared = 0n;
    for (const entry of table.existingEntries()) {
      if (entry.hasHistory && (entry.lock === undefined || entry.lock.owner === clientId)) {
        // The newest revision stays (for an empty restored list, this "clears" -1, as it always did).
        cleared += BigInt(entry.retainedCount - 1);
        entry.history = entry.versioned ? undefined : entry.history!.slice(-1);
        keys++;
      }
    }
    for (const [key, record] of table.removedRecords()) {
      if (record.history !== undefined) {
        cleared += BigInt(record.history.length);
        record.history = undefined;
        if (record.metrics === null) {
          table.forgetRemoved(key);
        }
        keys++;
      }
    }
    return { keys, cleared };
  }

  /** Keys with a history list and the revisions they retain. */
  count(table: KeyTable): { keys: number; revisions: number } {
    let keys = 0;
    let revisions = 0;
    for (const records of [table.existingEntries(), table.removedRecords().values()]) {
      for (const record of records) {
        if (record.hasHistory) {
          keys++;
          revisions += record.retainedCount;
        }
      }
    }
    return { keys, revisions };
  }

  /** Gives a restored record its saved revisions (the current version, if the last, is retained as such). */
  restore(record: KeyEntry, revisions: readonly RevisionState[]): void {
    const list = revisions.map(StoredRevision.of);
    const last = list[list.length - 1];
    if (this.options.revisionLimit !== 0 && last !== undefined && !record.removed && record.isCurrentVersion(last)) {
      list.pop();
      record.versioned = true;
    }
    record.history = list.length > 0 || !record.versioned ? list : undefined;
  }
}
