import { Code } from "@connectrpc/connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Http2ServerResponse } from "node:http2";
import { grpcStatusHeaders } from "./grpc-message.js";

/**
 * Answers a path that is no RPC the way each protocol's clients expect an
 * unknown method: UNIMPLEMENTED (12) as a gRPC trailers-only response, as
 * gRPC-Web headers, or as a Connect error body with HTTP 404.
 */
export function unknownMethodHandler(request: FastifyRequest, reply: FastifyReply): void {
  const contentType = request.headers["content-type"] ?? "";
  const message = `unknown method ${request.method} ${request.url.split("?")[0]}`;
  if (!contentType.startsWith("application/grpc")) {
    void reply.code(404).send({ code: "unimplemented", message });
    return;
  }
  const headers = { "content-type": contentType, ...grpcStatusHeaders(Code.Unimplemented, message) };
  const raw = reply.raw;
  if ("stream" in raw && !contentType.startsWith("application/grpc-web")) {
    // gRPC over HTTP/2: status in the only HEADERS frame, which ends the stream.
    reply.hijack();
    (raw as unknown as Http2ServerResponse).stream.respond({ ":status": 200, ...headers }, { endStream: true });
    return;
  }
  void reply.code(200).headers(headers).send();
}
