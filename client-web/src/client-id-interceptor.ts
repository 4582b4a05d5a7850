import type { Interceptor } from "@connectrpc/connect";

/**
 * Sends `clientId` as request metadata `client_id` on every call: the server
 * identifies callers (lock owners, the privileged client) by it. Browser-safe,
 * so the Node SDK uses it too.
 */
export function clientIdInterceptor(clientId: string): Interceptor {
  return (next) => (request) => {
    request.header.set("client_id", clientId);
    return next(request);
  };
}
