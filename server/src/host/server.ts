import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import fastifyCors from "@fastify/cors";
import fastify, { LogController, type FastifyInstance } from "fastify";
import { readFileSync } from "node:fs";
import type { Config } from "../config/config.js";
import { defaultListenPort } from "../config/default-config.js";
import { parseListenAddress } from "../config/listen-address.js";
import { clientIdInterceptor } from "../rpc/client-id.js";
import { createRpcs } from "../rpc/routes.js";
import { createSystemClock, type Clock } from "../store/clock.js";
import { KeyValueStore } from "../store/key-value-store.js";
import { reservedKeyValues } from "../store/reserved-keys.js";
import { corsOptionsFor } from "./cors-options.js";
import { startExpiryTimer } from "./expiry-timer.js";
import { createGrpcFastPath } from "./grpc-fast-path.js";
import { startPruneTimer } from "./prune-timer.js";
import { reencodeGrpcMessageTrailer } from "./grpc-message.js";
import { loggerOptions } from "./logger-options.js";
import { WatchHub } from "../watch/watch-hub.js";
import { createPolyglotServer, type PolyglotServer } from "./polyglot-server.js";
import { readMaxBytesFor } from "./read-max-bytes.js";
import { removeStaleSocket } from "./remove-stale-socket.js";
import { unknownMethodHandler } from "./unknown-method-handler.js";

/** Value bytes the event log may hold for resuming watchers. */
export const eventLogMaxBytes = 64 * 1024 * 1024;

/** Dependencies a test may replace. */
export interface BuildOptions {
  /** Time source of the store; the system clock by default. */
  clock?: Clock;
  /** Fastify logger setting; derived from config.logLevel by default. */
  logger?: boolean;
}

/** A configured keyquarry server that is not listening yet. */
export interface KeyquarryServer {
  readonly app: FastifyInstance;
  readonly store: KeyValueStore;
  /** Starts listening; resolves to the address clients use (`http://host:port` or `unix:///path`). */
  listen(): Promise<string>;
  /** Stops accepting calls, lets calls in flight finish (up to the graceful timeout) and closes. */
  close(): Promise<void>;
  /** Resolves when the privileged client calls Admin.Shutdown. */
  readonly shutdownRequested: Promise<void>;
}

/**
 * Builds the server: the store engine, the Connect handlers of both services
 * and one Fastify host that speaks gRPC, gRPC-Web and Connect on one port.
 * Configures everything but does not listen.
 */
export async function build(config: Config, options: BuildOptions = {}): Promise<KeyquarryServer> {
  const address = parseListenAddress(config.listenAddress, defaultListenPort);
  const tls =
    config.sslCertfile !== "" ? { cert: readFileSync(config.sslCertfile), key: readFileSync(config.sslKeyfile) } : undefined;
  const clock = options.clock ?? createSystemClock();
  const store = new KeyValueStore(config, clock);
  store.writeReservedKeys(reservedKeyValues(config, new Date(Number(clock.now() / 1_000_000n))));
  const stopExpiryTimer = startExpiryTimer(store, clock);
  const stopPruneTimer = startPruneTimer(store, config.pruneInterval);
  let requestShutdown = () => {};
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));
  const hub = new WatchHub(store, {
    bufferSize: config.eventStreamBufferSize,
    subscriberLimit: config.eventStreamSubscriberLimit,
    logSize: config.eventLogSize,
    logMaxBytes: eventLogMaxBytes,
  });

  const rpcs = createRpcs({ store, hub, requestShutdown: () => requestShutdown(), snapshotsCreated: () => 0n });
  const readMaxBytes = readMaxBytesFor(config);
  let server: PolyglotServer | undefined;
  const app = fastify({
    logger: options.logger ?? loggerOptions(config),
    // One log line per call would cost more than the call itself.
    logController: new LogController({ disableRequestLogging: true }),
    // With a serverFactory, Fastify binds one address only (the first of "localhost").
    serverFactory: (handler) => {
      server = createPolyglotServer(handler, tls, createGrpcFastPath(rpcs.unaryMethods, readMaxBytes));
      return server as unknown as import("node:http").Server;
    },
  });
  app.addHook("onClose", (_instance, done) => {
    stopExpiryTimer();
    stopPruneTimer();
    done();
  });
  app.addHook("preClose", (done) => {
    // Watch streams never end by themselves: end them so that shutdown does not wait for them.
    hub.endAll();
    server?.closeIdleConnections();
    server?.closeHttp2Sessions();
    done();
  });
  const cors = corsOptionsFor(config.corsOrigins);
  if (cors !== undefined) {
    await app.register(fastifyCors, cors);
  }
  app.addHook("onRequest", (request, reply, done) => {
    const contentType = request.headers["content-type"] ?? "";
    if (contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web")) {
      reencodeGrpcMessageTrailer(reply.raw);
    }
    done();
  });
  app.setNotFoundHandler(unknownMethodHandler);
  await app.register(fastifyConnectPlugin, {
    routes: rpcs.routes,
    interceptors: [clientIdInterceptor],
    readMaxBytes,
  });

  return {
    app,
    store,
    shutdownRequested,
    async listen() {
      if (address.kind === "unix") {
        await removeStaleSocket(address.path);
        await app.listen({ path: address.path });
        return `unix://${address.path}`;
      }
      await app.listen({ host: address.host === "" ? "::" : address.host, port: address.port });
      return urlOf(app, tls !== undefined);
    },
    async close() {
      const timeoutMs = Number(config.gracefulShutdownTimeout / 1_000_000n);
      const force =
        timeoutMs > 0
          ? setTimeout(() => server?.closeAllConnections(), timeoutMs)
          : undefined;
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
    },
  };
}

/** The URL of the first bound TCP address. */
function urlOf(app: FastifyInstance, tls: boolean): string {
  const bound = app.server.address();
  if (bound === null || typeof bound === "string") {
    throw new Error("server is not listening on TCP");
  }
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return `${tls ? "https" : "http"}://${host}:${bound.port}`;
}
