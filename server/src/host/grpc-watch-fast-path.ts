import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { readClientId } from "../rpc/client-id.js";
import type { WatchMethodTable } from "../rpc/routes.js";
import { toConnectError } from "../rpc/to-connect-error.js";
import type { RpcCall, RpcObserver } from "../telemetry/rpc-observer.js";
import type { WatchMethod, WatchOutput, WatchSession } from "../rpc/watch-session.js";
import type { StoreEvent } from "../store/store-event.js";
import { decodeBinaryRequest } from "./decode-request.js";
import { grpcFrame, grpcOkHeaders, grpcOkTrailers, isPlainGrpcCall, respondGrpcStatus, singleGrpcMessage } from "./grpc-envelope.js";
import type { StreamHandler } from "./grpc-fast-path.js";
import { grpcStatusHeaders } from "./grpc-message.js";
import { readGrpcRequestBody, type GrpcBodyReceiver } from "./grpc-request-body.js";
import { clientGone } from "./lazy-call-signal.js";
import type { RequestSizeLimit } from "./read-max-bytes.js";
import { armGrpcDeadline, deadlineExceeded } from "./request-deadline.js";
import type { WatchSink } from "../watch/watch-sink.js";
import { http2StreamSink } from "./node-watch-sink.js";

/**
 * The gRPC watch fast path: a watch call (WatchStream, WatchKeyValue) in
 * binary protobuf over HTTP/2 is served straight on its stream, and each
 * event's message is encoded and framed once for all its watchers: every
 * watcher's stream is written the same Buffer (Node's HTTP/2 streams hold
 * what they are given, they do not copy it). Through connect-es, every
 * stream would serialize and frame its own copy: with a 1 MB value and
 * 1,000 watchers, gigabytes and seconds of CPU per event.
 *
 * The watch itself is the same {@link WatchMethod} the Connect handlers
 * drive (validation, limits, cut-offs, progress); this only frames and
 * writes, waiting for each write to be taken ('drain') before asking for
 * the next message, as connect-node does. gRPC-Web, Connect, JSON and
 * compressed requests are declined (served by connect-es). Reports each
 * call it serves to `observer`.
 */
export class GrpcWatchFastPath {
  /** Event messages encoded (each event once per method, whatever the number of its watchers). */
  eventFramesEncoded = 0;
  /** Event message frames written to watch streams (one encoded frame to each of its watchers). */
  eventFramesWritten = 0;
  // The frames of events still held (by the event log or a watcher's queue): they go with their event.
  private readonly frames = new Map<WatchMethod, WeakMap<StoreEvent, Buffer>>();

  constructor(
    private readonly methods: WatchMethodTable,
    private readonly limit: RequestSizeLimit,
    private readonly maxClientIdLength: number,
    readonly observer: RpcObserver,
  ) {
    for (const method of methods.values()) {
      this.frames.set(method, new WeakMap());
    }
  }

  /** Serves a gRPC watch call, or declines the stream (false). */
  readonly handle: StreamHandler = (stream, headers) => {
    const method = this.methods.get(headers[":path"] ?? "");
    if (method === undefined || !isPlainGrpcCall(headers)) {
      return false;
    }
    new WatchCall(this, stream, headers, method, this.limit, this.maxClientIdLength).start();
    return true;
  };

  /** The framed message of `event` for `method`, encoded on first use. */
  eventFrame(method: WatchMethod, event: StoreEvent): Buffer {
    const frames = this.frames.get(method)!;
    let frame = frames.get(event);
    if (frame === undefined) {
      frame = encodedFrame(method, method.eventMessage(event));
      frames.set(event, frame);
      this.eventFramesEncoded++;
    }
    this.eventFramesWritten++;
    return frame;
  }
}

/** A response message of `method`, encoded and framed. */
function encodedFrame(method: WatchMethod, message: MessageInitShape<DescMessage>): Buffer {
  return grpcFrame(toBinary(method.method.output, create(method.method.output, message)));
}

const respondOptions = { waitForTrailers: true };

/** One gRPC watch call on the fast path. */
class WatchCall implements GrpcBodyReceiver {
  private session: WatchSession<WatchMethod["method"]> | undefined;
  /** The call is over: answered, or its stream gone. */
  private done = false;
  /** A frame waits for the stream to take it ('drain'). */
  private writing = false;
  private deadline: NodeJS.Timeout | undefined;
  private readonly sink: WatchSink;
  /** Observed from the request's decoding on (as connect-es's interceptors see calls). */
  private call: RpcCall | undefined;

  constructor(
    private readonly fastPath: GrpcWatchFastPath,
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: WatchMethod,
    private readonly limit: RequestSizeLimit,
    private readonly maxClientIdLength: number,
  ) {
    this.sink = http2StreamSink(stream);
  }

  start(): void {
    const { stream, headers } = this;
    // A reset (the client's, or the hub's through the sink) shows as 'close'.
    stream.on("error", () => {});
    stream.once("close", () => this.gone());
    try {
      this.deadline = armGrpcDeadline(headers, () => this.expire());
    } catch (error) {
      this.fail(error);
      return;
    }
    readGrpcRequestBody(stream, headers, this.limit, this);
  }

  /** Opens the watch (errors answer trailers-only), sends the headers and starts sending. */
  onBody(body: Buffer): void {
    if (this.done) {
      return;
    }
    const { method, stream } = this;
    let session: WatchSession<WatchMethod["method"]>;
    try {
      // In connect-es's order: the message, then the client id.
      const request = decodeBinaryRequest(method.method.input, singleGrpcMessage(body, "server_streaming"));
      this.call = this.fastPath.observer.start(method.method, "grpc", this.headers);
      this.call.received();
      const clientId = readClientId(this.headers, this.maxClientIdLength);
      session = method.open(request, clientId, { clientId, sink: this.sink });
    } catch (error) {
      this.fail(error);
      return;
    }
    this.session = session;
    if (stream.destroyed) {
      session.end(); // reset by its client after its request was complete, before 'close' came
      return;
    }
    stream.respond(grpcOkHeaders, respondOptions);
    void this.send(session);
  }

  /** Writes the session's messages until it ends, then the trailers with its status. */
  private async send(session: WatchSession<WatchMethod["method"]>): Promise<void> {
    let trailers: Record<string, string> = grpcOkTrailers;
    let code = 0;
    const outputs = session[Symbol.asyncIterator]();
    try {
      // Not a for-await loop: its variable would hold the last message (a value of up to a megabyte
      // for each watcher) while the stream waits for the next event.
      while (!(await this.sendNext(outputs))) {
        // Each step sends one message.
      }
    } catch (error) {
      const connectError = toConnectError(error);
      code = connectError.code;
      trailers = grpcStatusHeaders(code, connectError.rawMessage);
      // As a for-await loop would: the session's generator runs its cleanup (the subscription ends).
      await outputs.return?.(undefined);
    }
    this.finish();
    this.call?.end(code);
    const { stream } = this;
    if (!stream.destroyed && !stream.writableEnded) {
      stream.once("wantTrailers", () => stream.sendTrailers(trailers));
      stream.end();
    }
  }

  /** Sends the session's next message; true once the session has ended. */
  private async sendNext(outputs: AsyncIterator<WatchOutput<WatchMethod["method"]>>): Promise<boolean> {
    const next = await outputs.next();
    if (next.done === true) {
      return true;
    }
    const output = next.value;
    const { method, fastPath } = this;
    this.call?.sent();
    await this.write("event" in output ? fastPath.eventFrame(method, output.event) : encodedFrame(method, output.message));
    return false;
  }

  /**
   * Writes a frame; resolves once the stream has taken it (at once when its
   * buffer has room, else at 'drain'), rejects when the stream closes first.
   */
  private write(frame: Buffer): Promise<void> | undefined {
    const { stream } = this;
    if (stream.destroyed || stream.writableEnded) {
      return Promise.reject(clientGone);
    }
    if (stream.write(frame)) {
      return undefined;
    }
    this.writing = true;
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.writing = false;
        stream.off("close", onClose);
        resolve();
      };
      const onClose = () => {
        this.writing = false;
        stream.off("drain", onDrain);
        reject(clientGone);
      };
      stream.once("drain", onDrain);
      stream.once("close", onClose);
    });
  }

  /**
   * The deadline passed: the watch ends with DEADLINE_EXCEEDED after what
   * was taken; a stream still holding a frame its client has not taken is
   * reset instead, as the hub resets stuck watchers (its trailers would wait
   * behind that frame, and the hub no longer watches an ended stream).
   */
  private expire(): void {
    if (this.session !== undefined) {
      this.session.end(deadlineExceeded());
      if (this.writing) {
        this.sink.reset();
      }
    } else {
      this.fail(deadlineExceeded());
    }
  }

  /** The stream closed (the client went away, or the stream was reset): the watch ends. */
  private gone(): void {
    if (!this.done) {
      this.call?.end(clientGone.code);
    }
    this.finish();
    this.session?.end();
  }

  /** Answers with an error status (trailers-only), and stops reading a request that is not complete. */
  fail(error: unknown): void {
    const { stream } = this;
    if (this.done) {
      return;
    }
    this.finish();
    const connectError = toConnectError(error);
    this.call?.end(connectError.code);
    if (stream.destroyed) {
      return;
    }
    respondGrpcStatus(stream, connectError);
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.deadline);
  }
}
