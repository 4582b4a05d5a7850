import { ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  type Http2SessionManager,
} from "@connectrpc/connect-node";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { Config } from "../src/config/config.js";
import { defaultConfig } from "../src/config/default-config.js";
import { build, type BuildOptions, type KeyquarryServer } from "../src/host/server.js";

/** A real server listening on a free loopback port. */
export interface TestServer {
  server: KeyquarryServer;
  url: string;
  close(): Promise<void>;
}

/** Builds and starts a server on 127.0.0.1:0 with the given config overrides. */
export async function startTestServer(
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<TestServer> {
  const config: Config = { ...defaultConfig(), listenAddress: "127.0.0.1:0", ...overrides };
  const server = await build(config, { logger: false, ...options });
  const url = await server.listen();
  return { server, url, close: () => server.close() };
}

/** The three wire protocols every RPC is tested over. */
export const protocols = ["grpc", "grpc-web", "connect"] as const;

/** One of {@link protocols}. */
export type Protocol = (typeof protocols)[number];

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
 * A transport for `protocol`: gRPC over HTTP/2 cleartext (prior knowledge),
 * gRPC-Web over HTTP/1.1, Connect (binary) over HTTP/1.1.
 */
export function createTransport(
  protocol: Protocol,
  baseUrl: string,
  clientId: string | undefined,
  nodeOptions?: { sessionManager?: Http2SessionManager },
): Transport {
  const interceptors = [withClientId(clientId)];
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors, ...nodeOptions });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
  }
}

/** Clients of both services for one protocol and client id. */
export function createClients(
  protocol: Protocol,
  baseUrl: string,
  clientId: string | undefined,
): { kv: Client<typeof KeyQuarry>; admin: Client<typeof Admin> } {
  const transport = createTransport(protocol, baseUrl, clientId);
  return { kv: createClient(KeyQuarry, transport), admin: createClient(Admin, transport) };
}

/** UTF-8 bytes of a string. */
export const bytes = (text: string) => new TextEncoder().encode(text);

/** A string from UTF-8 bytes. */
export const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** The ConnectError a promise rejects with (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}
