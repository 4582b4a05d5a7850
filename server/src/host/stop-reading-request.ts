import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from "node:http2";

/**
 * Makes sure that the rest of a request that is refused before all of it
 * arrived (too large, past its deadline) is not read: an HTTP/1.1 connection
 * closes after the response (so call this before the response's headers are
 * sent); an HTTP/2 stream is ended with {@link stopStreamAfterResponse} once
 * the compatibility response (its trailers included) is sent, which leaves
 * the connection's other streams alone.
 */
export function stopReadingRequest(
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
): void {
  // A request without a body (a GET) is not complete yet while its 'request' event runs.
  if (request.complete || !mayHaveBody(request)) {
    return;
  }
  if ("stream" in request) {
    // The compatibility layer sends every response's trailers on "wantTrailers", before this listener runs.
    request.stream.once("wantTrailers", () => stopStreamAfterResponse(request.stream));
    return;
  }
  if (!response.headersSent) {
    (response as ServerResponse).setHeader("connection", "close");
  }
  // Read and drop what arrives until the connection closes, so that the response can be sent.
  request.resume();
}

/**
 * Asks the client to stop sending the request of an HTTP/2 stream whose
 * response is complete: RST_STREAM with NO_ERROR, which clients must not
 * take as a failure of the response (RFC 9113 §8.1; with CANCEL, clients
 * still sending report the call as cancelled instead of its status). Sent
 * on the next turn, after the frames of the response: a reset submitted in
 * the same turn overtakes trailers on the wire. (`destroy()` without an
 * error is how Node sends NO_ERROR at once; `close(NO_ERROR)` would wait for
 * the request's end.)
 */
export function stopStreamAfterResponse(stream: ServerHttp2Stream): void {
  setImmediate(() => {
    if (!stream.destroyed && !stream.readableEnded) {
      stream.destroy();
    }
  });
}

/** Whether a request declares a body (chunked, or a non-zero content-length). */
function mayHaveBody(request: IncomingMessage | Http2ServerRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0") || "stream" in request;
}
