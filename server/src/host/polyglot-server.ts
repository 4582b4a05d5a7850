import * as httpolyglot from "@httptoolkit/httpolyglot";
import type { RequestListener } from "node:http";
import type { Http2Session } from "node:http2";
import type { Server as NetServer } from "node:net";
import type { SecureContextOptions } from "node:tls";

/** The httpolyglot server plus the connection-closing methods Fastify looks for. */
export type PolyglotServer = NetServer & {
  /** Closes HTTP/1.1 keep-alive connections that have no request in flight. */
  closeIdleConnections(): void;
  /** Destroys every connection at once. */
  closeAllConnections(): void;
  /** Sends GOAWAY on every HTTP/2 session, letting streams in flight finish. */
  closeHttp2Sessions(): void;
};

// The sub-servers httpolyglot hands sniffed connections to (private fields).
interface PolyglotInternals {
  _httpServer: import("node:http").Server;
}

/**
 * Creates one listener that serves HTTP/1.1, HTTP/2 with prior knowledge
 * (h2c, as gRPC clients use it) and, with `tls`, both over TLS (ALPN),
 * telling them apart by each connection's first bytes.
 */
export function createPolyglotServer(listener: RequestListener, tls?: SecureContextOptions): PolyglotServer {
  const server = httpolyglot.createServer(
    tls === undefined ? {} : { tls: { ...tls, ALPNProtocols: ["h2", "http/1.1"] } },
    listener,
  );
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
  // httpolyglot forwards listeners to its HTTP/2 sub-server, so this sees every session.
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return Object.assign(server, {
    closeIdleConnections: () => http1.closeIdleConnections(),
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
    },
  });
}
