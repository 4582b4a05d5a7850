import type { Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";

/** The socket of a call's connection: a TLSSocket over TLS (an HTTP/2 session's socket is a proxy of one). */
export type PeerSocket = Socket;

/**
 * The client certificate of a connection, when its TLS handshake verified
 * one against ssl_client_ca (the server asks for one but lets clients
 * without one in: they may send a token instead).
 */
export function verifiedPeerCertificate(socket: PeerSocket | undefined): PeerCertificate | undefined {
  // Duck-typed: the HTTP/2 proxy is no instance of TLSSocket.
  const tls = socket as Partial<TLSSocket> | undefined;
  if (tls?.authorized !== true || typeof tls.getPeerCertificate !== "function") {
    return undefined;
  }
  const certificate = tls.getPeerCertificate();
  return Object.keys(certificate).length === 0 ? undefined : certificate;
}
