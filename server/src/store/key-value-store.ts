import { fromByteString } from "./byte-string.js";
import { noLockDuration } from "./duration-limits.js";
import { checkKeyLength, checkNotReserved, checkValueSize, checkVersion, checkWritableKey } from "./key-checks.js";
import { keyInfoOf, type KeyInfo } from "./key-info.js";
import type { KeyMetrics } from "./key-metrics.js";
import { parseKeyPattern, type KeyPattern } from "./key-pattern.js";
import type { KeyScanBudget, KeyScanRequest, KeyScanStep } from "./key-table.js";
import { checkNotLockedByOther } from "./locks.js";
import { isReservedKey } from "./reserved-keys.js";
import { exportState, importState, type ExportedValues } from "./state-codec.js";
import type { Revision, SetRequest, SetResult } from "./store-api.js";
import { StoreCore } from "./store-core.js";
import { StoreError } from "./store-error.js";
import { StoreEventKind } from "./store-event-kind.js";
import { serverClientId, type StoreEvent, type ValueSnapshot } from "./store-event.js";
import {
  clearCommand,
  deleteCommand,
  lockCommand,
  type CommandOutcome,
  type CommandRecord,
  type CommandResult,
  type CommandSink,
  type StoreCommand,
} from "./store-command.js";
import type { StoreState } from "./store-state.js";
import { storeStats, type StoreStats } from "./store-stats.js";

export type { Revision, SetRequest, SetResult } from "./store-api.js";
export type { KeyInfo } from "./key-info.js";
export { listedKeySize, type KeyScanBudget, type KeyScanRequest, type KeyScanStep } from "./key-table.js";
export type { StoreOptions } from "./store-options.js";
export type { StoreStats } from "./store-stats.js";

/**
 * The keyquarry store engine: a thin coordinator over its domains (the key
 * table, locks, lifespans and their one expiry queue, history, metrics,
 * pruning, clients). It alone (with its {@link StoreCore}) reads the clock
 * at the start of an operation, decides the order of the checks and emits
 * the events, so every operation is atomic and its events are emitted in
 * the order the changes happen. Pure
 * and synchronous (no I/O, no timers). Every operation first applies the
 * expirations that are due, so no caller ever sees a lock or a lifespan past
 * its deadline; a host timer calls {@link KeyValueStore.expireDue} at
 * {@link KeyValueStore.nextDeadline} for the events of idle keys. Methods
 * throw {@link StoreError} for refused requests.
 */
export class KeyValueStore extends StoreCore {
  /** Revision of the latest event (0n before the first). */
  get revision(): bigint {
    return BigInt(this.events.revision);
  }

  /**
   * Calls `listener` synchronously for every event from now on, in revision
   * order; returns an unsubscribe function. Listeners must not call back into
   * the store synchronously.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.events.subscribe(listener);
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
   * Applies the expirations due now (at most `limit`): expired locks are
   * released (UNLOCKED), expired keys removed (UNLOCKED if locked, then
   * EXPIRED), by the server. Returns how many were applied.
   */
  expireDue(limit = Infinity): number {
    const command: StoreCommand = limit === Infinity ? { op: "expire" } : { op: "expire", limit };
    return this.commands.run(command, () => this.applyExpiries(this.commands.now(), limit));
  }

  /** Writes the server's read-only keys (at every start), as the server itself. */
  writeReservedKeys(values: Iterable<readonly [string, string]>): void {
    const list = [...values].map(([key, text]): [string, string] => [key, text]);
    return this.commands.run({ op: "writeReservedKeys", values: list }, () => {
      const encoder = new TextEncoder();
      // One time for all: a command reads the clock once, so that its replay repeats it.
      const created = this.commands.now();
      for (const [key, text] of list) {
        const existing = this.table.existing(key);
        if (existing) {
          this.keys.remove(existing);
          this.keys.retire(existing);
        }
        const entry = this.keys.newEntry(key, encoder.encode(text), "text/plain; charset=utf-8", false, created, serverClientId);
        this.table.insert(entry);
        this.emit(entry, StoreEventKind.CREATED, serverClientId, created);
      }
    });
  }

  /** Creates a key or changes its value, lock and lifespan. */
  set(clientId: string, request: SetRequest): SetResult {
    return this.commands.run({ op: "set", clientId, request }, () => {
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
    });
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
      this.emit(entry, StoreEventKind.ACCESSED, clientId, now);
    }
    // After the access: the metrics count it.
    const metrics = include.metrics ? (entry.metricsView() ?? this.metrics.of(entry)).toKeyMetrics() : undefined;
    return keyInfoOf(entry, clientId, include.value === true, metrics);
  }

  /**
   * A key's value for a new watcher (counts as an access): undefined when
   * the key does not exist or another client holds its lock.
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
    return this.commands.run(deleteCommand(clientId, key, ifVersion), () => {
      const now = this.begin();
      checkNotReserved(key);
      this.clients.checkWritable();
      const entry = this.entryOf(key);
      checkNotLockedByOther(entry, clientId, "WRONG_OWNER");
      checkVersion(entry, ifVersion);
      this.removeKey(entry, StoreEventKind.DELETED, clientId, now);
    });
  }

  /** Whether a key exists. */
  exists(key: string): boolean {
    this.begin();
    return this.table.existing(key) !== undefined;
  }

  /** Removes a key and returns the value it had. */
  pop(clientId: string, key: string): Uint8Array {
    return this.commands.run({ op: "pop", clientId, key }, () => {
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
    });
  }

  /**
   * Removes every user key (locked ones only with `force`, releasing their
   * locks), or with `prefixes` only the keys that start with one of them;
   * returns how many.
   */
  clear(clientId: string, force: boolean, prefixes?: readonly string[]): bigint {
    return this.commands.run(clearCommand(clientId, force, prefixes), () => {
      const now = this.begin();
      this.clients.checkWritable();
      let removed = 0n;
      for (const entry of this.table.existingEntries()) {
        if (
          isReservedKey(entry.key) ||
          (entry.lock !== undefined && !force) ||
          (prefixes !== undefined && !prefixes.some((prefix) => entry.key.startsWith(prefix)))
        ) {
          continue;
        }
        if (entry.lock !== undefined) {
          this.locks.release(entry);
          this.emit(entry, StoreEventKind.UNLOCKED, clientId, now);
        }
        this.removeKey(entry, StoreEventKind.DELETED, clientId, now);
        removed++;
      }
      return removed;
    });
  }

  /** Compiles a ListKeys pattern of at most max_pattern_length bytes (see {@link parseKeyPattern}). */
  keyPattern(pattern: string): KeyPattern | undefined {
    return parseKeyPattern(pattern, this.options.maxPatternLength);
  }

  /** One step of a ListKeys scan (see {@link KeyTable.scan}); BAD_CURSOR for an `after` this store never issued. */
  scanKeys(request: KeyScanRequest, budget: KeyScanBudget): KeyScanStep {
    this.begin();
    if (!this.table.isCursor(request.after)) {
      throw new StoreError("BAD_CURSOR");
    }
    return this.table.scan(request, budget);
  }

  /**
   * Locks a key for the caller (creating it empty with `createIfMissing`);
   * the caller's own lock is extended by `duration`, up to
   * max_lock_duration from now. Returns the lock's fencing token.
   */
  lock(clientId: string, key: string, duration: bigint | undefined, createIfMissing: boolean): bigint {
    return this.commands.run(lockCommand(clientId, key, duration, createIfMissing), () => {
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
    });
  }

  /** Releases the caller's lock on a key (a key that is not locked is fine). */
  unlock(clientId: string, key: string): void {
    return this.commands.run({ op: "unlock", clientId, key }, () => {
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
    });
  }

  /** A retained version of a key (see {@link History.revisionOf}): > 0 by number, < 0 back from the newest. */
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

  /** Drops retained history (see {@link History.clear}); returns the keys processed and revisions removed. */
  clearHistory(clientId: string): { keys: bigint; cleared: bigint } {
    return this.commands.run({ op: "clearHistory", clientId }, () => {
      this.begin();
      this.clients.checkWritable();
      this.history.checkEnabled();
      return this.history.clear(this.table, clientId);
    });
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

  /** The scheduled prune (every prune_interval): down to prune_to once prune_at keys are reached. */
  scheduledPrune(): number {
    return this.commands.run({ op: "scheduledPrune" }, () => {
      this.begin();
      const target = this.pruner.scheduledTarget(this.table.userKeys);
      return target === undefined ? 0 : this.prune(target);
    });
  }

  /** Refuses (ADMIN_ONLY) anyone but the privileged client id. */
  authorizeAdmin(clientId: string): void {
    this.clients.authorizeAdmin(clientId);
  }

  /** The whole state at this instant, for a snapshot (see {@link exportState}). */
  exportState(includeHistory: boolean, values: ExportedValues = "copied"): StoreState {
    const now = this.begin();
    // A replica's is taken at its last command's time, which the next command's must not precede.
    const takenAt = this.options.replicated === true ? this.commands.lastTime : now;
    const state = exportState(this.domains(), takenAt, this.revision, this.commands.seq, includeHistory, values);
    this.commands.snapshotTaken();
    return state;
  }

  /**
   * Restores a snapshot into this new store, without events; what expired
   * while the server was down is applied by the next operation or
   * {@link expireDue}, with its events.
   */
  importState(state: StoreState): void {
    if (this.table.userKeys > 0 || this.events.revision > 0) {
      throw new Error("a snapshot can only be restored into an empty store");
    }
    importState(this.domains(), state);
    this.events.restore(state.revision);
    this.commands.seq = state.commandSeq;
    if (this.options.replicated === true) {
      this.commands.lastTime = state.takenAt;
    }
  }

  /** Current counters. */
  stats(): StoreStats {
    this.begin();
    return storeStats(this.domains(), this.pruner, this.options.maxKeys);
  }

  /** Records a client id (see {@link Clients.register}). */
  register(clientId: string): void {
    return this.commands.run({ op: "register", clientId }, () => {
      this.clients.register(clientId, this.commands.now());
    });
  }

  /** Turns read-only mode on or off; only the privileged client may. */
  setReadOnly(clientId: string, enable: boolean): void {
    return this.commands.run({ op: "setReadOnly", clientId, enable }, () => {
      this.clients.setReadOnly(clientId, enable);
    });
  }

  /** Whether the store refuses writes. */
  get readonly(): boolean {
    return this.clients.readonly;
  }

  /** Sweeps up to `limit` removed keys' entries ahead of the next walk (see {@link KeyTable.sweepSlice}). */
  sweepRemovedSlice(limit: number): boolean {
    return this.table.sweepSlice(limit);
  }

  /**
   * Hands every state-changing command to `sink` from now on (see
   * {@link CommandRecorder}); attach after restoring and replaying. Once only.
   */
  attachCommandSink(sink: CommandSink): void {
    this.commands.attach(sink);
  }

  /**
   * User keys held now, without starting an operation (so without applying
   * due expirations, which would change the state unrecorded).
   */
  get userKeys(): number {
    return this.table.userKeys;
  }

  /**
   * After a replay: continues the revisions above those the replayed records
   * reserved, which reads may have taken unrecorded before a crash.
   */
  continueAfterReservedRevisions(): void {
    const reserved = BigInt(this.commands.reservedUpTo);
    if (this.revision < reserved) {
      this.events.restore(reserved);
    }
  }

  /** Position of the last command applied (recorded or replayed); a snapshot holds it. */
  get commandSeq(): bigint {
    return this.commands.seq;
  }

  /**
   * Applies a recorded command again, at its recorded time, after moving the
   * revision up to the one it found (the reads between two commands are not
   * recorded, their ACCESSED events only numbered). A refusal is part of the
   * replay (the command was refused the same way when it ran): it is the
   * outcome's `error`. `inStep` is false when the store's revision was
   * already past the record's: the replay has diverged from the run it repeats.
   */
  applyCommand<C extends StoreCommand>(record: CommandRecord & { command: C }): { inStep: boolean; outcome: CommandOutcome<C> } {
    const inStep = this.revision <= record.revision;
    if (this.revision < record.revision) {
      this.events.restore(record.revision);
    }
    let outcome: CommandOutcome<C> | undefined;
    this.commands.replay(record, () => {
      try {
        outcome = { value: this.execute(record.command) };
      } catch (error) {
        if (!(error instanceof StoreError)) {
          throw error;
        }
        outcome = { error };
      }
    });
    return { inStep, outcome: outcome! };
  }

  /** Runs a command through its method: what {@link applyCommand} replays, and the RPC layer's one way to change the store. */
  execute<C extends StoreCommand>(command: C): CommandResult<C> {
    return this.dispatch(command) as CommandResult<C>;
  }

  private dispatch(command: StoreCommand): CommandResult<StoreCommand> {
    switch (command.op) {
      case "set":
        return this.set(command.clientId, command.request);
      case "delete":
        return this.delete(command.clientId, command.key, command.ifVersion);
      case "pop":
        return this.pop(command.clientId, command.key);
      case "clear":
        return this.clear(command.clientId, command.force, command.prefixes);
      case "lock":
        return this.lock(command.clientId, command.key, command.duration, command.createIfMissing);
      case "unlock":
        return this.unlock(command.clientId, command.key);
      case "clearHistory":
        return this.clearHistory(command.clientId);
      case "register":
        return this.register(command.clientId);
      case "setReadOnly":
        return this.setReadOnly(command.clientId, command.enable);
      case "prune":
        return this.prune(command.target, new Set(command.ignore));
      case "scheduledPrune":
        return this.scheduledPrune();
      case "expire":
        return this.expireDue(command.limit);
      case "writeReservedKeys":
        return this.writeReservedKeys(command.values);
      case "reserveRevisions":
        return this.commands.replayReservation(command.upTo);
    }
  }
}
