import type { Http2Session } from "node:http2";

/** When the watchdog ends a session; milliseconds, 0 = off. */
export interface SessionWatchdogOptions {
  idleTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

/**
 * Ends an HTTP/2 session that has had no open stream for `idleTimeoutMs`
 * with GOAWAY (NO_ERROR), like grpc-go's MaxConnectionIdle, and destroys one
 * whose peer leaves a PING unanswered for `keepaliveTimeoutMs`, PINGing every
 * `keepaliveIntervalMs` — so that the streams of a vanished peer (a long
 * watch, say) are closed and their resources freed. Node's own session
 * timeout cannot do either: it counts socket inactivity, which a quiet
 * watch stream has too, and a dead peer's socket may stay open for hours.
 */
export function watchSession(session: Http2Session, options: SessionWatchdogOptions): SessionWatchdog {
  const stops: (() => void)[] = [];
  let watchdog: SessionWatchdog = { streamOpened() {}, streamClosed() {} };
  if (options.idleTimeoutMs > 0) {
    const idle = closeWhenIdle(session, options.idleTimeoutMs);
    stops.push(idle.stop);
    watchdog = idle;
  }
  if (options.keepaliveIntervalMs > 0) {
    stops.push(pingPeriodically(session, options.keepaliveIntervalMs, options.keepaliveTimeoutMs));
  }
  session.once("close", () => stops.forEach((stop) => stop()));
  return watchdog;
}

/**
 * What a session's watchdog is told of its streams. The server's own
 * per-stream bookkeeping calls it: a listener of its own on every stream
 * would cost every call a closure (about 3% of a gRPC Get).
 */
export interface SessionWatchdog {
  streamOpened(): void;
  streamClosed(): void;
}

// One timer per session, restarted (not re-created) whenever the last open stream closes.
function closeWhenIdle(session: Http2Session, timeoutMs: number): SessionWatchdog & { stop(): void } {
  let open = 0;
  const timer = setTimeout(() => open === 0 && session.close(), timeoutMs);
  return {
    streamOpened: () => void open++,
    streamClosed: () => {
      if (--open === 0 && !session.closed) {
        timer.refresh();
      }
    },
    stop: () => clearTimeout(timer),
  };
}

// Returns a function that stops the PINGs.
function pingPeriodically(session: Http2Session, intervalMs: number, timeoutMs: number): () => void {
  let late: NodeJS.Timeout | undefined;
  const interval = setInterval(() => {
    if (late !== undefined || session.destroyed) {
      return;
    }
    late = setTimeout(() => session.destroy(), timeoutMs);
    session.ping(() => {
      clearTimeout(late);
      late = undefined;
    });
  }, intervalMs);
  return () => {
    clearInterval(interval);
    clearTimeout(late);
  };
}
