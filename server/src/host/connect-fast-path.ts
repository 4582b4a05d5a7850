import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readClientId } from "../rpc/client-id.js";
import { firstHeaderValue } from "../rpc/first-header-value.js";
import type { UnaryMethodTable } from "../rpc/routes.js";
import { toConnectError } from "../rpc/to-connect-error.js";
import type { RpcCall, RpcObserver } from "../telemetry/rpc-observer.js";
import { clientGone, LazyCallSignal } from "./lazy-call-signal.js";
import { decodeBinaryRequest, decodeJsonRequest } from "./decode-request.js";
import { RequestSizeMeter, type RequestSizeLimit } from "./read-max-bytes.js";
import { connectTimeoutMs, deadlineExceeded } from "./request-deadline.js";
import { stopReadingRequest } from "./stop-reading-request.js";

/** Serves a request and returns true, or returns false to leave it to the general (Fastify/Connect) handler. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * The Connect unary fast path (HTTP/1.1 and HTTP/2): a POST of a unary RPC
 * of ours as `application/json` or `application/proto`, uncompressed, is
 * served directly — the same operation the Connect handler calls, the same
 * JSON and error encoding — without Fastify's and Connect's per-request
 * machinery. Everything else (GET requests, compression, streaming,
 * gRPC-Web, browsers' cross-origin calls when CORS is on, unknown paths)
 * goes to the general handler. Reports each call it serves to `observer`.
 */
export function createConnectFastPath(
  methods: UnaryMethodTable,
  limit: RequestSizeLimit,
  cors: boolean,
  maxClientIdLength: number,
  observer: RpcObserver,
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
    const meter = new RequestSizeMeter(limit, false);
    const declared = meter.declared(Number(headers["content-length"] ?? 0));
    if (declared !== undefined) {
      fail(request, response, declared);
      return true;
    }
    const chunks: Buffer[] = [];
    let failed = false;
    let timer: NodeJS.Timeout | undefined;
    // Set once an operation runs: a deadline that passes while it works across turns (a scan) aborts it.
    let call: LazyCallSignal | undefined;
    // Observed from the request's decoding on (as connect-es's interceptors see calls).
    let observed: RpcCall | undefined;
    const refuse = (error: ConnectError) => {
      observed?.end(error.code);
      failed = true;
      clearTimeout(timer);
      chunks.length = 0;
      call?.abort(error);
      fail(request, response, error);
    };
    const timeout = firstHeaderValue(headers["connect-timeout-ms"]);
    if (timeout !== undefined) {
      let ms;
      try {
        ms = connectTimeoutMs(timeout);
      } catch (error) {
        fail(request, response, error as ConnectError);
        return true;
      }
      // The call's one deadline, counted from its arrival: it may pass while the body is read or while the operation runs.
      timer = ms === undefined ? undefined : setTimeout(() => refuse(deadlineExceeded()), ms);
    }
    request.on("data", (chunk: Buffer) => {
      if (failed) {
        return;
      }
      const tooLarge = meter.add(chunk);
      if (tooLarge !== undefined) {
        refuse(tooLarge);
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
        input = json ? decodeJsonRequest(method.input, body) : decodeBinaryRequest(method.input, body);
      } catch (error) {
        refuse(error as ConnectError);
        return;
      }
      const signal = (call = new LazyCallSignal());
      const observedCall = (observed = observer.start(method, "connect", headers));
      observedCall.received();
      const complete = (output: Parameters<typeof create<typeof method.output>>[1]) => {
        const message = create(method.output, output);
        observedCall.sent();
        observedCall.end(0);
        if (json) {
          answer(response, 200, toJsonString(method.output, message), "application/json");
        } else {
          answer(response, 200, toBinary(method.output, message), "application/proto");
        }
      };
      try {
        const output = operation(input, readClientId(headers, maxClientIdLength), signal);
        if (output instanceof Promise) {
          response.once("close", () => signal.abort(clientGone));
          // After the deadline (or the client's exit) has answered, `answer` writes nothing more.
          output
            .then(complete)
            .catch((error: unknown) => refuse(toConnectError(error)))
            .finally(() => clearTimeout(timer));
        } else {
          clearTimeout(timer);
          complete(output);
        }
      } catch (error) {
        refuse(toConnectError(error));
      }
    });
    return true;
  };
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
  stopReadingRequest(request, response);
  answer(response, codeToHttpStatus(error.code), errorToJsonBytes(error, {}), "application/json");
}
