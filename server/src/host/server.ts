import fastifyCors from "@fastify/cors";
import fastify, { LogController, type FastifyInstance } from "fastify";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Config } from "../config/config.js";
import { defaultListenPort } from "../config/default-config.js";
import { parseListenAddress, type ListenAddress } from "../config/listen-address.js";
import { clientIdInterceptor } from "../rpc/client-id.js";
import { createRpcs } from "../rpc/routes.js";
import { createSystemClock, type Clock } from "../store/clock.js";
import { KeyValueStore } from "../store/key-value-store.js";
import { reservedKeyValues } from "./reserved-key-values.js";
import { storeOptionsOf } from "./store-options-of.js";
import { corsOptionsFor } from "./cors-options.js";
import { BackgroundWork, type StartWork } from "./background-work.js";
import { startExpiryTimer } from "./expiry-timer.js";
import { createConnectFastPath } from "./connect-fast-path.js";
import { connectionLimitsFor } from "./connection-limits.js";
import { connectPlugin } from "./connect-plugin.js";
import { createGrpcFastPath } from "./grpc-fast-path.js";
import { GrpcWatchFastPath } from "./grpc-watch-fast-path.js";
import { startPruneTimer } from "./prune-timer.js";
import { reencodeGrpcMessageTrailer } from "./grpc-message.js";
import { loggerOptions } from "./logger-options.js";
import { createSnapshotter, describeDatabase, openSnapshotStore, type Snapshotter, type SnapshotStore } from "../snapshot/index.js";
import { JournalWriter, replayJournal, type ReplayResult } from "../journal/index.js";
import { WatchHub } from "../watch/watch-hub.js";
import { createPolyglotServer, type PolyglotServer } from "./polyglot-server.js";
import { requestSizeLimitFor } from "./read-max-bytes.js";
import { removeStaleSocket } from "./remove-stale-socket.js";
import { unknownMethodHandler } from "./unknown-method-handler.js";
import { nodeWatchSink } from "./node-watch-sink.js";
import { startWatchSweepTimer } from "./watch-sweep-timer.js";
import { watchSinkKey } from "../rpc/watch-sink-key.js";
import { createContextValues } from "@connectrpc/connect";

/** Value bytes the event log may hold for resuming watchers. */
export const eventLogMaxBytes = 64 * 1024 * 1024;

/** Dependencies a test may replace. */
export interface BuildOptions {
  /** Time source of the store; the system clock by default. */
  clock?: Clock;
  /** Fastify logger setting; derived from config.logLevel by default. */
  logger?: boolean;
  /**
   * Whether the hand-written fast paths (gRPC unary and watches, Connect
   * unary) serve the calls they take; true by default. With false, connect-es
   * serves every call: the protocol contract test compares the two.
   */
  fastPaths?: boolean;
}

/** A configured keyquarry server that is not listening yet. */
export interface KeyquarryServer {
  readonly app: FastifyInstance;
  readonly store: KeyValueStore;
  /** The watch streams' fan-out (its counts show what watchers hold). */
  readonly hub: WatchHub;
  /** The gRPC watch fast path (its counts show the event frames it encoded and wrote). */
  readonly grpcWatch: GrpcWatchFastPath;
  /**
   * Starts listening, then the background work (timers, periodic snapshots);
   * resolves to the address clients use (`http://host:port` or `unix:///path`).
   * If it fails, the server is closed (nothing left running or open) and the error rethrown.
   */
  listen(): Promise<string>;
  /**
   * Stops accepting calls, lets calls in flight finish (up to the graceful
   * timeout), stops the background work, writes the final snapshot (when
   * snapshots are on and the server listened) and closes the snapshot database.
   * Rejects when the final snapshot could not be written. Calling it again waits for the first call.
   */
  close(): Promise<void>;
  /** Resolves when the privileged client calls Admin.Shutdown. */
  readonly shutdownRequested: Promise<void>;
  /** What was restored at build, when snapshots are on. */
  readonly restored: RestoreReport | undefined;
  /** The journal, when snapshots and the journal are on. */
  readonly journal: JournalWriter | undefined;
}

/** What {@link build} restored, for the start-up log. */
export interface RestoreReport {
  /** The database, without credentials. */
  database: string;
  journal: Config["snapshot"]["journal"];
  /** The snapshot restored; undefined when none was (none yet, or start_fresh). */
  snapshotId: bigint | undefined;
  /** Keys after the restore. */
  keys: number;
  replay: ReplayResult | undefined;
  ms: number;
}

/**
 * Builds the server: the store engine, the Connect handlers of both services
 * and one Fastify host that speaks gRPC, gRPC-Web and Connect on one port.
 * Configures everything but does not listen, and starts nothing: no timer,
 * no snapshotter (listen() does). If it fails, it leaves nothing open.
 */
export async function build(config: Config, options: BuildOptions = {}): Promise<KeyquarryServer> {
  const address = parseListenAddress(config.listenAddress, defaultListenPort);
  const tls =
    config.sslCertfile !== "" ? { cert: readFileSync(config.sslCertfile), key: readFileSync(config.sslKeyfile) } : undefined;
  const clock = options.clock ?? createSystemClock();
  const store = new KeyValueStore(storeOptionsOf(config), clock);
  const restore = config.snapshot.enabled ? await openAndRestore(config, store) : undefined;
  const snapshots = restore?.snapshots;
  try {
    return await compose(config, options, { address, tls, clock, store, snapshots, restored: restore?.report });
  } catch (error) {
    // A server that could not be built holds nothing open.
    await snapshots?.close();
    throw error;
  }
}

/** What {@link build} has read and opened before it composes the server. */
interface Parts {
  address: ListenAddress;
  tls: { cert: Buffer; key: Buffer } | undefined;
  clock: Clock;
  /** Restored from the newest snapshot, when snapshots are on. */
  store: KeyValueStore;
  /** Open when snapshots are on; the server's close() closes it. */
  snapshots: SnapshotStore | undefined;
  restored: RestoreReport | undefined;
}

/** The composition root: the watch hub, the RPCs, the Fastify host and their background work. */
async function compose(config: Config, options: BuildOptions, parts: Parts): Promise<KeyquarryServer> {
  const { address, tls, clock, store, snapshots, restored } = parts;
  let app: FastifyInstance | undefined;
  // Attached before the reserved keys are written: from here on every change is journaled.
  const journal =
    snapshots === undefined || config.snapshot.journal === "off"
      ? undefined
      : new JournalWriter({
          log: snapshots,
          name: config.name,
          after: store.commandSeq,
          mode: config.snapshot.journal,
          intervalMs: Math.max(1, Number(config.snapshot.journalInterval / 1_000_000n)),
          // Only called once the server runs, when app is set.
          logger: { error: (obj, msg) => app?.log.error(obj, msg), warn: (obj, msg) => app?.log.warn(obj, msg) },
        });
  if (journal !== undefined) {
    store.attachCommandSink(journal);
  }
  // After the restore (the log continues its revisions), before the reserved keys.
  const hub = new WatchHub(
    store,
    {
      bufferSize: config.eventStreamBufferSize,
      maxBytes: config.eventStreamMaxBytes,
      totalMaxBytes: config.eventStreamTotalMaxBytes,
      sendTimeout: config.eventStreamSendTimeout,
      subscriberLimit: config.eventStreamSubscriberLimit,
      clientLimit: config.eventStreamClientLimit,
      logSize: config.eventLogSize,
      logMaxBytes: eventLogMaxBytes,
    },
    clock,
  );
  store.writeReservedKeys(reservedKeyValues(config, new Date(Number(clock.now() / 1_000_000n))));
  // Locks and lifespans that ended while the server was down end now, with their events.
  store.expireDue();
  let requestShutdown = () => {};
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));

  let snapshotter: Snapshotter | undefined;
  const rpcs = createRpcs({
    store,
    hub,
    requestShutdown: () => requestShutdown(),
    snapshotsCreated: () => BigInt(snapshotter?.created ?? 0),
    listKeys: config,
    durability: journal,
  });
  const limit = requestSizeLimitFor(config);
  const grpcWatch = new GrpcWatchFastPath(rpcs.watchMethods, limit, config.maxClientIdLength);
  const grpcUnary = createGrpcFastPath(rpcs.unaryMethods, limit, config.maxClientIdLength);
  const cors = corsOptionsFor(config.corsOrigins);
  let server: PolyglotServer | undefined;
  app = fastify({
    logger: options.logger ?? loggerOptions(config),
    // One log line per call would cost more than the call itself.
    logController: new LogController({ disableRequestLogging: true }),
    // With a serverFactory, Fastify binds one address only (the first of "localhost").
    serverFactory: (handler) => {
      const fastPaths =
        options.fastPaths === false
          ? {}
          : {
              grpc: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
                grpcWatch.handle(stream, headers) || grpcUnary(stream, headers),
              connect: createConnectFastPath(rpcs.unaryMethods, limit, cors !== undefined, config.maxClientIdLength),
            };
      server = createPolyglotServer(handler, tls, fastPaths, connectionLimitsFor(config));
      return server as unknown as import("node:http").Server;
    },
  });
  app.addHook("preClose", (done) => {
    // Watch streams never end by themselves: end them so that shutdown does not wait for them.
    hub.endAll();
    server?.closeIdleConnections();
    server?.closeHttp2Sessions();
    done();
  });
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
  // No route here reads a parsed body (Connect reads its own): an unknown path's body is never parsed,
  // so it gets UNIMPLEMENTED in its protocol's format instead of Fastify's JSON parse error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, parsed) => parsed(null, undefined));
  app.setNotFoundHandler(unknownMethodHandler);
  await app.register(connectPlugin, {
    routes: rpcs.routes,
    interceptors: [clientIdInterceptor(config.maxClientIdLength)],
    limit,
    contextValues: (request) => createContextValues().set(watchSinkKey, nodeWatchSink(request.raw)),
  });

  // Started by listen(), stopped by close(), in reverse order: the timers that change the store stop
  // before the snapshotter takes its final snapshot.
  const background = new BackgroundWork();
  if (snapshots !== undefined) {
    snapshotter = createSnapshotter({
      store: {
        exportState: () => store.exportState(config.persistentRevisions, "deferred"),
        get revision() {
          return store.revision;
        },
      },
      snapshots,
      name: config.name,
      retain: config.snapshot.retain,
      intervalNs: config.snapshot.interval,
      log: app.log,
    });
    background.add(snapshotting(snapshotter));
  }
  if (journal !== undefined) {
    // Stopped after the timers that change the store and before the final snapshot, which then covers it all.
    background.add(() => {
      journal.start();
      return () => journal.flush();
    });
  }
  background.add(() => startExpiryTimer(store, clock));
  background.add(() => startPruneTimer(store, config.pruneInterval));
  background.add(() => startWatchSweepTimer(hub, config.eventStreamSendTimeout));

  const bind = async (): Promise<string> => {
    if (address.kind === "unix") {
      await removeStaleSocket(address.path);
      await app.listen({ path: address.path });
      return `unix://${address.path}`;
    }
    await app.listen({ host: address.host === "" ? "::" : address.host, port: address.port });
    return urlOf(app, tls !== undefined);
  };
  const shutDown = async () => {
    const timeoutMs = Number(config.gracefulShutdownTimeout / 1_000_000n);
    const force = timeoutMs > 0 ? setTimeout(() => server?.closeAllConnections(), timeoutMs) : undefined;
    try {
      await app.close();
      // Fastify closes the server only if it listens; one that never did still holds Node's HTTP/1.1
      // connection check interval (the polyglot server arms it when built): closing releases it.
      if (server?.listening === false) {
        server.close();
      }
    } finally {
      clearTimeout(force);
    }
    // Every call has been answered: the final snapshot holds every acknowledged write.
    try {
      await background.stop();
    } finally {
      await snapshots?.close();
    }
  };
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutDown());

  return {
    app,
    store,
    hub,
    grpcWatch,
    shutdownRequested,
    restored,
    journal,
    async listen() {
      try {
        const url = await bind();
        await background.start();
        return url;
      } catch (error) {
        // The listen error is the one to report; closing only releases what build() opened.
        await close().catch(() => {});
        throw error;
      }
    },
    close,
  };
}

/**
 * The snapshotter as background work: periodic snapshots while the server
 * runs, and a final one when it stops (none if it never started: no call
 * could have changed the store).
 */
function snapshotting(snapshotter: Snapshotter): StartWork {
  return () => {
    snapshotter.start();
    return async () => {
      await snapshotter.stop();
      await snapshotter.snapshotNow();
    };
  };
}

/**
 * Opens the snapshot database (migrating it) and, unless start_fresh,
 * restores the newest snapshot of `config.name` into the empty store, then
 * replays the journal after it (whatever the journal mode now: what an
 * earlier run journaled is never skipped). start_fresh discards both. A
 * snapshot or journal that cannot be read is an error, never a silently
 * empty or partial store.
 */
async function openAndRestore(config: Config, store: KeyValueStore): Promise<{ snapshots: SnapshotStore; report: RestoreReport }> {
  const started = performance.now();
  const snapshots = openSnapshotStore(config.snapshot.database, config.dataDir);
  try {
    await snapshots.migrate();
    let snapshotId: bigint | undefined;
    let replay: ReplayResult | undefined;
    if (config.startFresh) {
      // Its entries would follow a state that no longer exists.
      await snapshots.truncateJournal(config.name);
    } else {
      const [newest] = await snapshots.list(config.name);
      const state = newest === undefined ? undefined : await snapshots.load(newest.id);
      if (state !== undefined) {
        store.importState(state);
        snapshotId = newest?.id;
      }
      replay = await replayJournal(snapshots, config.name, store);
    }
    const report: RestoreReport = {
      database: describeDatabase(config.snapshot.database, config.dataDir),
      journal: config.snapshot.journal,
      snapshotId,
      keys: store.userKeys,
      replay,
      ms: performance.now() - started,
    };
    return { snapshots, report };
  } catch (error) {
    await snapshots.close();
    throw error;
  }
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
