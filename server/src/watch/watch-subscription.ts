import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "../store/clock.js";
import type { StoreEvent } from "../store/store-event.js";
import type { SendBudget } from "./send-budget.js";
import type { WatchSink } from "./watch-sink.js";

/** A progress message: everything up to `revision` has been delivered. */
export interface ProgressMark {
  readonly progress: true;
  readonly revision: bigint;
}

/** What a watch stream carries: events, and progress marks on request. */
export type WatchItem = StoreEvent | ProgressMark;

/** Bytes an item is counted for besides its value and key: its other fields and framing (an estimate). */
const itemOverheadBytes = 64;

/** The bytes a queued event is counted for: its value, its key and a fixed overhead. */
export function eventBytes(event: StoreEvent): number {
  return (event.value?.size ?? 0) + event.key.length + itemOverheadBytes;
}

/** Settings and callbacks of a {@link WatchSubscription}. */
export interface WatchSubscriptionOptions {
  /** Which events the watcher wants. */
  matches: (event: StoreEvent) => boolean;
  /** Events the watcher may fall behind by (event_stream_buffer_size). */
  bufferSize: number;
  /** Bytes the watcher may have queued, here and in its sink; 0 = no limit (event_stream_max_bytes). */
  maxBytes: number;
  /** The revision the watcher has everything up to. */
  startRevision: bigint;
  /** Held events after `startRevision`, delivered first. */
  replay: readonly StoreEvent[];
  /** The transport the stream writes to, when there is one to watch. */
  sink?: WatchSink | undefined;
  /** Room for the messages all watchers have in flight; a message waits for its share. */
  budget?: SendBudget | undefined;
  /** Times how long a message waits for the transport to take it. */
  clock: Clock;
  /** Called once, when the stream ends. */
  onEnd: (subscription: WatchSubscription) => void;
}

/**
 * One watcher's stream of events: a bounded queue filled synchronously as
 * events happen and drained as the watcher's connection takes them. A
 * watcher that falls more than `bufferSize` events or `maxBytes` bytes
 * behind (counting what its transport still holds) is cut off with
 * RESOURCE_EXHAUSTED naming the last revision it took, so it can resume;
 * events are never dropped silently, and a slow watcher never slows writers.
 */
export class WatchSubscription implements AsyncIterable<WatchItem> {
  private queue: WatchItem[];
  private head = 0;
  /** Replayed events still queued; they do not count against the buffer. */
  private backlog: number;
  private wake: (() => void) | undefined;
  private ended = false;
  private error: ConnectError | undefined;
  /** Why the watcher was cut off (the error is made when it is thrown, to name the latest revision taken). */
  private cutReason: string | undefined;
  /** Queued progress marks (at most one); they do not count against the buffer. */
  private progressQueued = 0;
  /** Bytes of the live events queued (replayed ones are held by the event log anyway). */
  private liveBytes = 0;
  /** Revision of the last event the watcher has taken (and finished with). */
  private taken: bigint;
  /** When the transport was handed the message it has not taken yet; undefined when it has taken them all. */
  private sendingSinceNs: bigint | undefined;
  /** Bytes taken from the send budget for the message in flight. */
  private holding = 0;
  /** The request for room in the send budget the next message waits on. */
  private budgetWait: { handle: object; resolve: (granted: boolean) => void } | undefined;

  constructor(private readonly options: WatchSubscriptionOptions) {
    this.taken = options.startRevision;
    this.queue = options.replay.filter(options.matches);
    this.backlog = this.queue.length;
  }

  /** Bytes queued for the watcher: its live events here plus what its transport still holds. */
  get queuedBytes(): number {
    return this.liveBytes + (this.options.sink?.queuedBytes ?? 0);
  }

  /** Since when (clock ns) the transport has not taken the last message; undefined when it is not behind. */
  get sendingSince(): bigint | undefined {
    return this.sendingSinceNs;
  }

  /** Queues `event` if it matches; cuts the watcher off when its queue is full. */
  offer(event: StoreEvent): void {
    // Up to startRevision it has them (a cluster node may open a watch from a revision it has yet to apply).
    if (this.ended || event.revision <= this.options.startRevision || !this.options.matches(event)) {
      return;
    }
    const { bufferSize, maxBytes } = this.options;
    if (this.queue.length - this.head - this.backlog - this.progressQueued >= bufferSize) {
      this.cut(`watcher fell behind by more than ${bufferSize} events`);
      return;
    }
    const size = eventBytes(event);
    const queued = this.queuedBytes;
    // A watcher with nothing queued always takes the next event, however large.
    if (maxBytes > 0 && queued > 0 && queued + size > maxBytes) {
      this.cut(`watcher fell behind by more than ${maxBytes} bytes`);
      return;
    }
    this.queue.push(event);
    this.liveBytes += size;
    this.wakeUp();
  }

  /**
   * Queues a progress mark for `revision` (the latest) unless events are
   * still waiting: a watcher that is behind learns the revision from them.
   */
  progress(revision: bigint): void {
    if (!this.ended && this.head === this.queue.length && revision >= this.options.startRevision) {
      this.progressQueued++;
      this.queue.push({ progress: true, revision });
      this.wakeUp();
    }
  }

  /**
   * Ends the stream cleanly (server shutdown) after a last progress mark for
   * `revision`, the latest, queued behind the events still waiting: a watcher
   * that resumes from it, at a server restored from a snapshot, misses
   * nothing, even when its last event is older (events it filtered out).
   */
  finish(revision: bigint): void {
    if (!this.ended) {
      this.progressQueued++;
      this.queue.push({ progress: true, revision });
    }
    this.end();
  }

  /** The transport the stream writes to, when there is one to watch. */
  get sink(): WatchSink | undefined {
    return this.options.sink;
  }

  /** Whether the watcher was cut off (see {@link cut}). */
  get isCut(): boolean {
    return this.cutReason !== undefined;
  }

  /**
   * Cuts the watcher off: its queue is dropped, and once its transport
   * takes the message it holds, the stream ends with RESOURCE_EXHAUSTED
   * ("`reason`; resume from revision N").
   */
  cut(reason: string): void {
    if (this.ended) {
      return;
    }
    this.cutReason = reason;
    this.end();
  }

  /** Ends the stream: cleanly, or with `error` after the events already taken. */
  end(error?: ConnectError): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.error = error;
    if (error !== undefined || this.cutReason !== undefined) {
      // Nothing more will be delivered: free the backlog now.
      this.queue = [];
      this.head = 0;
      this.backlog = 0;
      this.progressQueued = 0;
      this.liveBytes = 0;
      if (this.budgetWait !== undefined) {
        this.options.budget?.cancel(this.budgetWait.handle);
        this.budgetWait.resolve(false);
        this.budgetWait = undefined;
      }
    }
    this.options.onEnd(this);
    this.wakeUp();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchItem> {
    try {
      for (;;) {
        if (this.head < this.queue.length) {
          const event = this.queue[this.head]!;
          if (this.backlog > 0) {
            this.backlog--;
          } else if ("progress" in event) {
            this.progressQueued--;
          } else {
            this.liveBytes -= eventBytes(event);
          }
          this.queue[this.head++] = undefined as unknown as WatchItem;
          if (this.head > 1024 && this.head * 2 > this.queue.length) {
            this.queue = this.queue.slice(this.head);
            this.head = 0;
          }
          const room = this.roomFor("progress" in event ? itemOverheadBytes : eventBytes(event));
          if (room !== true && !(await room)) {
            continue; // cut off while waiting: the queue is gone, the error follows
          }
          // The consumer resumes this generator once its transport has taken the message.
          this.sendingSinceNs = this.options.clock.now();
          yield event;
          this.sendingSinceNs = undefined;
          this.releaseHeld();
          this.taken = event.revision;
          continue;
        }
        if (this.ended) {
          if (this.cutReason !== undefined) {
            // Made now: `taken` covers the message the transport was still writing.
            throw new ConnectError(`${this.cutReason}; resume from revision ${this.taken}`, Code.ResourceExhausted);
          }
          if (this.error !== undefined) {
            throw this.error;
          }
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.sendingSinceNs = undefined;
      this.releaseHeld();
      // The consumer went away (or finished): stop queueing for it.
      this.end();
    }
  }

  /**
   * Waits until a message of the watcher's own (WatchKeyValue's current
   * value), sent before the events, may go: it takes room in the send budget
   * and counts as in flight for the send timeout, as an event does, until
   * {@link ownSent}. False when the watcher ended first (send nothing).
   * Unbudgeted, a thousand watchers that never read would each hold their
   * own copy of a large value.
   */
  async beforeOwn(bytes: number): Promise<boolean> {
    const room = this.roomFor(bytes + itemOverheadBytes);
    if ((room !== true && !(await room)) || this.ended) {
      this.releaseHeld();
      return false;
    }
    this.sendingSinceNs = this.options.clock.now();
    return true;
  }

  /** The transport took the message of {@link beforeOwn} (or never will): its room goes back. */
  ownSent(): void {
    this.sendingSinceNs = undefined;
    this.releaseHeld();
  }

  /**
   * Resets the stream's transport, dropping what it holds, and gives its
   * message's room in the send budget back at once.
   */
  reset(): void {
    this.options.sink?.reset();
    this.releaseHeld();
  }

  /** Room in the send budget for a message of `bytes`: true at once, else whether it came before the watcher was cut off. */
  private roomFor(bytes: number): true | Promise<boolean> {
    const budget = this.options.budget;
    if (budget === undefined) {
      return true;
    }
    let handle: object | undefined;
    const granted = new Promise<boolean>((resolve) => {
      handle = budget.take(bytes, () => resolve(true));
      if (handle !== undefined) {
        this.budgetWait = { handle, resolve };
      }
    });
    if (handle === undefined) {
      this.holding = bytes;
      return true;
    }
    return granted.then((got) => {
      this.budgetWait = undefined;
      if (got && (this.error !== undefined || this.cutReason !== undefined)) {
        budget.release(bytes); // granted just before the cut: nothing will be sent
        return false;
      }
      if (got) {
        this.holding = bytes;
      }
      return got;
    });
  }

  private releaseHeld(): void {
    if (this.holding > 0) {
      this.options.budget?.release(this.holding);
      this.holding = 0;
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
