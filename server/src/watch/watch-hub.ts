import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyValueStore } from "../store/key-value-store.js";
import { StoreError } from "../store/store-error.js";
import type { StoreEvent } from "../store/store-event.js";
import { EventLog } from "./event-log.js";
import { WatchSubscription } from "./watch-subscription.js";

/** Settings of a {@link WatchHub}. */
export interface WatchHubOptions {
  /** Events a watcher may fall behind by (event_stream_buffer_size). */
  bufferSize: number;
  /** Maximum concurrent watchers; 0 = unlimited (event_stream_subscriber_limit). */
  subscriberLimit: number;
  /** Events kept for resumption (event_log_size). */
  logSize: number;
  /** Value bytes the event log may hold. */
  logMaxBytes: number;
}

/**
 * Fans the store's events out to watch streams, in order, and keeps the
 * recent ones in an {@link EventLog} so that a stream can resume from a
 * revision. Subscribing is synchronous, so a replay followed by live events
 * has no gap and no duplicate.
 */
export class WatchHub {
  private readonly log: EventLog;
  private readonly subscriptions = new Set<WatchSubscription>();

  constructor(
    private readonly store: KeyValueStore,
    private readonly options: WatchHubOptions,
  ) {
    this.log = new EventLog(options.logSize, options.logMaxBytes, store.revision + 1n);
    store.subscribe((event) => {
      this.log.append(event);
      for (const subscription of this.subscriptions) {
        subscription.offer(event);
      }
    });
  }

  /** Number of open watch streams. */
  get size(): number {
    return this.subscriptions.size;
  }

  /**
   * Opens a watch for the events `matches` accepts: with `startRevision`, the
   * held events after it first (OUT_OF_RANGE when some are gone), then live
   * ones. RESOURCE_EXHAUSTED past the subscriber limit.
   */
  subscribe(matches: (event: StoreEvent) => boolean, startRevision?: bigint): WatchSubscription {
    const limit = this.options.subscriberLimit;
    if (limit > 0 && this.subscriptions.size >= limit) {
      throw new StoreError("SUB_LIMIT", String(limit));
    }
    const latest = this.store.revision;
    let replay: StoreEvent[] = [];
    if (startRevision !== undefined) {
      if (startRevision > latest) {
        throw new ConnectError(
          `revision ${startRevision} is ahead of the server's latest revision ${latest} (was the server restarted without its snapshot?)`,
          Code.OutOfRange,
        );
      }
      const held = this.log.since(startRevision);
      if (held === undefined) {
        throw new ConnectError(
          `revision ${startRevision} is no longer in the event log; the oldest revision available is ${this.log.oldestRevision()}: read the current state and watch from its revision`,
          Code.OutOfRange,
        );
      }
      replay = held;
    }
    const subscription = new WatchSubscription(
      matches,
      this.options.bufferSize,
      startRevision ?? latest,
      replay,
      (ended) => this.subscriptions.delete(ended),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Ends every watch stream cleanly (server shutdown); new ones can still be opened. */
  endAll(): void {
    for (const subscription of [...this.subscriptions]) {
      subscription.end();
    }
  }
}
