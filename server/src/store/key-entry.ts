import { fromByteString, toByteString } from "./byte-string.js";
import type { Expiring } from "./expiry-queue.js";
import { joinHashHalves, splitHash } from "./fnv1a64.js";
import { KeyMetricsRecord, type KeyMetrics } from "./key-metrics.js";
import { LazyValueSnapshot } from "./lazy-value-snapshot.js";
import type { ValueSnapshot } from "./store-event.js";
import type { RevisionState } from "./store-state.js";

/**
 * A lock held on a key; also its entry in the expiry queue, so a renewal
 * replaces it rather than moving its deadline.
 */
export class LockState implements Expiring {
  constructor(
    /** The locked key; undefined once this lock is released or replaced (its queue entry is then stale). */
    public entry: KeyEntry | undefined,
    readonly owner: string,
    /** Duration last requested, ns. */
    readonly duration: bigint,
    /** When the lock was acquired (not moved by renewals). */
    readonly created: bigint,
    readonly deadline: bigint,
    readonly fencingToken: bigint,
  ) {}
}

/** A key's lifespan (it is removed at `deadline` unless set again); also its entry in the expiry queue. */
export class LifespanState implements Expiring {
  constructor(
    /** The key; undefined once this lifespan is removed or replaced (its queue entry is then stale). */
    public entry: KeyEntry | undefined,
    readonly duration: bigint,
    /** When the lifespan was last set or renewed. */
    readonly set: bigint,
    readonly deadline: bigint,
  ) {}
}

/** A superseded version of a key, as retained in its history. */
export class StoredRevision {
  constructor(
    /** A byte string (see byte-string.ts), shared with the entry it came from. */
    readonly value: string,
    readonly contentType: string,
    readonly hashHi: number,
    readonly hashLo: number,
    readonly version: bigint,
    /** When this version was written, ns since the epoch. */
    readonly timestamp: bigint,
  ) {}

  /** A revision as saved in a snapshot (or read by GetRevision). */
  static of(revision: RevisionState): StoredRevision {
    const { hi, lo } = splitHash(revision.hash);
    return new StoredRevision(toByteString(revision.value), revision.contentType, hi, lo, revision.version, revision.timestamp);
  }

  /** This revision as saved in a snapshot (or read by GetRevision), with bytes of its own. */
  toState(): RevisionState {
    return {
      value: fromByteString(this.value),
      contentType: this.contentType,
      hash: joinHashHalves(this.hashHi, this.hashLo),
      version: this.version,
      timestamp: this.timestamp,
    };
  }
}

// Bits of KeyEntry.flags.
const sniffedFlag = 1;
const versionedFlag = 2;
const removedFlag = 4;

/**
 * A stored key. Every field is set in the constructor, so that all entries
 * share one object shape. A removed key's entry, flagged `removed` and
 * without its value, is the record of what outlives the key: its metrics
 * and, with keep_deleted_key_history, its history.
 */
export class KeyEntry {
  /** 0n until the value first changes. */
  updated = 0n;
  lock: LockState | undefined = undefined;
  lifespan: LifespanState | undefined = undefined;
  /**
   * undefined while they are implied by the entry itself (see
   * impliedMetrics): most keys are only ever set, so they need no record;
   * null when none were recorded (restored from a snapshot without them).
   */
  metrics: KeyMetricsRecord | null | undefined = undefined;
  /** Retained versions before the current one, oldest first. */
  history: StoredRevision[] | undefined = undefined;
  /** Creation sequence number, set when the entry is stored: ListKeys cursors seek by it. */
  seq = 0;
  /** The booleans below, as bits of one small integer (one field instead of three). */
  private flags: number;

  constructor(
    readonly key: string,
    /** A byte string (see byte-string.ts); "" once removed. */
    public value: string,
    public contentType: string,
    contentTypeSniffed: boolean,
    /** FNV-1a 64 of the value, in halves (no bigint per key). */
    public hashHi: number,
    public hashLo: number,
    readonly created: bigint,
    public version: bigint,
    readonly createdBy: string,
  ) {
    this.flags = contentTypeSniffed ? sniffedFlag : 0;
  }

  /** Whether contentType was sniffed (then a new value is sniffed again). */
  get contentTypeSniffed(): boolean {
    return (this.flags & sniffedFlag) !== 0;
  }

  set contentTypeSniffed(on: boolean) {
    this.setFlag(sniffedFlag, on);
  }

  /** Whether the current version is retained too, as the newest revision. */
  get versioned(): boolean {
    return (this.flags & versionedFlag) !== 0;
  }

  set versioned(on: boolean) {
    this.setFlag(versionedFlag, on);
  }

  /** Whether the key was removed (this entry is only the record of what outlives it). */
  get removed(): boolean {
    return (this.flags & removedFlag) !== 0;
  }

  set removed(on: boolean) {
    this.setFlag(removedFlag, on);
  }

  /** When the current version was written. */
  get versionTime(): bigint {
    return this.updated !== 0n ? this.updated : this.created;
  }

  /**
   * The metrics if they are implied (`metrics` undefined): the entry was
   * created with no earlier record of its key (version 1) and then only
   * set, each set making a version, so it was set `version` times, first
   * when created and last when its current version was written.
   */
  impliedMetrics(): KeyMetricsRecord {
    return KeyMetricsRecord.of(this.impliedKeyMetrics());
  }

  /** The implied metrics (see impliedMetrics) as reported: one object of a fixed shape, cheap for a whole-store export. */
  impliedKeyMetrics(): KeyMetrics {
    return { accessCount: 0, setCount: Number(this.version), firstSet: this.created, lastSet: this.versionTime, lockCount: 0 };
  }

  /** The metrics (implied ones made, not stored); undefined when none were recorded. */
  metricsView(): KeyMetricsRecord | undefined {
    return this.metrics === undefined ? this.impliedMetrics() : (this.metrics ?? undefined);
  }

  /** The current value and version, for an event or a watcher. */
  snapshot(): ValueSnapshot {
    return new LazyValueSnapshot(this.value, this.hashHi, this.hashLo, this.version, this.contentType);
  }

  /** The current version as a revision. */
  currentRevision(): StoredRevision {
    return new StoredRevision(this.value, this.contentType, this.hashHi, this.hashLo, this.version, this.versionTime);
  }

  /** Whether the key has a history list (possibly empty: restored so). */
  get hasHistory(): boolean {
    return this.versioned || this.history !== undefined;
  }

  /** How many revisions the history list holds, the current version included if retained. */
  get retainedCount(): number {
    return (this.history?.length ?? 0) + (this.versioned ? 1 : 0);
  }

  /** Every retained revision, oldest first. */
  retainedRevisions(): StoredRevision[] {
    const history = this.history ?? [];
    return this.versioned ? [...history, this.currentRevision()] : history;
  }

  /** A retained revision: `version` > 0 by number, < 0 counting back from the newest (-1 is the one before). */
  retainedRevision(version: bigint): StoredRevision | undefined {
    const history = this.history ?? [];
    if (version > 0n) {
      return (
        history.find((revision) => revision.version === version) ??
        (this.versioned && this.version === version ? this.currentRevision() : undefined)
      );
    }
    // Never the current version: it is the newest, at -0.
    return history[this.retainedCount - 1 + Number(version)];
  }

  /** Whether a restored revision is exactly the current version. */
  isCurrentVersion(revision: StoredRevision): boolean {
    return (
      revision.version === this.version &&
      revision.value === this.value &&
      revision.contentType === this.contentType &&
      revision.hashHi === this.hashHi &&
      revision.hashLo === this.hashLo &&
      revision.timestamp === this.versionTime
    );
  }

  private setFlag(flag: number, on: boolean): void {
    this.flags = on ? this.flags | flag : this.flags & ~flag;
  }
}
