import type { ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Http2ServerResponse } from "node:http2";
import { grpcStatusHeaders } from "./grpc-message.js";
import { stopReadingRequest, stopStreamAfterResponse } from "./stop-reading-request.js";

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
  const headers = { "content-type": contentType, ...grpcStatusHeaders(error.code, error.rawMessage) };
  const raw = reply.raw;
  if ("stream" in raw && !contentType.startsWith("application/grpc-web")) {
    reply.hijack();
    const { stream } = raw as unknown as Http2ServerResponse;
    stream.respond({ ":status": 200, ...headers }, { endStream: true });
    stopStreamAfterResponse(stream);
    return;
  }
  stopReadingRequest(request.raw, reply.raw);
  void reply.code(200).headers(headers).send();
}
