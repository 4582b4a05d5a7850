/** The settings of a {@link KeyValueStore} (durations in ns; counts and sizes 0 = no limit unless said otherwise). */
export interface StoreOptions {
  /** Longest key, UTF-8 bytes. */
  maxKeyLength: number;
  /** Largest value, bytes. */
  maxValueSize: number;
  /** User keys the store holds at most. */
  maxKeys: number;
  /** Longest ListKeys pattern, UTF-8 bytes. */
  maxPatternLength: number;
  /** Registered client ids at most. */
  maxClients: number;
  /** Removed keys whose metrics are kept, the most recently removed; 0 = none, -1 = all. */
  maxRemovedKeyMetrics: number;
  /** Revisions kept per key: -1 unlimited, 0 none, N the current value and N-1 older ones. */
  revisionLimit: number;
  /** Keep a key's history after it is removed. */
  keepDeletedKeyHistory: boolean;
  /** Client id allowed to call SetReadOnly and the Admin operations; "" = nobody. */
  privilegedClientId: string;
  /** Start in read-only mode. */
  readonly: boolean;
  /**
   * Admin rights come from the caller's role (auth on), checked before the
   * store is called: every caller of SetReadOnly and the Admin operations is
   * then taken as privileged, and privileged_client_id is not used.
   */
  privilegedByRole?: boolean;
  minLockDuration: bigint;
  maxLockDuration: bigint;
  minLifespan: bigint;
  /** The scheduled prune runs once this many user keys are reached (0 = never)... */
  pruneAt: number;
  /** ...and removes keys down to this many. */
  pruneTo: number;
  /** A new key beyond this many user keys starts an eager prune (0 = never)... */
  eagerPruneAt: number;
  /** ...down to this many. */
  eagerPruneTo: number;
  /**
   * The store is a replica of a replicated log (cluster mode): it changes
   * only by applying the log's commands, so that every replica holds the
   * same state. Reads then change nothing a later command depends on: they
   * apply no expirations, their ACCESSED events take no revision (and reach
   * no watcher), and prunes rank keys by sets and locks, not by accesses
   * (which are each node's own).
   */
  replicated?: boolean;
}
