import type { KeyMetrics } from "./key-metrics.js";

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
  /** Events emitted since start, indexed by StoreEventKind number. */
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
