import { createContextKey, type Interceptor } from "@connectrpc/connect";
import type { IncomingHttpHeaders } from "node:http";
import { StoreError } from "../store/store-error.js";
import { toConnectError } from "./to-connect-error.js";
import { serverClientId } from "../store/store-event.js";

/** Context value holding the validated client id of the current call. */
export const clientIdKey = createContextKey<string>("", { description: "keyquarry client id" });

/**
 * The one reader of the caller's client id, for every path: the interceptor
 * (connect-es's fetch Headers) and the fast paths (Node's headers). Reads
 * request metadata `client_id`, or `client-id` (proxies such as nginx drop
 * headers with underscores); several values of one header read as one,
 * joined with ", " (as fetch Headers join them). Refuses a missing, empty,
 * reserved or too long one; `maxLength` is max_client_id_length in bytes,
 * 0 for no limit.
 */
export function readClientId(headers: Headers | IncomingHttpHeaders, maxLength: number): string {
  const clientId =
    headers instanceof Headers
      ? (headers.get("client_id") ?? headers.get("client-id") ?? undefined)
      : (joined(headers["client_id"]) ?? joined(headers["client-id"]));
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

/** Validates the client id of every call before its handler runs (unary and streaming alike). */
export function clientIdInterceptor(maxLength: number): Interceptor {
  return (next) => (request) => {
    try {
      request.contextValues.set(clientIdKey, readClientId(request.header, maxLength));
    } catch (error) {
      throw toConnectError(error);
    }
    return next(request);
  };
}

/** A Node header's value as fetch Headers read it. */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
