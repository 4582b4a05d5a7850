import {
  Code,
  ConnectError,
  createConnectRouter,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
} from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Compression } from "@connectrpc/connect/protocol";
import type { FastifyPluginCallback, FastifyRequest } from "fastify";
import { checkJsonBody, isJsonContentType } from "./check-json-body.js";
import { guardRequestBody } from "./guard-request-body.js";
import { requestTooLarge, type RequestSizeLimit } from "./read-max-bytes.js";
import { replyWithError } from "./reply-with-error.js";
import { holdableDeadlineMs } from "./request-deadline.js";
import { stopReadingRequest } from "./stop-reading-request.js";

/** Options of {@link connectPlugin}. */
export interface ConnectPluginOptions extends Omit<ConnectRouterOptions, "readMaxBytes"> {
  routes: (router: ConnectRouter) => void;
  /** The largest request message; larger ones get RESOURCE_EXHAUSTED. */
  limit: RequestSizeLimit;
  /** Values for each call's handler context (as connect-fastify's option of that name). */
  contextValues?: (request: FastifyRequest) => ContextValues;
}

/**
 * Serves Connect routes (gRPC, gRPC-Web and Connect) on Fastify, as
 * @connectrpc/connect-fastify does, plus what it leaves out: the call's
 * deadline holds while the request body is read; a deadline beyond what
 * Node's timers hold counts as none (instead of expiring at once); an
 * oversized request is refused with its size and the limit, and the rest of
 * it is not read; a request whose content type no protocol takes gets its
 * protocol's own error (instead of Fastify's); a JSON `bytes` field that is
 * not base64 gets INVALID_ARGUMENT (instead of being read as other bytes).
 * Connect reads every body itself, through the guard; Fastify parses none.
 */
export const connectPlugin: FastifyPluginCallback<ConnectPluginOptions> = (instance, options, done) => {
  const { routes, limit, contextValues, ...routerOptions } = options;
  const router = createConnectRouter({
    acceptCompression: [compressionGzip, compressionBrotli].map((compression) => withLimitInOurTerms(compression, limit)),
    ...routerOptions,
    readMaxBytes: limit.bytes,
  });
  routes(router);
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser("*", (_request, _payload, parsed) => parsed(null, undefined));
  for (const handler of router.handlers) {
    instance.post(handler.requestPath, {
      onRequest: (request, reply, next) => {
        const contentType = request.headers["content-type"];
        if (contentType === undefined || !handler.supportedContentType(contentType)) {
          replyWithError(request, reply, unsupportedContentType(contentType), 415);
          return;
        }
        if (handler.method.methodKind === "bidi_streaming" && request.raw.httpVersionMajor < 2) {
          // connect-es answers a bare HTTP 505; clients read an error in their protocol's form (Connect: 404 is UNIMPLEMENTED).
          const error = new ConnectError(`${handler.method.name} streams both ways: it needs HTTP/2 (gRPC, or Connect over HTTP/2)`, Code.Unimplemented);
          replyWithError(request, reply, error, 404);
          return;
        }
        next();
      },
      handler: async (request, reply) => {
        const universal = universalRequestFromNodeRequest(request.raw, reply.raw, undefined, contextValues?.(request));
        const contentType = request.headers["content-type"] ?? "";
        const enveloped = contentType.startsWith("application/grpc") || contentType.startsWith("application/connect+");
        const declared = universal.header.get("content-length");
        const declaredBytes = declared === null ? undefined : Number(declared);
        if (declaredBytes !== undefined && declaredBytes > limit.bytes) {
          // Connect would refuse it before reading, naming its own option; the guard does it in our terms.
          universal.header.delete("content-length");
        }
        const guarded = guardRequestBody(universal.body as AsyncIterable<Uint8Array>, {
          deadlineMs: holdableDeadlineMs(universal.header),
          limit,
          enveloped,
          declaredBytes,
          messageStream: handler.method.methodKind === "bidi_streaming" || handler.method.methodKind === "client_streaming",
          onRefuse: () => stopReadingRequest(request.raw, reply.raw),
        });
        const body = isJsonContentType(contentType) ? checkJsonBody(guarded, handler.method.input, enveloped) : guarded;
        try {
          const response = await handler({ ...universal, body });
          // Headers set through Fastify (CORS) live on the reply until reply.send, which is not used here.
          for (const [name, value] of Object.entries(reply.getHeaders())) {
            if (value !== undefined) {
              reply.raw.setHeader(name, value);
            }
          }
          await universalResponseToNodeResponse(response, reply.raw);
        } catch (error) {
          if (ConnectError.from(error).code !== Code.Aborted) {
            request.log.error({ err: error }, `handler for rpc ${handler.method.name} of ${handler.service.typeName} failed`);
          }
        }
      },
    });
  }
  done();
};

/** INVALID_ARGUMENT for a content type no protocol takes, saying which ones to use. */
function unsupportedContentType(contentType: string | undefined): ConnectError {
  const expected = contentType?.startsWith("application/grpc-web")
    ? "application/grpc-web+proto or application/grpc-web+json"
    : contentType?.startsWith("application/grpc")
      ? "application/grpc, application/grpc+proto or application/grpc+json"
      : "application/json or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)";
  const got = contentType === undefined ? "missing content type" : `unsupported content type "${contentType}"`;
  return new ConnectError(`${got}; use ${expected}`, Code.InvalidArgument);
}

/** `compression`, but a message too large once decompressed is refused in the options' terms (not Connect's). */
function withLimitInOurTerms(compression: Compression, limit: RequestSizeLimit): Compression {
  return {
    name: compression.name,
    compress: (bytes) => compression.compress(bytes),
    decompress: async (bytes, readMaxBytes) => {
      try {
        return await compression.decompress(bytes, readMaxBytes);
      } catch (error) {
        throw error instanceof ConnectError && error.code === Code.ResourceExhausted
          ? requestTooLarge(limit, readMaxBytes + 1, false)
          : error;
      }
    },
  };
}
