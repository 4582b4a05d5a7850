import { ExpiryQueue } from "./expiry-queue.js";
import { LockState, type LifespanState } from "./key-entry.js";

// Stale queue entries tolerated before the queue is compacted.
const compactThreshold = 1024;

/**
 * The one queue of every pending expiration, locks and lifespans alike, so
 * that one host timer serves every key. A lock or lifespan that is released,
 * replaced or removed leaves its queue entry in place, stale (its `entry` is
 * undefined); the owner counts it with {@link forget}, and the stale entries
 * are skipped and compacted away.
 */
export class Expirations {
  // Same deadline: by key, a lifespan (which ends the key) before a lock.
  private readonly queue = new ExpiryQueue<LockState | LifespanState>((expiry) =>
    expiry instanceof LockState ? `${expiry.entry!.key}\u0000lock` : expiry.entry!.key,
  );
  private stale = 0;
  private deadlineListener: ((deadline: bigint) => void) | undefined;

  /** Calls `listener` whenever a new expiration becomes the earliest one (to re-arm a timer). */
  onEarliestDeadline(listener: (deadline: bigint) => void): void {
    this.deadlineListener = listener;
  }

  /** The earliest pending deadline, ns since the epoch (stale entries included). */
  nextDeadline(): bigint | undefined {
    return this.queue.peekDeadline();
  }

  /** Queues a lock's or lifespan's expiration. */
  schedule(expiry: LockState | LifespanState): void {
    const earliest = this.queue.peekDeadline();
    this.queue.push(expiry);
    if (earliest === undefined || expiry.deadline < earliest) {
      this.deadlineListener?.(expiry.deadline);
    }
  }

  /** Counts one queued expiration as stale (its lock or lifespan was just released, replaced or removed). */
  forget(): void {
    this.stale++;
  }

  /** Takes the earliest current expiration due at `now` out of the queue (skipping stale ones), or undefined. */
  popDue(now: bigint): LockState | LifespanState | undefined {
    for (;;) {
      const expiry = this.queue.popDue(now);
      if (expiry === undefined || expiry.entry !== undefined) {
        return expiry;
      }
      this.stale--;
    }
  }

  /** Drops the stale entries once they are many and more than half of the queue. */
  compactIfStale(): void {
    if (this.stale > compactThreshold && this.stale > this.queue.size / 2) {
      this.queue.compact((expiry) => expiry.entry !== undefined);
      this.stale = 0;
    }
  }
}
