import type { IncomingMessage, ServerResponse } from "node:http";
import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";

/**
 * Makes sure that the rest of a request that is refused before all of it
 * arrived (too large, past its deadline) is not read: an HTTP/1.1 connection
 * closes after the response (so call this before the response's headers are
 * sent), an HTTP/2 stream is reset (CANCEL) once the compatibility response is sent, which
 * leaves the connection's other streams alone.
 */
export function stopReadingRequest(
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
): void {
  if (request.complete) {
    return;
  }
  if ("stream" in request) {
    const { stream } = request;
    // The compatibility layer sends every response's trailers on "wantTrailers", before this
    // listener runs; a reset in the same turn would still overtake them on the wire.
    stream.once("wantTrailers", () =>
      setImmediate(() => {
        if (!stream.destroyed && !stream.readableEnded) {
          stream.close(constants.NGHTTP2_CANCEL);
        }
      }),
    );
    return;
  }
  if (!response.headersSent) {
    (response as ServerResponse).setHeader("connection", "close");
  }
  // Read and drop what arrives until the connection closes, so that the response can be sent.
  request.resume();
}
