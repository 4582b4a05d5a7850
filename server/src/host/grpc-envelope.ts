import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { grpcStatusHeaders } from "./grpc-message.js";
import { stopStreamAfterResponse } from "./stop-reading-request.js";

// Node copies headers it is given, so every response can share these.
// The content type is the one connect-es answers with: both paths send the same headers.
/** The response headers of a gRPC call that answers (messages, then trailers). */
export const grpcOkHeaders = { ":status": 200, "content-type": "application/grpc+proto" };
/** The trailers of a gRPC call that succeeded. */
export const grpcOkTrailers = { "grpc-status": "0" };

/** A gRPC message frame: the 5-byte prefix (uncompressed, length) and the message, in one buffer. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/**
 * The one message of a request body of framed messages (a unary or
 * server-streaming call's), without its prefix; a ConnectError when the
 * body holds none, an incomplete one, several, or a compressed one, with
 * connect-es's code and words (see protocol-contract.test.ts).
 */
export function singleGrpcMessage(body: Buffer, methodKind: "unary" | "server_streaming"): Buffer {
  if (body.length === 0) {
    throw new ConnectError(`protocol error: missing input message for ${methodKind} method`, Code.Unimplemented);
  }
  const end = body.length < 5 ? Infinity : 5 + body.readUInt32BE(1);
  if (end > body.length) {
    throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  }
  if ((body[0]! & 1) === 1) {
    throw new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
  }
  if (end < body.length) {
    throw new ConnectError(`protocol error: received extra input message for ${methodKind} method`, Code.Unimplemented);
  }
  return body.subarray(5);
}

/**
 * Whether a request is the kind of gRPC call the fast paths serve: a POST in
 * binary protobuf (`application/grpc`, `application/grpc+proto`), uncompressed.
 */
export function isPlainGrpcCall(headers: IncomingHttpHeaders): boolean {
  const contentType = headers["content-type"];
  const encoding = headers["grpc-encoding"];
  return (
    headers[":method"] === "POST" &&
    (contentType === "application/grpc" || contentType === "application/grpc+proto") &&
    (encoding === undefined || encoding === "identity")
  );
}

/**
 * Answers a gRPC call with its status alone (a trailers-only response: the
 * status in the only HEADERS frame) and stops reading the rest of its request.
 */
export function respondGrpcStatus(stream: ServerHttp2Stream, error: ConnectError, contentType = grpcOkHeaders["content-type"]): void {
  stream.respond({ ":status": 200, "content-type": contentType, ...grpcStatusHeaders(error.code, error.rawMessage) }, { endStream: true });
  stopStreamAfterResponse(stream);
}
