import { tooLong, tooShort } from "./duration-limits.js";
import type { Expirations } from "./expirations.js";
import { type KeyEntry, LockState } from "./key-entry.js";
import type { KeyState } from "./store-state.js";
import { StoreError } from "./store-error.js";

/** The error a request refused by another client's lock gets (each operation has its own). */
export type LockedError = "LOCKED" | "WRONG_OWNER" | "LOCKED_OTHER";

/** Refuses (with `error`) a key another client holds the lock of. */
export function checkNotLockedByOther(entry: KeyEntry, clientId: string, error: LockedError): void {
  if (entry.lock !== undefined && entry.lock.owner !== clientId) {
    throw new StoreError(error);
  }
}

/** The lock durations a store accepts, ns. */
export interface LockLimits {
  minLockDuration: bigint;
  maxLockDuration: bigint;
}

/**
 * The store's locks (its lease of a key to one client): acquiring,
 * renewing and releasing them, their fencing tokens (one more for every new
 * lock, never reused) and their count. Their expirations wait in the one
 * queue of {@link Expirations}.
 */
export class Locks {
  /** The latest fencing token issued. */
  fencingToken = 0n;
  /** Locks currently held. */
  count = 0;

  constructor(
    private readonly limits: LockLimits,
    private readonly expirations: Expirations,
  ) {}

  /** Refuses a lock duration over max_lock_duration (LOCK_TOO_LONG), not positive or under min_lock_duration (LOCK_INVALID). */
  checkDuration(duration: bigint): void {
    const long = tooLong(duration, this.limits.maxLockDuration, "max_lock_duration");
    if (long !== undefined) {
      throw new StoreError("LOCK_TOO_LONG", long);
    }
    const short = tooShort(duration, this.limits.minLockDuration, "min_lock_duration");
    if (short !== undefined) {
      throw new StoreError("LOCK_INVALID", short);
    }
  }

  /**
   * Locks `entry` for `clientId` (who may already hold it): a new lock gets
   * the next fencing token; a held one keeps its token and either expires
   * `duration` from now ("replace", as Set does) or is extended by
   * `duration`, capped at max_lock_duration from now ("extend", as Lock does).
   */
  acquire(clientId: string, entry: KeyEntry, duration: bigint, now: bigint, renewal: "replace" | "extend"): LockState {
    const held = entry.lock;
    let lock: LockState;
    if (held === undefined) {
      lock = new LockState(entry, clientId, duration, now, now + duration, ++this.fencingToken);
      this.count++;
    } else {
      held.entry = undefined;
      this.expirations.forget();
      const extended = renewal === "extend" ? held.deadline + duration : now + duration;
      const cap = now + this.limits.maxLockDuration;
      lock = new LockState(entry, held.owner, duration, held.created, extended < cap ? extended : cap, held.fencingToken);
    }
    entry.lock = lock;
    this.expirations.schedule(lock);
    return lock;
  }

  /** Releases `entry`'s lock; `expired` when its queue entry was just taken out (it is not stale then). */
  release(entry: KeyEntry, expired = false): void {
    entry.lock!.entry = undefined;
    entry.lock = undefined;
    this.count--;
    if (!expired) {
      this.expirations.forget();
    }
  }

  /** Gives a restored key its saved lock. */
  restore(entry: KeyEntry, saved: NonNullable<KeyState["lock"]>): void {
    const { owner, duration, created, deadline, fencingToken } = saved;
    entry.lock = new LockState(entry, owner, duration, created, deadline, fencingToken);
    this.expirations.schedule(entry.lock);
    this.count++;
  }
}
