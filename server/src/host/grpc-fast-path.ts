import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { clientIdFromNodeHeaders } from "../rpc/client-id.js";
import { firstHeaderValue } from "../rpc/first-header-value.js";
import type { UnaryMethodTable } from "../rpc/routes.js";
import { grpcStatusHeaders } from "./grpc-message.js";
import { clientGone, LazyCallSignal } from "./lazy-call-signal.js";
import { requestTooLarge, type RequestSizeLimit } from "./read-max-bytes.js";
import { deadlineExceeded, grpcTimeoutMs } from "./request-deadline.js";
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
 * HTTP/2 flow control (Node's stream writes).
 */
export function createGrpcFastPath(methods: UnaryMethodTable, limit: RequestSizeLimit, maxClientIdLength: number): StreamHandler {
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
    new FastCall(stream, headers, entry.method, entry.operation, limit, maxClientIdLength).start();
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
    private readonly limit: RequestSizeLimit,
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
      let ms;
      try {
        ms = grpcTimeoutMs(timeout);
      } catch (error) {
        this.fail(error as ConnectError);
        return;
      }
      if (ms !== undefined) {
        this.timer = setTimeout(() => this.fail(deadlineExceeded()), ms);
      }
    }
    const length = Number(headers["content-length"] ?? 0);
    if (length - 5 > this.limit.bytes) {
      this.fail(requestTooLarge(this.limit, length - 5, true));
      return;
    }
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => this.onEnd());
  }

  private onData(chunk: Buffer): void {
    if (this.done) {
      return;
    }
    const before = this.received;
    this.received += chunk.length;
    this.chunks.push(chunk);
    if (before < 5 && this.received >= 5) {
      // The frame header says how large the message is: refuse it before it arrives.
      const header = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
      const size = header.readUInt32BE(1);
      if (size > this.limit.bytes) {
        this.fail(requestTooLarge(this.limit, size, true));
        return;
      }
    }
    if (this.received - 5 > this.limit.bytes) {
      this.fail(requestTooLarge(this.limit, this.received - 5, false));
    }
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
    // The rest of the request is not wanted.
    stopStreamAfterResponse(stream);
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
