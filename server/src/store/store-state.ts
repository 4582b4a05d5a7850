import type { KeyMetrics } from "./key-metrics.js";

/** Version of {@link StoreState}'s layout; bumped on incompatible changes so old snapshots stay readable. */
export const storeStateFormat = 1;

/** One key as saved: times are ns since the epoch, durations ns. */
export interface KeyState {
  key: string;
  value: Uint8Array;
  contentType: string;
  /** Whether contentType was sniffed (a new value is sniffed again). */
  contentTypeSniffed: boolean;
  hash: bigint;
  created: bigint;
  /** 0n if the value never changed. */
  updated: bigint;
  version: bigint;
  createdBy: string;
  lock?: {
    owner: string;
    duration: bigint;
    created: bigint;
    /** Absolute: a restored lock keeps only its remaining time. */
    deadline: bigint;
    fencingToken: bigint;
  };
  lifespan?: {
    duration: bigint;
    set: bigint;
    /** Absolute: a key whose deadline passed while the server was down expires at restore. */
    deadline: bigint;
  };
}

/** One retained version of a key. */
export interface RevisionState {
  value: Uint8Array;
  contentType: string;
  hash: bigint;
  version: bigint;
  timestamp: bigint;
}

/**
 * Everything a snapshot holds: the store's whole state at one instant, taken
 * synchronously (each value in bytes of its own).
 * Reserved keys are left out; the server writes them at every start.
 */
export interface StoreState {
  format: number;
  /** When the state was taken, ns since the epoch. */
  takenAt: bigint;
  /** Revision of the latest event; restored so watch revisions keep growing. */
  revision: bigint;
  /** Position of the last command the state holds: a journal replays the ones after it. */
  commandSeq: bigint;
  /** Latest fencing token issued; restored so tokens keep growing. */
  fencingToken: bigint;
  readonly: boolean;
  keys: KeyState[];
  /** Retained history per key (empty unless persistent_revisions). */
  history: Array<{ key: string; revisions: RevisionState[] }>;
  /** Metrics of every key that ever existed. */
  metrics: Array<{ key: string; metrics: KeyMetrics }>;
  clients: Array<{ clientId: string; firstSeen: bigint }>;
}
