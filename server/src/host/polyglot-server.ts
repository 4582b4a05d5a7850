import * as httpolyglot from "@httptoolkit/httpolyglot";
import type { RequestListener, Server as HttpServer } from "node:http";
import { constants, type Http2Session, type ServerHttp2Stream } from "node:http2";
import type { Server as NetServer, Socket } from "node:net";
import type { SecureContextOptions } from "node:tls";

/** The httpolyglot server plus the connection-closing methods Fastify looks for. */
export type PolyglotServer = NetServer & {
  /** Closes HTTP/1.1 connections that have no response in flight. */
  closeIdleConnections(): void;
  /** Destroys every connection at once. */
  closeAllConnections(): void;
  /** Sends GOAWAY on every HTTP/2 session, letting responses in flight finish. */
  closeHttp2Sessions(): void;
};

// The HTTP/1.1 sub-server httpolyglot hands sniffed connections to (a private field).
interface PolyglotInternals {
  _httpServer: HttpServer;
}

/**
 * Creates one listener that serves HTTP/1.1, HTTP/2 with prior knowledge
 * (h2c, as gRPC clients use it) and, with `tls`, both over TLS (ALPN),
 * telling them apart by each connection's first bytes.
 *
 * A response can be complete while its request is not (an oversized body is
 * refused before it is read); such a connection never looks idle, so the
 * close methods also end connections and streams whose responses are all sent.
 */
export function createPolyglotServer(listener: RequestListener, tls?: SecureContextOptions): PolyglotServer {
  // HTTP/1.1 sockets whose responses have all been sent.
  const answeredSockets = new Set<Socket>();
  const server = httpolyglot.createServer(
    tls === undefined ? {} : { tls: { ...tls, ALPNProtocols: ["h2", "http/1.1"] } },
    (request, response) => {
      const socket = request.socket;
      if (request.httpVersionMajor === 1) {
        answeredSockets.delete(socket);
        response.once("finish", () => answeredSockets.add(socket));
      }
      listener(request, response);
    },
  );
  // The outer net.Server leaves Nagle's algorithm on, which delays small responses by ~40 ms.
  server.on("connection", (socket: Socket) => {
    socket.setNoDelay(true);
    socket.once("close", () => answeredSockets.delete(socket));
  });
  const http1 = (server as unknown as PolyglotInternals)._httpServer;
  // Node tracks HTTP/1.1 connections (which closeIdleConnections needs) only
  // once a server is "listening"; this one never listens itself.
  http1.emit("listening");
  let closed = false;
  // The listener is also added to the sub-servers, so closing http1 calls it again.
  server.on("close", () => {
    if (!closed) {
      closed = true;
      http1.close();
    }
  });
  const sessions = new Set<Http2Session>();
  const streams = new Set<ServerHttp2Stream>();
  // httpolyglot forwards listeners to its HTTP/2 sub-server, so these see every session and stream.
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream: ServerHttp2Stream) => {
    streams.add(stream);
    stream.once("close", () => streams.delete(stream));
  });
  return Object.assign(server, {
    closeIdleConnections: () => {
      http1.closeIdleConnections();
      for (const socket of answeredSockets) {
        socket.destroy();
      }
    },
    closeAllConnections: () => {
      http1.closeAllConnections();
      for (const session of sessions) {
        session.destroy();
      }
    },
    closeHttp2Sessions: () => {
      for (const session of sessions) {
        session.close();
      }
      for (const stream of streams) {
        if (stream.writableEnded) {
          // The response is complete; the rest of the request is not wanted. (NO_ERROR would
          // wait for a 'finish' that Node never emits while the peer is still sending.)
          stream.close(constants.NGHTTP2_CANCEL);
        }
      }
    },
  });
}
