import { Code, ConnectError } from "@connectrpc/connect";

/** What every watch message carries: the revision of an event or of a progress mark. */
export interface RevisionMessage {
  revision: bigint;
}

/** The state of a {@link resumableWatch}, reported through `onStatus`. */
export type ResumableWatchStatus =
  | { state: "connected"; resumedAfter: bigint | undefined }
  | { state: "reconnecting"; attempt: number; delayMs: number; error: ConnectError | undefined };

/** Options of {@link resumableWatch}. */
export interface ResumableWatchOptions {
  /** Replay what came after this revision first; undefined starts from now. */
  startRevision?: bigint;
  /** Ends the watch (the generator returns), during a back-off too. */
  signal?: AbortSignal;
  /** Told when the stream is (re)connected and before each new attempt. */
  onStatus?(status: ResumableWatchStatus): void;
  /** First back-off; it doubles on each failed attempt up to `maxDelayMs`. Default 100 ms. */
  firstDelayMs?: number;
  /** Longest back-off. Default 5 s. */
  maxDelayMs?: number;
}

/**
 * Codes after which a new attempt may succeed: the server is gone or
 * restarting (fetch fails with Unknown, a cut stream with Internal or
 * Unavailable). Anything else, such as OUT_OF_RANGE when the events to resume
 * from are gone or INVALID_ARGUMENT, ends the watch with that error.
 */
const retryableCodes: ReadonlySet<Code> = new Set([
  Code.Unknown,
  Code.Unavailable,
  Code.Internal,
  Code.Aborted,
  Code.DeadlineExceeded,
]);

/**
 * Yields a watch's messages across dropped connections and server restarts.
 * `open` opens the stream (WatchStream or WatchKeyValue) with the given
 * `start_revision`; when the stream ends or fails with a retryable code it is
 * opened again after a back-off, from the revision of the last message
 * delivered, which the server replays after: no gap and no duplicate.
 * Progress marks (`progress: true`) are delivered too and move the resume
 * point, so ask for a `progress_interval` to resume cheaply after a quiet
 * spell. Returns when `signal` aborts; throws any other error.
 */
export async function* resumableWatch<M extends RevisionMessage>(
  open: (startRevision: bigint | undefined, signal: AbortSignal) => AsyncIterable<M>,
  options: ResumableWatchOptions = {},
): AsyncGenerator<M, void, undefined> {
  const { signal = new AbortController().signal, onStatus } = options;
  const firstDelayMs = options.firstDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  let startRevision = options.startRevision;
  let attempt = 0;
  while (!signal.aborted) {
    let error: ConnectError | undefined;
    let announced = false;
    try {
      for await (const message of open(startRevision, signal)) {
        if (!announced) {
          // The first message proves the stream is up (a fetch may fail only once it is read).
          announced = true;
          attempt = 0;
          onStatus?.({ state: "connected", resumedAfter: startRevision });
        }
        startRevision = message.revision;
        yield message;
      }
    } catch (reason) {
      if (signal.aborted) {
        return;
      }
      error = ConnectError.from(reason);
      if (!retryableCodes.has(error.code)) {
        throw error;
      }
    }
    attempt++;
    const delayMs = backoffMs(attempt, firstDelayMs, maxDelayMs);
    onStatus?.({ state: "reconnecting", attempt, delayMs, error });
    if (!(await delay(delayMs, signal))) {
      return;
    }
  }
}

/** Doubling from `firstMs` up to `maxMs`, each less up to half at random so that clients spread out. */
function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  const full = Math.min(maxMs, firstMs * 2 ** Math.min(attempt - 1, 16));
  return Math.round(full * (0.5 + Math.random() / 2));
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", aborted);
      resolve(completed);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", aborted, { once: true });
  });
}
