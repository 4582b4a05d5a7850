import { StoreEventKind } from "./store-event-kind.js";

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

/**
 * A key's metrics as the store keeps them: every field set in the
 * constructor (one object shape for all keys), absent times undefined.
 */
export class KeyMetricsRecord {
  accessCount = 0;
  firstAccessed: bigint | undefined = undefined;
  lastAccessed: bigint | undefined = undefined;
  setCount = 0;
  firstSet: bigint | undefined = undefined;
  lastSet: bigint | undefined = undefined;
  lockCount = 0;
  firstLocked: bigint | undefined = undefined;
  lastLocked: bigint | undefined = undefined;

  /** A record holding `metrics`. */
  static of(metrics: Readonly<KeyMetrics>): KeyMetricsRecord {
    const record = new KeyMetricsRecord();
    record.accessCount = metrics.accessCount;
    record.firstAccessed = metrics.firstAccessed;
    record.lastAccessed = metrics.lastAccessed;
    record.setCount = metrics.setCount;
    record.firstSet = metrics.firstSet;
    record.lastSet = metrics.lastSet;
    record.lockCount = metrics.lockCount;
    record.firstLocked = metrics.firstLocked;
    record.lastLocked = metrics.lastLocked;
    return record;
  }

  /**
   * Counts one event: CREATED and UPDATED are sets, ACCESSED an access,
   * LOCKED a lock (new or renewed); others change nothing.
   */
  record(event: StoreEventKind, time: bigint): void {
    switch (event) {
      case StoreEventKind.CREATED:
      case StoreEventKind.UPDATED:
        this.setCount++;
        this.firstSet ??= time;
        this.lastSet = max(this.lastSet, time);
        return;
      case StoreEventKind.ACCESSED:
        this.accessCount++;
        this.firstAccessed ??= time;
        this.lastAccessed = max(this.lastAccessed, time);
        return;
      case StoreEventKind.LOCKED:
        this.lockCount++;
        this.firstLocked ??= time;
        this.lastLocked = max(this.lastLocked, time);
    }
  }

  /** The metrics as reported: a plain object in which absent times are left out. */
  toKeyMetrics(): KeyMetrics {
    const metrics: KeyMetrics = { accessCount: this.accessCount, setCount: this.setCount, lockCount: this.lockCount };
    setIfDefined(metrics, "firstAccessed", this.firstAccessed);
    setIfDefined(metrics, "lastAccessed", this.lastAccessed);
    setIfDefined(metrics, "firstSet", this.firstSet);
    setIfDefined(metrics, "lastSet", this.lastSet);
    setIfDefined(metrics, "firstLocked", this.firstLocked);
    setIfDefined(metrics, "lastLocked", this.lastLocked);
    return metrics;
  }
}

function setIfDefined(metrics: KeyMetrics, field: Exclude<keyof KeyMetrics, `${string}Count`>, time: bigint | undefined): void {
  if (time !== undefined) {
    metrics[field] = time;
  }
}

function max(current: bigint | undefined, time: bigint): bigint {
  return current === undefined || time > current ? time : current;
}
