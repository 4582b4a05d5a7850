import { Code, ConnectError } from "@connectrpc/connect";
import { createHash, timingSafeEqual } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import type { Identity } from "./identity.js";
import type { IdentityEntry } from "./identities-file.js";

/** What a call presents to prove who it is. */
export interface Credentials {
  /** The `authorization` header, if any. */
  readonly authorization: string | undefined;
  /** The client certificate, when the TLS handshake verified one against ssl_client_ca (read only when no token is sent). */
  readonly certificate: () => PeerCertificate | undefined;
}

/**
 * Tells who a call is from, against the identities of the file (replaced as
 * a whole on reload): `authorization: Bearer <token>` (its SHA-256 compared
 * in constant time with every digest of the file, with no early exit that
 * would tell which one matched), else a verified client certificate whose CN
 * or a URI SAN is an identity's id. UNAUTHENTICATED otherwise; the message
 * never holds the token.
 */
export class Authenticator {
  private tokens: ReadonlyArray<{ digest: Buffer; identity: Identity }> = [];
  private byId: ReadonlyMap<string, Identity> = new Map();

  constructor(entries: readonly IdentityEntry[]) {
    this.replace(entries);
  }

  /** How many identities are known. */
  get size(): number {
    return this.byId.size;
  }

  /** Takes the identities of a newly read file; calls already authenticated keep the identity they had. */
  replace(entries: readonly IdentityEntry[]): void {
    this.tokens = entries.flatMap(({ identity, tokenHashes }) => tokenHashes.map((digest) => ({ digest, identity })));
    this.byId = new Map(entries.map(({ identity }) => [identity.id, identity]));
  }

  /** The identity the credentials prove; UNAUTHENTICATED when they prove none. */
  authenticate(credentials: Credentials): Identity {
    const { authorization } = credentials;
    if (authorization !== undefined) {
      const match = /^Bearer +(\S+) *$/i.exec(authorization);
      if (match === null) {
        throw unauthenticated("the authorization header must be \"Bearer <token>\"");
      }
      return this.byToken(match[1]!) ?? unauthenticated("unknown token");
    }
    const certificate = credentials.certificate();
    if (certificate !== undefined) {
      const names = certificateNames(certificate);
      const identity = names.map((name) => this.byId.get(name)).find((found) => found !== undefined);
      return identity ?? unauthenticated(`the client certificate (${names.join(", ") || "no CN or URI SAN"}) names no identity`);
    }
    return unauthenticated("credentials required: send \"authorization: Bearer <token>\" or a client certificate");
  }

  private byToken(token: string): Identity | undefined {
    const digest = createHash("sha256").update(token).digest();
    let found: Identity | undefined;
    // Every digest is compared, whichever matches.
    for (const entry of this.tokens) {
      if (timingSafeEqual(entry.digest, digest)) {
        found = entry.identity;
      }
    }
    return found;
  }
}

/** A certificate's subject CN and URI subject alternative names: the ids it may stand for. */
export function certificateNames(certificate: PeerCertificate): string[] {
  const cn = certificate.subject?.CN;
  const names = cn === undefined ? [] : Array.isArray(cn) ? [...cn] : [cn];
  for (const name of (certificate.subjectaltname ?? "").split(", ")) {
    if (name.startsWith("URI:")) {
      names.push(name.slice("URI:".length));
    }
  }
  return names;
}

function unauthenticated(message: string): never {
  throw new ConnectError(message, Code.Unauthenticated);
}
