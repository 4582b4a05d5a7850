import { fnv1a64 } from "../../store/fnv1a64.js";
import type { KeyMetrics } from "../../store/key-metrics.js";
import { sniffContentType } from "../../store/sniff-content-type.js";
import { storeStateFormat, type KeyState, type StoreState } from "../../store/store-state.js";
import type { OriginalDocument, OriginalKey } from "./original-document.js";

/** Something of the original's snapshot left out of an import, and why. */
export interface SkippedItem {
  key: string;
  what: "key" | "lock" | "lifespan";
  reason: string;
}

/** {@link storeStateOfOriginal}'s result. */
export interface ConvertedState {
  state: StoreState;
  skipped: SkippedItem[];
}

/**
 * The state the original Go keyquarry would have restored from `document`
 * at `now` (BEHAVIOR.md §11.5), exactly as ours holds it: values, versions,
 * `created`/`updated`, creators, history and clients as saved. Otherwise:
 * - a key whose lifespan ended (`lifespan_set + lifespan` <= now) is left
 *   out, as the original did; a live one keeps its remaining time (the
 *   original restarted the full lifespan), `lifespan_set` kept;
 * - a lock whose `created + duration` is past is dropped, as the original
 *   did (it never saved when a lock was renewed, so its true end is
 *   unknown); a live one keeps its owner and runs its full duration from
 *   `now`, as the original's restore did; locks get fencing tokens 1, 2, …;
 * - hashes are computed from the values (the original recomputed them too);
 *   an explicit content type is kept (the original re-sniffed it at
 *   restore), one that sniffing gives is marked sniffed, so that it follows
 *   the value as ours do;
 * - metrics come from the document if it has them, else they are made up
 *   as the original did (one set at created/updated, one lock at its start);
 * - clients are first seen at `takenAt` (the original did not save when).
 */
export function storeStateOfOriginal(document: OriginalDocument, now: bigint, takenAt: bigint): ConvertedState {
  const skipped: SkippedItem[] = [];
  const locks = new Map(document.locks.map((lock) => [lock.key, lock]));
  const reapers = new Map(document.reapers.map((reaper) => [reaper.key, reaper]));
  const metrics = new Map(Object.entries(document.metrics ?? {}));
  const keys: KeyState[] = [];
  let fencingToken = 0n;
  for (const record of document.keys) {
    const reaper = reapers.get(record.key);
    reapers.delete(record.key);
    const lock = locks.get(record.key);
    locks.delete(record.key);
    const lifespanEnd = reaper === undefined ? undefined : reaper.lifespan_set + reaper.lifespan;
    if (lifespanEnd !== undefined && lifespanEnd <= now) {
      skipped.push({ key: record.key, what: "key", reason: `its lifespan ended at ${new Date(Number(lifespanEnd / 1_000_000n)).toISOString()}` });
      continue;
    }
    const key = keyState(record, now);
    if (reaper !== undefined) {
      key.lifespan = { duration: reaper.lifespan, set: reaper.lifespan_set, deadline: reaper.lifespan_set + reaper.lifespan };
    }
    if (lock && lock.created + lock.duration <= now) {
      skipped.push({ key: record.key, what: "lock", reason: "it ended (created + duration is past)" });
    } else if (lock) {
      key.lock = { owner: lock.client_id, duration: lock.duration, created: lock.created, deadline: now + lock.duration, fencingToken: ++fencingToken };
    }
    if (!metrics.has(record.key)) {
      metrics.set(record.key, impliedMetrics(key));
    }
    keys.push(key);
  }
  for (const [what, left] of [["lock", locks], ["lifespan", reapers]] as const) {
    for (const key of left.keys()) {
      skipped.push({ key, what, reason: "the snapshot has no such key" });
    }
  }
  return {
    state: {
      format: storeStateFormat,
      takenAt,
      revision: 0n,
      commandSeq: 0n,
      fencingToken,
      readonly: false,
      keys,
      history: Object.entries(document.history ?? {}).map(([key, revisions]) => ({
        key,
        revisions: revisions.map((revision) => ({
          value: revision.value,
          contentType: revision.content_type,
          hash: fnv1a64(revision.value),
          version: revision.version,
          timestamp: revision.timestamp,
        })),
      })),
      metrics: [...metrics].map(([key, keyMetrics]) => ({ key, metrics: keyMetrics })),
      clients: [...new Set(document.clients.map(({ client_id }) => client_id))].map((clientId) => ({ clientId, firstSeen: takenAt })),
    },
    skipped,
  };
}

/** A key as saved, without its lock and lifespan. */
function keyState(record: OriginalKey, now: bigint): KeyState {
  const { value } = record;
  const sniffed = value.length === 0 ? "" : sniffContentType(value);
  const contentType = record.content_type === "" ? sniffed : record.content_type;
  return {
    key: record.key,
    value,
    contentType,
    contentTypeSniffed: contentType === sniffed,
    hash: fnv1a64(value),
    // The original's restore: a zero creation time becomes now.
    created: record.created === 0n ? now : record.created,
    updated: record.updated,
    version: record.version,
    createdBy: record.created_by,
  };
}

/** The metrics the original made up at restore for a key with none saved (BEHAVIOR.md §5.6). */
function impliedMetrics(key: KeyState): KeyMetrics {
  const locked = key.lock?.created;
  return {
    accessCount: 0,
    setCount: 1,
    firstSet: key.created,
    lastSet: key.updated === 0n ? key.created : key.updated,
    lockCount: locked === undefined ? 0 : 1,
    firstLocked: locked,
    lastLocked: locked,
  };
}
