import { existsSync, readFileSync } from "node:fs";
import type * as http2 from "node:http2";
import type * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import {
  Code,
  ConnectError,
  createClient,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { clientIdInterceptor, extendClient, tokenInterceptor, type KeyquarryClientExtras } from "@keyquarry/client-web";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { defaultClientId } from "./default-client-id.js";
import { parseAddress } from "./parse-address.js";

/** Wire protocols a keyquarry server speaks on its single port. */
export type KeyquarryProtocol = "grpc" | "grpc-web" | "connect";

/** TLS settings; giving any of them turns TLS on. */
export interface KeyquarryTlsOptions {
  /** PEM file with the CA that signed the server certificate (default: system roots). */
  caFile?: string;
  /** Skip verification of the server certificate. */
  insecure?: boolean;
  /** PEM file with a client certificate (mTLS: a server with ssl_client_ca and auth on takes its CN or URI SAN as the identity). */
  certFile?: string;
  /** PEM file with the client certificate's private key. */
  keyFile?: string;
}

/** Options for {@link createKeyquarryClient}. */
export interface KeyquarryClientOptions {
  /**
   * Sent as `client_id` metadata on every call; default `<user>@<hostname>`,
   * or none with a token or client certificate (the call runs as their identity).
   */
  clientId?: string;
  /** Sent as `authorization: Bearer <token>` on every call (servers with auth on). */
  token?: string;
  /** Default "grpc" (HTTP/2 cleartext with prior knowledge, or over TLS). */
  protocol?: KeyquarryProtocol;
  /**
   * HTTP version for "grpc-web" and "connect" (default "1.1"); "grpc"
   * always uses HTTP/2.
   */
  httpVersion?: "1.1" | "2";
  /**
   * TLS settings, or true for TLS with system roots. Plaintext by default,
   * like the server; an `https://` address turns TLS on by itself.
   */
  tls?: boolean | KeyquarryTlsOptions;
  /** Binary protobuf (default) or JSON; JSON only takes effect with "connect". */
  useBinaryFormat?: boolean;
  /** Timeout applied to calls that do not set their own. */
  timeoutMs?: number;
  /** Extra interceptors, run after the ones that set `client_id` and `authorization`. */
  interceptors?: Interceptor[];
}

/** Typed client for the KeyQuarry service, with the Admin service under `admin`. */
export type KeyquarryClient = Client<typeof KeyQuarry> & KeyquarryClientExtras;

/**
 * Creates a client for the keyquarry server at `address` (see
 * {@link parseAddress} for the accepted forms). Both services share one
 * transport, hence one connection. A unix socket that does not exist fails
 * here, with UNAVAILABLE as a refused TCP connection does on the first call.
 */
export function createKeyquarryClient(
  address: string,
  options: KeyquarryClientOptions = {},
): KeyquarryClient {
  const transport = createTransport(address, options);
  return extendClient(createClient(KeyQuarry, transport), transport);
}

/** The subset of Node's TLS options both HTTP/1.1 and HTTP/2 accept. */
interface SecureOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/** Where and how a client connects, and the identity it sends. */
interface Connection {
  baseUrl: string;
  socketPath: string | undefined;
  secure: SecureOptions | undefined;
  clientId: string | undefined;
}

function connectionFor(address: string, options: KeyquarryClientOptions): Connection {
  const target = parseAddress(address);
  const secure = secureOptions(address, target.tls, options.tls);
  const { socketPath } = target;
  // An identity (token or certificate) is the client id: a default one would not match it.
  const clientId = options.clientId ?? (options.token === undefined && secure?.cert === undefined ? defaultClientId() : undefined);
  if (socketPath !== undefined && !existsSync(socketPath)) {
    // The same status as a refused TCP connection: no server there.
    throw new ConnectError(`socket file '${socketPath}' not found`, Code.Unavailable);
  }
  return { baseUrl: `${secure ? "https" : "http"}://${target.authority}${target.pathPrefix}`, socketPath, secure, clientId };
}

/** What a gRPC caller on node:http2 needs to reach the server as {@link createKeyquarryClient} would. */
export interface KeyquarryHttp2Target {
  /** Base URL of the service paths (`http(s)://authority[/prefix]`). */
  baseUrl: string;
  /** For `http2.connect(baseUrl, sessionOptions)`: TLS settings, unix socket. */
  sessionOptions: http2.SecureClientSessionOptions;
  /** `client_id` and `authorization`, as the client's interceptors set them. */
  headers: Record<string, string>;
}

/**
 * The connection and identity headers of a "grpc" client for `address`, for
 * callers that speak gRPC on node:http2 directly because the per-call cost
 * of the connect client matters (bulk loading).
 */
export function keyquarryHttp2Target(address: string, options: KeyquarryClientOptions = {}): KeyquarryHttp2Target {
  const { baseUrl, socketPath, secure, clientId } = connectionFor(address, options);
  return {
    baseUrl,
    sessionOptions: http2Options(socketPath, secure),
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(clientId === undefined ? {} : { client_id: clientId }),
    },
  };
}

function createTransport(address: string, options: KeyquarryClientOptions): Transport {
  const { baseUrl, socketPath, secure, clientId } = connectionFor(address, options);
  const common = {
    baseUrl,
    useBinaryFormat: options.useBinaryFormat ?? true,
    defaultTimeoutMs: options.timeoutMs,
    interceptors: [
      ...(options.token === undefined ? [] : [tokenInterceptor(options.token)]),
      ...(clientId === undefined ? [] : [clientIdInterceptor(clientId)]),
      ...(options.interceptors ?? []),
    ],
  };
  const protocol = options.protocol ?? "grpc";
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ ...common, nodeOptions: http2Options(socketPath, secure) });
    case "grpc-web":
    case "connect": {
      const create = protocol === "grpc-web" ? createGrpcWebTransport : createConnectTransport;
      return options.httpVersion === "2"
        ? create({ ...common, httpVersion: "2", nodeOptions: http2Options(socketPath, secure) })
        : create({ ...common, httpVersion: "1.1", nodeOptions: http1Options(socketPath, secure) });
    }
    default:
      // Reachable from JavaScript callers and untyped configuration.
      throw new Error(`unsupported protocol '${String(protocol)}' (must be: grpc, grpc-web or connect)`);
  }
}

function secureOptions(
  address: string,
  addressTls: boolean,
  option: KeyquarryClientOptions["tls"],
): SecureOptions | undefined {
  if (option === false) {
    if (addressTls) {
      throw new Error(`address '${address}' requires TLS, but TLS is disabled`);
    }
    return undefined;
  }
  if (option === undefined && !addressTls) {
    return undefined;
  }
  const { caFile, insecure = false, certFile, keyFile } = typeof option === "object" ? option : {};
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new Error("a client certificate needs both certFile and keyFile");
  }
  return {
    ...(caFile === undefined ? {} : { ca: readPemFile(caFile, "CA certificate") }),
    ...(certFile === undefined ? {} : { cert: readPemFile(certFile, "client certificate") }),
    ...(keyFile === undefined ? {} : { key: readPemFile(keyFile, "client key") }),
    rejectUnauthorized: !insecure,
  };
}

function readPemFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`unable to read ${what} file '${path}': ${reason}`);
  }
}

function http2Options(
  socketPath: string | undefined,
  secure: SecureOptions | undefined,
): http2.SecureClientSessionOptions {
  if (socketPath === undefined) {
    return { ...secure };
  }
  // http2.connect() dials TCP by itself; createConnection swaps in the socket.
  return {
    ...secure,
    createConnection: () =>
      secure
        ? tls.connect({ ...secure, path: socketPath, servername: "localhost", ALPNProtocols: ["h2"] })
        : net.connect(socketPath),
  };
}

function http1Options(
  socketPath: string | undefined,
  secure: SecureOptions | undefined,
): Omit<https.RequestOptions, "signal"> {
  return { ...secure, ...(socketPath === undefined ? {} : { socketPath }) };
}
