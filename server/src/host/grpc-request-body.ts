import type { ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { requestTooLarge, type RequestSizeLimit } from "./read-max-bytes.js";

/** The call a request body is read for: told the body, or why it was refused. */
export interface GrpcBodyReceiver {
  onBody(body: Buffer): void;
  fail(error: ConnectError): void;
}

/**
 * Reads a gRPC request's body from its HTTP/2 stream: calls `call.onBody`
 * with it at its end, or `call.fail` with RESOURCE_EXHAUSTED (once, reading no further)
 * as soon as its message is known to exceed the limit: from content-length,
 * from the 5-byte frame header (before the message arrives) or from the bytes
 * received.
 */
export function readGrpcRequestBody(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  limit: RequestSizeLimit,
  call: GrpcBodyReceiver,
): void {
  const length = Number(headers["content-length"] ?? 0);
  if (length - 5 > limit.bytes) {
    call.fail(requestTooLarge(limit, length - 5, true));
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  // Two closures per call and no more: this runs for every gRPC call.
  const onData = (chunk: Buffer) => {
    const before = received;
    received += chunk.length;
    chunks.push(chunk);
    let error: ConnectError | undefined;
    if (before < 5 && received >= 5) {
      const size = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
      error = size > limit.bytes ? requestTooLarge(limit, size, true) : undefined;
    }
    if (error === undefined && received - 5 > limit.bytes) {
      error = requestTooLarge(limit, received - 5, false);
    }
    if (error !== undefined) {
      chunks.length = 0;
      stream.off("data", onData);
      stream.off("end", onEnd);
      call.fail(error);
    }
  };
  const onEnd = () => call.onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  stream.on("data", onData);
  stream.on("end", onEnd);
}
