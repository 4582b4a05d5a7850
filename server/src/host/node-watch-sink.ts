import type { IncomingMessage } from "node:http";
import { constants, type Http2ServerRequest } from "node:http2";
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
    const stream = request.stream;
    return {
      get queuedBytes() {
        return stream.writableLength;
      },
      reset() {
        // RST_STREAM ENHANCE_YOUR_CALM, which gRPC and Connect clients report as RESOURCE_EXHAUSTED;
        // destroy() drops the buffered data at once instead of when the RST frame gets through.
        stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        stream.destroy();
      },
    };
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
