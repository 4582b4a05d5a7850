import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { clientIdFromNodeHeaders } from "../rpc/client-id.js";
import { firstHeaderValue } from "../rpc/first-header-value.js";
import type { UnaryMethodTable } from "../rpc/routes.js";
import { grpcStatusHeaders } from "./grpc-message.js";
import { clientGone, LazyCallSignal } from "./lazy-call-signal.js";

/** Serves a stream and returns true, or returns false to leave it to the general (Connect) handler. */
export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

// grpc-timeout units (gRPC over HTTP/2 spec), in milliseconds.
const timeoutUnits: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * The gRPC unary fast path: a request for a unary RPC of ours, in binary
 * protobuf, uncompressed, is served straight on the HTTP/2 stream: read the
 * 5-byte-framed message (up to `readMaxBytes`), call the same operation the
 * Connect handler calls, write headers, the framed response and trailers.
 * Everything else (streaming, compression, JSON, gRPC-Web, Connect, unknown
 * paths) goes to the general handler. Honours grpc-timeout, the client id
 * metadata (up to `maxClientIdLength` bytes), status codes with percent-encoded messages, size limits and
 * HTTP/2 flow control (Node's stream writes).
 */
export function createGrpcFastPath(methods: UnaryMethodTable, readMaxBytes: number, maxClientIdLength: number): StreamHandler {
  return (stream, headers) => {
    const contentType = headers["content-type"];
    const encoding = headers["grpc-encoding"];
    const entry = methods.get(headers[":path"] ?? "");
    if (
      entry === undefined ||
      headers[":method"] !== "POST" ||
      (contentType !== "application/grpc" && contentType !== "application/grpc+proto") ||
      (encoding !== undefined && encoding !== "identity")
    ) {
      return false;
    }
    new FastCall(stream, headers, entry.method, entry.operation, readMaxBytes, maxClientIdLength).start();
    return true;
  };
}

// Node copies headers it is given, so every response can share these.
const okHeaders = { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": "gzip,br" };
const respondOptions = { waitForTrailers: true };
const okTrailers = { "grpc-status": "0" };

type Entry = NonNullable<ReturnType<UnaryMethodTable["get"]>>;

type Output = ReturnType<Entry["operation"]>;

/** One unary call on the fast path; its own CallContext (see LazyCallSignal). */
class FastCall extends LazyCallSignal {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private done = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: Entry["method"],
    private readonly operation: Entry["operation"],
    private readonly readMaxBytes: number,
    private readonly maxClientIdLength: number,
  ) {
    super();
  }

  start(): void {
    const { stream, headers } = this;
    stream.on("error", () => this.end());
    stream.on("close", () => this.end());
    const timeout = firstHeaderValue(headers["grpc-timeout"]);
    if (timeout !== undefined) {
      const match = /^(\d{1,8})([HMSmun])$/.exec(timeout);
      if (match === null) {
        this.fail(new ConnectError(`protocol error: invalid grpc-timeout value: ${timeout}`, Code.InvalidArgument));
        return;
      }
      const ms = Number(match[1]) * timeoutUnits[match[2]!]!;
      this.timer = setTimeout(() => this.fail(new ConnectError("the operation timed out", Code.DeadlineExceeded)), ms);
    }
    const length = Number(headers["content-length"] ?? 0);
    if (length - 5 > this.readMaxBytes) {
      this.failTooLarge(length - 5);
      return;
    }
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => this.onEnd());
  }

  private onData(chunk: Buffer): void {
    if (this.done) {
      return;
    }
    this.received += chunk.length;
    if (this.received - 5 > this.readMaxBytes) {
      this.failTooLarge(this.received - 5);
      return;
    }
    this.chunks.push(chunk);
  }

  private onEnd(): void {
    if (this.done) {
      return;
    }
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (body.length < 5) {
      this.fail(new ConnectError("protocol error: missing input message for unary method", Code.InvalidArgument));
      return;
    }
    if ((body[0]! & 1) === 1) {
      this.fail(new ConnectError("protocol error: received compressed message without grpc-encoding", Code.Internal));
      return;
    }
    const size = body.readUInt32BE(1);
    if (size !== body.length - 5) {
      this.fail(new ConnectError("protocol error: expected exactly one input message for unary method", Code.InvalidArgument));
      return;
    }
    let output: Output;
    try {
      const clientId = clientIdFromNodeHeaders(this.headers, this.maxClientIdLength);
      const request = fromBinary(this.method.input, body.subarray(5));
      output = this.operation(request, clientId, this);
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
    this.fail(error instanceof ConnectError ? error : new ConnectError(`cannot decode or handle request: ${String(error)}`, Code.Internal));
  }

  private respond(message: Uint8Array): void {
    const { stream } = this;
    // An operation that ran across turns may finish after the deadline or the client's exit: the call is over.
    if (this.done) {
      return;
    }
    this.finish();
    if (stream.destroyed) {
      return;
    }
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    stream.respond(okHeaders, respondOptions);
    stream.once("wantTrailers", () => stream.sendTrailers(okTrailers));
    stream.end(frame);
  }

  private failTooLarge(size: number): void {
    this.fail(new ConnectError(`message size ${size} is larger than configured readMaxBytes ${this.readMaxBytes}`, Code.ResourceExhausted));
  }

  /** Answers with an error status (trailers-only), and stops reading a request that is not complete. */
  private fail(error: ConnectError): void {
    const { stream } = this;
    if (this.done) {
      return;
    }
    this.finish();
    this.abort(error);
    if (stream.destroyed) {
      return;
    }
    if (!stream.headersSent) {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", ...grpcStatusHeaders(error.code, error.rawMessage) },
        { endStream: true },
      );
    }
    if (!stream.readableEnded) {
      // The rest of the request is not wanted.
      stream.close(constants.NGHTTP2_CANCEL);
    }
  }

  /** The stream closed or failed: an operation still running (a scan) stops. */
  private end(): void {
    this.abort(clientGone);
    this.finish();
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.chunks.length = 0;
  }
}
