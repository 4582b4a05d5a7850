import { fromByteString } from "./byte-string.js";
import { joinHashHalves } from "./fnv1a64.js";
import type { KeyEntry } from "./key-entry.js";
import type { KeyMetrics } from "./key-metrics.js";

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
  /** When the current lock ends unless renewed, and whether the asking client holds it (never who else does). */
  lock?: { deadline: bigint; heldByCaller: boolean };
  /** Configured lifespan and when it was last set, if the key has one. */
  lifespan?: { duration: bigint; set: bigint };
  /** When the lifespan runs out, if the key has one. */
  expires?: bigint;
  contentType: string;
  value?: Uint8Array;
  metrics?: Readonly<KeyMetrics>;
}

/**
 * Describes an existing key to `clientId`, with a copy of its value when
 * `withValue`, and `metrics` when given.
 */
export function keyInfoOf(
  entry: KeyEntry,
  clientId: string,
  withValue: boolean,
  metrics: Readonly<KeyMetrics> | undefined,
): KeyInfo {
  const { lock, lifespan } = entry;
  const info: KeyInfo = {
    key: entry.key,
    hash: joinHashHalves(entry.hashHi, entry.hashLo),
    created: entry.created,
    version: entry.version,
    size: BigInt(entry.value.length),
    locked: lock !== undefined,
    contentType: entry.contentType,
  };
  if (entry.updated !== 0n) {
    info.updated = entry.updated;
  }
  if (lock) {
    info.fencingToken = lock.fencingToken;
    info.lock = { deadline: lock.deadline, heldByCaller: lock.owner === clientId };
  }
  if (lifespan) {
    info.lifespan = { duration: lifespan.duration, set: lifespan.set };
    info.expires = lifespan.deadline;
  }
  if (withValue) {
    info.value = fromByteString(entry.value);
  }
  if (metrics) {
    info.metrics = metrics;
  }
  return info;
}
