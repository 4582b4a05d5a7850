import type { ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Http2ServerResponse } from "node:http2";
import { grpcStatusHeaders } from "./grpc-message.js";
import { respondGrpcStatus } from "./grpc-envelope.js";
import { stopReadingRequest } from "./stop-reading-request.js";

/**
 * Answers a request that never reaches an RPC handler (an unknown method, a
 * content type no protocol takes) in the form its protocol's clients read,
 * told apart by the content type: a gRPC trailers-only response (status in
 * the only HEADERS frame), gRPC-Web status headers, or else a Connect JSON
 * error body with `connectStatus`. The rest of the request body is not read.
 */
export function replyWithError(request: FastifyRequest, reply: FastifyReply, error: ConnectError, connectStatus: number): void {
  const contentType = request.headers["content-type"] ?? "";
  if (!contentType.startsWith("application/grpc")) {
    stopReadingRequest(request.raw, reply.raw);
    void reply.code(connectStatus).type("application/json").send(errorToJson(error, undefined));
    return;
  }
  const raw = reply.raw;
  if ("stream" in raw && !contentType.startsWith("application/grpc-web")) {
    reply.hijack();
    respondGrpcStatus((raw as unknown as Http2ServerResponse).stream, error, contentType);
    return;
  }
  stopReadingRequest(request.raw, reply.raw);
  void reply.code(200).headers({ "content-type": contentType, ...grpcStatusHeaders(error.code, error.rawMessage) }).send();
}
