import { create } from "@bufbuild/protobuf";
import { DurationSchema, type Duration } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";

/** A Duration of `ms` milliseconds. */
export const millis = (ms: number): Duration =>
  create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });

/** How long a watcher waits for a message before the test fails with a readable error. */
const defaultWaitMs = 10_000;

/**
 * A client watch stream read continuously in the background: every message
 * lands in `items`, in order; `take` waits for the next ones. Cancel it (or
 * let its scope cancel it) when done.
 */
export class Watcher<T> {
  /** Every message received so far, in order. */
  readonly items: T[] = [];
  /** The stream's end: undefined when it completed cleanly, else its error. */
  readonly ended: Promise<ConnectError | undefined>;
  /** Whether the stream has ended (cleanly or not). */
  done = false;
  private cursor = 0;
  private readonly abort = new AbortController();
  private notify: (() => void) | undefined;

  constructor(open: (signal: AbortSignal) => AsyncIterable<T>) {
    this.ended = this.pump(open(this.abort.signal));
  }

  /** Waits for the next `count` messages not taken yet and returns them. */
  async take(count: number, timeoutMs = defaultWaitMs): Promise<T[]> {
    await this.waitUntil(() => this.items.length >= this.cursor + count, `${count} more message(s)`, timeoutMs);
    const taken = this.items.slice(this.cursor, this.cursor + count);
    this.cursor += count;
    return taken;
  }

  /** Waits for the next message not taken yet. */
  async next(timeoutMs = defaultWaitMs): Promise<T> {
    return (await this.take(1, timeoutMs))[0]!;
  }

  /**
   * Takes messages until one satisfies `stop` and returns those before it
   * (the one that stopped is taken too, but not returned).
   */
  async takeUntil(stop: (item: T) => boolean, timeoutMs = defaultWaitMs): Promise<T[]> {
    const taken: T[] = [];
    for (;;) {
      const item = await this.next(timeoutMs);
      if (stop(item)) {
        return taken;
      }
      taken.push(item);
    }
  }

  /** Resolves once `condition` holds (checked after every message and at the end), or fails after `timeoutMs`. */
  async waitUntil(condition: () => boolean, what: string, timeoutMs = defaultWaitMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.done) {
        // One more check: the condition may have become true with the last message.
        if (condition()) return;
        const error = await this.ended;
        throw new Error(`stream ended (${error === undefined ? "cleanly" : error.message}) while waiting for ${what}; received ${this.items.length}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; received ${this.items.length}, taken ${this.cursor}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Cancels the call (no-op once it ended). */
  cancel(): void {
    this.abort.abort();
  }

  private async pump(stream: AsyncIterable<T>): Promise<ConnectError | undefined> {
    try {
      for await (const item of stream) {
        this.items.push(item);
        this.wake();
      }
      return undefined;
    } catch (error) {
      return ConnectError.from(error);
    } finally {
      this.done = true;
      this.wake();
    }
  }

  private wake(): void {
    const notify = this.notify;
    this.notify = undefined;
    notify?.();
  }
}

/** Opens watchers and cancels all of them at once (in afterEach). */
export class WatchScope {
  private readonly watchers = new Set<{ cancel(): void }>();

  open<T>(open: (signal: AbortSignal) => AsyncIterable<T>): Watcher<T> {
    const watcher = new Watcher(open);
    this.watchers.add(watcher);
    return watcher;
  }

  /** Registers something else to cancel with the rest (a raw stream's AbortController). */
  track(abort: { cancel(): void }): void {
    this.watchers.add(abort);
  }

  cancelAll(): void {
    for (const watcher of this.watchers) {
      watcher.cancel();
    }
    this.watchers.clear();
  }
}

/** The revision a RESOURCE_EXHAUSTED or OUT_OF_RANGE message names ("... revision N ..."). */
export function revisionIn(message: string, phrase: RegExp): bigint {
  const match = phrase.exec(message);
  if (match === null) {
    throw new Error(`no revision matching ${phrase} in: ${message}`);
  }
  return BigInt(match[1]!);
}

/** Polls `read` until `accept` holds for its result, at most `timeoutMs`; returns the last result. */
export async function pollUntil<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Repeats `write` until `watcher` has received something (a watch is
 * registered some time after the call opens, so one write may come too
 * early), or it ended, or `timeoutMs` passed.
 */
export async function writeUntilSeen<T>(watcher: Watcher<T>, write: () => Promise<unknown>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (watcher.items.length === 0 && !watcher.done && Date.now() < deadline) {
    await write();
    await watcher.waitUntil(() => watcher.items.length > 0, "an event", 100).catch(() => {});
  }
}
