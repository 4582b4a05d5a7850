import type { ServerOptions as Http1Options } from "node:http";
import type { ServerOptions as Http2Options } from "node:http2";
import type { Config } from "../config/config.js";

/** What one client may hold of the server's connections; times in milliseconds, 0 = off. */
export interface ConnectionLimits {
  /** HTTP/2 streams open at once on one connection. */
  maxConcurrentStreams: number;
  /** Bytes of one request's header list. */
  maxHeaderListSize: number;
  /** Open connections; 0 = unlimited. */
  maxConnections: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

/** The connection limits of `config`. */
export function connectionLimitsFor(config: Config): ConnectionLimits {
  const ms = (ns: bigint) => Number(ns / 1_000_000n);
  return {
    maxConcurrentStreams: config.maxConcurrentStreams,
    maxHeaderListSize: config.maxHeaderListSize,
    maxConnections: config.maxConnections,
    handshakeTimeoutMs: ms(config.handshakeTimeout),
    idleTimeoutMs: ms(config.idleTimeout),
    keepaliveIntervalMs: ms(config.keepaliveInterval),
    keepaliveTimeoutMs: ms(config.keepaliveTimeout),
  };
}

/**
 * Options of the HTTP/1.1 and HTTP/2 servers that enforce the limits
 * themselves: Node answers an oversized HTTP/1.1 header with 431 and resets
 * an HTTP/2 stream whose header list is too large; nghttp2 refuses streams
 * past the advertised SETTINGS_MAX_CONCURRENT_STREAMS with REFUSED_STREAM.
 */
export function subServerOptions(limits: ConnectionLimits): { http: Http1Options; http2: Http2Options } {
  return {
    http: { maxHeaderSize: limits.maxHeaderListSize },
    http2: {
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderListSize,
      },
    },
  };
}

/**
 * The size of a header list as HTTP/2 counts it against
 * SETTINGS_MAX_HEADER_LIST_SIZE: each field's name and value octets plus 32
 * (RFC 9113 §6.5.2). `rawHeaders` alternates names and values; Node keeps
 * header values as latin1 strings, one character per octet.
 */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    size += rawHeaders[i]!.length + rawHeaders[i + 1]!.length + 32;
  }
  return size;
}
