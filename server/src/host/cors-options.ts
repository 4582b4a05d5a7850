import { cors } from "@connectrpc/connect";
import type { FastifyCorsOptions } from "@fastify/cors";

/**
 * CORS settings that let browsers on the allowed origins call every RPC over
 * Connect and gRPC-Web, with the client id and authorization headers; undefined when the
 * `cors_origins` option is empty (no cross-origin access).
 */
export function corsOptionsFor(corsOrigins: string): FastifyCorsOptions | undefined {
  const origins = corsOrigins
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  if (origins.length === 0) {
    return undefined;
  }
  return {
    origin: origins.includes("*") ? "*" : origins,
    methods: [...cors.allowedMethods],
    allowedHeaders: [...cors.allowedHeaders, "client_id", "client-id", "authorization"],
    exposedHeaders: [...cors.exposedHeaders],
    // Browsers cache the preflight answer this long (seconds).
    maxAge: 7200,
  };
}
