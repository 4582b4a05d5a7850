import { toByteString } from "./byte-string.js";
import { fnv1a64Halves } from "./fnv1a64.js";
import type { History } from "./history.js";
import { KeyEntry } from "./key-entry.js";
import type { KeyTable } from "./key-table.js";
import type { Lifespans } from "./lifespans.js";
import type { Locks } from "./locks.js";
import type { Metrics } from "./metrics.js";
import { sniffContentType } from "./sniff-content-type.js";

/**
 * A key's life across the domains: created (taking over what outlived a
 * removed key of its name), given new values, removed with its lock and
 * lifespan, and retired to what outlives it. Emits nothing: the store emits
 * the events of each step, in order.
 */
export class KeyLifecycle {
  constructor(
    private readonly table: KeyTable,
    private readonly locks: Locks,
    private readonly lifespans: Lifespans,
    private readonly history: History,
    private readonly metrics: Metrics,
  ) {}

  /** A new entry (version 1), not yet stored, that takes over what outlived a removed key of the same name. */
  newEntry(key: string, value: Uint8Array, contentType: string, sniffed: boolean, now: bigint, clientId: string): KeyEntry {
    const { hi, lo } = fnv1a64Halves(value);
    const entry = new KeyEntry(key, toByteString(value), contentType, sniffed, hi, lo, now, 1n, clientId);
    const previous = this.table.takeRemoved(key);
    if (previous !== undefined) {
      this.metrics.takeOver(entry, previous);
      entry.history = previous.history;
    }
    return entry;
  }

  /** Stores a new key ("" content type: sniffed), continuing the version numbers of its retained history. */
  create(key: string, value: Uint8Array, contentType: string, now: bigint, clientId: string): KeyEntry {
    const sniff = contentType === "";
    const entry = this.newEntry(key, value, sniff ? contentTypeOf(value) : contentType, sniff, now, clientId);
    const last = entry.history?.[entry.history.length - 1];
    if (last) {
      entry.version = last.version + 1n;
    }
    this.table.insert(entry);
    this.history.retain(entry, undefined);
    return entry;
  }

  /**
   * Gives `entry` a new value (a new version, retained in its history)
   * unless it has the same one; returns whether it changed. An explicit
   * content type wins; a sniffed one follows the value (the original never
   * changed it, §15.9).
   */
  update(entry: KeyEntry, value: Uint8Array, contentType: string, now: bigint): boolean {
    const { hi, lo } = fnv1a64Halves(value);
    if (hi === entry.hashHi && lo === entry.hashLo) {
      return false;
    }
    const previous = entry.versioned ? entry.currentRevision() : undefined;
    const stored = toByteString(value);
    this.table.resized(entry.value.length, stored.length);
    entry.value = stored;
    entry.hashHi = hi;
    entry.hashLo = lo;
    entry.updated = now;
    entry.version++;
    if (contentType !== "") {
      entry.contentType = contentType;
      entry.contentTypeSniffed = false;
    } else if (entry.contentTypeSniffed) {
      entry.contentType = contentTypeOf(value);
    }
    this.history.retain(entry, previous);
    return true;
  }

  /** Removes a key with its lock and lifespan (their queue entries become stale); {@link retire} follows its events. */
  remove(entry: KeyEntry): void {
    if (entry.lock !== undefined) {
      this.locks.release(entry);
    }
    if (entry.lifespan !== undefined) {
      this.lifespans.remove(entry);
    }
    this.table.markRemoved(entry);
  }

  /**
   * After a removed key's events: keeps what outlives the key, its metrics
   * and, with keep_deleted_key_history, its history (one rule for Delete,
   * Pop, Clear, prune and expiry); drops the value.
   */
  retire(entry: KeyEntry): void {
    this.history.retire(entry);
    entry.value = "";
    this.table.retire(entry);
    if (entry.metrics !== null) {
      this.metrics.keepRemoved(entry);
    }
  }
}

/** Sniffed content type; an empty value has none. */
function contentTypeOf(value: Uint8Array): string {
  return value.length === 0 ? "" : sniffContentType(value);
}
