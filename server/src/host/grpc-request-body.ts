import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";

/**
 * Reads a gRPC request's body from its HTTP/2 stream: calls `done` with it
 * at its end, or `fail` with RESOURCE_EXHAUSTED (once, reading no further)
 * as soon as its message is known to exceed `readMaxBytes`, from
 * content-length or from the bytes received.
 */
export function readGrpcRequestBody(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  readMaxBytes: number,
  done: (body: Buffer) => void,
  fail: (error: ConnectError) => void,
): void {
  const tooLarge = (size: number) =>
    fail(new ConnectError(`message size ${size} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted));
  const length = Number(headers["content-length"] ?? 0);
  if (length - 5 > readMaxBytes) {
    tooLarge(length - 5);
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received - 5 > readMaxBytes) {
      chunks.length = 0;
      stream.off("data", onData);
      stream.off("end", onEnd);
      tooLarge(received - 5);
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  stream.on("data", onData);
  stream.on("end", onEnd);
}
