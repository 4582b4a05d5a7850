import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { clientIdInterceptor } from "./client-id-interceptor.js";
import { tokenInterceptor } from "./token-interceptor.js";
import { extendClient, type KeyquarryClientExtras } from "./extend-client.js";

/** Wire protocols a browser can speak to a keyquarry server (plain gRPC needs HTTP trailers fetch lacks). */
export type KeyquarryWebProtocol = "grpc-web" | "connect";

/**
 * Options for {@link createKeyquarryWebClient}: a client id, a token, or
 * both (with auth on, a token alone runs calls as its identity).
 */
export type KeyquarryWebClientOptions = KeyquarryWebClientSettings &
  (
    | {
        /** Sent as `client_id` metadata on every call; without auth the server refuses calls without one. */
        clientId: string;
        /** Sent as `authorization: Bearer <token>` on every call (servers with auth on). */
        token?: string;
      }
    | { clientId?: string; token: string }
  );

/** The options of {@link createKeyquarryWebClient} besides who calls. */
export interface KeyquarryWebClientSettings {
  /** Default "grpc-web". */
  protocol?: KeyquarryWebProtocol;
  /** Binary protobuf (default) or JSON. */
  useBinaryFormat?: boolean;
  /** Extra interceptors, run after the ones that set `client_id` and `authorization`. */
  interceptors?: Interceptor[];
  /** fetch implementation; default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

/** Typed client for the KeyQuarry service, with the Admin service under `admin`. */
export type KeyquarryWebClient = Client<typeof KeyQuarry> & KeyquarryClientExtras;

/**
 * Creates a browser client for the keyquarry server at `baseUrl` (e.g.
 * `https://kv.example:8080`). Both services share one transport. A page on
 * another origin can only call a server started with `cors_origins`.
 */
export function createKeyquarryWebClient(
  baseUrl: string,
  options: KeyquarryWebClientOptions,
): KeyquarryWebClient {
  const transport = createTransport(baseUrl, options);
  return extendClient(createClient(KeyQuarry, transport), transport);
}

function createTransport(baseUrl: string, options: KeyquarryWebClientOptions): Transport {
  const common = {
    baseUrl,
    useBinaryFormat: options.useBinaryFormat ?? true,
    interceptors: [
      ...(options.token === undefined ? [] : [tokenInterceptor(options.token)]),
      ...(options.clientId === undefined ? [] : [clientIdInterceptor(options.clientId)]),
      ...(options.interceptors ?? []),
    ],
    fetch: options.fetch,
  };
  const protocol = options.protocol ?? "grpc-web";
  switch (protocol) {
    case "grpc-web":
      return createGrpcWebTransport(common);
    case "connect":
      return createConnectTransport(common);
    default:
      // Reachable from JavaScript callers and untyped configuration.
      throw new Error(`unsupported protocol '${String(protocol)}' (must be: grpc-web or connect)`);
  }
}
