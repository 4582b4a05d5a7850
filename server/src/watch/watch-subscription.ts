import { Code, ConnectError } from "@connectrpc/connect";
import type { StoreEvent } from "../store/store-event.js";

/** A progress message: everything up to `revision` has been delivered. */
export interface ProgressMark {
  readonly progress: true;
  readonly revision: bigint;
}

/** What a watch stream carries: events, and progress marks on request. */
export type WatchItem = StoreEvent | ProgressMark;

/**
 * One watcher's stream of events: a bounded queue filled synchronously as
 * events happen and drained as the watcher's connection takes them. A
 * watcher that falls more than `bufferSize` events behind is cut off with
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
  /** Whether the watcher was cut off for falling behind (the error is made when it is thrown). */
  private overflowed = false;
  /** Queued progress marks (at most one); they do not count against the buffer. */
  private progressQueued = 0;
  /** Revision of the last event the watcher has taken (and finished with). */
  private taken: bigint;

  constructor(
    private readonly matches: (event: StoreEvent) => boolean,
    private readonly bufferSize: number,
    startRevision: bigint,
    replay: readonly StoreEvent[],
    private readonly onEnd: (subscription: WatchSubscription) => void,
  ) {
    this.taken = startRevision;
    this.queue = replay.filter(matches);
    this.backlog = this.queue.length;
  }

  /** Queues `event` if it matches; cuts the watcher off when its queue is full. */
  offer(event: StoreEvent): void {
    if (this.ended || !this.matches(event)) {
      return;
    }
    if (this.queue.length - this.head - this.backlog - this.progressQueued >= this.bufferSize) {
      this.overflowed = true;
      this.end();
      return;
    }
    this.queue.push(event);
    this.wakeUp();
  }

  /**
   * Queues a progress mark for `revision` (the latest) unless events are
   * still waiting: a watcher that is behind learns the revision from them.
   */
  progress(revision: bigint): void {
    if (!this.ended && this.head === this.queue.length) {
      this.progressQueued++;
      this.queue.push({ progress: true, revision });
      this.wakeUp();
    }
  }

  /** Ends the stream: cleanly, or with `error` after the events already taken. */
  end(error?: ConnectError): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.error = error;
    if (error !== undefined || this.overflowed) {
      // Nothing more will be delivered: free the backlog now.
      this.queue = [];
      this.head = 0;
      this.backlog = 0;
      this.progressQueued = 0;
    }
    this.onEnd(this);
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
          }
          this.queue[this.head++] = undefined as unknown as WatchItem;
          if (this.head > 1024 && this.head * 2 > this.queue.length) {
            this.queue = this.queue.slice(this.head);
            this.head = 0;
          }
          yield event;
          this.taken = event.revision;
          continue;
        }
        if (this.ended) {
          if (this.overflowed) {
            // Made now: `taken` covers the message the transport was still writing.
            throw new ConnectError(
              `watcher fell behind by more than ${this.bufferSize} events; resume from revision ${this.taken}`,
              Code.ResourceExhausted,
            );
          }
          if (this.error !== undefined) {
            throw this.error;
          }
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // The consumer went away (or finished): stop queueing for it.
      this.end();
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
