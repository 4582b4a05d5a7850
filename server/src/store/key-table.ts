import type { KeyEntry } from "./key-entry.js";
import type { KeyPattern } from "./key-pattern.js";
import { isReservedKey } from "./reserved-keys.js";

/** What one step of a ListKeys scan looks for ({@link KeyTable.scan}). */
export interface KeyScanRequest {
  /** From {@link KeyValueStore.keyPattern}; undefined matches every key. */
  pattern: KeyPattern | undefined;
  includeReserved: boolean;
  /** Continue after the entry of this creation sequence number (a previous step's `after`); 0 = from the start. */
  after: number;
  /** Only keys it accepts (the caller's key prefixes); undefined: every key. */
  permitted?: (key: string) => boolean;
}

/** How much one scan step may take. */
export interface KeyScanBudget {
  /** Keys this step may return (at least 1). */
  maxKeys: number;
  /** Encoded size (see {@link listedKeySize}) this step's keys may take. */
  maxBytes: number;
  /** The page holds no key yet: its first key is taken whatever its size. */
  pageEmpty: boolean;
  /** Asked after each key looked at: true ends the step there (a time budget). */
  expired: () => boolean;
}

/** The result of one scan step. */
export interface KeyScanStep {
  /** Matching keys, in creation order. */
  keys: string[];
  /** Their encoded size (see {@link listedKeySize}). */
  bytes: number;
  /** Where the next step continues (the last entry looked at). */
  after: number;
  /** Why the step ended: no entry left after `after`, `maxKeys` or `maxBytes` reached, or `expired()`. */
  end: "last" | "full" | "expired";
}

/** A key's size in a ListKeys response: a protobuf `repeated string` element (tag, length, UTF-8 bytes). */
export function listedKeySize(key: string): number {
  const length = Buffer.byteLength(key, "utf8");
  return 1 + (length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : 4) + length;
}

/** Whether a removed key's record still holds something: metrics or history. */
export function keepsAnything(record: KeyEntry): boolean {
  return record.metrics !== null || record.history !== undefined;
}

/**
 * The key table (the store's mvcc index): existing keys by name and in
 * creation order, the records of removed keys that still hold metrics or
 * history, and the counts of keys and bytes. Removing a key costs no map
 * operation: removed entries stay in place until a walk sweeps them aside.
 */
export class KeyTable {
  /** Existing keys in creation order, and the entries of keys removed since the last sweep(). */
  private entries = new Map<string, KeyEntry>();
  /** Entries of other removed keys that still have metrics or history. */
  private readonly removed = new Map<string, KeyEntry>();
  /** Removed keys' entries still in `entries`. */
  private unswept = 0;
  // Entries of removed keys in the order they were removed, for sweepSlice() (from sweepHead on).
  private toSweep: KeyEntry[] = [];
  private sweepHead = 0;
  /** Every stored entry by creation (ascending `seq`), removed ones until compactOrder(): scans seek in it. */
  private order: KeyEntry[] = [];
  /** Removed keys' entries still in `order`. */
  private orderRemoved = 0;
  /** The `seq` of the latest stored entry. */
  private lastSeq = 0;
  /** Bytes of all existing values. */
  totalSize = 0;
  /** Existing keys counted against max_keys (reserved keys excluded). */
  userKeys = 0;

  /** An existing key's entry (undefined for a removed key's). */
  existing(key: string): KeyEntry | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || entry.removed ? undefined : entry;
  }

  /** The entry of a key that exists or of a removed one, if anything of it is left. */
  recordOf(key: string): KeyEntry | undefined {
    return this.entries.get(key) ?? this.removed.get(key);
  }

  /** Existing keys' entries, in creation order (removed ones swept aside first; removing during the walk is fine). */
  existingEntries(): IterableIterator<KeyEntry> {
    this.sweep();
    return this.entries.values();
  }

  /** Removed keys' records that hold something, by key (after {@link existingEntries}, all of them). */
  removedRecords(): ReadonlyMap<string, KeyEntry> {
    return this.removed;
  }

  /** Number of existing keys, reserved ones included (after {@link existingEntries}). */
  get size(): number {
    return this.entries.size;
  }

  /** Stores a new entry, last in creation order. */
  insert(entry: KeyEntry): void {
    this.entries.set(entry.key, entry);
    entry.seq = ++this.lastSeq;
    this.order.push(entry);
    this.compactOrder();
    this.totalSize += entry.value.length;
    if (!isReservedKey(entry.key)) {
      this.userKeys++;
    }
  }

  /** Flags a key removed (its entry stays in place until swept). */
  markRemoved(entry: KeyEntry): void {
    entry.removed = true;
    this.orderRemoved++;
    this.totalSize -= entry.value.length;
    if (!isReservedKey(entry.key)) {
      this.userKeys--;
    }
  }

  /** After a removed key's value was dropped: forgets it, or queues it to be swept aside if its record keeps anything. */
  retire(entry: KeyEntry): void {
    if (!keepsAnything(entry)) {
      // Nothing of the key is left (a restored key without metrics).
      this.entries.delete(entry.key);
    } else {
      this.unswept++;
      this.toSweep.push(entry);
    }
  }

  /** Forgets a swept-aside removed key's record (it holds nothing any more). */
  forgetRemoved(key: string): void {
    this.removed.delete(key);
  }

  /** A new value of an existing key: keeps the byte count. */
  resized(previousLength: number, newLength: number): void {
    this.totalSize += newLength - previousLength;
  }

  /**
   * Takes the record of a removed key out of the table, for a new entry of
   * the same name to take over what outlived it (undefined if none).
   */
  takeRemoved(key: string): KeyEntry | undefined {
    const unswept = this.entries.get(key);
    if (unswept !== undefined) {
      // Re-inserted by insert(), at the end: keys are listed in creation order.
      this.entries.delete(key);
      this.unswept--;
      return unswept;
    }
    const removed = this.removed.get(key);
    if (removed !== undefined) {
      this.removed.delete(key);
    }
    return removed;
  }

  /** A record for a key (existing or removed) being restored, made empty and removed if the key has none. */
  restoredRecordOf(key: string, makeEmpty: (key: string) => KeyEntry): KeyEntry {
    let record = this.recordOf(key);
    if (record === undefined) {
      record = makeEmpty(key);
      this.removed.set(key, record);
    }
    return record;
  }

  /** Whether `after` is a creation sequence number this table issued (or 0). */
  isCursor(after: number): boolean {
    return Number.isSafeInteger(after) && after >= 0 && after <= this.lastSeq;
  }

  /**
   * One step of a ListKeys scan: matching keys in creation order after
   * `request.after`, until the budget ends the step or no entry is left.
   * Finds its start by binary search, so a listing paged through in many
   * steps stays linear overall.
   */
  scan(request: KeyScanRequest, budget: KeyScanBudget): KeyScanStep {
    this.compactOrder();
    const { order } = this;
    const { pattern, includeReserved, permitted } = request;
    const keys: string[] = [];
    let bytes = 0;
    let after = request.after;
    let end: KeyScanStep["end"] = "full";
    for (let index = firstAfter(order, after); keys.length < budget.maxKeys; index++) {
      const entry = order[index];
      if (entry === undefined) {
        end = "last";
        break;
      }
      const { key } = entry;
      if (
        !entry.removed &&
        (includeReserved || !isReservedKey(key)) &&
        (pattern === undefined || pattern.test(key)) &&
        (permitted === undefined || permitted(key))
      ) {
        const size = listedKeySize(key);
        if (bytes + size > budget.maxBytes && !(budget.pageEmpty && keys.length === 0)) {
          break;
        }
        keys.push(key);
        bytes += size;
      }
      after = entry.seq;
      if (budget.expired()) {
        end = index + 1 < order.length ? "expired" : "last";
        break;
      }
    }
    if (end === "full" && after === order[order.length - 1]?.seq) {
      // The page filled up on the very last entry: nothing is left to look at.
      end = "last";
    }
    return { keys, bytes, after, end };
  }

  /**
   * Moves the entries of removed keys from `entries` to `removed`. The
   * walks over every key call it first, so that removing a key costs no map
   * operation (a million keys expiring together would spend half their time
   * deleting and inserting map entries) while every walk steps over each
   * removed key at most once; the host does it ahead of them, in slices
   * ({@link sweepSlice}).
   */
  sweep(): void {
    if (this.unswept <= this.entries.size / 2) {
      this.sweepSlice(Infinity);
      return;
    }
    // When most entries go, copying the rest into a new map beats deleting (the map shrinks step by step).
    const existing = new Map<string, KeyEntry>();
    for (const [key, entry] of this.entries) {
      if (entry.removed) {
        if (keepsAnything(entry)) {
          this.removed.set(key, entry);
        }
      } else {
        existing.set(key, entry);
      }
    }
    this.entries = existing;
    this.unswept = 0;
    this.toSweep = [];
    this.sweepHead = 0;
  }

  /**
   * Does part of the next walk's bookkeeping ahead of it: moves up to `limit`
   * removed keys' entries aside, oldest removal first, so that after a mass
   * expiry no single call pays for the whole sweep. Returns whether more
   * remain to be looked at.
   */
  sweepSlice(limit: number): boolean {
    const end = Math.min(this.toSweep.length, this.sweepHead + limit);
    for (; this.sweepHead < end; this.sweepHead++) {
      const entry = this.toSweep[this.sweepHead]!;
      // Skip a key re-created since (its old entry left `entries` then).
      if (this.entries.get(entry.key) === entry) {
        this.entries.delete(entry.key);
        if (keepsAnything(entry)) {
          this.removed.set(entry.key, entry);
        }
        this.unswept--;
      }
    }
    if (this.sweepHead < this.toSweep.length) {
      return true;
    }
    this.toSweep = [];
    this.sweepHead = 0;
    return false;
  }

  /**
   * Drops removed keys' entries from `order` once they are more than half of
   * it (in place: no second array of a million entries). Amortised: each
   * compaction follows as many removals as it keeps entries.
   */
  private compactOrder(): void {
    if (this.orderRemoved <= this.order.length / 2) {
      return;
    }
    const { order } = this;
    let kept = 0;
    for (const entry of order) {
      if (!entry.removed) {
        order[kept++] = entry;
      }
    }
    order.length = kept;
    this.orderRemoved = 0;
  }
}

/** The index of the first entry of `order` (ascending `seq`) whose `seq` is greater than `after`. */
function firstAfter(order: readonly KeyEntry[], after: number): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (order[middle]!.seq <= after) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}
