/** One retained version of a key's value. */
export interface Revision {
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly hash: bigint;
  readonly version: bigint;
  /** When this version was written, ns since the epoch. */
  readonly timestamp: bigint;
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
