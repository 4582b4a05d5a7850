import http2 from "node:http2";
import { setTimeout } from "node:timers/promises";
import { create, fromBinary, toBinary, type DescMethod, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyquarryHttp2Target } from "@keyquarry/client-node";

/**
 * Unary gRPC calls over one node:http2 session. For bulk work only: a call
 * through the connect client costs several times the CPU (abort signals,
 * async iterables, errors built per call), which made `load` slower than the
 * server. Errors are ConnectErrors as the connect client's are (code from
 * grpc-status, UNAVAILABLE when the connection fails), so callers treat
 * them alike.
 */
export class GrpcUnarySession {
  private readonly session: http2.ClientHttp2Session;
  private readonly pathPrefix: string;
  /** Request headers by method, built once: they are the same for every call. */
  private readonly headers = new Map<DescMethod, http2.OutgoingHttpHeaders>();

  constructor(
    private readonly target: KeyquarryHttp2Target,
    private readonly timeoutMs?: number,
  ) {
    const url = new URL(target.baseUrl);
    this.pathPrefix = url.pathname.replace(/\/$/, "");
    this.session = http2.connect(url.origin, target.sessionOptions);
    // Each call's stream reports the failure; without a listener it would crash the process.
    this.session.on("error", () => undefined);
  }

  /**
   * Calls `method` with `input`; rejects with a ConnectError. A stream the
   * server refused (REFUSED_STREAM: not processed, e.g. sent before its
   * stream limit was known, or while it is short of session memory) is
   * sent again after a pause, as gRPC clients do.
   */
  async call<M extends DescMethodUnary>(method: M, input: MessageInitShape<M["input"]>): Promise<MessageShape<M["output"]>> {
    const frame = grpcFrame(toBinary(method.input, create(method.input, input)));
    for (let attempt = 1; ; attempt++) {
      const response = await this.exchange(method, frame, attempt < maxAttempts);
      if (response !== "refused") {
        return fromBinary(method.output, response) as MessageShape<M["output"]>;
      }
      await setTimeout(Math.min(1000, 10 * 2 ** attempt));
    }
  }

  /** One request and its response message; "refused" when the server refused the stream and `retry` allows another. */
  private exchange(method: DescMethodUnary, frame: Buffer, retry: boolean): Promise<Uint8Array | "refused"> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.session.request(this.headersFor(method));
      } catch (error) {
        // The session is gone (closed, or the server sent GOAWAY).
        reject(new ConnectError(error instanceof Error ? error.message : String(error), Code.Unavailable, undefined, undefined, error));
        return;
      }
      const chunks: Buffer[] = [];
      let headers: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      let failure: ConnectError | undefined;
      stream.on("response", (received) => (headers = received));
      stream.on("trailers", (received) => (trailers = received));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error) => (failure = new ConnectError(error.message, Code.Unavailable, undefined, undefined, error)));
      if (this.timeoutMs !== undefined) {
        stream.setTimeout(this.timeoutMs, () => {
          failure = new ConnectError("the operation timed out", Code.DeadlineExceeded);
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
      }
      stream.on("close", () => {
        if (retry && headers === undefined && stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) {
          resolve("refused");
          return;
        }
        try {
          resolve(responseMessage(failure, headers ?? {}, trailers ?? headers ?? {}, Buffer.concat(chunks)));
        } catch (error) {
          reject(error);
        }
      });
      stream.end(frame);
    });
  }

  /** A stream of `method` (a streaming RPC), with the same headers as a call; the caller frames and reads its messages. */
  stream(method: DescMethod): http2.ClientHttp2Stream {
    try {
      return this.session.request(this.headersFor(method));
    } catch (error) {
      throw new ConnectError(error instanceof Error ? error.message : String(error), Code.Unavailable, undefined, undefined, error);
    }
  }

  private headersFor(method: DescMethod): http2.OutgoingHttpHeaders {
    let headers = this.headers.get(method);
    if (headers === undefined) {
      headers = {
        ":method": "POST",
        ":path": `${this.pathPrefix}/${method.parent.typeName}/${method.name}`,
        "content-type": "application/grpc+proto",
        te: "trailers",
        ...(this.timeoutMs === undefined ? {} : { "grpc-timeout": `${this.timeoutMs}m` }),
        ...this.target.headers,
      };
      this.headers.set(method, headers);
    }
    return headers;
  }

  /** Closes the connection once the calls in flight are done. */
  close(): void {
    this.session.close();
  }
}

/** A gRPC message frame (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** Sends of a refused stream, in all. */
const maxAttempts = 8;

/** The call's failure as a ConnectError from its trailers (or the headers of a trailers-only response), or undefined for grpc-status 0. */
export function statusError(headers: http2.IncomingHttpHeaders, trailers: http2.IncomingHttpHeaders): ConnectError | undefined {
  const status = trailers["grpc-status"];
  if (status === undefined) {
    return new ConnectError(`no grpc-status in the response (HTTP ${String(headers[":status"])})`, Code.Unknown);
  }
  if (status === "0") {
    return undefined;
  }
  const code = Number(status);
  return new ConnectError(decodeMessage(trailers["grpc-message"]), Code[code] === undefined ? Code.Unknown : (code as Code));
}

/** The response message's bytes, or the call's failure as a ConnectError. */
function responseMessage(
  failure: ConnectError | undefined,
  headers: http2.IncomingHttpHeaders,
  // The trailers, or the headers of a trailers-only response.
  trailers: http2.IncomingHttpHeaders,
  body: Buffer,
): Uint8Array {
  const error = failure ?? statusError(headers, trailers);
  if (error !== undefined) {
    throw error;
  }
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
    throw new ConnectError("the response is not one uncompressed gRPC message", Code.Internal);
  }
  return body.subarray(5);
}

/** grpc-message is percent-encoded. */
function decodeMessage(text: string | string[] | undefined): string {
  const message = Array.isArray(text) ? text.join(",") : (text ?? "");
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}
