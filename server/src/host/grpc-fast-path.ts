import { create, toBinary } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { readClientId } from "../rpc/client-id.js";
import type { UnaryMethodTable } from "../rpc/routes.js";
import { toConnectError } from "../rpc/to-connect-error.js";
import type { RpcCall, RpcObserver } from "../telemetry/rpc-observer.js";
import { decodeBinaryRequest } from "./decode-request.js";
import { grpcFrame, grpcOkHeaders, grpcOkTrailers, isPlainGrpcCall, respondGrpcStatus, singleGrpcMessage } from "./grpc-envelope.js";
import { readGrpcRequestBody, type GrpcBodyReceiver } from "./grpc-request-body.js";
import { clientGone, LazyCallSignal } from "./lazy-call-signal.js";
import type { RequestSizeLimit } from "./read-max-bytes.js";
import { armGrpcDeadline, deadlineExceeded } from "./request-deadline.js";
import { stopStreamAfterResponse } from "./stop-reading-request.js";

/** Serves a stream and returns true, or returns false to leave it to the general (Connect) handler. */
export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

/**
 * The gRPC unary fast path: a request for a unary RPC of ours, in binary
 * protobuf, uncompressed, is served straight on the HTTP/2 stream: read the
 * 5-byte-framed message (up to `limit`), call the same operation the
 * Connect handler calls, write headers, the framed response and trailers.
 * Everything else (streaming, compression, JSON, gRPC-Web, Connect, unknown
 * paths) goes to the general handler. Honours grpc-timeout, the client id
 * metadata (up to `maxClientIdLength` bytes), status codes with percent-encoded messages, size limits and
 * HTTP/2 flow control (Node's stream writes). Reports each call it serves to `observer`.
 */
export function createGrpcFastPath(
  methods: UnaryMethodTable,
  limit: RequestSizeLimit,
  maxClientIdLength: number,
  observer: RpcObserver,
): StreamHandler {
  return (stream, headers) => {
    const entry = methods.get(headers[":path"] ?? "");
    if (entry === undefined || !isPlainGrpcCall(headers)) {
      return false;
    }
    new FastCall(stream, headers, entry.method, entry.operation, limit, maxClientIdLength, observer).start();
    return true;
  };
}

const respondOptions = { waitForTrailers: true };

type Entry = NonNullable<ReturnType<UnaryMethodTable["get"]>>;

type Output = ReturnType<Entry["operation"]>;

/** One unary call on the fast path; its own CallContext (see LazyCallSignal). */
class FastCall extends LazyCallSignal implements GrpcBodyReceiver {
  private done = false;
  private deadline: NodeJS.Timeout | undefined;
  /** Observed from the request's decoding on (as connect-es's interceptors see calls). */
  private call: RpcCall | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: Entry["method"],
    private readonly operation: Entry["operation"],
    private readonly limit: RequestSizeLimit,
    private readonly maxClientIdLength: number,
    private readonly observer: RpcObserver,
  ) {
    super();
  }

  start(): void {
    const { stream, headers } = this;
    stream.on("error", () => this.end());
    stream.on("close", () => this.end());
    try {
      this.deadline = armGrpcDeadline(headers, () => this.fail(deadlineExceeded()));
    } catch (error) {
      this.failWith(error);
      return;
    }
    readGrpcRequestBody(stream, headers, this.limit, this);
  }

  /** The request body arrived (see readGrpcRequestBody). */
  onBody(body: Buffer): void {
    if (this.done) {
      return;
    }
    let output: Output;
    try {
      // In connect-es's order: the message, then the client id (its interceptor sees a decoded request).
      const request = decodeBinaryRequest(this.method.input, singleGrpcMessage(body, "unary"));
      this.call = this.observer.start(this.method, "grpc", this.headers);
      this.call.received();
      output = this.operation(request, readClientId(this.headers, this.maxClientIdLength), this);
    } catch (error) {
      this.failWith(error);
      return;
    }
    if (output instanceof Promise) {
      output.then(
        (value) => this.complete(value),
        (error: unknown) => this.failWith(error),
      );
      return;
    }
    this.complete(output);
  }

  private complete(output: Awaited<Output>): void {
    let response: Uint8Array;
    try {
      response = toBinary(this.method.output, create(this.method.output, output));
    } catch (error) {
      this.failWith(error);
      return;
    }
    this.respond(response);
  }

  private failWith(error: unknown): void {
    this.fail(toConnectError(error));
  }

  private respond(message: Uint8Array): void {
    const { stream } = this;
    // An operation that ran across turns may finish after the deadline or the client's exit: the call is over.
    if (this.done) {
      return;
    }
    this.finish();
    this.call?.sent();
    this.call?.end(0);
    if (stream.destroyed) {
      return;
    }
    stream.respond(grpcOkHeaders, respondOptions);
    stream.once("wantTrailers", () => stream.sendTrailers(grpcOkTrailers));
    stream.end(grpcFrame(message));
  }

  /** Answers with an error status (trailers-only), and stops reading a request that is not complete. */
  fail(error: ConnectError): void {
    const { stream } = this;
    if (this.done) {
      return;
    }
    this.finish();
    this.call?.end(error.code);
    this.abort(error);
    if (stream.destroyed) {
      return;
    }
    if (!stream.headersSent) {
      respondGrpcStatus(stream, error);
    } else {
      // The rest of the request is not wanted.
      stopStreamAfterResponse(stream);
    }
  }

  /** The stream closed or failed: an operation still running (a scan) stops. */
  private end(): void {
    if (!this.done) {
      this.call?.end(clientGone.code);
    }
    this.abort(clientGone);
    this.finish();
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.deadline);
  }
}
