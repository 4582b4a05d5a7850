import type { ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { RequestSizeMeter, type RequestSizeLimit } from "./read-max-bytes.js";

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
  const meter = new RequestSizeMeter(limit, true);
  const declared = meter.declared(Number(headers["content-length"] ?? 0));
  if (declared !== undefined) {
    call.fail(declared);
    return;
  }
  const chunks: Buffer[] = [];
  // Two closures per call and no more: this runs for every gRPC call.
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    const error = meter.add(chunk);
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
