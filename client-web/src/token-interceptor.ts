import type { Interceptor } from "@connectrpc/connect";

/**
 * Sends `authorization: Bearer <token>` on every call: a server with auth on
 * runs the call as the token's identity. Browser-safe, so the Node SDK uses
 * it too (the server's CORS settings allow the header).
 */
export function tokenInterceptor(token: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}
