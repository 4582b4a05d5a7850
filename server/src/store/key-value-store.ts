import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { Config } from "../config/config.js";
import { fromByteString, toByteString } from "./byte-string.js";
import type { Clock } from "./clock.js";
import { noLockDuration, tooLong, tooShort } from "./duration-limits.js";
import { overLimit } from "./over-limit.js";
import { ExpiryQueue } from "./expiry-queue.js";
import { fnv1a64Halves, joinHashHalves, splitHash } from "./fnv1a64.js";
import { KeyEntry, LifespanState, LockState, StoredRevision } from "./key-entry.js";
import { compileKeyPattern, InvalidKeyPatternError, maxPatternProgramSize, type KeyPattern } from "./key-pattern.js";
import { KeyMetricsRecord, type KeyMetrics } from "./key-metrics.js";
import { RemovalQueue } from "./removal-queue.js";
import { isReservedKey } from "./reserved-keys.js";
import { sniffContentType } from "./sniff-content-type.js";
import { staleScore } from "./stale-score.js";
import { storeStateFormat, type KeyState, type StoreState } from "./store-state.js";
import { StoreError } from "./store-error.js";
import { serverClientId, valueEvents, type StoreEvent, type ValueSnapshot } from "./store-event.js";

/** The settings the store engine reads from the server configuration. */
export type StoreOptions = Pick<
  Config,
  | "maxKeyLength"
  | "maxValueSize"
  | "maxKeys"
  | "maxPatternLength"
  | "maxClients"
  | "maxRemovedKeyMetrics"
  | "revisionLimit"
  | "keepDeletedKeyHistory"
  | "privilegedClientId"
  | "readonly"
  | "minLockDuration"
  | "maxLockDuration"
  | "minLifespan"
  | "pruneAt"
  | "pruneTo"
  | "eagerPruneAt"
  | "eagerPruneTo"
>;

/** One retained version of a key's value. */
export interface Revision {
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly hash: bigint;
  readonly version: bigint;
  /** When this version was written, ns since the epoch. */
  readonly timestamp: bigint;
}

/** What Inspect reports about a key. */
export interface KeyInfo {
  key: string;
  hash: bigint;
  created: bigint;
  /** Absent until the value first changes. */
  updated?: bigint;
  version: bigint;
  size: bigint;
  locked: boolean;
  /** Fencing token of the current lock. */
  fencingToken?: bigint;
  /** Configured lifespan and when it was last set, if the key has one. */
  lifespan?: { duration: bigint; set: bigint };
  contentType: string;
  value?: Uint8Array;
  metrics?: Readonly<KeyMetrics>;
}

/** Server-wide counters reported by Stats. */
export interface StoreStats {
  /** Keys in the store, reserved keys included. */
  keys: bigint;
  /** Keys counted against max_keys (reserved keys excluded). */
  userKeys: bigint;
  totalSize: bigint;
  currentLocks: bigint;
  /** Keys with a lifespan. */
  lifespans: bigint;
  clientIds: bigint;
  maxKeys: bigint;
  /** Events emitted since start, indexed by KeyEvent number. */
  events: readonly bigint[];
  /** Prunes that ran (scheduled, eager or Admin). */
  pruneCompleted: bigint;
  /** Eager prunes started. */
  eagerPruneTriggered: bigint;
  historyKeys: bigint;
  historyRevisions: bigint;
}

/** Request of {@link KeyValueStore.set}. */
export interface SetRequest {
  key: string;
  value: Uint8Array;
  /** Explicit content type; "" means sniff it from the value. */
  contentType: string;
  /** Lock the key for the caller for this long (ns). */
  lockDuration?: bigint;
  /** Remove the key this long after it was last set (ns). */
  lifespan?: bigint;
  /** Compare-and-set: the version the key must have; 0n = must not exist. */
  ifVersion?: bigint;
}

/** Result of {@link KeyValueStore.set}. */
export interface SetResult {
  isNew: boolean;
  /** Fencing token of the caller's lock, when a lock duration was given. */
  fencingToken?: bigint;
}

/** What one step of a ListKeys scan looks for ({@link KeyValueStore.scanKeys}). */
export interface KeyScanRequest {
  /** From {@link KeyValueStore.keyPattern}; undefined matches every key. */
  pattern: KeyPattern | undefined;
  includeReserved: boolean;
  /** Continue after the entry of this creation sequence number (a previous step's `after`); 0 = from the start. */
  after: number;
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

// Stale expiry-queue entries tolerated before the queue is compacted.
const compactThreshold = 1024;

/**
 * The keyquarry store engine: keys, values, locks, lifespans, history,
 * metrics, counters and events. Pure and synchronous (no I/O, no timers), so
 * every operation is atomic and its events are emitted in the order the
 * changes happen. Every operation first applies the expirations that are due,
 * so no caller ever sees a lock or a lifespan past its deadline; a host timer
 * calls {@link KeyValueStore.expireDue} at {@link KeyValueStore.nextDeadline}
 * for the events of idle keys. Methods throw {@link StoreError} for refused
 * requests.
 */
export class KeyValueStore {
  /** Existing keys in creation order, and the entries of keys removed since the last sweepRemoved(). */
  private entries = new Map<string, KeyEntry>();
  /** Entries of other removed keys that still have metrics or history. */
  private readonly removed = new Map<string, KeyEntry>();
  /** Removed keys' entries still in `entries`. */
  private unswept = 0;
  // Entries of removed keys in the order they were removed, for sweepRemovedSlice() (from sweepHead on).
  private toSweep: KeyEntry[] = [];
  private sweepHead = 0;
  /** Every stored entry by creation (ascending `seq`), removed ones until compactOrder(): ListKeys scans and seeks in it. */
  private order: KeyEntry[] = [];
  /** Removed keys' entries still in `order`. */
  private orderRemoved = 0;
  /** The `seq` of the latest stored entry. */
  private lastSeq = 0;
  /** Removed keys' records that hold metrics, oldest removal first (see keepRemovedMetrics). */
  private readonly removedMetrics = new RemovalQueue<KeyEntry>((record) => record.metrics !== null);
  private readonly clients = new Map<string, bigint>();
  // Numbers, not bigints: a bigint addition allocates, and this runs on every event.
  private readonly eventCounts: number[] = new Array<number>(11).fill(0);
  private latestRevision = 0;
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly expiries = new ExpiryQueue<LockState | LifespanState>();
  private deadlineListener: ((deadline: bigint) => void) | undefined;
  private staleExpiries = 0;
  private fencingTokens = 0n;
  private pruneCompleted = 0n;
  private eagerPruneTriggered = 0n;
  private totalSize = 0;
  private userKeys = 0;
  private lockCount = 0;
  private lifespanCount = 0;
  private readonlyMode: boolean;

  constructor(
    private readonly options: StoreOptions,
    private readonly clock: Clock,
  ) {
    this.readonlyMode = options.readonly;
  }

  /** Revision of the latest event (0n before the first). */
  get revision(): bigint {
    return BigInt(this.latestRevision);
  }

  /**
   * Calls `listener` synchronously for every event from now on, in revision
   * order; returns an unsubscribe function. Listeners must not call back into
   * the store synchronously.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` whenever a new expiration becomes the earliest one (to re-arm a timer). */
  onEarliestDeadline(listener: (deadline: bigint) => void): void {
    this.deadlineListener = listener;
  }

  /** The earliest pending lock or lifespan deadline, ns since the epoch. */
  nextDeadline(): bigint | undefined {
    return this.expiries.peekDeadline();
  }

  /**
   * Applies every expiration due at the clock's current time (at most `limit`
   * of them): expired locks are released (UNLOCKED), expired keys removed
   * (UNLOCKED if locked, then EXPIRED), both by the server itself. Returns how
   * many were applied.
   */
  expireDue(limit = Infinity): number {
    return this.applyExpiries(this.clock.now(), limit);
  }

  /** Writes the server's read-only keys (at every start), as the server itself. */
  writeReservedKeys(values: Iterable<readonly [string, string]>): void {
    const encoder = new TextEncoder();
    for (const [key, text] of values) {
      const existing = this.existingEntry(key);
      if (existing) {
        this.removeEntry(existing);
        this.retire(existing);
      }
      const created = this.clock.now();
      const entry = this.newEntry(key, encoder.encode(text), "text/plain; charset=utf-8", false, created, serverClientId);
      this.insertEntry(entry);
      this.emit(entry, KeyEvent.CREATED, serverClientId, created);
    }
  }

  /** Creates a key or changes its value, lock and lifespan. */
  set(clientId: string, request: SetRequest): SetResult {
    const now = this.begin();
    const { key, value } = request;
    this.checkWritableKey(key);
    this.checkWritable();
    this.checkKeyLength(key);
    if (this.options.maxValueSize > 0 && value.length > this.options.maxValueSize) {
      throw new StoreError("VALUE_TOO_LARGE", overLimit(value.length, this.options.maxValueSize, "max_value_size"));
    }
    if (request.lockDuration !== undefined) {
      this.checkLockDuration(request.lockDuration);
    }
    const lifespanTooShort = request.lifespan === undefined ? undefined : tooShort(request.lifespan, this.options.minLifespan, "min_lifespan");
    if (lifespanTooShort !== undefined) {
      throw new StoreError("LIFESPAN_INVALID", lifespanTooShort);
    }
    const existing = this.existingEntry(key);
    if (existing === undefined) {
      this.checkVersion(undefined, request.ifVersion);
      // Its CREATED already shows the lock this Set takes, so other watchers don't see the value.
      const lockOwner = request.lockDuration === undefined ? undefined : clientId;
      const entry = this.createKey(clientId, key, value, request.contentType, now, lockOwner);
      const fencingToken = request.lockDuration === undefined ? undefined : this.lockFor(clientId, entry, request.lockDuration, now, "replace");
      if (request.lifespan !== undefined) {
        this.setLifespan(clientId, entry, request.lifespan, now);
      }
      this.eagerPruneAfterCreating(key);
      return { isNew: true, fencingToken };
    }
    this.checkNotLockedByOther(existing, clientId, "WRONG_OWNER");
    this.checkVersion(existing, request.ifVersion);
    // Lifespan and lock changes apply even when the value is unchanged.
    if (request.lifespan !== undefined) {
      this.setLifespan(clientId, existing, request.lifespan, now);
    } else if (existing.lifespan !== undefined) {
      this.renewLifespan(clientId, existing, now);
    }
    const fencingToken =
      request.lockDuration === undefined ? undefined : this.lockFor(clientId, existing, request.lockDuration, now, "replace");
    this.updateValue(clientId, existing, request, now);
    return { isNew: false, fencingToken };
  }

  /** Returns a key's value. */
  get(clientId: string, key: string): Uint8Array {
    const now = this.begin();
    const entry = this.entryOf(key);
    this.checkNotLockedByOther(entry, clientId, "LOCKED");
    this.emit(entry, KeyEvent.ACCESSED, clientId, now);
    return fromByteString(entry.value);
  }

  /** Describes a key, with its value and metrics on request. */
  inspect(clientId: string, key: string, include: { value?: boolean; metrics?: boolean } = {}): KeyInfo {
    const now = this.begin();
    const entry = this.entryOf(key);
    if (include.value) {
      this.checkNotLockedByOther(entry, clientId, "LOCKED");
    }
    const info: KeyInfo = {
      key,
      hash: joinHashHalves(entry.hashHi, entry.hashLo),
      created: entry.created,
      version: entry.version,
      size: BigInt(entry.value.length),
      locked: entry.lock !== undefined,
      contentType: entry.contentType,
    };
    if (entry.updated !== 0n) {
      info.updated = entry.updated;
    }
    if (entry.lock) {
      info.fencingToken = entry.lock.fencingToken;
    }
    if (entry.lifespan) {
      info.lifespan = { duration: entry.lifespan.duration, set: entry.lifespan.set };
    }
    if (include.value) {
      info.value = fromByteString(entry.value);
      this.emit(entry, KeyEvent.ACCESSED, clientId, now);
    }
    if (include.metrics) {
      info.metrics = (entry.metricsView() ?? this.metricsOf(entry)).toKeyMetrics();
    }
    return info;
  }

  /**
   * A key's current value for a watcher (the first message of WatchKeyValue):
   * undefined when the key does not exist or another client holds its lock.
   * Counts as an access.
   */
  watchValue(clientId: string, key: string): ValueSnapshot | undefined {
    const now = this.begin();
    const entry = this.existingEntry(key);
    if (entry === undefined || (entry.lock !== undefined && entry.lock.owner !== clientId)) {
      return undefined;
    }
    this.emit(entry, KeyEvent.ACCESSED, clientId, now);
    return entry.snapshot();
  }

  /** Counts a value pushed to a watcher as an access, if the key still exists. */
  recordWatchAccess(clientId: string, key: string): void {
    const now = this.begin();
    const entry = this.existingEntry(key);
    if (entry !== undefined) {
      this.emit(entry, KeyEvent.ACCESSED, clientId, now);
    }
  }

  /** Removes a key; with `ifVersion`, only if the key has that version. */
  delete(clientId: string, key: string, ifVersion?: bigint): void {
    const now = this.begin();
    this.checkNotReserved(key);
    this.checkWritable();
    const entry = this.entryOf(key);
    this.checkNotLockedByOther(entry, clientId, "WRONG_OWNER");
    this.checkVersion(entry, ifVersion);
    this.removeEntry(entry);
    this.emit(entry, KeyEvent.DELETED, clientId, now);
    this.retire(entry);
  }

  /** Whether a key exists. */
  exists(key: string): boolean {
    this.begin();
    return this.existingEntry(key) !== undefined;
  }

  /** Removes a key and returns the value it had. */
  pop(clientId: string, key: string): Uint8Array {
    const now = this.begin();
    this.checkNotReserved(key);
    this.checkWritable();
    const entry = this.entryOf(key);
    this.checkNotLockedByOther(entry, clientId, "LOCKED");
    this.removeEntry(entry);
    this.emit(entry, KeyEvent.ACCESSED, clientId, now);
    this.emit(entry, KeyEvent.DELETED, clientId, now);
    const value = fromByteString(entry.value);
    this.retire(entry);
    return value;
  }

  /**
   * Removes every user key (locked ones only with `force`, releasing their
   * locks with UNLOCKED); returns how many were removed.
   */
  clear(clientId: string, force: boolean): bigint {
    const now = this.begin();
    this.checkWritable();
    this.sweepRemoved();
    let removed = 0n;
    for (const entry of this.entries.values()) {
      if (isReservedKey(entry.key) || (entry.lock !== undefined && !force)) {
        continue;
      }
      if (entry.lock !== undefined) {
        this.removeLock(entry);
        this.emit(entry, KeyEvent.UNLOCKED, clientId, now);
      }
      this.removeEntry(entry);
      this.emit(entry, KeyEvent.DELETED, clientId, now);
      this.retire(entry);
      removed++;
    }
    return removed;
  }

  /**
   * Compiles a ListKeys pattern (undefined for "", which matches every key);
   * throws PATTERN_TOO_LONG over max_pattern_length bytes, BAD_PATTERN if it
   * is not RE2 syntax, PATTERN_TOO_COMPLEX if its program is too large.
   */
  keyPattern(pattern: string): KeyPattern | undefined {
    if (pattern === "") {
      return undefined;
    }
    const length = Buffer.byteLength(pattern, "utf8");
    if (length > this.options.maxPatternLength) {
      throw new StoreError("PATTERN_TOO_LONG", `${length} bytes, the limit is ${this.options.maxPatternLength} (max_pattern_length)`);
    }
    let compiled: KeyPattern;
    try {
      compiled = compileKeyPattern(pattern);
    } catch (error) {
      if (error instanceof InvalidKeyPatternError) {
        throw new StoreError("BAD_PATTERN", error.reason);
      }
      throw error;
    }
    if (compiled.programSize > maxPatternProgramSize) {
      throw new StoreError(
        "PATTERN_TOO_COMPLEX",
        `it compiles to ${compiled.programSize} instructions, the limit is ${maxPatternProgramSize} (use fewer or smaller repetitions)`,
      );
    }
    return compiled;
  }

  /**
   * One step of a ListKeys scan: matching keys in creation order after
   * `request.after`, until the budget ends the step or no entry is left.
   * Finds its start by binary search, so a listing paged through in many
   * steps stays linear overall. Throws BAD_CURSOR for an `after` this store
   * never issued.
   */
  scanKeys(request: KeyScanRequest, budget: KeyScanBudget): KeyScanStep {
    this.begin();
    if (!Number.isSafeInteger(request.after) || request.after < 0 || request.after > this.lastSeq) {
      throw new StoreError("BAD_CURSOR");
    }
    this.compactOrder();
    const { order } = this;
    const { pattern, includeReserved } = request;
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
      if (!entry.removed && (includeReserved || !isReservedKey(key)) && (pattern === undefined || pattern.test(key))) {
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
   * Locks a key for the caller (creating it empty with `createIfMissing`).
   * Locking a key the caller already holds extends the lock by `duration`, up
   * to max_lock_duration from now. Returns the lock's fencing token.
   */
  lock(clientId: string, key: string, duration: bigint | undefined, createIfMissing: boolean): bigint {
    const now = this.begin();
    this.checkWritableKey(key);
    this.checkWritable();
    if (createIfMissing) {
      this.checkKeyLength(key);
    }
    if (duration === undefined) {
      throw new StoreError("LOCK_INVALID", noLockDuration);
    }
    this.checkLockDuration(duration);
    let entry = this.existingEntry(key);
    if (entry === undefined) {
      if (!createIfMissing) {
        throw new StoreError("NOT_FOUND");
      }
      entry = this.createKey(clientId, key, new Uint8Array(0), "", now, clientId);
      const fencingToken = this.lockFor(clientId, entry, duration, now, "extend");
      this.eagerPruneAfterCreating(key);
      return fencingToken;
    }
    this.checkNotLockedByOther(entry, clientId, "LOCKED_OTHER");
    return this.lockFor(clientId, entry, duration, now, "extend");
  }

  /** Releases the caller's lock on a key (a key that is not locked is fine). */
  unlock(clientId: string, key: string): void {
    const now = this.begin();
    this.checkNotReserved(key);
    this.checkWritable();
    const entry = this.entryOf(key);
    if (entry.lock === undefined) {
      return;
    }
    this.checkNotLockedByOther(entry, clientId, "WRONG_OWNER");
    this.removeLock(entry);
    this.emit(entry, KeyEvent.UNLOCKED, clientId, now);
  }

  /**
   * Returns a retained version of a key: `version` > 0 by number (the current
   * one included), < 0 counting back from the newest (-1 is the one before).
   */
  getRevision(clientId: string, key: string, version: bigint): Revision {
    this.begin();
    if (this.options.revisionLimit === 0) {
      throw new StoreError("NO_VERSIONING");
    }
    if (version === 0n) {
      throw new StoreError("REVISION_ZERO");
    }
    const record = this.recordOf(key);
    if (record !== undefined && !record.removed) {
      // History holds the same values, so it obeys the lock too (the original leaked them, §15.13).
      this.checkNotLockedByOther(record, clientId, "LOCKED");
    }
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
  clearHistory(clientId: string): { keys: bigint; cleared: bigint } {
    this.begin();
    this.checkWritable();
    if (this.options.revisionLimit === 0) {
      throw new StoreError("NO_VERSIONING");
    }
    let keys = 0n;
    let cleared = 0n;
    this.sweepRemoved();
    for (const entry of this.entries.values()) {
      if (entry.hasHistory && (entry.lock === undefined || entry.lock.owner === clientId)) {
        // The newest revision stays (for an empty restored list, this "clears" -1, as it always did).
        cleared += BigInt(entry.retainedCount - 1);
        entry.history = entry.versioned ? undefined : entry.history!.slice(-1);
        keys++;
      }
    }
    for (const [key, record] of this.removed) {
      if (record.history !== undefined) {
        cleared += BigInt(record.history.length);
        record.history = undefined;
        if (record.metrics === null) {
          this.removed.delete(key);
        }
        keys++;
      }
    }
    return { keys, cleared };
  }

  /** Returns a key's metrics; they outlive the key. */
  keyMetrics(key: string): Readonly<KeyMetrics> {
    this.begin();
    const record = this.recordOf(key);
    const metrics = record?.metricsView();
    if (metrics === undefined) {
      throw new StoreError("METRIC_NOT_FOUND");
    }
    return metrics.toKeyMetrics();
  }

  /**
   * Removes the least recently used user keys (lowest {@link staleScore}
   * first) until at most `target` remain, never locked, reserved or `ignore`d
   * keys; each with EXPUNGED by the server. Returns how many were removed;
   * nothing runs (or counts) when there are already fewer than `target`.
   */
  prune(target: number, ignore: ReadonlySet<string> = new Set()): number {
    const now = this.begin();
    if (this.userKeys < target) {
      return 0;
    }
    const candidates: Array<{ entry: KeyEntry; score: number }> = [];
    this.sweepRemoved();
    for (const entry of this.entries.values()) {
      if (!isReservedKey(entry.key) && entry.lock === undefined && !ignore.has(entry.key)) {
        candidates.push({ entry, score: staleScore(entry.metricsView(), now) });
      }
    }
    candidates.sort((a, b) => a.score - b.score);
    const count = Math.min(this.userKeys - target, candidates.length);
    for (const { entry } of candidates.slice(0, count)) {
      this.removeEntry(entry);
      this.emit(entry, KeyEvent.EXPUNGED, serverClientId, now);
      this.retire(entry);
    }
    this.pruneCompleted++;
    return count;
  }

  /** The scheduled prune (every prune_interval): down to prune_to once prune_at keys are reached. */
  scheduledPrune(): number {
    this.begin();
    const { pruneAt, pruneTo } = this.options;
    return pruneAt > 0 && this.userKeys >= pruneAt ? this.prune(pruneTo) : 0;
  }

  /** Refuses (ADMIN_ONLY) anyone but the privileged client id. */
  authorizeAdmin(clientId: string): void {
    if (this.options.privilegedClientId === "" || clientId !== this.options.privilegedClientId) {
      throw new StoreError("ADMIN_ONLY");
    }
  }

  /**
   * The whole state at this instant, for a snapshot: user keys with their
   * locks and lifespans (absolute deadlines), metrics, clients, counters, and
   * the history when `includeHistory`. Each value is copied into bytes of
   * its own (the store keeps byte strings).
   */
  exportState(includeHistory: boolean): StoreState {
    const now = this.begin();
    const keys: KeyState[] = [];
    this.sweepRemoved();
    // Reserved keys are rewritten at every start, and so are their metrics.
    const saved = (record: KeyEntry) => !isReservedKey(record.key);
    const existing = [...this.entries.values()].filter(saved);
    // Existing keys first, then removed ones: importState rebuilds the same order.
    const records = [...existing, ...[...this.removed.values()].filter(saved)];
    for (const entry of existing) {
      const { lock, lifespan } = entry;
      keys.push({
        key: entry.key,
        value: fromByteString(entry.value),
        contentType: entry.contentType,
        contentTypeSniffed: entry.contentTypeSniffed,
        hash: joinHashHalves(entry.hashHi, entry.hashLo),
        created: entry.created,
        updated: entry.updated,
        version: entry.version,
        createdBy: entry.createdBy,
        lock: lock && {
          owner: lock.owner,
          duration: lock.duration,
          created: lock.created,
          deadline: lock.deadline,
          fencingToken: lock.fencingToken,
        },
        lifespan: lifespan && { duration: lifespan.duration, set: lifespan.set, deadline: lifespan.deadline },
      });
    }
    const history: StoreState["history"] = [];
    const metrics: StoreState["metrics"] = [];
    for (const record of records) {
      if (includeHistory && record.hasHistory) {
        history.push({ key: record.key, revisions: record.retainedRevisions().map((revision) => revision.toState()) });
      }
      const keyMetrics = record.metricsView();
      if (keyMetrics !== undefined) {
        metrics.push({ key: record.key, metrics: keyMetrics.toKeyMetrics() });
      }
    }
    return {
      format: storeStateFormat,
      takenAt: now,
      revision: BigInt(this.latestRevision),
      fencingToken: this.fencingTokens,
      readonly: this.readonlyMode,
      keys,
      history,
      metrics,
      clients: [...this.clients].map(([clientId, firstSeen]) => ({ clientId, firstSeen })),
    };
  }

  /**
   * Restores a snapshot into this new store (before the reserved keys are
   * written), without events. Locks keep their remaining time; locks and
   * lifespans whose deadline passed while the server was down are applied
   * by the next operation or {@link expireDue}, with their events.
   */
  importState(state: StoreState): void {
    if (this.userKeys > 0 || this.latestRevision > 0) {
      throw new Error("a snapshot can only be restored into an empty store");
    }
    for (const saved of state.keys) {
      const { hi, lo } = splitHash(saved.hash);
      const entry = new KeyEntry(
        saved.key,
        toByteString(saved.value),
        saved.contentType,
        saved.contentTypeSniffed,
        hi,
        lo,
        saved.created,
        saved.version,
        saved.createdBy,
      );
      entry.updated = saved.updated;
      // Set below if the state has them.
      entry.metrics = null;
      if (saved.lock) {
        const { owner, duration, created, deadline, fencingToken } = saved.lock;
        entry.lock = new LockState(entry, owner, duration, created, deadline, fencingToken);
        this.scheduleExpiry(entry.lock);
        this.lockCount++;
      }
      if (saved.lifespan) {
        const { duration, set, deadline } = saved.lifespan;
        entry.lifespan = new LifespanState(entry, duration, set, deadline);
        this.scheduleExpiry(entry.lifespan);
        this.lifespanCount++;
      }
      this.insertEntry(entry);
    }
    // Metrics before history: removed keys then get the order exportState wrote.
    const removedWithMetrics: KeyEntry[] = [];
    for (const { key, metrics } of state.metrics) {
      const record = this.restoredRecordOf(key);
      record.metrics = KeyMetricsRecord.of(metrics);
      if (record.removed) {
        removedWithMetrics.push(record);
      }
    }
    for (const { key, revisions } of state.history) {
      const record = this.restoredRecordOf(key);
      const list = revisions.map(StoredRevision.of);
      const last = list[list.length - 1];
      if (this.options.revisionLimit !== 0 && last !== undefined && !record.removed && record.isCurrentVersion(last)) {
        list.pop();
        record.versioned = true;
      }
      record.history = list.length > 0 || !record.versioned ? list : undefined;
    }
    // After the history, which a record may keep without its metrics; removed keys come in about the order they were removed.
    for (const record of removedWithMetrics) {
      this.keepRemovedMetrics(record);
    }
    // All kept, even beyond max_clients: only new registrations are refused.
    for (const { clientId, firstSeen } of state.clients) {
      this.clients.set(clientId, firstSeen);
    }
    this.latestRevision = Number(state.revision);
    this.fencingTokens = state.fencingToken;
    this.readonlyMode = state.readonly;
  }

  /** Current counters. */
  stats(): StoreStats {
    this.begin();
    this.sweepRemoved();
    let historyKeys = 0;
    let revisions = 0;
    for (const records of [this.entries, this.removed]) {
      for (const record of records.values()) {
        if (record.hasHistory) {
          historyKeys++;
          revisions += record.retainedCount;
        }
      }
    }
    return {
      keys: BigInt(this.entries.size),
      userKeys: BigInt(this.userKeys),
      totalSize: BigInt(this.totalSize),
      currentLocks: BigInt(this.lockCount),
      lifespans: BigInt(this.lifespanCount),
      clientIds: BigInt(this.clients.size),
      maxKeys: BigInt(this.options.maxKeys),
      events: this.eventCounts.map(BigInt),
      pruneCompleted: this.pruneCompleted,
      eagerPruneTriggered: this.eagerPruneTriggered,
      historyKeys: BigInt(historyKeys),
      historyRevisions: BigInt(revisions),
    };
  }

  /** After a new key: the eager prune, once eager_prune_at user keys are exceeded (never pruning that key). */
  private eagerPruneAfterCreating(key: string): void {
    const { eagerPruneAt } = this.options;
    if (eagerPruneAt > 0 && this.userKeys > eagerPruneAt) {
      this.eagerPrune(key);
    }
  }

  private eagerPrune(created: string | undefined): void {
    this.eagerPruneTriggered++;
    this.prune(this.options.eagerPruneTo, new Set(created === undefined ? [] : [created]));
  }

  /**
   * Records a client id; throws ALREADY_REGISTERED for a known one, and
   * MAX_CLIENTS for a new one once max_clients are registered (a restored
   * snapshot may hold more: they are all kept).
   */
  register(clientId: string): void {
    if (this.clients.has(clientId)) {
      throw new StoreError("ALREADY_REGISTERED");
    }
    const { maxClients } = this.options;
    if (maxClients > 0 && this.clients.size >= maxClients) {
      throw new StoreError("MAX_CLIENTS", `max_clients is ${maxClients}`);
    }
    this.clients.set(clientId, this.clock.now());
  }

  /** Turns read-only mode on or off; only the privileged client may. */
  setReadOnly(clientId: string, enable: boolean): void {
    if (this.options.privilegedClientId === "") {
      throw new StoreError("NO_PRIVILEGED");
    }
    if (clientId !== this.options.privilegedClientId) {
      throw new StoreError("NOT_AUTHORIZED");
    }
    this.readonlyMode = enable;
  }

  /** Whether the store refuses writes. */
  get readonly(): boolean {
    return this.readonlyMode;
  }

  /** Starts an operation: applies due expirations and returns the operation's time. */
  private begin(): bigint {
    const now = this.clock.now();
    this.applyExpiries(now, Infinity);
    if (this.staleExpiries > compactThreshold && this.staleExpiries > this.expiries.size / 2) {
      this.expiries.compact((expiry) => expiry.entry !== undefined);
      this.staleExpiries = 0;
    }
    return now;
  }

  private applyExpiries(now: bigint, limit: number): number {
    let applied = 0;
    while (applied < limit) {
      const expiry = this.expiries.popDue(now);
      if (expiry === undefined) {
        break;
      }
      const entry = expiry.entry;
      if (entry === undefined) {
        this.staleExpiries--;
        continue;
      }
      applied++;
      // Events carry the deadline: when the lock or key actually ended.
      if (expiry instanceof LockState) {
        this.removeLock(entry, true);
        this.emit(entry, KeyEvent.UNLOCKED, serverClientId, expiry.deadline);
        continue;
      }
      if (entry.lock !== undefined) {
        // A lifespan overrides a lock.
        this.removeLock(entry);
        this.emit(entry, KeyEvent.UNLOCKED, serverClientId, expiry.deadline);
      }
      entry.lifespan = undefined;
      this.lifespanCount--;
      this.removeEntry(entry);
      this.emit(entry, KeyEvent.EXPIRED, serverClientId, expiry.deadline);
      this.retire(entry);
    }
    return applied;
  }

  private createKey(
    clientId: string,
    key: string,
    value: Uint8Array,
    contentType: string,
    now: bigint,
    lockOwner: string | undefined,
  ): KeyEntry {
    const { maxKeys, eagerPruneAt } = this.options;
    if (maxKeys > 0 && this.userKeys >= maxKeys && eagerPruneAt > 0) {
      // At the hard limit, make room first if eager pruning is on (the original just refused, §15.19).
      this.eagerPrune(undefined);
    }
    if (maxKeys > 0 && this.userKeys >= maxKeys) {
      throw new StoreError("MAX_KEYS", `the limit is ${maxKeys} (max_keys)`);
    }
    const sniff = contentType === "";
    const entry = this.newEntry(key, value, sniff ? contentTypeOf(value) : contentType, sniff, now, clientId);
    // A re-created key continues the numbering of its retained history.
    const last = entry.history?.[entry.history.length - 1];
    if (last) {
      entry.version = last.version + 1n;
    }
    this.insertEntry(entry);
    this.retainVersion(entry, undefined);
    this.emit(entry, KeyEvent.CREATED, clientId, now, lockOwner);
    return entry;
  }

  /** A new entry (version 1) that takes over what outlived a removed key of the same name. */
  private newEntry(key: string, value: Uint8Array, contentType: string, sniffed: boolean, now: bigint, clientId: string): KeyEntry {
    const { hi, lo } = fnv1a64Halves(value);
    const entry = new KeyEntry(key, toByteString(value), contentType, sniffed, hi, lo, now, 1n, clientId);
    const unswept = this.entries.get(key);
    const previous = unswept ?? this.removed.get(key);
    if (previous !== undefined) {
      if (unswept !== undefined) {
        // Re-inserted by insertEntry, at the end: keys are listed in creation order.
        this.entries.delete(key);
        this.unswept--;
      } else {
        this.removed.delete(key);
      }
      // Queued among the removed keys' metrics unless they were dropped (or never recorded).
      const queued = previous.metrics !== null;
      entry.metrics = this.metricsOf(previous);
      entry.history = previous.history;
      if (queued) {
        // It leaves the queue: its metrics live on in the new entry.
        previous.metrics = null;
        this.removedMetrics.forget();
      }
    }
    return entry;
  }

  private updateValue(clientId: string, entry: KeyEntry, request: SetRequest, now: bigint): void {
    const { hi, lo } = fnv1a64Halves(request.value);
    if (hi === entry.hashHi && lo === entry.hashLo) {
      return;
    }
    const previous = entry.versioned ? entry.currentRevision() : undefined;
    const value = toByteString(request.value);
    this.totalSize += value.length - entry.value.length;
    entry.value = value;
    entry.hashHi = hi;
    entry.hashLo = lo;
    entry.updated = now;
    entry.version++;
    // An explicit type wins; a sniffed one follows the value (the original never changed it, §15.9).
    if (request.contentType !== "") {
      entry.contentType = request.contentType;
      entry.contentTypeSniffed = false;
    } else if (entry.contentTypeSniffed) {
      entry.contentType = contentTypeOf(request.value);
    }
    this.retainVersion(entry, previous);
    this.emit(entry, KeyEvent.UPDATED, clientId, now);
  }

  /**
   * Locks `entry` for `clientId` (who may already hold it): a new lock gets
   * the next fencing token; a held one keeps its token and either expires
   * `duration` from now ("replace", as Set does) or is extended by
   * `duration`, capped at max_lock_duration from now ("extend", as Lock does).
   */
  private lockFor(clientId: string, entry: KeyEntry, duration: bigint, now: bigint, renewal: "replace" | "extend"): bigint {
    const held = entry.lock;
    let lock: LockState;
    if (held === undefined) {
      lock = new LockState(entry, clientId, duration, now, now + duration, ++this.fencingTokens);
      this.lockCount++;
    } else {
      held.entry = undefined;
      this.staleExpiries++;
      const extended = renewal === "extend" ? held.deadline + duration : now + duration;
      const cap = now + this.options.maxLockDuration;
      lock = new LockState(entry, held.owner, duration, held.created, extended < cap ? extended : cap, held.fencingToken);
    }
    entry.lock = lock;
    this.scheduleExpiry(lock);
    this.emit(entry, KeyEvent.LOCKED, clientId, now);
    return lock.fencingToken;
  }

  private removeLock(entry: KeyEntry, expired = false): void {
    entry.lock!.entry = undefined;
    entry.lock = undefined;
    this.lockCount--;
    if (!expired) {
      this.staleExpiries++;
    }
  }

  private setLifespan(clientId: string, entry: KeyEntry, duration: bigint, now: bigint): void {
    if (entry.lifespan === undefined) {
      this.lifespanCount++;
    }
    this.restartLifespan(entry, duration, now);
    this.emit(entry, KeyEvent.LIFESPAN_SET, clientId, now);
  }

  private renewLifespan(clientId: string, entry: KeyEntry, now: bigint): void {
    this.restartLifespan(entry, entry.lifespan!.duration, now);
    this.emit(entry, KeyEvent.LIFESPAN_RENEWED, clientId, now);
  }

  /** Gives `entry` a lifespan of `duration` from `now`, replacing the one it has. */
  private restartLifespan(entry: KeyEntry, duration: bigint, now: bigint): void {
    if (entry.lifespan !== undefined) {
      entry.lifespan.entry = undefined;
      this.staleExpiries++;
    }
    entry.lifespan = new LifespanState(entry, duration, now, now + duration);
    this.scheduleExpiry(entry.lifespan);
  }

  private scheduleExpiry(expiry: LockState | LifespanState): void {
    const earliest = this.expiries.peekDeadline();
    this.expiries.push(expiry);
    if (earliest === undefined || expiry.deadline < earliest) {
      this.deadlineListener?.(expiry.deadline);
    }
  }

  private insertEntry(entry: KeyEntry): void {
    this.entries.set(entry.key, entry);
    entry.seq = ++this.lastSeq;
    this.order.push(entry);
    this.compactOrder();
    this.totalSize += entry.value.length;
    if (!isReservedKey(entry.key)) {
      this.userKeys++;
    }
  }

  /** Removes a key with its lock and lifespan (their queue entries become stale); {@link retire} follows its events. */
  private removeEntry(entry: KeyEntry): void {
    if (entry.lock !== undefined) {
      this.removeLock(entry);
    }
    if (entry.lifespan !== undefined) {
      entry.lifespan.entry = undefined;
      entry.lifespan = undefined;
      this.lifespanCount--;
      this.staleExpiries++;
    }
    entry.removed = true;
    this.orderRemoved++;
    this.totalSize -= entry.value.length;
    if (!isReservedKey(entry.key)) {
      this.userKeys--;
    }
  }

  /**
   * After a removed key's events: keeps what outlives the key, its metrics
   * and, with keep_deleted_key_history, its history (one rule for Delete,
   * Pop, Clear, prune and expiry); drops the value.
   */
  private retire(entry: KeyEntry): void {
    if (!this.options.keepDeletedKeyHistory) {
      entry.history = undefined;
    } else if (entry.versioned) {
      (entry.history ??= []).push(entry.currentRevision());
    }
    entry.versioned = false;
    entry.value = "";
    if (!keepsAnything(entry)) {
      // Nothing of the key is left (a restored key without metrics).
      this.entries.delete(entry.key);
    } else {
      this.unswept++;
      this.toSweep.push(entry);
      if (entry.metrics !== null) {
        this.keepRemovedMetrics(entry);
      }
    }
  }

  /**
   * Keeps a removed key's metrics within max_removed_key_metrics: the
   * oldest removed keys' metrics go first; a record left with nothing (no
   * kept history) goes too, now if swept aside, else when swept (a map
   * operation per removal here would slow a mass expiry). Kept history is
   * never dropped here: it follows keep_deleted_key_history and ClearHistory
   * alone.
   */
  private keepRemovedMetrics(record: KeyEntry): void {
    this.removedMetrics.push(record);
    const limit = this.options.maxRemovedKeyMetrics;
    while (limit >= 0 && this.removedMetrics.size > limit) {
      const oldest = this.removedMetrics.shift()!;
      oldest.metrics = null;
      // The oldest is its key's current record (re-created keys' records leave the queue): swept, or still in `entries`.
      if (oldest.history === undefined) {
        this.removed.delete(oldest.key);
      }
    }
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

  /**
   * Moves the entries of removed keys from `entries` to `removed`. The
   * operations that walk every key call it first, so that removing a key
   * costs no map operation (a million keys expiring together would spend
   * half their time deleting and inserting map entries) while every walk
   * steps over each removed key at most once; the host does it ahead of
   * them, in slices ({@link KeyValueStore.sweepRemovedSlice}).
   */
  private sweepRemoved(): void {
    if (this.unswept <= this.entries.size / 2) {
      this.sweepRemovedSlice(Infinity);
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
   * remain to be looked at. For the host's spare time.
   */
  sweepRemovedSlice(limit: number): boolean {
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
   * Retains `entry`'s new current version (just created or changed) as its
   * newest revision, after `previous`, the version it replaced if that was
   * retained; the oldest go beyond revision_limit.
   */
  private retainVersion(entry: KeyEntry, previous: StoredRevision | undefined): void {
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

  /** The entry's metrics record, made (from its implied metrics, or empty) if it has none yet. */
  private metricsOf(entry: KeyEntry): KeyMetricsRecord {
    return (entry.metrics ??= entry.metrics === undefined ? entry.impliedMetrics() : new KeyMetricsRecord());
  }

  /** The entry (existing or removed) of a key being restored, made empty if the key has none. */
  private restoredRecordOf(key: string): KeyEntry {
    let record = this.recordOf(key);
    if (record === undefined) {
      record = new KeyEntry(key, "", "", false, 0, 0, 0n, 0n, "");
      record.removed = true;
      record.metrics = null;
      this.removed.set(key, record);
    }
    return record;
  }

  /** The entry of a key that exists or of a removed one, if anything of it is left. */
  private recordOf(key: string): KeyEntry | undefined {
    return this.entries.get(key) ?? this.removed.get(key);
  }

  /** An existing key's entry (undefined for a removed key's). */
  private existingEntry(key: string): KeyEntry | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || entry.removed ? undefined : entry;
  }

  private entryOf(key: string): KeyEntry {
    const entry = this.existingEntry(key);
    if (!entry) {
      throw new StoreError("NOT_FOUND");
    }
    return entry;
  }

  private checkNotLockedByOther(entry: KeyEntry, clientId: string, error: "LOCKED" | "WRONG_OWNER" | "LOCKED_OTHER"): void {
    if (entry.lock !== undefined && entry.lock.owner !== clientId) {
      throw new StoreError(error);
    }
  }

  private checkVersion(entry: KeyEntry | undefined, ifVersion: bigint | undefined): void {
    const current = entry?.version ?? 0n;
    if (ifVersion !== undefined && ifVersion !== current) {
      throw new StoreError(
        "VERSION_MISMATCH",
        entry === undefined ? "the key does not exist" : `the current version is ${current}`,
      );
    }
  }

  private checkLockDuration(duration: bigint): void {
    const long = tooLong(duration, this.options.maxLockDuration, "max_lock_duration");
    if (long !== undefined) {
      throw new StoreError("LOCK_TOO_LONG", long);
    }
    const short = tooShort(duration, this.options.minLockDuration, "min_lock_duration");
    if (short !== undefined) {
      throw new StoreError("LOCK_INVALID", short);
    }
  }

  private checkKeyLength(key: string): void {
    const length = Buffer.byteLength(key, "utf8");
    if (this.options.maxKeyLength > 0 && length > this.options.maxKeyLength) {
      throw new StoreError("KEY_TOO_LONG", overLimit(length, this.options.maxKeyLength, "max_key_length"));
    }
  }

  private checkWritableKey(key: string): void {
    if (key === "") {
      throw new StoreError("EMPTY_KEY");
    }
    this.checkNotReserved(key);
  }

  private checkNotReserved(key: string): void {
    if (isReservedKey(key)) {
      throw new StoreError("RESERVED");
    }
  }

  private checkWritable(): void {
    if (this.readonlyMode) {
      throw new StoreError("READONLY");
    }
  }

  private emit(
    entry: KeyEntry,
    event: KeyEvent,
    clientId: string,
    time: bigint,
    lockOwner = entry.lock?.owner,
  ): void {
    const { key } = entry;
    const revision = ++this.latestRevision;
    this.eventCounts[event]!++;
    // Sets of an entry whose metrics are implied are implied too.
    if (
      event === KeyEvent.ACCESSED ||
      event === KeyEvent.LOCKED ||
      ((event === KeyEvent.CREATED || event === KeyEvent.UPDATED) && entry.metrics !== undefined)
    ) {
      this.metricsOf(entry).record(event, time);
    }
    if (this.listeners.size === 0) {
      return;
    }
    const record: StoreEvent = valueEvents.has(event)
      ? { revision: BigInt(revision), key, event, time, clientId, value: entry.snapshot(), lockOwner }
      : { revision: BigInt(revision), key, event, time, clientId };
    for (const listener of this.listeners) {
      listener(record);
    }
  }
}

/** Whether a removed key's record still holds something: metrics or history. */
function keepsAnything(record: KeyEntry): boolean {
  return record.metrics !== null || record.history !== undefined;
}

/** Sniffed content type; an empty value has none. */
function contentTypeOf(value: Uint8Array): string {
  return value.length === 0 ? "" : sniffContentType(value);
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
