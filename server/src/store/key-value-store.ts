import { fromByteString } from "./byte-string.js";
import { Clients } from "./clients.js";
import type { Clock } from "./clock.js";
import { noLockDuration } from "./duration-limits.js";
import { Expirations } from "./expirations.js";
import { joinHashHalves } from "./fnv1a64.js";
import { History } from "./history.js";
import { checkKeyLength, checkNotReserved, checkValueSize, checkVersion, checkWritableKey } from "./key-checks.js";
import { type KeyEntry, LockState } from "./key-entry.js";
import { KeyLifecycle } from "./key-lifecycle.js";
import type { KeyMetrics } from "./key-metrics.js";
import { parseKeyPattern, type KeyPattern } from "./key-pattern.js";
import { KeyTable, type KeyScanBudget, type KeyScanRequest, type KeyScanStep } from "./key-table.js";
import { Lifespans } from "./lifespans.js";
import { checkNotLockedByOther, Locks } from "./locks.js";
import { Metrics } from "./metrics.js";
import { Pruner } from "./pruner.js";
import { isReservedKey } from "./reserved-keys.js";
import { exportState, importState, type StoreDomains } from "./state-codec.js";
import type { KeyInfo, Revision, SetRequest, SetResult, StoreStats } from "./store-api.js";
import { StoreError } from "./store-error.js";
import { StoreEventKind } from "./store-event-kind.js";
import { serverClientId, valueEvents, type StoreEvent, type ValueSnapshot } from "./store-event.js";
import type { StoreOptions } from "./store-options.js";
import type { StoreState } from "./store-state.js";

export type { KeyInfo, Revision, SetRequest, SetResult, StoreStats } from "./store-api.js";
export { listedKeySize, type KeyScanBudget, type KeyScanRequest, type KeyScanStep } from "./key-table.js";
export type { StoreOptions } from "./store-options.js";

/**
 * The keyquarry store engine: a thin coordinator over its domains (the key
 * table, locks, lifespans and their one expiry queue, history, metrics,
 * pruning, clients). It alone reads the clock at the start of an operation,
 * decides the order of the checks and emits the events, so every operation
 * is atomic and its events are emitted in the order the changes happen. Pure
 * and synchronous (no I/O, no timers). Every operation first applies the
 * expirations that are due, so no caller ever sees a lock or a lifespan past
 * its deadline; a host timer calls {@link KeyValueStore.expireDue} at
 * {@link KeyValueStore.nextDeadline} for the events of idle keys. Methods
 * throw {@link StoreError} for refused requests.
 */
export class KeyValueStore {
  private readonly table = new KeyTable();
  private readonly expirations = new Expirations();
  private readonly locks: Locks;
  private readonly lifespans: Lifespans;
  private readonly history: History;
  private readonly metrics: Metrics;
  private readonly pruner: Pruner;
  private readonly clients: Clients;
  private readonly keys: KeyLifecycle;
  private latestRevision = 0;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(
    private readonly options: StoreOptions,
    private readonly clock: Clock,
  ) {
    this.locks = new Locks(options, this.expirations);
    this.lifespans = new Lifespans(options.minLifespan, this.expirations);
    this.history = new History(options);
    this.metrics = new Metrics(options.maxRemovedKeyMetrics, this.table);
    this.pruner = new Pruner(options);
    this.clients = new Clients(options);
    this.keys = new KeyLifecycle(this.table, this.locks, this.lifespans, this.history, this.metrics);
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
    this.expirations.onEarliestDeadline(listener);
  }

  /** The earliest pending lock or lifespan deadline, ns since the epoch. */
  nextDeadline(): bigint | undefined {
    return this.expirations.nextDeadline();
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
      const existing = this.table.existing(key);
      if (existing) {
        this.keys.remove(existing);
        this.keys.retire(existing);
      }
      const created = this.clock.now();
      const entry = this.keys.newEntry(key, encoder.encode(text), "text/plain; charset=utf-8", false, created, serverClientId);
      this.table.insert(entry);
      this.emit(entry, StoreEventKind.CREATED, serverClientId, created);
    }
  }

  /** Creates a key or changes its value, lock and lifespan. */
  set(clientId: string, request: SetRequest): SetResult {
    const now = this.begin();
    const { key, value, lockDuration, lifespan } = request;
    checkWritableKey(key);
    this.clients.checkWritable();
    checkKeyLength(key, this.options.maxKeyLength);
    checkValueSize(value, this.options.maxValueSize);
    if (lockDuration !== undefined) {
      this.locks.checkDuration(lockDuration);
    }
    if (lifespan !== undefined) {
      this.lifespans.check(lifespan);
    }
    const existing = this.table.existing(key);
    if (existing === undefined) {
      checkVersion(undefined, request.ifVersion);
      // Its CREATED already shows the lock this Set takes, so other watchers don't see the value.
      const lockOwner = lockDuration === undefined ? undefined : clientId;
      const entry = this.createKey(clientId, key, value, request.contentType, now, lockOwner);
      const fencingToken = lockDuration === undefined ? undefined : this.lockFor(clientId, entry, lockDuration, now, "replace");
      if (lifespan !== undefined) {
        this.setLifespan(clientId, entry, lifespan, now);
      }
      this.eagerPruneAfterCreating(key);
      return { isNew: true, fencingToken };
    }
    checkNotLockedByOther(existing, clientId, "WRONG_OWNER");
    checkVersion(existing, request.ifVersion);
    // Lifespan and lock changes apply even when the value is unchanged.
    if (lifespan !== undefined) {
      this.setLifespan(clientId, existing, lifespan, now);
    } else if (existing.lifespan !== undefined) {
      this.lifespans.renew(existing, now);
      this.emit(existing, StoreEventKind.LIFESPAN_RENEWED, clientId, now);
    }
    const fencingToken = lockDuration === undefined ? undefined : this.lockFor(clientId, existing, lockDuration, now, "replace");
    if (this.keys.update(existing, value, request.contentType, now)) {
      this.emit(existing, StoreEventKind.UPDATED, clientId, now);
    }
    return { isNew: false, fencingToken };
  }

  /** Returns a key's value. */
  get(clientId: string, key: string): Uint8Array {
    const now = this.begin();
    const entry = this.entryOf(key);
    checkNotLockedByOther(entry, clientId, "LOCKED");
    this.emit(entry, StoreEventKind.ACCESSED, clientId, now);
    return fromByteString(entry.value);
  }

  /** Describes a key, with its value and metrics on request. */
  inspect(clientId: string, key: string, include: { value?: boolean; metrics?: boolean } = {}): KeyInfo {
    const now = this.begin();
    const entry = this.entryOf(key);
    if (include.value) {
      checkNotLockedByOther(entry, clientId, "LOCKED");
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
      this.emit(entry, StoreEventKind.ACCESSED, clientId, now);
    }
    if (include.metrics) {
      info.metrics = (entry.metricsView() ?? this.metrics.of(entry)).toKeyMetrics();
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
    const entry = this.table.existing(key);
    if (entry === undefined || (entry.lock !== undefined && entry.lock.owner !== clientId)) {
      return undefined;
    }
    this.emit(entry, StoreEventKind.ACCESSED, clientId, now);
    return entry.snapshot();
  }

  /** Counts a value pushed to a watcher as an access, if the key still exists. */
  recordWatchAccess(clientId: string, key: string): void {
    const now = this.begin();
    const entry = this.table.existing(key);
    if (entry !== undefined) {
      this.emit(entry, StoreEventKind.ACCESSED, clientId, now);
    }
  }

  /** Removes a key; with `ifVersion`, only if the key has that version. */
  delete(clientId: string, key: string, ifVersion?: bigint): void {
    const now = this.begin();
    checkNotReserved(key);
    this.clients.checkWritable();
    const entry = this.entryOf(key);
    checkNotLockedByOther(entry, clientId, "WRONG_OWNER");
    checkVersion(entry, ifVersion);
    this.keys.remove(entry);
    this.emit(entry, StoreEventKind.DELETED, clientId, now);
    this.keys.retire(entry);
  }

  /** Whether a key exists. */
  exists(key: string): boolean {
    this.begin();
    return this.table.existing(key) !== undefined;
  }

  /** Removes a key and returns the value it had. */
  pop(clientId: string, key: string): Uint8Array {
    const now = this.begin();
    checkNotReserved(key);
    this.clients.checkWritable();
    const entry = this.entryOf(key);
    checkNotLockedByOther(entry, clientId, "LOCKED");
    this.keys.remove(entry);
    this.emit(entry, StoreEventKind.ACCESSED, clientId, now);
    this.emit(entry, StoreEventKind.DELETED, clientId, now);
    const value = fromByteString(entry.value);
    this.keys.retire(entry);
    return value;
  }

  /**
   * Removes every user key (locked ones only with `force`, releasing their
   * locks with UNLOCKED); returns how many were removed.
   */
  clear(clientId: string, force: boolean): bigint {
    const now = this.begin();
    this.clients.checkWritable();
    let removed = 0n;
    for (const entry of this.table.existingEntries()) {
      if (isReservedKey(entry.key) || (entry.lock !== undefined && !force)) {
        continue;
      }
      if (entry.lock !== undefined) {
        this.locks.release(entry);
        this.emit(entry, StoreEventKind.UNLOCKED, clientId, now);
      }
      this.keys.remove(entry);
      this.emit(entry, StoreEventKind.DELETED, clientId, now);
      this.keys.retire(entry);
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
    return parseKeyPattern(pattern, this.options.maxPatternLength);
  }

  /**
   * One step of a ListKeys scan: matching keys in creation order after
   * `request.after`, until the budget ends the step or no entry is left
   * (see {@link KeyTable.scan}). Throws BAD_CURSOR for an `after` this store
   * never issued.
   */
  scanKeys(request: KeyScanRequest, budget: KeyScanBudget): KeyScanStep {
    this.begin();
    if (!this.table.isCursor(request.after)) {
      throw new StoreError("BAD_CURSOR");
    }
    return this.table.scan(request, budget);
  }

  /**
   * Locks a key for the caller (creating it empty with `createIfMissing`).
   * Locking a key the caller already holds extends the lock by `duration`, up
   * to max_lock_duration from now. Returns the lock's fencing token.
   */
  lock(clientId: string, key: string, duration: bigint | undefined, createIfMissing: boolean): bigint {
    const now = this.begin();
    checkWritableKey(key);
    this.clients.checkWritable();
    if (createIfMissing) {
      checkKeyLength(key, this.options.maxKeyLength);
    }
    if (duration === undefined) {
      throw new StoreError("LOCK_INVALID", noLockDuration);
    }
    this.locks.checkDuration(duration);
    const entry = this.table.existing(key);
    if (entry === undefined) {
      if (!createIfMissing) {
        throw new StoreError("NOT_FOUND");
      }
      const created = this.createKey(clientId, key, new Uint8Array(0), "", now, clientId);
      const fencingToken = this.lockFor(clientId, created, duration, now, "extend");
      this.eagerPruneAfterCreating(key);
      return fencingToken;
    }
    checkNotLockedByOther(entry, clientId, "LOCKED_OTHER");
    return this.lockFor(clientId, entry, duration, now, "extend");
  }

  /** Releases the caller's lock on a key (a key that is not locked is fine). */
  unlock(clientId: string, key: string): void {
    const now = this.begin();
    checkNotReserved(key);
    this.clients.checkWritable();
    const entry = this.entryOf(key);
    if (entry.lock === undefined) {
      return;
    }
    checkNotLockedByOther(entry, clientId, "WRONG_OWNER");
    this.locks.release(entry);
    this.emit(entry, StoreEventKind.UNLOCKED, clientId, now);
  }

  /**
   * Returns a retained version of a key: `version` > 0 by number (the current
   * one included), < 0 counting back from the newest (-1 is the one before).
   */
  getRevision(clientId: string, key: string, version: bigint): Revision {
    this.begin();
    this.history.checkEnabled();
    if (version === 0n) {
      throw new StoreError("REVISION_ZERO");
    }
    const record = this.table.recordOf(key);
    if (record !== undefined && !record.removed) {
      // History holds the same values, so it obeys the lock too (the original leaked them, §15.13).
      checkNotLockedByOther(record, clientId, "LOCKED");
    }
    return this.history.revisionOf(record, version);
  }

  /**
   * Drops retained history: every version but the current one of existing
   * keys (skipping keys another client has locked), and the whole history of
   * removed keys. Returns the keys processed and the revisions removed.
   */
  clearHistory(clientId: string): { keys: bigint; cleared: bigint } {
    this.begin();
    this.clients.checkWritable();
    this.history.checkEnabled();
    return this.history.clear(this.table, clientId);
  }

  /** Returns a key's metrics; they outlive the key. */
  keyMetrics(key: string): Readonly<KeyMetrics> {
    this.begin();
    const metrics = this.table.recordOf(key)?.metricsView();
    if (metrics === undefined) {
      throw new StoreError("METRIC_NOT_FOUND");
    }
    return metrics.toKeyMetrics();
  }

  /**
   * Removes the least recently used user keys (see {@link Pruner.select})
   * until at most `target` remain, never locked, reserved or `ignore`d keys;
   * each with EXPUNGED by the server. Returns how many were removed; nothing
   * runs (or counts) when there are already fewer than `target`.
   */
  prune(target: number, ignore: ReadonlySet<string> = new Set()): number {
    const now = this.begin();
    const stale = this.pruner.select(this.table, target, ignore, now);
    if (stale === undefined) {
      return 0;
    }
    for (const entry of stale) {
      this.keys.remove(entry);
      this.emit(entry, StoreEventKind.EXPUNGED, serverClientId, now);
      this.keys.retire(entry);
    }
    this.pruner.completed++;
    return stale.length;
  }

  /** The scheduled prune (every prune_interval): down to prune_to once prune_at keys are reached. */
  scheduledPrune(): number {
    this.begin();
    const target = this.pruner.scheduledTarget(this.table.userKeys);
    return target === undefined ? 0 : this.prune(target);
  }

  /** Refuses (ADMIN_ONLY) anyone but the privileged client id. */
  authorizeAdmin(clientId: string): void {
    this.clients.authorizeAdmin(clientId);
  }

  /**
   * The whole state at this instant, for a snapshot: user keys with their
   * locks and lifespans (absolute deadlines), metrics, clients, counters, and
   * the history when `includeHistory`. Each value is copied into bytes of
   * its own (the store keeps byte strings).
   */
  exportState(includeHistory: boolean): StoreState {
    const now = this.begin();
    return exportState(this.domains(), now, BigInt(this.latestRevision), includeHistory);
  }

  /**
   * Restores a snapshot into this new store (before the reserved keys are
   * written), without events. Locks keep their remaining time; locks and
   * lifespans whose deadline passed while the server was down are applied
   * by the next operation or {@link expireDue}, with their events.
   */
  importState(state: StoreState): void {
    if (this.table.userKeys > 0 || this.latestRevision > 0) {
      throw new Error("a snapshot can only be restored into an empty store");
    }
    importState(this.domains(), state);
    this.latestRevision = Number(state.revision);
  }

  /** Current counters. */
  stats(): StoreStats {
    this.begin();
    const history = this.history.count(this.table);
    return {
      keys: BigInt(this.table.size),
      userKeys: BigInt(this.table.userKeys),
      totalSize: BigInt(this.table.totalSize),
      currentLocks: BigInt(this.locks.count),
      lifespans: BigInt(this.lifespans.count),
      clientIds: BigInt(this.clients.size),
      maxKeys: BigInt(this.options.maxKeys),
      events: this.metrics.eventTotals(),
      pruneCompleted: this.pruner.completed,
      eagerPruneTriggered: this.pruner.eagerTriggered,
      historyKeys: BigInt(history.keys),
      historyRevisions: BigInt(history.revisions),
    };
  }

  /**
   * Records a client id; throws ALREADY_REGISTERED for a known one, and
   * MAX_CLIENTS for a new one once max_clients are registered (a restored
   * snapshot may hold more: they are all kept).
   */
  register(clientId: string): void {
    this.clients.register(clientId, this.clock.now());
  }

  /** Turns read-only mode on or off; only the privileged client may. */
  setReadOnly(clientId: string, enable: boolean): void {
    this.clients.setReadOnly(clientId, enable);
  }

  /** Whether the store refuses writes. */
  get readonly(): boolean {
    return this.clients.readonly;
  }

  /**
   * Does part of the next walk's bookkeeping ahead of it: moves up to `limit`
   * removed keys' entries aside, oldest removal first, so that after a mass
   * expiry no single call pays for the whole sweep. Returns whether more
   * remain to be looked at. For the host's spare time.
   */
  sweepRemovedSlice(limit: number): boolean {
    return this.table.sweepSlice(limit);
  }

  /** Starts an operation: applies due expirations and returns the operation's time. */
  private begin(): bigint {
    const now = this.clock.now();
    this.applyExpiries(now, Infinity);
    this.expirations.compactIfStale();
    return now;
  }

  private applyExpiries(now: bigint, limit: number): number {
    let applied = 0;
    while (applied < limit) {
      const expiry = this.expirations.popDue(now);
      if (expiry === undefined) {
        break;
      }
      const entry = expiry.entry!;
      applied++;
      // Events carry the deadline: when the lock or key actually ended.
      if (expiry instanceof LockState) {
        this.locks.release(entry, true);
        this.emit(entry, StoreEventKind.UNLOCKED, serverClientId, expiry.deadline);
        continue;
      }
      if (entry.lock !== undefined) {
        // A lifespan overrides a lock.
        this.locks.release(entry);
        this.emit(entry, StoreEventKind.UNLOCKED, serverClientId, expiry.deadline);
      }
      this.lifespans.remove(entry, true);
      this.keys.remove(entry);
      this.emit(entry, StoreEventKind.EXPIRED, serverClientId, expiry.deadline);
      this.keys.retire(entry);
    }
    return applied;
  }

  /** After a new key: the eager prune, once eager_prune_at user keys are exceeded (never pruning that key). */
  private eagerPruneAfterCreating(key: string): void {
    if (this.pruner.eagerDue(this.table.userKeys)) {
      this.prune(this.pruner.startEager(), new Set([key]));
    }
  }

  private createKey(clientId: string, key: string, value: Uint8Array, contentType: string, now: bigint, lockOwner: string | undefined): KeyEntry {
    if (this.pruner.mustMakeRoom(this.table.userKeys)) {
      this.prune(this.pruner.startEager(), new Set());
    }
    const { maxKeys } = this.options;
    if (maxKeys > 0 && this.table.userKeys >= maxKeys) {
      throw new StoreError("MAX_KEYS", `the limit is ${maxKeys} (max_keys)`);
    }
    const entry = this.keys.create(key, value, contentType, now, clientId);
    this.emit(entry, StoreEventKind.CREATED, clientId, now, lockOwner);
    return entry;
  }

  private lockFor(clientId: string, entry: KeyEntry, duration: bigint, now: bigint, renewal: "replace" | "extend"): bigint {
    const lock = this.locks.acquire(clientId, entry, duration, now, renewal);
    this.emit(entry, StoreEventKind.LOCKED, clientId, now);
    return lock.fencingToken;
  }

  private setLifespan(clientId: string, entry: KeyEntry, duration: bigint, now: bigint): void {
    this.lifespans.set(entry, duration, now);
    this.emit(entry, StoreEventKind.LIFESPAN_SET, clientId, now);
  }

  private entryOf(key: string): KeyEntry {
    const entry = this.table.existing(key);
    if (!entry) {
      throw new StoreError("NOT_FOUND");
    }
    return entry;
  }

  private domains(): StoreDomains {
    const { table, locks, lifespans, history, metrics, clients } = this;
    return { table, locks, lifespans, history, metrics, clients };
  }

  private emit(entry: KeyEntry, kind: StoreEventKind, clientId: string, time: bigint, lockOwner = entry.lock?.owner): void {
    const revision = ++this.latestRevision;
    this.metrics.count(entry, kind, time);
    if (this.listeners.size === 0) {
      return;
    }
    const { key } = entry;
    const record: StoreEvent = valueEvents.has(kind)
      ? { revision: BigInt(revision), key, event: kind, time, clientId, value: entry.snapshot(), lockOwner }
      : { revision: BigInt(revision), key, event: kind, time, clientId };
    for (const listener of this.listeners) {
      listener(record);
    }
  }
}
