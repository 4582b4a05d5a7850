import fastifyCors from "@fastify/cors";
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { TlsOptions } from "node:tls";
import type { Config } from "../config/config.js";
import { defaultListenPort, defaultMonitorPort } from "../config/default-config.js";
import { parseListenAddress, type ListenAddress } from "../config/listen-address.js";
import { callerInterceptor, peerSocketKey, type CallerCheck } from "../rpc/client-id.js";
import { Authenticator } from "../auth/authenticator.js";
import { loadIdentitiesFile } from "../auth/identities-file.js";
import { reloadOnHangup } from "../auth/reload-on-hangup.js";
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
import { consolePlugin } from "./console-plugin.js";
import { createGrpcFastPath } from "./grpc-fast-path.js";
import { GrpcWatchFastPath } from "./grpc-watch-fast-path.js";
import { startPruneTimer } from "./prune-timer.js";
import { reencodeGrpcMessageTrailer } from "./grpc-message.js";
import { customLevelsOf, loggerOptions } from "./logger-options.js";
import { eventLogger } from "./event-logger.js";
import { redactSecrets } from "./redact-secrets.js";
import { createSnapshotter, defaultSqliteFile, openSnapshotStore, type Snapshotter, type SnapshotStore } from "../snapshot/index.js";
import { JournalWriter, replayJournal, type ReplayResult } from "../journal/index.js";
import { WatchHub } from "../watch/watch-hub.js";
import { joinCluster, type Joined } from "../cluster/join-cluster.js";
import type { Replica } from "../cluster/replica.js";
import { createPolyglotServer, type PolyglotServer } from "./polyglot-server.js";
import { requestSizeLimitFor } from "./read-max-bytes.js";
import { removeStaleSocket } from "./remove-stale-socket.js";
import { unknownMethodHandler } from "./unknown-method-handler.js";
import { nodeWatchSink } from "./node-watch-sink.js";
import { startWatchSweepTimer } from "./watch-sweep-timer.js";
import { watchSinkKey } from "../rpc/watch-sink-key.js";
import { createContextValues } from "@connectrpc/connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { Health } from "@keyquarry/gen/grpc/health/v1/health_pb.js";
import { createHealthService } from "../rpc/health-service.js";
import { reflectionRoutes } from "../rpc/reflection-service.js";
import { debugVars } from "../telemetry/debug-vars.js";
import { createMonitorServer, type MonitorServer } from "../telemetry/monitor-server.js";
import { rpcObserverInterceptor } from "../telemetry/rpc-interceptor.js";
import { JournalRecord, observedJournalLog } from "../telemetry/journal-record.js";
import { observedSnapshotStore, SnapshotRecord } from "../telemetry/snapshot-record.js";
import { startTelemetry, type Telemetry } from "../telemetry/telemetry.js";

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
  /** Metrics and tracing (what other parts register metrics in and run spans with). */
  readonly telemetry: Telemetry;
  /**
   * The monitor listener's URL once listen() has resolved, when `prometheus`,
   * `expvar` or `pprof` is on (`/healthz`, `/readyz`, `/metrics`, `/debug/...`).
   */
  readonly monitorUrl: string | undefined;
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
  /** The journal, when snapshots and the journal are on. */
  readonly journal: JournalWriter | undefined;
}

/**
 * Builds the server: the store engine, the Connect handlers of both services
 * and one Fastify host that speaks gRPC, gRPC-Web and Connect on one port.
 * Configures everything but does not listen, and starts nothing: no timer,
 * no snapshotter (listen() does). If it fails, it leaves nothing open.
 */
export async function build(config: Config, options: BuildOptions = {}): Promise<KeyquarryServer> {
  const address = parseListenAddress(config.listenAddress, defaultListenPort);
  const tls = tlsOptionsOf(config);
  // Read before anything is opened: a bad identities file stops the start.
  const authenticator = config.auth.enabled ? new Authenticator(await loadIdentitiesFile(config.auth.file)) : undefined;
  const clock = options.clock ?? createSystemClock();
  const newStore = () => new KeyValueStore(storeOptionsOf(config), clock);
  const restored = newStore();
  const opened = config.snapshot.enabled ? await openAndRestore(config, restored) : undefined;
  const snapshots = opened?.snapshots;
  // The replica logs through the server's logger once there is one.
  const replicaLog = { error: (details: object, message: string) => lateLog?.error(details, message) };
  let lateLog: FastifyBaseLogger | undefined;
  let joined: Joined | undefined;
  try {
    joined = config.cluster.natsUrls === "" ? undefined : await joinCluster(config, clusterSettings(config), restored, newStore, clock, replicaLog);
    const store = joined?.replica.store ?? restored;
    const server = await compose(config, options, { address, tls, clock, store, snapshots, restore: opened?.restore, authenticator, joined });
    lateLog = server.app.log;
    return server;
  } catch (error) {
    // A server that could not be built holds nothing open.
    await joined?.replica.close();
    await snapshots?.close();
    throw error;
  }
}

/** What {@link build} has read and opened before it composes the server. */
interface Parts {
  address: ListenAddress;
  tls: TlsOptions | undefined;
  clock: Clock;
  /** Who callers are, when auth is on. */
  authenticator: Authenticator | undefined;
  /** Restored from the newest snapshot, when snapshots are on. */
  store: KeyValueStore;
  /** Open when snapshots are on; the server's close() closes it. */
  snapshots: SnapshotStore | undefined;
  /** What was restored, for the log (when snapshots are on). */
  restore: Restore | undefined;
  /** This node's place in its cluster, in cluster mode. */
  joined: Joined | undefined;
}

/** The composition root: the watch hub, the RPCs, the Fastify host and their background work. */
async function compose(config: Config, options: BuildOptions, parts: Parts): Promise<KeyquarryServer> {
  const { address, tls, clock, store, snapshots, restore, authenticator, joined } = parts;
  const replica = joined?.replica;
  let appLog: FastifyBaseLogger | undefined;
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
      awaitRevisionsAhead: replica !== undefined,
    },
    clock,
  );
  let requestShutdown = () => {};
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));

  let snapshotter: Snapshotter | undefined;
  const snapshotRecord = snapshots === undefined ? undefined : new SnapshotRecord();
  // A cluster's log is its journal.
  const journaling =
    snapshots !== undefined && config.snapshot.journal !== "off" && replica === undefined
      ? { snapshots, mode: config.snapshot.journal, record: new JournalRecord() }
      : undefined;
  const telemetry = await startTelemetry(config, { store, hub, snapshots: snapshotRecord, journal: journaling?.record });
  // Attached before the reserved keys are written: from here on every change is journaled.
  const journal =
    journaling &&
    new JournalWriter({
      log: observedJournalLog(journaling.snapshots, journaling.record, telemetry.span),
      name: config.name,
      after: store.commandSeq,
      mode: journaling.mode,
      intervalMs: Math.max(1, Number(config.snapshot.journalInterval / 1_000_000n)),
      // Only called once the server runs, when appLog is set.
      logger: { error: (obj, msg) => appLog?.error(obj, msg), warn: (obj, msg) => appLog?.warn(obj, msg) },
    });
  if (journaling !== undefined && journal !== undefined) {
    store.attachCommandSink(journal);
    journaling.record.state = () => ({ backlog: journal.backlog, failing: journal.failing });
  }
  const rpcs = createRpcs({
    store,
    hub,
    requestShutdown: () => requestShutdown(),
    snapshotsCreated: () => BigInt(snapshotter?.created ?? 0),
    listKeys: config,
    durability: journal,
    authorize: authenticator !== undefined,
    writes: replica,
    readBarrier: replica !== undefined && config.cluster.readConsistency === "linearizable" ? () => replica.readBarrier() : undefined,
    replication: replica && (() => ({ applied: replica.applied, lag: replica.lag })),
  });
  const callers: CallerCheck = { maxClientIdLength: config.maxClientIdLength, authenticator };
  const limit = requestSizeLimitFor(config);
  const grpcWatch = new GrpcWatchFastPath(rpcs.watchMethods, limit, callers, telemetry.rpc);
  const grpcUnary = createGrpcFastPath(rpcs.unaryMethods, limit, callers, telemetry.rpc);
  const cors = corsOptionsFor(config.corsOrigins);
  let server: PolyglotServer | undefined;
  const app = fastify({
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
              connect: createConnectFastPath(rpcs.unaryMethods, limit, cors !== undefined, callers, telemetry.rpc),
            };
      server = createPolyglotServer(handler, tls, fastPaths, connectionLimitsFor(config));
      return server as unknown as import("node:http").Server;
    },
  });
  const health = createHealthService([KeyQuarry.typeName, Admin.typeName]);
  const reflection = reflectionRoutes([KeyQuarry, Admin, Health]);
  appLog = app.log;
  const log = customLevelsOf(app.log);
  if (restore !== undefined) {
    logRestore(app.log, restore);
  }
  if (joined !== undefined) {
    log.notice(
      {
        stream: config.cluster.name,
        startedFrom: String(joined.startedFrom),
        fromPublishedSnapshot: joined.fromPublishedSnapshot,
        caughtUp: String(joined.caughtUp),
        revision: String(store.revision),
        keys: store.userKeys,
        readConsistency: config.cluster.readConsistency,
      },
      "joined the cluster",
    );
  }
  if (authenticator === undefined) {
    app.log.warn(
      "auth is off: client ids are self-declared (any client can act as any other, locks included), and privileged_client_id is no secret " +
        "(WatchStream shows every event's client id to every watcher); set auth.enabled and auth.file to require identities",
    );
  } else {
    log.notice({ file: config.auth.file, identities: authenticator.size, clientCertificates: config.sslClientCa !== "" }, "auth is on");
  }
  if (config.logEvents || config.logLevel === "EVENT") {
    // Its own level: events are logged whatever log_level hides.
    store.subscribe(eventLogger(customLevelsOf(app.log.child({}, { level: "event" })).event));
  }
  // Logged too (when log_events is on).
  const reserved = reservedKeyValues(config, new Date(Number(clock.now() / 1_000_000n)));
  if (replica === undefined) {
    store.writeReservedKeys(reserved);
    // Locks and lifespans that ended while the server was down end now, with their events.
    store.expireDue();
  } else {
    // Through the log, as every change of a cluster node (its expiry timer applies what is due).
    await replica.execute({ op: "writeReservedKeys", values: reserved });
  }

  app.addHook("preClose", (done) => {
    // Health says NOT_SERVING from here on (its Watch streams get that and end).
    health.shutDown();
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
    routes: (router) => {
      rpcs.routes(router);
      health.routes(router);
      reflection(router);
    },
    // The observer's outermost, so that it sees the client id check fail (as on the fast paths).
    interceptors: [
      ...(telemetry.rpc.enabled ? [rpcObserverInterceptor(telemetry.rpc)] : []),
      callerInterceptor(callers),
    ],
    limit,
    contextValues: (request) =>
      createContextValues().set(watchSinkKey, nodeWatchSink(request.raw)).set(peerSocketKey, request.raw.socket),
  });
  if (config.ui) {
    await app.register(consolePlugin);
  }

  // Started by listen(), stopped by close(), in reverse order: the timers that change the store stop
  // before the snapshotter takes its final snapshot.
  const background = new BackgroundWork();
  if (snapshots !== undefined && snapshotRecord !== undefined) {
    snapshotter = createSnapshotter({
      store: {
        // A cluster node's history must survive its restart as the other nodes keep theirs.
        exportState: () => store.exportState(config.persistentRevisions || replica !== undefined, "deferred"),
        get revision() {
          return store.revision;
        },
      },
      snapshots: observedSnapshotStore(snapshots, snapshotRecord, telemetry.span),
      name: config.name,
      retain: config.snapshot.retain,
      intervalNs: config.snapshot.interval,
      log: { notice: log.notice, error: app.log.error.bind(app.log) },
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
  if (replica === undefined) {
    background.add(() => startExpiryTimer(store, clock));
    background.add(() => startPruneTimer(store, config.pruneInterval));
  } else {
    // Every node proposes what its timers find due; applying it twice changes nothing more.
    background.add(() => startExpiryTimer(store, clock, (limit) => replica.expireDue(limit)));
    const logFailure = (error: unknown) => app.log.warn({ err: error }, "the scheduled prune could not be proposed to the cluster");
    background.add(() => startPruneTimer(store, config.pruneInterval, () => replica.execute({ op: "scheduledPrune" }).catch(logFailure)));
    background.add(publishingSnapshots(replica, config.cluster.snapshotInterval, app.log));
  }
  background.add(() => startWatchSweepTimer(hub, config.eventStreamSendTimeout));
  if (authenticator !== undefined) {
    background.add(reloadOnHangup(config.auth.file, authenticator, { notice: log.notice, error: app.log.error.bind(app.log) }));
  }

  // Ready from the end of listen() (the restore is done, calls are accepted) until close() starts.
  let ready = false;
  const monitor: MonitorServer | undefined =
    config.prometheus || config.expvar || config.pprof
      ? createMonitorServer({
          address: parseListenAddress(config.monitorAddress, defaultMonitorPort),
          ready: () => ready && replica?.failure === undefined,
          detail: replica && (() => `cluster applied ${replica.applied}, lag ${replica.lag}${replica.failure ? `, stopped: ${replica.failure.message}` : ""}`),
          registry: telemetry.registry,
          vars: config.expvar ? () => debugVars(config, store, hub) : undefined,
          pprof: config.pprof,
        })
      : undefined;
  let monitorUrl: string | undefined;

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
    ready = false;
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
      await replica?.close();
      await snapshots?.close();
      // Last: /metrics and /readyz answer during the graceful shutdown, and the final snapshot's span is exported.
      await monitor?.close();
      await telemetry.close();
    }
  };
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutDown());

  return {
    app,
    store,
    hub,
    grpcWatch,
    telemetry,
    get monitorUrl() {
      return monitorUrl;
    },
    shutdownRequested,
    journal,
    async listen() {
      try {
        const url = await bind();
        monitorUrl = await monitor?.listen();
        await background.start();
        ready = true;
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

/** The store settings every node of a cluster must share (those a command's outcome depends on). */
function clusterSettings(config: Config): Record<string, unknown> {
  const { replicated: _replicated, ...settings } = storeOptionsOf(config);
  return settings;
}

/** A cluster node's snapshot publishing: every `intervalNs` (0 = never), for the nodes that fall behind the stream. */
function publishingSnapshots(replica: Replica, intervalNs: bigint, log: FastifyBaseLogger): StartWork {
  return () => {
    if (intervalNs <= 0n) {
      return () => {};
    }
    let publishing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      publishing = replica.publishSnapshot(intervalNs).catch((error: unknown) => log.warn({ err: error }, "could not publish a snapshot to the cluster"));
    }, Number(intervalNs / 1_000_000n)).unref();
    return async () => {
      clearInterval(timer);
      await publishing;
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
async function openAndRestore(config: Config, store: KeyValueStore): Promise<{ snapshots: SnapshotStore; restore: Restore }> {
  const database = redactSecrets(config.snapshot.database || `sqlite://${join(config.dataDir, defaultSqliteFile)}`);
  const snapshots = openSnapshotStore(config.snapshot.database, config.dataDir);
  try {
    try {
      await snapshots.migrate();
    } catch (error) {
      throw new Error(`cannot open the snapshot database ${database}: ${redactSecrets(String((error as Error).message))}`, { cause: error });
    }
    const startedAt = performance.now();
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
      store.continueAfterReservedRevisions();
    }
    const restore: Restore = {
      database,
      serverName: config.name,
      journal: config.snapshot.journal,
      startFresh: config.startFresh,
      snapshotId: snapshotId === undefined ? null : String(snapshotId),
      keys: store.userKeys,
      revision: String(store.revision),
      journalEntriesReplayed: replay?.entries ?? 0,
      droppedTail: replay?.droppedTail ?? 0,
      diverged: replay?.diverged ?? 0,
      ms: Math.round(performance.now() - startedAt),
    };
    return { snapshots, restore };
  } catch (error) {
    await snapshots.close();
    throw error;
  }
}

/** The restore's figures, logged at NOTICE (strings for bigints: not every logger serializes them). */
interface Restore {
  /** The snapshot database, password masked. */
  database: string;
  serverName: string;
  journal: Config["snapshot"]["journal"];
  startFresh: boolean;
  /** The snapshot restored, if any. */
  snapshotId: string | null;
  keys: number;
  revision: string;
  journalEntriesReplayed: number;
  /** Entries of a partial or damaged last batch (a crash while it was written), dropped. */
  droppedTail: number;
  /** Replayed entries after which the revision was ahead of the recorded one (should stay 0). */
  diverged: number;
  ms: number;
}

/** Logs what was restored: NOTICE, plus a warning for a dropped last batch and an error for a divergence. */
function logRestore(log: FastifyBaseLogger, restore: Restore): void {
  const { droppedTail, diverged, ...figures } = restore;
  const nothing = restore.snapshotId === null && restore.journalEntriesReplayed === 0;
  customLevelsOf(log).notice(figures, nothing ? "no snapshot to restore" : "snapshot restored");
  if (droppedTail > 0) {
    log.warn({ entries: droppedTail }, "the journal's last batch was incomplete (a crash while it was written); it was dropped");
  }
  if (diverged > 0) {
    log.error({ entries: diverged }, "journal replay diverged from the run it repeats (revisions ahead); please report this");
  }
}

/**
 * TLS settings when ssl_certfile is set; with ssl_client_ca the server asks
 * for a client certificate and verifies it against that CA, but lets a client
 * without one in (it may authenticate with a token instead).
 */
function tlsOptionsOf(config: Config): TlsOptions | undefined {
  if (config.sslCertfile === "") {
    return undefined;
  }
  const tls = { cert: readFileSync(config.sslCertfile), key: readFileSync(config.sslKeyfile) };
  return config.sslClientCa === "" ? tls : { ...tls, ca: readFileSync(config.sslClientCa), requestCert: true, rejectUnauthorized: false };
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
