import type { DescMethodServerStreaming, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { KeyEvent, KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { coversKey } from "../auth/identity.js";
import { checkPermission } from "./authorize-operations.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import type { Caller } from "./client-id.js";
import { StoreEventKind } from "../store/store-event-kind.js";
import { serverClientId, valueEvents, type StoreEvent, type ValueSnapshot } from "../store/store-event.js";
import { keyEventOf } from "./key-event-of.js";
import type { WatchHub, Watcher } from "../watch/watch-hub.js";
import type { WatchSubscription } from "../watch/watch-subscription.js";
import { nanosFromDuration } from "./duration.js";
import { timestampFromNanos } from "./timestamp.js";

/** Shortest accepted progress interval, so a client cannot make the server spin. */
export const minProgressIntervalMs = 100;

type Output<M extends DescMethodServerStreaming> = MessageInitShape<M["output"]>;

/**
 * What a watch stream sends next: an event, whose message is the same for
 * every watcher of the method ({@link WatchMethod.eventMessage}, so a
 * transport may encode it once for all), or a message of this watcher's own.
 */
export type WatchOutput<M extends DescMethodServerStreaming> = { readonly event: StoreEvent } | { readonly message: Output<M> };

/**
 * A server-streaming watch RPC, independent of the transport: how to open a
 * call, and the message of an event. The Connect handlers and the gRPC watch
 * fast path both drive it.
 */
export interface WatchMethod<M extends DescMethodServerStreaming = DescMethodServerStreaming> {
  readonly method: M;
  /**
   * Opens a call synchronously: validation, the caller's permissions and the
   * hub's limits throw here (ConnectError), before anything is sent. A caller
   * limited to key prefixes is subscribed to its keys' events only.
   */
  open(request: MessageShape<M["input"]>, caller: Caller, watcher: Watcher): WatchSession<M>;
  /** The message of an event: a function of the event alone. */
  eventMessage(event: StoreEvent): Output<M>;
}

/**
 * One open watch call: its messages in order, until the client goes away
 * ({@link end}), the server ends it or the watcher is cut off (the iterator
 * throws the ConnectError to report). A consumer asks for the next output
 * only once its transport has taken the previous one: that is how the hub
 * sees a slow watcher. Progress marks come every `progressMs` when asked.
 */
export class WatchSession<M extends DescMethodServerStreaming> implements AsyncIterable<WatchOutput<M>> {
  constructor(
    private readonly subscription: WatchSubscription,
    private readonly store: KeyValueStore,
    private readonly progressMs: number | undefined,
    /** The watcher's own first message (built when it is sent: a large value is not copied while it waits) and its size. */
    private first: { readonly message: () => Output<M>; readonly bytes: number } | undefined,
    private readonly progressMessage: (revision: bigint) => Output<M>,
    private readonly delivered: ((event: StoreEvent) => void) | undefined,
  ) {}

  /** Ends the call: cleanly (client gone, shutdown), or with `error` (a deadline) after what was taken. */
  end(error?: ConnectError): void {
    this.subscription.end(error);
  }

  /**
   * The watcher's own first message, under the send budget. A generator of
   * its own, so that nothing of it outlives its sending: its value snapshot
   * keeps the bytes it made, a copy of the value for every watcher.
   */
  private async *firstMessage(): AsyncGenerator<WatchOutput<M>> {
    const { first, subscription } = this;
    this.first = undefined;
    if (first !== undefined && (await subscription.beforeOwn(first.bytes))) {
      // The consumer resumes this generator once its transport has taken the message.
      yield { message: first.message() };
      subscription.ownSent();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchOutput<M>> {
    const { subscription, store, progressMs } = this;
    let ticker: NodeJS.Timeout | undefined;
    try {
      yield* this.firstMessage();
      if (progressMs !== undefined) {
        subscription.progress(store.revision);
        ticker = setInterval(() => subscription.progress(store.revision), progressMs);
      }
      for await (const item of subscription) {
        if ("progress" in item) {
          // The last mark at shutdown (see WatchHub.endAll) goes only to those who asked for marks.
          if (progressMs !== undefined) {
            yield { message: this.progressMessage(item.revision) };
          }
        } else {
          yield { event: item };
          this.delivered?.(item);
        }
      }
    } finally {
      clearInterval(ticker);
      // A consumer that left before iterating the subscription (during the first message) frees it too.
      subscription.ownSent();
      subscription.end();
    }
  }
}

/** The watch RPCs of the KeyQuarry service, by local name. */
export interface WatchMethods {
  watchStream: WatchMethod<typeof KeyQuarry.method.watchStream>;
  watchKeyValue: WatchMethod<typeof KeyQuarry.method.watchKeyValue>;
}

/** Creates the KeyQuarry service's watch RPCs: WatchStream and WatchKeyValue. */
export function createWatchMethods(store: KeyValueStore, hub: WatchHub): WatchMethods {
  return {
    watchStream: {
      method: KeyQuarry.method.watchStream,
      open(request, { identity }, watcher) {
        const progressMs = progressIntervalMs(request.progressInterval);
        const keys = new Set(request.keys);
        const kinds = new Set(request.events);
        const clientIds = new Set(request.clientIds);
        const subscription = hub.subscribe(
          (event) =>
            (identity === undefined || coversKey(identity, event.key)) &&
            (keys.size === 0 || keys.has(event.key)) &&
            (kinds.size === 0 || kinds.has(keyEventOf(event.event))) &&
            (clientIds.size === 0 || clientIds.has(event.clientId)),
          request.startRevision,
          watcher,
        );
        return new WatchSession(subscription, store, progressMs, undefined, (revision) => ({ progress: true, revision }), undefined);
      },
      eventMessage: (event) => ({
        key: event.key,
        event: keyEventOf(event.event),
        time: timestampFromNanos(event.time),
        clientId: event.clientId,
        revision: event.revision,
      }),
    },

    watchKeyValue: {
      method: KeyQuarry.method.watchKeyValue,
      open(request, { id: clientId, identity }, watcher) {
        const { key } = request;
        if (identity !== undefined) {
          checkPermission(identity, "WatchKeyValue", "read", key);
        }
        const progressMs = progressIntervalMs(request.progressInterval);
        const subscription = hub.subscribe(
          (event) =>
            event.key === key &&
            valueEvents.has(event.event) &&
            // A key another client has locked shows nothing new until it is unlocked.
            !((event.event === StoreEventKind.CREATED || event.event === StoreEventKind.UPDATED) &&
              event.lockOwner !== undefined &&
              event.lockOwner !== clientId),
          request.startRevision,
          watcher,
        );
        // Synchronously after subscribing: no change can fall between the two.
        const current = request.startRevision === undefined ? store.watchValue(clientId, key) : undefined;
        const first = current === undefined ? undefined : currentValueMessage(key, current, store.revision);
        return new WatchSession(
          subscription,
          store,
          progressMs,
          first,
          (revision) => ({ key, progress: true, revision }),
          () => store.recordWatchAccess(clientId, key),
        );
      },
      // Removals carry the last value, as the README promises.
      eventMessage: (event) => ({
        key: event.key,
        ...valueFields(event.value),
        keyEvent: keyEventOf(event.event),
        eventClientId: event.clientId,
        eventTimestamp: timestampFromNanos(event.time),
        revision: event.revision,
      }),
    },
  };
}

/**
 * WatchKeyValue's first message, the current value, made when it is sent. A
 * function of its own: a closure made in `open` would share its scope with
 * the stream's long-lived closures, keeping the snapshot (and the copy of the
 * value it makes) for the life of the stream.
 */
function currentValueMessage(key: string, current: ValueSnapshot, revision: bigint) {
  return {
    message: () => ({ key, ...valueFields(current), keyEvent: KeyEvent.NO_EVENT, eventClientId: serverClientId, revision }),
    bytes: current.size + key.length,
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
