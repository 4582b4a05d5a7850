import { create } from "@bufbuild/protobuf";
import {
  EventMetricsSchema,
  HistoryMetricsSchema,
  KeyMetricSchema,
  KeyPressureSchema,
  type KeyMetric,
  type KeyQuarry,
} from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyMetrics } from "../store/key-metrics.js";
import { StoreEventKind } from "../store/store-event-kind.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { clearCommand, deleteCommand, lockCommand, type StoreCommandOf } from "../store/store-command.js";
import { whenDone, type CommandExecutor } from "./command-executor.js";
import { version } from "../version.js";
import type { WatchHub } from "../watch/watch-hub.js";
import { durationFromNanos, nanosFromDuration } from "./duration.js";
import { listKeysOperation, type ListKeysOptions } from "./list-keys.js";
import { timestampFromNanos } from "./timestamp.js";
import type { UnaryOperations } from "./unary-operations.js";

/** A cluster node's progress through the cluster's log (for Stats). */
export interface Replication {
  applied: bigint;
  lag: number;
}


/**
 * The unary RPCs of the KeyQuarry service: maps each request to the store
 * engine (reads) or to a command for `writes` (changes), and the result to
 * the response message.
 */
export function keyQuarryOperations(
  store: KeyValueStore,
  writes: CommandExecutor,
  hub: WatchHub,
  snapshotsCreated: () => bigint,
  options: ListKeysOptions,
  replication?: () => Replication,
): UnaryOperations<typeof KeyQuarry> {
  return {
    set(request, { id: clientId }, call) {
      const command: StoreCommandOf<"set"> = {
        op: "set",
        clientId,
        request: {
          key: request.key,
          value: request.value,
          contentType: request.contentType,
          lockDuration: request.lockDuration && nanosFromDuration(request.lockDuration),
          lifespan: request.lifespan && nanosFromDuration(request.lifespan),
          ifVersion: request.ifVersion,
        },
      };
      return whenDone(writes.execute(command, call), ({ isNew, fencingToken }) => ({ success: true, isNew, fencingToken }));
    },
    get(request, { id: clientId }) {
      return { value: store.get(clientId, request.key) };
    },
    inspect(request, { id: clientId }) {
      const info = store.inspect(clientId, request.key, {
        value: request.includeValue,
        metrics: request.includeMetrics,
      });
      return {
        key: info.key,
        hash: info.hash,
        created: timestampFromNanos(info.created),
        updated: info.updated === undefined ? undefined : timestampFromNanos(info.updated),
        version: info.version,
        size: info.size,
        locked: info.locked,
        lifespan: info.lifespan && durationFromNanos(info.lifespan.duration),
        lifespanSet: info.lifespan && timestampFromNanos(info.lifespan.set),
        contentType: info.contentType,
        value: info.value,
        metrics: info.metrics && keyMetricMessage(info.metrics),
        fencingToken: info.fencingToken,
        expires: info.expires === undefined ? undefined : timestampFromNanos(info.expires),
        lockExpires: info.lock && timestampFromNanos(info.lock.deadline),
        lockedByYou: info.lock?.heldByCaller,
      };
    },
    delete(request, { id: clientId }, call) {
      return whenDone(writes.execute(deleteCommand(clientId, request.key, request.ifVersion), call), () => ({ deleted: true }));
    },
    exists(request) {
      return { exists: store.exists(request.key) };
    },
    pop(request, { id: clientId }, call) {
      return whenDone(writes.execute({ op: "pop", clientId, key: request.key }, call), (value) => ({ value }));
    },
    clear(request, { id: clientId, identity }, call) {
      // An identity limited to key prefixes clears only its own keys.
      const command = clearCommand(clientId, request.force, identity?.keyPrefixes);
      return whenDone(writes.execute(command, call), (keysDeleted) => ({ success: true, keysDeleted }));
    },
    listKeys: listKeysOperation(store, options),
    stats() {
      const stats = store.stats();
      const position = replication?.();
      const count = (event: StoreEventKind) => stats.events[event] ?? 0n;
      const used = stats.maxKeys === 0n ? 0 : Math.round((Number(stats.userKeys) / Number(stats.maxKeys)) * 100) / 100;
      return {
        keys: stats.keys,
        totalSize: stats.totalSize,
        currentLocks: stats.currentLocks,
        clientIds: stats.clientIds,
        reapers: stats.lifespans,
        eventSubscribers: BigInt(hub.size),
        snapshotsCreated: snapshotsCreated(),
        eagerPruneTriggered: stats.eagerPruneTriggered,
        pruneCompleted: stats.pruneCompleted,
        events: create(EventMetricsSchema, {
          new: count(StoreEventKind.CREATED),
          updated: count(StoreEventKind.UPDATED),
          deleted: count(StoreEventKind.DELETED),
          locked: count(StoreEventKind.LOCKED),
          unlocked: count(StoreEventKind.UNLOCKED),
          expired: count(StoreEventKind.EXPIRED),
          expunged: count(StoreEventKind.EXPUNGED),
          accessed: count(StoreEventKind.ACCESSED),
          lifespanSet: count(StoreEventKind.LIFESPAN_SET),
          lifespanRenewed: count(StoreEventKind.LIFESPAN_RENEWED),
        }),
        pressure: create(KeyPressureSchema, { keys: stats.userKeys, max: stats.maxKeys, used }),
        history: create(HistoryMetricsSchema, { keys: stats.historyKeys, revisions: stats.historyRevisions }),
        revision: store.revision,
        serverVersion: version,
        readonly: store.readonly,
        ...(position === undefined ? {} : { clusterApplied: position.applied, clusterLag: BigInt(position.lag) }),
      };
    },
    clearHistory(_request, { id: clientId }, call) {
      return writes.execute({ op: "clearHistory", clientId }, call);
    },
    lock(request, { id: clientId }, call) {
      const duration = request.duration && nanosFromDuration(request.duration);
      const command = lockCommand(clientId, request.key, duration, request.createIfMissing);
      return whenDone(writes.execute(command, call), (fencingToken) => ({ success: true, fencingToken }));
    },
    unlock(request, { id: clientId }, call) {
      return whenDone(writes.execute({ op: "unlock", clientId, key: request.key }, call), () => ({ success: true }));
    },
    getRevision(request, { id: clientId }) {
      const revision = store.getRevision(clientId, request.key, request.version);
      return { value: revision.value, timestamp: timestampFromNanos(revision.timestamp) };
    },
    register(_request, { id: clientId }, call) {
      return whenDone(writes.execute({ op: "register", clientId }, call), () => ({ success: true, clientId }));
    },
    setReadOnly(request, { id: clientId }, call) {
      return whenDone(writes.execute({ op: "setReadOnly", clientId, enable: request.enable }, call), () => ({ success: true }));
    },
    getKeyMetric(request) {
      return keyMetricMessage(store.keyMetrics(request.key));
    },
  };
}

/** The KeyMetric message of a key's metrics (timestamps absent when never set). */
function keyMetricMessage(metrics: Readonly<KeyMetrics>): KeyMetric {
  const time = (ns: bigint | undefined) => (ns === undefined ? undefined : timestampFromNanos(ns));
  return create(KeyMetricSchema, {
    accessCount: BigInt(metrics.accessCount),
    firstAccessed: time(metrics.firstAccessed),
    lastAccessed: time(metrics.lastAccessed),
    setCount: BigInt(metrics.setCount),
    firstSet: time(metrics.firstSet),
    lastSet: time(metrics.lastSet),
    lockCount: BigInt(metrics.lockCount),
    firstLocked: time(metrics.firstLocked),
    lastLocked: time(metrics.lastLocked),
  });
}
