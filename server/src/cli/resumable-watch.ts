import { setTimeout as sleep } from "node:timers/promises";
import { describeError } from "./describe-error.js";
import { ExitCode, exitCodeFor } from "./exit-code.js";

/** What a watch stream's messages share: a revision, of an event or a progress mark. */
export interface WatchMessage {
  revision: bigint;
}

/** Options of {@link resumableWatch}. */
export interface ResumableWatchOptions<M extends WatchMessage> {
  /** Opens the stream, first replaying what came after `startRevision` (undefined: from now). */
  open(startRevision: bigint | undefined): AsyncIterable<M>;
  startRevision?: bigint;
  /** Ends the watch, during a back-off too. */
  signal: AbortSignal;
  /** Tells the user that the connection was lost, about each attempt, and when it is back. */
  report(line: string): void;
}

/** Back-off between attempts: doubling from the first to the cap, each less up to half at random (jitter). */
export const reconnectDelay = { firstMs: 100, maxMs: 5_000 } as const;

/**
 * Yields a watch's messages across server restarts. When the server goes
 * away or ends the stream (shutting down), the stream is opened again after a
 * back-off, from the revision of the last message received, which the server
 * replays after: nothing is missed or repeated. Ends (returns) when `signal`
 * aborts. Throws any other error, e.g. OUT_OF_RANGE when the restarted
 * server no longer holds the events to resume from, and a connection failure
 * before the first message (a wrong address should not be retried forever).
 */
export async function* resumableWatch<M extends WatchMessage>(options: ResumableWatchOptions<M>): AsyncGenerator<M> {
  const { signal, report } = options;
  let startRevision = options.startRevision;
  let connected = false;
  let attempt = 0;
  while (!signal.aborted) {
    let lost: string;
    try {
      for await (const message of options.open(startRevision)) {
        if (attempt > 0) {
          report(`reconnected, resuming after revision ${startRevision}`);
          attempt = 0;
        }
        connected = true;
        startRevision = message.revision;
        yield message;
      }
      lost = "the server ended the stream";
    } catch (error) {
      if (signal.aborted) {
        return;
      }
      if (!connected || exitCodeFor(error) !== ExitCode.unreachable) {
        throw error;
      }
      lost = describeError(error);
    }
    attempt++;
    const delayMs = backoffMs(attempt);
    report(
      `${attempt === 1 ? "connection lost" : "still unreachable"} (${lost}); reconnecting in ${(delayMs / 1000).toFixed(1)}s`,
    );
    try {
      await sleep(delayMs, undefined, { signal });
    } catch {
      return; // aborted
    }
  }
}

function backoffMs(attempt: number): number {
  const { firstMs, maxMs } = reconnectDelay;
  const delay = Math.min(maxMs, firstMs * 2 ** Math.min(attempt - 1, 16));
  return Math.round(delay * (0.5 + Math.random() / 2));
}
