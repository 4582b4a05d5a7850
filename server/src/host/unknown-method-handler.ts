import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyReply, FastifyRequest } from "fastify";
import { replyWithError } from "./reply-with-error.js";

/**
 * Answers a path that is no RPC the way each protocol's clients expect an
 * unknown method: UNIMPLEMENTED (12) as a gRPC trailers-only response, as
 * gRPC-Web headers, or as a Connect error body with HTTP 404.
 */
export function unknownMethodHandler(request: FastifyRequest, reply: FastifyReply): void {
  const message = `unknown method ${request.method} ${request.url.split("?")[0]}`;
  replyWithError(request, reply, new ConnectError(message, Code.Unimplemented), 404);
}
