import { Clients } from "./clients.js";
import type { Clock } from "./clock.js";
import { CommandRecorder } from "./command-recorder.js";
import type { StoreCommand } from "./store-command.js";
import { EventFanout } from "./event-fanout.js";
import { Expirations } from "./expirations.js";
import { History } from "./history.js";
import { type KeyEntry, LockState } from "./key-entry.js";
import { KeyLifecycle } from "./key-lifecycle.js";
import { KeyTable } from "./key-table.js";
import { Lifespans } from "./lifespans.js";
import { Locks } from "./locks.js";
import { Metrics } from "./metrics.js";
import { Pruner } from "./pruner.js";
import type { StoreDomains } from "./state-codec.js";
import { StoreError } from "./store-error.js";
import { StoreEventKind } from "./store-event-kind.js";
import { serverClientId } from "./store-event.js";
import type { StoreOptions } from "./store-options.js";

/** The command of the expirations a read applies at its start. */
const expireCommand: StoreCommand = { op: "expire" };

/**
 * The ground every operation of {@link KeyValueStore} stands on: its
 * domains; the start of an operation (the one clock read, then the due
 * expirations); the steps that change a key across the domains, each
 * followed by its event; and the emission of events (numbered, counted,
 * handed to subscribers). KeyValueStore orders the checks and these steps.
 */
export abstract class StoreCore {
  protected readonly table = new KeyTable();
  protected readonly expirations = new Expirations();
  protected readonly events = new EventFanout();
  protected readonly locks: Locks;
  protected readonly lifespans: Lifespans;
  protected readonly history: History;
  protected readonly metrics: Metrics;
  protected readonly pruner: Pruner;
  protected readonly clients: Clients;
  protected readonly keys: KeyLifecycle;
  /** Numbers, records and replays the commands (see {@link CommandRecorder}); reads the clock for everyone. */
  protected readonly commands: CommandRecorder;

  constructor(
    protected readonly options: StoreOptions,
    protected readonly clock: Clock,
  ) {
    this.locks = new Locks(options, this.expirations);
    this.lifespans = new Lifespans(options.minLifespan, this.expirations);
    this.history = new History(options);
    this.metrics = new Metrics(options.maxRemovedKeyMetrics, this.table);
    this.pruner = new Pruner(options);
    this.clients = new Clients(options);
    this.keys = new KeyLifecycle(this.table, this.locks, this.lifespans, this.history, this.metrics);
    this.commands = new CommandRecorder(clock, () => BigInt(this.events.revision), options.replicated === true);
  }

  /**
   * Removes the stalest user keys (see {@link Pruner.select}) until at most
   * `target` remain, each with EXPUNGED by the server; returns how many.
   */
  prune(target: number, ignore: ReadonlySet<string> = new Set()): number {
    return this.commands.run({ op: "prune", target, ignore: [...ignore] }, () => {
      const now = this.begin();
      const stale = this.commands.prunePick(
        () => this.pruner.select(this.table, target, ignore, now),
        (key) => this.table.existing(key),
      );
      if (stale === undefined) {
        return 0;
      }
      for (const entry of stale) {
        this.removeKey(entry, StoreEventKind.EXPUNGED, serverClientId, now);
      }
      this.pruner.completed++;
      return stale.length;
    });
  }

  /** Starts an operation: applies due expirations and returns the operation's time. */
  protected begin(): bigint {
    const now = this.commands.now();
    const next = this.expirations.nextDeadline();
    // A replica's reads leave them to the log (see StoreOptions.replicated).
    if (next !== undefined && next <= now && !this.commands.frozen) {
      // Inside a command they are part of it; at the start of a read they are an `expire` command of their own.
      this.commands.runAt(now, expireCommand, () => this.applyExpiries(now, Infinity));
    }
    this.expirations.compactIfStale();
    return now;
  }

  protected applyExpiries(now: bigint, limit: number): number {
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
      this.removeKey(entry, StoreEventKind.EXPIRED, serverClientId, expiry.deadline);
    }
    return applied;
  }

  /** After a new key: the eager prune, once eager_prune_at user keys are exceeded (never pruning that key). */
  protected eagerPruneAfterCreating(key: string): void {
    if (this.pruner.eagerDue(this.table.userKeys)) {
      this.prune(this.pruner.startEager(), new Set([key]));
    }
  }

  protected createKey(clientId: string, key: string, value: Uint8Array, contentType: string, now: bigint, lockOwner: string | undefined): KeyEntry {
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

  protected lockFor(clientId: string, entry: KeyEntry, duration: bigint, now: bigint, renewal: "replace" | "extend"): bigint {
    const lock = this.locks.acquire(clientId, entry, duration, now, renewal);
    this.emit(entry, StoreEventKind.LOCKED, clientId, now);
    return lock.fencingToken;
  }

  protected setLifespan(clientId: string, entry: KeyEntry, duration: bigint, now: bigint): void {
    this.lifespans.set(entry, duration, now);
    this.emit(entry, StoreEventKind.LIFESPAN_SET, clientId, now);
  }

  /** Removes a key (with its lock and lifespan), emits `kind`, then retires its entry. */
  protected removeKey(entry: KeyEntry, kind: StoreEventKind, clientId: string, time: bigint): void {
    this.keys.remove(entry);
    this.emit(entry, kind, clientId, time);
    this.keys.retire(entry);
  }

  protected entryOf(key: string): KeyEntry {
    const entry = this.table.existing(key);
    if (!entry) {
      throw new StoreError("NOT_FOUND");
    }
    return entry;
  }

  protected domains(): StoreDomains {
    const { table, locks, lifespans, history, metrics, clients } = this;
    return { table, locks, lifespans, history, metrics, clients };
  }

  protected emit(entry: KeyEntry, kind: StoreEventKind, clientId: string, time: bigint, lockOwner = entry.lock?.owner): void {
    if (kind !== StoreEventKind.ACCESSED) {
      this.commands.changed();
    }
    this.metrics.count(entry, kind, time);
    if (this.commands.frozen) {
      // A replica's read: its access is this node's own, so it takes no revision (every replica numbers the same events).
      return;
    }
    this.commands.revisionTaking(this.events.revision + 1);
    this.events.publish(entry, kind, clientId, time, lockOwner);
  }
}
