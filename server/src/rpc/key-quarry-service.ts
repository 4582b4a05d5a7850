import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  EventMetricsSchema,
  HistoryMetricsSchema,
  KeyEvent,
  KeyPressureSchema,
  type KeyQuarry,
} from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { clientIdKey } from "./client-id.js";
import { timestampFromNanos } from "./timestamp.js";

/**
 * The KeyQuarry service: maps each request to the store engine and its
 * result to the response message. RPCs not listed here answer UNIMPLEMENTED.
 */
export function createKeyQuarryService(store: KeyValueStore): Partial<ServiceImpl<typeof KeyQuarry>> {
  const caller = (context: HandlerContext) => context.values.get(clientIdKey);
  return {
    set(request, context) {
      const { isNew } = store.set(caller(context), request);
      return { success: true, isNew };
    },
    get(request, context) {
      return { value: store.get(caller(context), request.key) };
    },
    inspect(request, context) {
      const info = store.inspect(caller(context), request.key, request.includeValue);
      return {
        key: info.key,
        hash: info.hash,
        created: timestampFromNanos(info.created),
        updated: info.updated === undefined ? undefined : timestampFromNanos(info.updated),
        version: info.version,
        size: info.size,
        locked: info.locked,
        contentType: info.contentType,
        value: info.value,
      };
    },
    delete(request, context) {
      store.delete(caller(context), request.key);
      return { deleted: true };
    },
    exists(request) {
      return { exists: store.exists(request.key) };
    },
    pop(request, context) {
      return { value: store.pop(caller(context), request.key) };
    },
    clear(_request, context) {
      return { success: true, keysDeleted: store.clear(caller(context)) };
    },
    listKeys(request) {
      return { keys: store.listKeys(request) };
    },
    stats() {
      const stats = store.stats();
      const count = (event: KeyEvent) => stats.events[event] ?? 0n;
      const used = stats.maxKeys === 0n ? 0 : Math.round((Number(stats.userKeys) / Number(stats.maxKeys)) * 100) / 100;
      return {
        keys: stats.keys,
        totalSize: stats.totalSize,
        currentLocks: 0n,
        clientIds: stats.clientIds,
        reapers: 0n,
        eventSubscribers: 0n,
        snapshotsCreated: 0n,
        eagerPruneTriggered: 0n,
        pruneCompleted: 0n,
        events: create(EventMetricsSchema, {
          new: count(KeyEvent.CREATED),
          updated: count(KeyEvent.UPDATED),
          deleted: count(KeyEvent.DELETED),
          locked: count(KeyEvent.LOCKED),
          unlocked: count(KeyEvent.UNLOCKED),
          expired: count(KeyEvent.EXPIRED),
          expunged: count(KeyEvent.EXPUNGED),
          accessed: count(KeyEvent.ACCESSED),
          lifespanSet: count(KeyEvent.LIFESPAN_SET),
          lifespanRenewed: count(KeyEvent.LIFESPAN_RENEWED),
        }),
        pressure: create(KeyPressureSchema, { keys: stats.userKeys, max: stats.maxKeys, used }),
        history: create(HistoryMetricsSchema, { keys: stats.historyKeys, revisions: stats.historyRevisions }),
      };
    },
    register(_request, context) {
      const clientId = caller(context);
      store.register(clientId);
      return { success: true, clientId };
    },
    setReadOnly(request, context) {
      store.setReadOnly(caller(context), request.enable);
      return { success: true };
    },
  };
}
