import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  type Http2SessionManager,
} from "@connectrpc/connect-node";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { RequestOptions } from "node:http";
import type { ClientSessionOptions } from "node:http2";

/** The three wire protocols every RPC is tested over. */
export const protocols = ["grpc", "grpc-web", "connect"] as const;

/** One of {@link protocols}. */
export type Protocol = (typeof protocols)[number];

/** A way to call the server: one of the {@link protocols}, or Connect with JSON bodies instead of binary. */
export type TransportKind = Protocol | "connect-json";

/** What a test may add to a {@link createTransport} transport. */
export interface TransportOptions {
  /** Interceptors run after the one that sets the client id. */
  interceptors?: Interceptor[];
  /** gRPC (HTTP/2): a session manager of the test's own, or how to connect (e.g. `createConnection`). */
  http2?: { sessionManager?: Http2SessionManager; nodeOptions?: ClientSessionOptions };
  /** gRPC-Web and Connect (HTTP/1.1): e.g. an `agent` or a unix `socketPath`. */
  http1?: RequestOptions;
}

/** Sets request metadata `client_id` on every call (or nothing for `undefined`). */
export function withClientId(clientId: string | undefined): Interceptor {
  return (next) => (request) => {
    if (clientId !== undefined) {
      request.header.set("client_id", clientId);
    }
    return next(request);
  };
}

/**
 * A transport of `kind` to `baseUrl` sending `clientId`: gRPC over HTTP/2
 * cleartext (prior knowledge), gRPC-Web and Connect (binary or JSON) over HTTP/1.1.
 */
export function createTransport(kind: TransportKind, baseUrl: string, clientId: string | undefined, options: TransportOptions = {}): Transport {
  const interceptors = [withClientId(clientId), ...(options.interceptors ?? [])];
  const http1 = { baseUrl, httpVersion: "1.1", interceptors, nodeOptions: options.http1 } as const;
  switch (kind) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors, ...options.http2 });
    case "grpc-web":
      return createGrpcWebTransport(http1);
    case "connect":
      return createConnectTransport(http1);
    case "connect-json":
      return createConnectTransport({ ...http1, useBinaryFormat: false });
  }
}

/** Clients of both services over one transport (see {@link createTransport}). */
export function createClients(
  kind: TransportKind,
  baseUrl: string,
  clientId: string | undefined,
  options?: TransportOptions,
): { kv: Client<typeof KeyQuarry>; admin: Client<typeof Admin> } {
  const transport = createTransport(kind, baseUrl, clientId, options);
  return { kv: createClient(KeyQuarry, transport), admin: createClient(Admin, transport) };
}
