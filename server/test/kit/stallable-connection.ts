import { create, toBinary } from "@bufbuild/protobuf";
import { WatchKeyValueRequestSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";

/** How a raw watch stream ended, as its client saw it. */
export interface StreamEnd {
  /** grpc-status of the trailers, when they came. */
  grpcStatus?: number;
  grpcMessage?: string;
  /** The RST_STREAM code, when the server reset the stream. */
  rstCode?: number;
  /** Set when the stream ended because the connection was closed. */
  connectionClosed?: true;
}

/** A raw gRPC WatchKeyValue call on a {@link StallableConnection}. */
export interface RawWatch {
  /** Body bytes received so far. */
  readonly received: () => number;
  /** Settles when the stream has ended, however it ended. */
  readonly ended: Promise<StreamEnd>;
}

// The largest window HTTP/2 allows (2^31 - 1).
const maxWindow = 2 ** 31 - 1;

/**
 * An HTTP/2 client connection that can stop reading, as an adversarial client
 * would: its TCP socket is paused, so what the server writes piles up in the
 * server's own buffers. Its flow-control windows are as large as HTTP/2
 * allows, so that flow control never holds the server back first.
 */
export class StallableConnection {
  private reading = true;
  /** Settles when the TCP connection has closed (e.g. the server closed it). */
  readonly closed: Promise<void>;

  private constructor(
    readonly session: http2.ClientHttp2Session,
    private readonly tcp: net.Socket,
  ) {
    this.closed = new Promise((resolve) => tcp.once("close", () => resolve()));
  }

  /** Connects to `url` (http://host:port) with prior knowledge. */
  static async open(url: string): Promise<StallableConnection> {
    const { hostname, port } = new URL(url);
    const tcp = net.connect(Number(port), hostname);
    let connection: StallableConnection | undefined;
    // A JavaScript stream between the socket and the session: the session then
    // reads only what this stream is given, and pausing the socket stops it.
    const wrapper = new Duplex({
      read: () => {
        if (connection?.reading !== false) tcp.resume();
      },
      write: (chunk, _encoding, callback) => void tcp.write(chunk, callback),
      final: (callback) => {
        tcp.end();
        callback();
      },
      destroy: (error, callback) => {
        tcp.destroy();
        callback(error);
      },
    });
    tcp.on("data", (data) => {
      if (!wrapper.push(data)) tcp.pause();
    });
    tcp.on("end", () => wrapper.push(null));
    tcp.on("error", (error) => wrapper.destroy(error));
    const session = http2.connect(url, { createConnection: () => wrapper, settings: { initialWindowSize: maxWindow } });
    session.on("error", () => {}); // the tests look at streams, not at how the connection ends
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    session.setLocalWindowSize(maxWindow);
    connection = new StallableConnection(session, tcp);
    return connection;
  }

  /** Stops reading the socket: nothing more reaches the session. */
  stopReading(): void {
    this.reading = false;
    this.tcp.pause();
  }

  /** Reads the socket again. */
  resumeReading(): void {
    this.reading = true;
    this.tcp.resume();
  }

  /** Opens WatchKeyValue of `key` as `clientId` over gRPC; resolves once the server has answered with headers. */
  async watchKeyValue(key: string, clientId: string): Promise<RawWatch> {
    const stream = this.session.request({
      ":method": "POST",
      ":path": "/keyquarry.KeyQuarry/WatchKeyValue",
      "content-type": "application/grpc",
      te: "trailers",
      client_id: clientId,
    });
    const message = toBinary(WatchKeyValueRequestSchema, create(WatchKeyValueRequestSchema, { key }));
    const envelope = Buffer.alloc(5 + message.length);
    envelope.writeUInt32BE(message.length, 1);
    envelope.set(message, 5);
    stream.end(envelope);
    let received = 0;
    stream.on("data", (chunk: Buffer) => (received += chunk.length));
    const end: StreamEnd = {};
    const record = (headers: http2.IncomingHttpHeaders) => {
      if (headers["grpc-status"] !== undefined) {
        end.grpcStatus = Number(headers["grpc-status"]);
        end.grpcMessage = decodeURIComponent(String(headers["grpc-message"] ?? ""));
      }
    };
    stream.on("trailers", record);
    const ended = new Promise<StreamEnd>((resolve) => {
      stream.on("error", () => {}); // a reset shows as rstCode below
      stream.on("close", () => {
        if (this.tcp.destroyed && end.grpcStatus === undefined) {
          end.connectionClosed = true;
        } else if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
          end.rstCode = stream.rstCode;
        }
        resolve(end);
      });
    });
    await new Promise<void>((resolve, reject) => {
      stream.once("response", (headers) => {
        record(headers);
        resolve();
      });
      stream.once("close", () => reject(new Error("the watch stream closed before its response headers")));
    });
    return { received: () => received, ended };
  }

  /** Closes the connection at once. */
  close(): void {
    this.session.destroy();
    this.tcp.destroy();
  }
}
