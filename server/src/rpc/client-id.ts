import { createContextKey, type Interceptor } from "@connectrpc/connect";
import type { IncomingHttpHeaders } from "node:http";
import { StoreError } from "../store/store-error.js";
import { firstHeaderValue } from "./first-header-value.js";
import { toConnectError } from "./to-connect-error.js";
import { serverClientId } from "../store/store-event.js";

/** Context value holding the validated client id of the current call. */
export const clientIdKey = createContextKey<string>("", { description: "keyquarry client id" });

/**
 * Returns the caller's client id from request metadata `client_id`, or
 * `client-id` (proxies such as nginx drop headers with underscores), and
 * refuses a missing, empty, reserved or too long one (see {@link checkClientId}).
 */
export function clientIdFromHeaders(headers: Headers, maxLength: number): string {
  return checkClientId(headers.get("client_id") ?? headers.get("client-id") ?? undefined, maxLength);
}

/** Like {@link clientIdFromHeaders}, for Node's request headers (the fast paths). */
export function clientIdFromNodeHeaders(headers: IncomingHttpHeaders, maxLength: number): string {
  return checkClientId(firstHeaderValue(headers["client_id"]) ?? firstHeaderValue(headers["client-id"]), maxLength);
}

/**
 * Validates a client id header value (undefined when the header is absent);
 * `maxLength` is max_client_id_length in bytes, 0 for no limit.
 */
export function checkClientId(clientId: string | undefined, maxLength: number): string {
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
      request.contextValues.set(clientIdKey, clientIdFromHeaders(request.header, maxLength));
    } catch (error) {
      throw toConnectError(error);
    }
    return next(request);
  };
}
