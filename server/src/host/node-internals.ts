import { Server as HttpServerClass, type Server as HttpServer } from "node:http";
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Server as NetServer, Socket } from "node:net";
import { TLSSocket } from "node:tls";

/**
 * Every use of Node's and httpolyglot's private internals, in one place.
 * Each patch checks what it assumes and, where an upgrade broke it, throws
 * a {@link NodeInternalsError} naming the patch (node-internals.test.ts
 * checks every one against the installed Node and httpolyglot).
 */

/** The patches, by the name errors and the test use. */
export const patches = {
  subServers: "httpolyglot sub-servers (_httpServer, _http2Server)",
  connectionTracking: "HTTP/1.1 connection tracking (a 'listening' event on httpolyglot's HTTP/1.1 sub-server)",
  nativeStreams: "native h2c streams (_handle.isStreamBase)",
  compatListener: "HTTP/2 compatibility listener (onServerStream)",
} as const;

/** A Node or httpolyglot upgrade broke an assumption of one of the {@link patches}. */
export class NodeInternalsError extends Error {
  constructor(patch: string, broken: string) {
    super(`Node/httpolyglot internals changed (Node ${process.version}): patch "${patch}" no longer applies: ${broken}; see server/src/host/node-internals.ts`);
    this.name = "NodeInternalsError";
  }
}

/** The HTTP/1.1 and HTTP/2 servers httpolyglot hands sniffed connections to (private fields). */
export function polyglotSubServers(server: NetServer): { http1: HttpServer; http2: Http2Server } {
  const { _httpServer: http1, _http2Server: http2 } = server as unknown as { _httpServer?: unknown; _http2Server?: unknown };
  if (!(http1 instanceof HttpServerClass)) {
    throw new NodeInternalsError(patches.subServers, "_httpServer is not an http.Server");
  }
  if (http2 === null || typeof http2 !== "object" || http2.constructor.name !== "Http2Server") {
    throw new NodeInternalsError(patches.subServers, "_http2Server is not an Http2Server");
  }
  return { http1, http2: http2 as Http2Server };
}

/**
 * Makes Node track a sub-server's HTTP/1.1 connections (which
 * closeIdleConnections needs): Node starts once a server emits
 * "listening", and this one never listens itself.
 */
export function trackHttp1Connections(http1: HttpServer): void {
  http1.emit("listening");
  const tracker = Object.getOwnPropertySymbols(http1).find((symbol) => symbol.description === "http.server.connections");
  if (tracker === undefined || (http1 as unknown as Record<symbol, unknown>)[tracker] == null) {
    throw new NodeInternalsError(patches.connectionTracking, "the server has no connection list after 'listening'");
  }
}

/**
 * Lets HTTP/2 sessions on plain TCP read their socket natively again.
 * httpolyglot marks sniffed h2c sockets as not stream-based (a workaround it
 * needs for HTTP/2 tunnelled in HTTP/2, which we never get), so Node wraps
 * them in a JavaScript stream: about a quarter of the CPU of a gRPC call.
 * Node itself replays the bytes read while sniffing (its Http2Session
 * receives a socket's buffered data). Where the flag is gone, nothing is
 * changed (only speed is lost): {@link nativeStreamsApply} tells.
 */
export function useNativeStreams(http2: Http2Server): void {
  http2.prependListener("connection", (socket: Socket) => {
    const handle = handleOf(socket);
    if (handle?.isStreamBase === false && !(socket instanceof TLSSocket)) {
      handle.isStreamBase = true;
    }
  });
}

/** Throws unless `socket` (a plain h2c socket after httpolyglot's sniffing) carries the flag {@link useNativeStreams} resets. */
export function nativeStreamsApply(socket: Socket): void {
  if (typeof handleOf(socket)?.isStreamBase !== "boolean") {
    throw new NodeInternalsError(patches.nativeStreams, "the socket's _handle has no boolean isStreamBase");
  }
}

function handleOf(socket: Socket): { isStreamBase?: unknown } | undefined {
  return (socket as Socket & { _handle?: { isStreamBase?: unknown } })._handle;
}

/** Node's own HTTP/2 "stream" listener, which makes compatibility request/response objects. */
export type CompatStreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * Removes Node's HTTP/2 compatibility "stream" listener (found by its
 * function name) from `http2` and returns it, so that a listener in front of
 * it can pass on the streams it declines (call it with `http2` as `this`).
 */
export function takeCompatListener(http2: Http2Server): CompatStreamListener {
  const compat = http2.listeners("stream").find((listener) => listener.name.endsWith("onServerStream"));
  if (compat === undefined) {
    throw new NodeInternalsError(patches.compatListener, "no 'stream' listener named onServerStream");
  }
  http2.removeListener("stream", compat as (...args: unknown[]) => void);
  return compat as CompatStreamListener;
}
