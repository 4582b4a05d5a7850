import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import { clientIdFromNodeHeaders } from "../rpc/client-id.js";
import type { UnaryMethodTable } from "../rpc/routes.js";
import { clientGone, LazyCallSignal } from "./lazy-call-signal.js";

/** Serves a request and returns true, or returns false to leave it to the general (Fastify/Connect) handler. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * The Connect unary fast path (HTTP/1.1 and HTTP/2): a POST of a unary RPC
 * of ours as `application/json` or `application/proto`, uncompressed, is
 * served directly — the same operation the Connect handler calls, the same
 * JSON and error encoding — without Fastify's and Connect's per-request
 * machinery. Everything else (GET requests, compression, streaming,
 * gRPC-Web, browsers' cross-origin calls when CORS is on, unknown paths)
 * goes to the general handler.
 */
export function createConnectFastPath(
  methods: UnaryMethodTable,
  readMaxBytes: number,
  cors: boolean,
  maxClientIdLength: number,
): RequestHandler {
  return (request, response) => {
    const { headers } = request;
    const entry = methods.get(request.url ?? "");
    const contentType = headers["content-type"];
    const json = contentType === "application/json" || contentType === "application/json; charset=utf-8";
    if (
      entry === undefined ||
      request.method !== "POST" ||
      (!json && contentType !== "application/proto") ||
      (headers["content-encoding"] !== undefined && headers["content-encoding"] !== "identity") ||
      (headers["connect-protocol-version"] !== undefined && headers["connect-protocol-version"] !== "1") ||
      (cors && headers.origin !== undefined)
    ) {
      return false;
    }
    const declared = Number(headers["content-length"] ?? 0);
    if (declared > readMaxBytes) {
      fail(request, response, new ConnectError(`message size ${declared} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted));
      return true;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let failed = false;
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (failed) {
        return;
      }
      if (received > readMaxBytes) {
        failed = true;
        fail(request, response, new ConnectError(`message size is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (failed) {
        return;
      }
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const { method, operation } = entry;
      let input;
      try {
        input = json
          ? fromJsonString(method.input, body.length === 0 ? "{}" : body.toString("utf8"), { ignoreUnknownFields: true })
          : fromBinary(method.input, body);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        fail(request, response, new ConnectError(`cannot decode message ${method.input.typeName} from ${json ? "JSON" : "binary"}: ${reason}`, Code.InvalidArgument));
        return;
      }
      const call = new LazyCallSignal();
      const complete = (output: Parameters<typeof create<typeof method.output>>[1]) => {
        const message = create(method.output, output);
        if (json) {
          answer(response, 200, toJsonString(method.output, message), "application/json");
        } else {
          answer(response, 200, toBinary(method.output, message), "application/proto");
        }
      };
      try {
        const output = operation(input, clientIdFromNodeHeaders(headers, maxClientIdLength), call);
        if (output instanceof Promise) {
          awaitOutput(request, response, call, output, complete);
        } else {
          complete(output);
        }
      } catch (error) {
        fail(request, response, ConnectError.from(error, Code.Internal));
      }
    });
    return true;
  };
}

// Timers hold at most 2^31-1 ms; a longer deadline is as good as none.
const maxTimerMs = 2 ** 31 - 1;

/**
 * Answers an operation that works across event-loop turns when it settles,
 * or with DEADLINE_EXCEEDED at the connect-timeout-ms deadline (counted from
 * here), aborting the operation then or when the client goes away.
 */
function awaitOutput<T>(
  request: IncomingMessage,
  response: ServerResponse,
  call: LazyCallSignal,
  output: Promise<T>,
  complete: (output: T) => void,
): void {
  const timeout = request.headers["connect-timeout-ms"];
  let timer: NodeJS.Timeout | undefined;
  if (typeof timeout === "string" && /^\d{1,10}$/.test(timeout)) {
    timer = setTimeout(() => {
      const error = new ConnectError("the operation timed out", Code.DeadlineExceeded);
      call.abort(error);
      fail(request, response, error);
    }, Math.min(Number(timeout), maxTimerMs));
  }
  response.once("close", () => call.abort(clientGone));
  output
    .then(complete)
    .catch((error: unknown) => fail(request, response, ConnectError.from(error, Code.Internal)))
    .finally(() => clearTimeout(timer));
}

// Module-level rather than per-request closures: the fast path allocates as little as it can.
function answer(response: ServerResponse, status: number, body: Uint8Array | string, type: string): void {
  if (!response.headersSent) {
    response.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
    response.end(body);
  }
}

/** Answers with a Connect error and stops reading a request that is not complete (an oversized body, say). */
function fail(request: IncomingMessage, response: ServerResponse, error: ConnectError): void {
  answer(response, codeToHttpStatus(error.code), errorToJsonBytes(error, {}), "application/json");
  request.resume();
}
