/**
 * A small reference model of the store engine for the model-based test
 * (key-value-store.model.test.ts): the same operations, written as plainly
 * as possible — each key's retained versions in one list, locks and
 * lifespans as deadlines checked at the start of every operation — with no
 * concern for speed. It covers values, versions, locks and their owners,
 * fencing tokens, lifespans and history; not events, metrics, content types
 * or pruning. Errors are named as in store-error.ts.
 */
import { noLockDuration, tooLong, tooShort } from "./duration-limits.js";
import { overLimit } from "./over-limit.js";
import type { StoreErrorCode } from "./store-error.js";

/** The store options the model honours. */
export interface ModelOptions {
  maxValueSize: number;
  /** -1 unlimited, 0 none, N the newest N versions (the current one included). */
  revisionLimit: number;
  keepDeletedKeyHistory: boolean;
  minLockDuration: bigint;
  maxLockDuration: bigint;
  minLifespan: bigint;
}

/** What an operation answered: a result, or a refusal (an error id and its detail). */
export type Outcome = { ok: unknown } | { error: StoreErrorCode; detail?: string };

interface ModelVersion {
  version: bigint;
  value: string;
  /** When this version was written. */
  time: bigint;
}

interface ModelKey {
  value: string;
  version: bigint;
  created: bigint;
  /** When the value last changed; undefined until it does. */
  updated?: bigint;
  lock?: { owner: string; deadline: bigint; token: bigint };
  lifespan?: { duration: bigint; set: bigint; deadline: bigint };
}

/** A refusal, thrown inside the model and turned into an {@link Outcome}. */
class Refused {
  constructor(
    readonly error: StoreErrorCode,
    readonly detail?: string,
  ) {}
}

/** The reference model; values are strings (the test's values are short ASCII). */
export class StoreModel {
  private readonly keys = new Map<string, ModelKey>();
  /** Retained versions per key, oldest first (an existing key's newest is its current value). */
  private readonly history = new Map<string, ModelVersion[]>();
  private lastToken = 0n;

  constructor(
    private readonly options: ModelOptions,
    /** Time of the next operation, ns. */
    public now: bigint,
  ) {}

  /** Set: creates or changes a key, its lock and its lifespan. */
  set(
    client: string,
    request: { key: string; value: string; lockDuration?: bigint; lifespan?: bigint; ifVersion?: bigint },
  ): Outcome {
    return this.run(() => {
      const { key, value, lockDuration, lifespan, ifVersion } = request;
      this.checkWritableKey(key);
      if (this.options.maxValueSize > 0 && value.length > this.options.maxValueSize) {
        throw new Refused("VALUE_TOO_LARGE", overLimit(value.length, this.options.maxValueSize, "max_value_size"));
      }
      if (lockDuration !== undefined) {
        this.checkLockDuration(lockDuration);
      }
      const lifespanTooShort = lifespan === undefined ? undefined : tooShort(lifespan, this.options.minLifespan, "min_lifespan");
      if (lifespanTooShort !== undefined) {
        throw new Refused("LIFESPAN_INVALID", lifespanTooShort);
      }
      const existing = this.keys.get(key);
      if (existing === undefined) {
        this.checkVersion(undefined, ifVersion);
        const entry = this.create(key, value);
        const fencingToken = lockDuration === undefined ? undefined : this.newLock(entry, client, lockDuration);
        if (lifespan !== undefined) {
          entry.lifespan = { duration: lifespan, set: this.now, deadline: this.now + lifespan };
        }
        return { isNew: true, fencingToken };
      }
      this.checkNotLockedByOther(existing, client, "WRONG_OWNER");
      this.checkVersion(existing, ifVersion);
      const duration = lifespan ?? existing.lifespan?.duration;
      if (duration !== undefined) {
        existing.lifespan = { duration, set: this.now, deadline: this.now + duration };
      }
      let fencingToken: bigint | undefined;
      if (lockDuration !== undefined) {
        // Set replaces a held lock's deadline (same token); Lock extends it.
        fencingToken =
          existing.lock === undefined
            ? this.newLock(existing, client, lockDuration)
            : (existing.lock = { ...existing.lock, deadline: this.now + lockDuration }).token;
      }
      if (value !== existing.value) {
        existing.value = value;
        existing.version++;
        existing.updated = this.now;
        this.retain(key, existing);
      }
      return { isNew: false, fencingToken };
    });
  }

  /** Get: a key's value. */
  get(client: string, key: string): Outcome {
    return this.run(() => {
      const entry = this.existing(key);
      this.checkNotLockedByOther(entry, client, "LOCKED");
      return entry.value;
    });
  }

  /** Inspect: what the model knows of a key (its value only with `withValue`). */
  inspect(client: string, key: string, withValue: boolean): Outcome {
    return this.run(() => {
      const entry = this.existing(key);
      if (withValue) {
        this.checkNotLockedByOther(entry, client, "LOCKED");
      }
      return {
        version: entry.version,
        size: entry.value.length,
        created: entry.created,
        updated: entry.updated,
        locked: entry.lock !== undefined,
        fencingToken: entry.lock?.token,
        lifespan: entry.lifespan && { duration: entry.lifespan.duration, set: entry.lifespan.set },
        value: withValue ? entry.value : undefined,
      };
    });
  }

  /** Delete, with an optional compare-and-set version. */
  delete(client: string, key: string, ifVersion?: bigint): Outcome {
    return this.run(() => {
      this.checkNotReserved(key);
      const entry = this.existing(key);
      this.checkNotLockedByOther(entry, client, "WRONG_OWNER");
      this.checkVersion(entry, ifVersion);
      this.remove(key);
      return undefined;
    });
  }

  /** Pop: removes a key and answers its value. */
  pop(client: string, key: string): Outcome {
    return this.run(() => {
      this.checkNotReserved(key);
      const entry = this.existing(key);
      this.checkNotLockedByOther(entry, client, "LOCKED");
      this.remove(key);
      return entry.value;
    });
  }

  /** Exists. */
  exists(key: string): Outcome {
    return this.run(() => this.keys.has(key));
  }

  /** Clear: removes every key (locked ones only with `force`); answers how many. */
  clear(force: boolean): Outcome {
    return this.run(() => {
      let removed = 0n;
      for (const [key, entry] of [...this.keys]) {
        if (entry.lock === undefined || force) {
          this.remove(key);
          removed++;
        }
      }
      return removed;
    });
  }

  /** Lock: locks (or extends the caller's lock on) a key, creating it empty with `createIfMissing`. */
  lock(client: string, key: string, duration: bigint | undefined, createIfMissing: boolean): Outcome {
    return this.run(() => {
      this.checkWritableKey(key);
      if (duration === undefined) {
        throw new Refused("LOCK_INVALID", noLockDuration);
      }
      this.checkLockDuration(duration);
      const existing = this.keys.get(key);
      if (existing === undefined) {
        if (!createIfMissing) {
          throw new Refused("NOT_FOUND");
        }
        return this.newLock(this.create(key, ""), client, duration);
      }
      this.checkNotLockedByOther(existing, client, "LOCKED_OTHER");
      if (existing.lock === undefined) {
        return this.newLock(existing, client, duration);
      }
      const extended = existing.lock.deadline + duration;
      const cap = this.now + this.options.maxLockDuration;
      existing.lock = { ...existing.lock, deadline: extended < cap ? extended : cap };
      return existing.lock.token;
    });
  }

  /** Unlock: releases the caller's lock (a key that is not locked is fine). */
  unlock(client: string, key: string): Outcome {
    return this.run(() => {
      this.checkNotReserved(key);
      const entry = this.existing(key);
      if (entry.lock !== undefined) {
        this.checkNotLockedByOther(entry, client, "WRONG_OWNER");
        entry.lock = undefined;
      }
      return undefined;
    });
  }

  /** GetRevision: a retained version, > 0 by number, < 0 counting back from the newest. */
  getRevision(client: string, key: string, version: bigint): Outcome {
    return this.run(() => {
      if (this.options.revisionLimit === 0) {
        throw new Refused("NO_VERSIONING");
      }
      if (version === 0n) {
        throw new Refused("REVISION_ZERO");
      }
      const entry = this.keys.get(key);
      if (entry !== undefined) {
        this.checkNotLockedByOther(entry, client, "LOCKED");
      }
      const retained = this.history.get(key) ?? [];
      const found =
        version > 0n ? retained.find((revision) => revision.version === version) : retained[retained.length - 1 + Number(version)];
      if (found === undefined) {
        throw new Refused("REVISION_NOT_FOUND");
      }
      return { value: found.value, version: found.version, timestamp: found.time };
    });
  }

  /**
   * ClearHistory: existing keys keep only their current version (skipping
   * keys another client has locked), removed keys lose their history; answers
   * the keys processed and the revisions dropped.
   */
  clearHistory(client: string): Outcome {
    return this.run(() => {
      if (this.options.revisionLimit === 0) {
        throw new Refused("NO_VERSIONING");
      }
      let keys = 0n;
      let cleared = 0n;
      for (const [key, retained] of [...this.history]) {
        const entry = this.keys.get(key);
        if (entry === undefined) {
          this.history.delete(key);
        } else if (entry.lock === undefined || entry.lock.owner === client) {
          this.history.set(key, retained.slice(-1));
        } else {
          continue;
        }
        keys++;
        cleared += BigInt(entry === undefined ? retained.length : retained.length - 1);
      }
      return { keys, cleared };
    });
  }

  /** Moves time forward (expirations apply at the next operation). */
  advance(ns: bigint): void {
    this.now += ns;
  }

  private run(operation: () => unknown): Outcome {
    this.expire();
    try {
      return { ok: operation() };
    } catch (error) {
      if (error instanceof Refused) {
        return error.detail === undefined ? { error: error.error } : { error: error.error, detail: error.detail };
      }
      throw error;
    }
  }

  /** Applies every lock and lifespan deadline that has come (at or before now). */
  private expire(): void {
    for (const [key, entry] of [...this.keys]) {
      if (entry.lifespan !== undefined && entry.lifespan.deadline <= this.now) {
        this.remove(key);
      } else if (entry.lock !== undefined && entry.lock.deadline <= this.now) {
        entry.lock = undefined;
      }
    }
  }

  private create(key: string, value: string): ModelKey {
    const retained = this.history.get(key);
    // A re-created key continues the numbering of its retained history.
    const version = retained === undefined || retained.length === 0 ? 1n : retained[retained.length - 1]!.version + 1n;
    const entry: ModelKey = { value, version, created: this.now };
    this.keys.set(key, entry);
    this.retain(key, entry);
    return entry;
  }

  /** Records `entry`'s current version as its newest revision, dropping those beyond revision_limit. */
  private retain(key: string, entry: ModelKey): void {
    const limit = this.options.revisionLimit;
    if (limit === 0) {
      return;
    }
    const retained = [...(this.history.get(key) ?? []), { version: entry.version, value: entry.value, time: this.now }];
    this.history.set(key, limit > 0 ? retained.slice(-limit) : retained);
  }

  private remove(key: string): void {
    this.keys.delete(key);
    if (!this.options.keepDeletedKeyHistory) {
      this.history.delete(key);
    }
  }

  private newLock(entry: ModelKey, owner: string, duration: bigint): bigint {
    entry.lock = { owner, deadline: this.now + duration, token: ++this.lastToken };
    return entry.lock.token;
  }

  private existing(key: string): ModelKey {
    const entry = this.keys.get(key);
    if (entry === undefined) {
      throw new Refused("NOT_FOUND");
    }
    return entry;
  }

  private checkWritableKey(key: string): void {
    if (key === "") {
      throw new Refused("EMPTY_KEY");
    }
    this.checkNotReserved(key);
  }

  private checkNotReserved(key: string): void {
    if (key.toLowerCase().startsWith("keyquarry")) {
      throw new Refused("RESERVED");
    }
  }

  private checkLockDuration(duration: bigint): void {
    const long = tooLong(duration, this.options.maxLockDuration, "max_lock_duration");
    if (long !== undefined) {
      throw new Refused("LOCK_TOO_LONG", long);
    }
    const short = tooShort(duration, this.options.minLockDuration, "min_lock_duration");
    if (short !== undefined) {
      throw new Refused("LOCK_INVALID", short);
    }
  }

  private checkNotLockedByOther(entry: ModelKey, client: string, error: "LOCKED" | "WRONG_OWNER" | "LOCKED_OTHER"): void {
    if (entry.lock !== undefined && entry.lock.owner !== client) {
      throw new Refused(error);
    }
  }

  private checkVersion(entry: ModelKey | undefined, ifVersion: bigint | undefined): void {
    const current = entry?.version ?? 0n;
    if (ifVersion !== undefined && ifVersion !== current) {
      throw new Refused("VERSION_MISMATCH", entry === undefined ? "the key does not exist" : `the current version is ${current}`);
    }
  }
}
