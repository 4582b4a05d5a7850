import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { KeyEvent, type KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { serverClientId, valueEvents, type StoreEvent, type ValueSnapshot } from "../store/store-event.js";
import type { WatchHub, Watcher } from "../watch/watch-hub.js";
import type { WatchSubscription } from "../watch/watch-subscription.js";
import { clientIdKey } from "./client-id.js";
import { nanosFromDuration } from "./duration.js";
import { timestampFromNanos } from "./timestamp.js";
import { watchSinkKey } from "./watch-sink-key.js";

/** Shortest accepted progress interval, so a client cannot make the server spin. */
export const minProgressIntervalMs = 100;


/** The streaming RPCs of the KeyQuarry service: WatchStream and WatchKeyValue. */
export function createWatchHandlers(
  store: KeyValueStore,
  hub: WatchHub,
): Pick<ServiceImpl<typeof KeyQuarry>, "watchStream" | "watchKeyValue"> {
  return {
    async *watchStream(request, context) {
      const progressMs = progressIntervalMs(request.progressInterval);
      const keys = new Set(request.keys);
      const kinds = new Set(request.events);
      const clientIds = new Set(request.clientIds);
      const subscription = hub.subscribe(
        (event) =>
          (keys.size === 0 || keys.has(event.key)) &&
          (kinds.size === 0 || kinds.has(event.event)) &&
          (clientIds.size === 0 || clientIds.has(event.clientId)),
        request.startRevision,
        watcherOf(context),
      );
      for await (const item of stream(subscription, store, progressMs, context)) {
        if ("progress" in item) {
          yield { progress: true, revision: item.revision };
        } else {
          yield {
            key: item.key,
            event: item.event,
            time: timestampFromNanos(item.time),
            clientId: item.clientId,
            revision: item.revision,
          };
        }
      }
    },

    async *watchKeyValue(request, context) {
      const clientId = context.values.get(clientIdKey);
      const { key } = request;
      const progressMs = progressIntervalMs(request.progressInterval);
      const subscription = hub.subscribe(
        (event) =>
          event.key === key &&
          valueEvents.has(event.event) &&
          // A key another client has locked shows nothing new until it is unlocked.
          !((event.event === KeyEvent.CREATED || event.event === KeyEvent.UPDATED) &&
            event.lockOwner !== undefined &&
            event.lockOwner !== clientId),
        request.startRevision,
        watcherOf(context),
      );
      // Synchronously after subscribing: no change can fall between the two.
      const current = request.startRevision === undefined ? store.watchValue(clientId, key) : undefined;
      if (current !== undefined) {
        yield { key, ...valueFields(current), keyEvent: KeyEvent.NO_EVENT, eventClientId: serverClientId, revision: store.revision };
      }
      for await (const item of stream(subscription, store, progressMs, context)) {
        if ("progress" in item) {
          yield { key, progress: true, revision: item.revision };
          continue;
        }
        yield valueMessage(item);
        store.recordWatchAccess(clientId, key);
      }
    },
  };
}

/** The caller and transport of a watch call, for the hub's limits. */
function watcherOf(context: HandlerContext): Watcher {
  return { clientId: context.values.get(clientIdKey), sink: context.values.get(watchSinkKey) };
}

/** A WatchKeyValue message for an event: removals carry the last value, as the README promises. */
function valueMessage(event: StoreEvent) {
  return {
    key: event.key,
    ...valueFields(event.value),
    keyEvent: event.event,
    eventClientId: event.clientId,
    eventTimestamp: timestampFromNanos(event.time),
    revision: event.revision,
  };
}

/** The message fields of a value snapshot (its fields may be getters, which a spread would miss). */
function valueFields(snapshot: ValueSnapshot | undefined) {
  if (snapshot === undefined) {
    return {};
  }
  const { value, hash, version, contentType } = snapshot;
  return { value, hash, version, contentType };
}

/** The requested progress interval in ms (undefined: none); INVALID_ARGUMENT when too short. */
function progressIntervalMs(interval: Duration | undefined): number | undefined {
  if (interval === undefined) {
    return undefined;
  }
  const ms = Number(nanosFromDuration(interval) / 1_000_000n);
  if (ms < minProgressIntervalMs) {
    throw new ConnectError(`progress_interval must be at least ${minProgressIntervalMs}ms`, Code.InvalidArgument);
  }
  return ms;
}

/**
 * The subscription's items until the client goes away or the server ends the
 * stream, with progress marks every `progressMs` (and one at once) when asked.
 */
async function* stream(
  subscription: WatchSubscription,
  store: KeyValueStore,
  progressMs: number | undefined,
  context: HandlerContext,
) {
  const end = () => subscription.end();
  context.signal.addEventListener("abort", end);
  let ticker: NodeJS.Timeout | undefined;
  if (progressMs !== undefined) {
    subscription.progress(store.revision);
    ticker = setInterval(() => subscription.progress(store.revision), progressMs);
  }
  try {
    yield* subscription;
  } finally {
    clearInterval(ticker);
    context.signal.removeEventListener("abort", end);
  }
  // A deadline ends the stream with its status, not as if the server had nothing more to say.
  const reason: unknown = context.signal.reason;
  if (reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) {
    throw reason;
  }
}
