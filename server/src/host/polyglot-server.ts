import * as httpolyglot from "@httptoolkit/httpolyglot";
import type { RequestListener } from "node:http";
import {
  constants,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { Server as NetServer, Socket } from "node:net";
import { TLSSocket, type TlsOptions } from "node:tls";
import type { RequestHandler } from "./connect-fast-path.js";
import { headerListSize, subServerOptions, type ConnectionLimits } from "./connection-limits.js";
import type { StreamHandler } from "./grpc-fast-path.js";
import { armHandshakeDeadline, completeHandshake } from "./handshake-deadline.js";
import { polyglotSubServers, takeCompatListener, trackHttp1Connections, useNativeStreams } from "./node-internals.js";
import { watchSession, type SessionWatchdog } from "./session-watchdog.js";

/** The httpolyglot server plus the connection-closing methods Fastify looks for. */
export type PolyglotServer = NetServer & {
  /** Closes HTTP/1.1 connections that have no response in flight. */
  closeIdleConnections(): void;
  /** Destroys every connection at once. */
  closeAllConnections(): void;
  /** Sends GOAWAY on every HTTP/2 session, letting responses in flight finish. */
  closeHttp2Sessions(): void;
};

/**
 * Creates one listener that serves HTTP/1.1, HTTP/2 with prior knowledge
 * (h2c, as gRPC clients use it) and, with `tls`, both over TLS (ALPN),
 * telling them apart by each connection's first bytes.
 *
 * A response can be complete while its request is not (an oversized body is
 * refused before it is read); such a connection never looks idle, so the
 * close methods also end connections and streams whose responses are all sent.
 *
 * `limits` bound what one client can hold: connections, HTTP/2 streams,
 * header bytes, and the time a connection may stay silent, idle or dead.
 */
export function createPolyglotServer(
  listener: RequestListener,
  tls: TlsOptions | undefined,
  fastPaths: { grpc?: StreamHandler; connect?: RequestHandler },
  limits: ConnectionLimits,
): PolyglotServer {
  // HTTP/1.1 sockets whose responses have all been sent.
  const answeredSockets = new Set<Socket>();
  // Set once closing starts: from then on a socket is ended as soon as its response is sent.
  let closing = false;
  const server = httpolyglot.createServer(
    {
      ...subServerOptions(limits),
      ...(tls === undefined ? {} : { tls: { ...tls, ALPNProtocols: ["h2", "http/1.1"] } }),
    },
    (request, response) => {
      const socket = request.socket;
      if (request.httpVersionMajor === 1) {
        completeHandshake(socket);
        answeredSockets.delete(socket);
        response.once("finish", () => (closing ? socket.end() : answeredSockets.add(socket)));
      }
      if (fastPaths.connect === undefined || !fastPaths.connect(request, response)) {
        listener(request, response);
      }
    },
  );
  // The outer net.Server leaves Nagle's algorithm on, which delays small responses by ~40 ms.
  // (Sub-servers see this listener too: the same socket again, or a TLS socket on top of it.)
  server.on("connection", (socket: Socket) => {
    if (!(socket instanceof TLSSocket)) {
      armHandshakeDeadline(socket, limits.handshakeTimeoutMs);
    }
    socket.setNoDelay(true);
    socket.once("close", () => answeredSockets.delete(socket));
  });
  const { http1, http2 } = polyglotSubServers(server);
  trackHttp1Connections(http1);
  let closed = false;
  // The listener is also added to the sub-servers, so closing http1 calls it again.
  server.on("close", () => {
    if (!closed) {
      closed = true;
      http1.close();
    }
  });
  useNativeStreams(http2);
  routeStreamsThrough(http2, fastPaths.grpc, limits.maxHeaderListSize);
  const sessions = new Map<Http2Session, SessionWatchdog>();
  const streams = new Set<ServerHttp2Stream>();
  // httpolyglot forwards listeners to its HTTP/2 sub-server, so these see every session and stream.
  server.on("session", (session: Http2Session) => {
    // The client's SETTINGS frame completes its connection preface.
    session.once("remoteSettings", () => completeHandshake(session.socket));
    sessions.set(session, watchSession(session, limits));
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream: ServerHttp2Stream) => {
    streams.add(stream);
    const watchdog = sessions.get(stream.session!);
    watchdog?.streamOpened();
    stream.once("close", () => {
      streams.delete(stream);
      watchdog?.streamClosed();
    });
  });
  if (limits.maxConnections > 0) {
    // Node closes connections past the limit as soon as they are accepted, before reading
    // a byte: an HTTP/2 GOAWAY cannot be sent before knowing the peer speaks HTTP/2.
    server.maxConnections = limits.maxConnections;
  }
  return Object.assign(server, {
    closeIdleConnections: () => {
      closing = true;
      http1.closeIdleConnections();
      for (const socket of answeredSockets) {
        socket.destroy();
      }
    },
    closeAllConnections: () => {
      http1.closeAllConnections();
      for (const session of sessions.keys()) {
        session.destroy();
      }
    },
    closeHttp2Sessions: () => {
      for (const session of sessions.keys()) {
        session.close();
      }
      for (const stream of streams) {
        // Answered while the client is still sending (an oversized body, say): the rest of
        // the request is not wanted. (NO_ERROR would wait for a 'finish' that Node never
        // emits while the peer is still sending.) Complete exchanges finish on their own.
        if (stream.writableEnded && !stream.readableEnded) {
          stream.close(constants.NGHTTP2_CANCEL);
        }
      }
    },
  });
}

/**
 * Puts `fastPath` in front of Node's HTTP/2 compatibility layer (the
 * server's own "stream" listener, which makes request/response objects):
 * streams the fast path declines go to it unchanged. Streams whose header
 * list exceeds `maxHeaderListSize` are reset first: Node enforces the
 * setting only once the client has acknowledged it, which a hostile client
 * never does.
 */
function routeStreamsThrough(http2: Http2Server, fastPath: StreamHandler | undefined, maxHeaderListSize: number): void {
  const compat = takeCompatListener(http2);
  http2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (headerListSize(rawHeaders) > maxHeaderListSize) {
      // Node reports a reset with an error code as the stream's error, even one it sends itself.
      stream.on("error", () => {});
      stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    } else if (fastPath === undefined || !fastPath(stream, headers)) {
      compat.call(http2, stream, headers, flags, rawHeaders);
    }
  });
}
