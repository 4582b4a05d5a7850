import { createContextKey, type Interceptor } from "@connectrpc/connect";
import type { IncomingHttpHeaders } from "node:http";
import { StoreError } from "../store/store-error.js";
import { firstHeaderValue } from "./first-header-value.js";
import { serverClientId } from "../store/store-event.js";

/** Context value holding the validated client id of the current call. */
export const clientIdKey = createContextKey<string>("", { description: "keyquarry client id" });

/**
 * Returns the caller's client id from request metadata `client_id`, or
 * `client-id` (proxies such as nginx drop headers with underscores), and
 * refuses a missing, empty or reserved one.
 */
export function clientIdFromHeaders(headers: Headers): string {
  return checkClientId(headers.get("client_id") ?? headers.get("client-id") ?? undefined);
}

/** Like {@link clientIdFromHeaders}, for Node's request headers (the fast paths). */
export function clientIdFromNodeHeaders(headers: IncomingHttpHeaders): string {
  return checkClientId(firstHeaderValue(headers["client_id"]) ?? firstHeaderValue(headers["client-id"]));
}

/** Validates a client id header value (undefined when the header is absent). */
export function checkClientId(clientId: string | undefined): string {
  if (clientId === undefined) {
    throw new StoreError("CID_MISSING");
  }
  if (clientId === "") {
    throw new StoreError("CID_EMPTY");
  }
  if (clientId === serverClientId) {
    throw new StoreError("CID_RESERVED");
  }
  return clientId;
}

/** Validates the client id of every call before its handler runs (unary and streaming alike). */
export const clientIdInterceptor: Interceptor = (next) => (request) => {
  request.contextValues.set(clientIdKey, clientIdFromHeaders(request.header));
  return next(request);
};
