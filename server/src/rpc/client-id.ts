import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { IncomingHttpHeaders } from "node:http";
import type { Authenticator } from "../auth/authenticator.js";
import type { Identity } from "../auth/identity.js";
import { verifiedPeerCertificate, type PeerSocket } from "../auth/peer-certificate.js";
import { StoreError } from "../store/store-error.js";
import { toConnectError } from "./to-connect-error.js";
import { serverClientId } from "../store/store-event.js";
import { firstHeaderValue } from "./first-header-value.js";

/** Who a call is from. */
export interface Caller {
  /** The client id the call runs as: the identity's id with auth on, the client_id header without. */
  readonly id: string;
  /** The authenticated identity; undefined while auth is off (then nothing is checked beyond the client id). */
  readonly identity: Identity | undefined;
}

/** How callers are read: the client id limit and, with auth on, the authenticator. */
export interface CallerCheck {
  /** max_client_id_length in bytes, 0 for no limit. */
  readonly maxClientIdLength: number;
  readonly authenticator: Authenticator | undefined;
}

/** Context value holding the caller of the current call. */
export const callerKey = createContextKey<Caller>({ id: "", identity: undefined }, { description: "keyquarry caller" });

/** Context value holding the current call's connection socket, set by the host (for client certificates). */
export const peerSocketKey = createContextKey<PeerSocket | undefined>(undefined, { description: "keyquarry peer socket" });

/**
 * The one reader of the caller, for every path: the interceptor (connect-es's
 * fetch Headers) and the fast paths (Node's headers), with the call's
 * connection socket (for a client certificate). Without auth, the
 * client id is the self-declared `client_id` header (see {@link readClientId}).
 * With auth, the credentials name an identity (UNAUTHENTICATED if they do
 * not), which is the client id; a client_id header may only repeat it
 * (PERMISSION_DENIED otherwise).
 */
export function readCaller(headers: Headers | IncomingHttpHeaders, socket: PeerSocket | undefined, check: CallerCheck): Caller {
  const { authenticator } = check;
  if (authenticator === undefined) {
    return { id: readClientId(headers, check.maxClientIdLength), identity: undefined };
  }
  const authorization = headers instanceof Headers ? (headers.get("authorization") ?? undefined) : firstHeaderValue(headers.authorization);
  const identity = authenticator.authenticate({ authorization, certificate: () => verifiedPeerCertificate(socket) });
  const declared = clientIdHeader(headers);
  if (declared !== undefined && declared !== identity.id) {
    throw new ConnectError(
      `client_id ${JSON.stringify(declared)} is not the authenticated identity ${JSON.stringify(identity.id)}: send no client_id or that one`,
      Code.PermissionDenied,
    );
  }
  return { id: identity.id, identity };
}

/**
 * Reads request metadata `client_id`, or `client-id` (proxies such as nginx
 * drop headers with underscores); several values of one header read as one,
 * joined with ", " (as fetch Headers join them). Refuses a missing, empty,
 * reserved or too long one; `maxLength` is max_client_id_length in bytes,
 * 0 for no limit.
 */
export function readClientId(headers: Headers | IncomingHttpHeaders, maxLength: number): string {
  const clientId = clientIdHeader(headers);
  if (clientId === undefined) {
    throw new StoreError("CID_MISSING");
  }
  if (clientId === "") {
    throw new StoreError("CID_EMPTY");
  }
  if (clientId === serverClientId) {
    throw new StoreError("CID_RESERVED");
  }
  // Node decodes header values as Latin-1, one character per byte received.
  if (maxLength > 0 && clientId.length > maxLength) {
    throw new StoreError("CID_TOO_LONG", `${clientId.length} bytes, max_client_id_length is ${maxLength}`);
  }
  return clientId;
}

/** Reads the caller of every call before its handler runs (unary and streaming alike). */
export function callerInterceptor(check: CallerCheck): Interceptor {
  return (next) => (request) => {
    try {
      request.contextValues.set(callerKey, readCaller(request.header, request.contextValues.get(peerSocketKey), check));
    } catch (error) {
      throw toConnectError(error);
    }
    return next(request);
  };
}

function clientIdHeader(headers: Headers | IncomingHttpHeaders): string | undefined {
  return headers instanceof Headers
    ? (headers.get("client_id") ?? headers.get("client-id") ?? undefined)
    : (joined(headers["client_id"]) ?? joined(headers["client-id"]));
}

/** A Node header's value as fetch Headers read it. */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
