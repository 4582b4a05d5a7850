import { Code, ConnectError } from "@connectrpc/connect";
import { formatDuration } from "../duration/parse-duration.js";
import type { Clock } from "../store/clock.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { StoreError } from "../store/store-error.js";
import type { StoreEvent } from "../store/store-event.js";
import { EventLog } from "./event-log.js";
import { SendBudget } from "./send-budget.js";
import type { WatchSink } from "./watch-sink.js";
import { WatchSubscription } from "./watch-subscription.js";

/** How long a message may be in flight before its watcher counts as slow when others wait for room. */
const slowSendNs = 100_000_000n;

/** Settings of a {@link WatchHub}. */
export interface WatchHubOptions {
  /** Events a watcher may fall behind by (event_stream_buffer_size). */
  bufferSize: number;
  /** Bytes a watcher may have queued, transport included; 0 = no limit (event_stream_max_bytes). */
  maxBytes: number;
  /** Bytes all watchers together may have in flight in their transports; 0 = no limit (event_stream_total_max_bytes). */
  totalMaxBytes: number;
  /** How long a watcher may take to take a message, in ns; 0 = forever (event_stream_send_timeout). */
  sendTimeout: bigint;
  /** Maximum concurrent watchers; 0 = unlimited (event_stream_subscriber_limit). */
  subscriberLimit: number;
  /** Maximum concurrent watchers of one client id; 0 = unlimited (event_stream_client_limit). */
  clientLimit: number;
  /** Events kept for resumption (event_log_size). */
  logSize: number;
  /** Value bytes the event log may hold. */
  logMaxBytes: number;
  /**
   * A cluster node: a start revision ahead of this node's latest is one
   * another node has applied and this one not yet; the watch waits for it
   * (skipping the events up to it) instead of being refused.
   */
  awaitRevisionsAhead?: boolean;
}

/** Who opens a watch, and over what. */
export interface Watcher {
  /** The caller's client id, for the per-client limit. */
  clientId?: string;
  /** The transport the stream writes to, so that its buffers count and a stuck stream can be reset. */
  sink?: WatchSink | undefined;
}

/**
 * Fans the store's events out to watch streams, in order, and keeps the
 * recent ones in an {@link EventLog} so that a stream can resume from a
 * revision. Subscribing is synchronous, so a replay followed by live events
 * has no gap and no duplicate. Bounds what watchers may cost: their number
 * (in all and per client), the bytes queued for each, the bytes of messages
 * all have in flight together ({@link SendBudget}), and how long a watcher
 * may take to take a message ({@link sweep}).
 */
export class WatchHub {
  private readonly log: EventLog;
  private readonly subscriptions = new Set<WatchSubscription>();
  private readonly perClient = new Map<string, number>();
  /** Watchers cut off while their transport still held a message, with when they were cut (clock ns). */
  private readonly draining = new Map<WatchSubscription, bigint>();
  private readonly budget: SendBudget;
  /** Watchers cut off since start (fell behind, too slow, or among the slowest when the send budget ran out). */
  watchersCut = 0;

  constructor(
    private readonly store: KeyValueStore,
    private readonly options: WatchHubOptions,
    private readonly clock: Clock,
  ) {
    this.log = new EventLog(options.logSize, options.logMaxBytes, store.revision + 1n);
    this.budget = new SendBudget(options.totalMaxBytes);
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

  /** Events the log holds for resuming watchers. */
  get eventLogLength(): number {
    return this.log.length;
  }

  /** Bytes queued for all watchers together, their transports' buffers included (cut-off ones until reset). */
  get queuedBytes(): number {
    let total = 0;
    for (const subscription of [...this.subscriptions, ...this.draining.keys()]) {
      total += subscription.queuedBytes;
    }
    return total;
  }

  /** Bytes of the messages all watchers have in flight (handed to their transports, not taken yet). */
  get sendingBytes(): number {
    return this.budget.inUse;
  }

  /** Messages waiting for room in the send budget. */
  get waitingMessages(): number {
    return this.budget.waiting;
  }

  /**
   * Opens a watch for the events `matches` accepts: with `startRevision`, the
   * held events after it first (OUT_OF_RANGE when some are gone), then live
   * ones. RESOURCE_EXHAUSTED past the subscriber limit or the client's limit.
   */
  subscribe(matches: (event: StoreEvent) => boolean, startRevision?: bigint, watcher: Watcher = {}): WatchSubscription {
    const { subscriberLimit, clientLimit } = this.options;
    if (subscriberLimit > 0 && this.subscriptions.size >= subscriberLimit) {
      throw new StoreError("SUB_LIMIT", String(subscriberLimit));
    }
    const { clientId } = watcher;
    const ofClient = clientId === undefined ? 0 : (this.perClient.get(clientId) ?? 0);
    if (clientLimit > 0 && ofClient >= clientLimit) {
      throw new StoreError(
        "CLIENT_SUB_LIMIT",
        `client ${JSON.stringify(clientId)} already has ${ofClient} watch streams open (event_stream_client_limit is ${clientLimit})`,
      );
    }
    const latest = this.store.revision;
    let replay: StoreEvent[] = [];
    if (startRevision !== undefined && startRevision > latest && this.options.awaitRevisionsAhead === true) {
      // Nothing to replay: the live events up to startRevision are skipped.
    } else if (startRevision !== undefined) {
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
    const subscription = new WatchSubscription({
      matches,
      bufferSize: this.options.bufferSize,
      maxBytes: this.options.maxBytes,
      startRevision: startRevision ?? latest,
      replay,
      sink: watcher.sink,
      budget: this.budget,
      clock: this.clock,
      onEnd: (ended) => {
        this.subscriptions.delete(ended);
        if (ended.isCut) {
          this.watchersCut++;
        }
        if (ended.isCut && ended.sendingSince !== undefined && ended.sink !== undefined) {
          this.draining.set(ended, this.clock.now());
        }
        if (clientId !== undefined) {
          const left = this.perClient.get(clientId)! - 1;
          if (left === 0) this.perClient.delete(clientId);
          else this.perClient.set(clientId, left);
        }
      },
    });
    this.subscriptions.add(subscription);
    if (clientId !== undefined) {
      this.perClient.set(clientId, ofClient + 1);
    }
    return subscription;
  }

  /**
   * Enforces the limits that depend on time and on the transports: resets
   * the cut-off watchers whose transport has still not taken its message a
   * send timeout after the cut (the error could only follow that message);
   * cuts off the watchers that have not taken a message within the send
   * timeout; and while messages wait for room in the send budget, resets the
   * cut-off watchers and then cuts off and resets the slowest ones (a message
   * in flight for 100 ms or more). Run periodically.
   */
  sweep(): void {
    const now = this.clock.now();
    const { sendTimeout, totalMaxBytes } = this.options;
    for (const [subscription, cutAt] of this.draining) {
      if (subscription.sendingSince === undefined) {
        this.draining.delete(subscription);
      } else if (sendTimeout > 0n && now - cutAt >= sendTimeout) {
        this.reset(subscription);
      }
    }
    if (sendTimeout > 0n) {
      for (const subscription of this.subscriptions) {
        const since = subscription.sendingSince;
        if (since !== undefined && now - since >= sendTimeout) {
          subscription.cut(`watcher took no message for ${formatDuration(sendTimeout)}`);
        }
      }
    }
    if (this.budget.waiting > 0) {
      this.relieve(now, totalMaxBytes);
    }
  }

  /** Ends every watch stream cleanly, with a last progress mark (server shutdown); new ones can still be opened. */
  endAll(): void {
    const revision = this.store.revision;
    for (const subscription of [...this.subscriptions]) {
      subscription.finish(revision);
    }
  }

  /** Frees room in the send budget for the messages waiting: the cut-off watchers' first, then the slowest ones'. */
  private relieve(now: bigint, budget: number): void {
    for (const subscription of this.draining.keys()) {
      this.reset(subscription);
      if (this.budget.waiting === 0) return;
    }
    const slowest = [...this.subscriptions]
      .filter((subscription) => subscription.sendingSince !== undefined && now - subscription.sendingSince >= slowSendNs)
      .sort((a, b) => (a.sendingSince! < b.sendingSince! ? -1 : a.sendingSince! > b.sendingSince! ? 1 : 0));
    for (const subscription of slowest) {
      if (this.budget.waiting === 0) return;
      subscription.cut(`watch streams together have more than ${budget} bytes in flight, and this one is among the slowest to take them`);
      this.reset(subscription);
    }
  }

  /** Resets a cut-off watcher's stream, dropping what its transport holds. */
  private reset(subscription: WatchSubscription): void {
    this.draining.delete(subscription);
    subscription.reset();
  }
}
