import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";

/** Access, set and lock counters of one key; kept after the key is removed. */
export interface KeyMetrics {
  accessCount: number;
  firstAccessed?: bigint;
  lastAccessed?: bigint;
  setCount: number;
  firstSet?: bigint;
  lastSet?: bigint;
  lockCount: number;
  firstLocked?: bigint;
  lastLocked?: bigint;
}

/** A key's metrics before anything happened to it. */
export function emptyKeyMetrics(): KeyMetrics {
  return { accessCount: 0, setCount: 0, lockCount: 0 };
}

/**
 * Counts one event into a key's metrics: CREATED and UPDATED are sets,
 * ACCESSED an access, LOCKED a lock (new or renewed); others change nothing.
 */
export function recordKeyEvent(metrics: KeyMetrics, event: KeyEvent, time: bigint): void {
  switch (event) {
    case KeyEvent.CREATED:
    case KeyEvent.UPDATED:
      metrics.setCount++;
      metrics.firstSet ??= time;
      metrics.lastSet = max(metrics.lastSet, time);
      return;
    case KeyEvent.ACCESSED:
      metrics.accessCount++;
      metrics.firstAccessed ??= time;
      metrics.lastAccessed = max(metrics.lastAccessed, time);
      return;
    case KeyEvent.LOCKED:
      metrics.lockCount++;
      metrics.firstLocked ??= time;
      metrics.lastLocked = max(metrics.lastLocked, time);
  }
}

function max(current: bigint | undefined, time: bigint): bigint {
  return current === undefined || time > current ? time : current;
}
