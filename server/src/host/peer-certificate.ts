import type { Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { PeerCertificateOf } from "../rpc/client-id.js";

/**
 * The client certificate of a connection, when its TLS handshake verified
 * one against ssl_client_ca (the server asks for one but lets clients
 * without one in: they may send a token); read when asked, so calls with a
 * token never read it. `socket` may be an HTTP/2 session's socket proxy.
 */
export function peerCertificateOf(socket: Socket | undefined): PeerCertificateOf {
  return () => {
    // Duck-typed: an HTTP/2 session's socket is a proxy, not a TLSSocket.
    const tls = socket as Partial<TLSSocket> | undefined;
    if (typeof tls?.getPeerCertificate !== "function" || tls.authorized !== true) {
      return undefined;
    }
    const certificate: PeerCertificate = tls.getPeerCertificate();
    return Object.keys(certificate).length === 0 ? undefined : certificate;
  };
}
