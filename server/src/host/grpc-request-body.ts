import type { ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { requestTooLarge, type RequestSizeLimit } from "./read-max-bytes.js";

/**
 * Reads a gRPC request's body from its HTTP/2 stream: calls `done` with it
 * at its end, or `fail` with RESOURCE_EXHAUSTED (once, reading no further)
 * as soon as its message is known to exceed the limit: from content-length,
 * from the 5-byte frame header (before the message arrives) or from the bytes
 * received.
 */
export function readGrpcRequestBody(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  limit: RequestSizeLimit,
  done: (body: Buffer) => void,
  fail: (error: ConnectError) => void,
): void {
  const length = Number(headers["content-length"] ?? 0);
  if (length - 5 > limit.bytes) {
    fail(requestTooLarge(limit, length - 5, true));
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const refuse = (error: ConnectError) => {
    chunks.length = 0;
    stream.off("data", onData);
    stream.off("end", onEnd);
    fail(error);
  };
  const onData = (chunk: Buffer) => {
    const before = received;
    received += chunk.length;
    chunks.push(chunk);
    if (before < 5 && received >= 5) {
      const size = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
      if (size > limit.bytes) {
        refuse(requestTooLarge(limit, size, true));
        return;
      }
    }
    if (received - 5 > limit.bytes) {
      refuse(requestTooLarge(limit, received - 5, false));
    }
  };
  const onEnd = () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  stream.on("data", onData);
  stream.on("end", onEnd);
}
