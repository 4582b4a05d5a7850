import type { IncomingMessage } from "node:http";
import { constants, type Http2ServerRequest, type Http2Session, type ServerHttp2Stream } from "node:http2";
import type { WatchSink } from "../watch/watch-sink.js";

/**
 * The {@link WatchSink} of a watch call's Node request: its HTTP/2 stream,
 * or for HTTP/1.1 its socket (one response at a time uses it).
 *
 * A handler's writes wait for 'drain' (connect-node applies backpressure), so
 * what piles up for a client that does not read is the stream's write buffer:
 * Node's HTTP/2 session completes a stream's writes only once the socket has
 * taken them.
 */
export function nodeWatchSink(request: IncomingMessage | Http2ServerRequest): WatchSink {
  if ("stream" in request) {
    return http2StreamSink(request.stream);
  }
  const socket = request.socket;
  return {
    get queuedBytes() {
      return socket.writableLength;
    },
    reset() {
      // HTTP/1.1 cannot end one response early but by closing its connection.
      socket.destroy();
    },
  };
}

/**
 * The {@link WatchSink} of an HTTP/2 stream: what its write buffer holds
 * (a buffer shared with other streams counts for each, as each holds it),
 * and a reset with ENHANCE_YOUR_CALM.
 */
export function http2StreamSink(stream: ServerHttp2Stream): WatchSink {
  return {
    get queuedBytes() {
      return stream.writableLength;
    },
    reset() {
      const session = stream.session;
      // RST_STREAM ENHANCE_YOUR_CALM, which gRPC and Connect clients report as RESOURCE_EXHAUSTED.
      stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      stream.destroy();
      if (session !== undefined) {
        closeIfStuck(session);
      }
    },
  };
}

/** How long the frames of a session with reset watch streams may wait to leave before its connection is closed. */
export const stuckConnectionGraceMs = 1000;

// Sessions already being checked, so that resetting many streams of one arms one timer.
const checking = new WeakSet<Http2Session>();

/**
 * Closes `session`'s connection when its queued frames (at least the reset
 * streams' RST_STREAM) have still not left a grace period later. Node's
 * HTTP/2 session holds the data of its streams, reset or not, until the
 * socket takes it: for a client that does not read its connection at all,
 * only closing the connection frees that memory (and nothing on it could
 * progress anyway).
 */
function closeIfStuck(session: Http2Session): void {
  if (checking.has(session)) {
    return;
  }
  checking.add(session);
  setTimeout(() => {
    checking.delete(session);
    if (!session.destroyed && (session.state.outboundQueueSize ?? 0) > 0) {
      // Through the session's socket proxy, which refuses destroy() but not this; a TCP RST, nothing flushed.
      session.socket.resetAndDestroy();
    }
  }, stuckConnectionGraceMs).unref();
}
