import os from "node:os";
import path from "node:path";
import type { Config } from "./config.js";

/** Port used when `listen_address` names no port. */
export const defaultListenPort = 33969;

/**
 * Port used when `monitor_address` names no port. (The original server
 * wrongly fell back to 33969 here, colliding with the RPC port.)
 */
export const defaultMonitorPort = 33970;

/**
 * The built-in defaults: the lowest layer under the config file, the
 * environment and flags. Returns a fresh object on every call, so callers
 * may mutate it. `env` is consulted only for `XDG_DATA_HOME` (default
 * `data_dir`); it defaults to `process.env`.
 */
export function defaultConfig(env: Record<string, string | undefined> = process.env): Config {
  return {
    listenAddress: `localhost:${defaultListenPort}`,
    corsOrigins: "",
    ui: true,
    name: defaultName(),
    sslCertfile: "",
    sslKeyfile: "",
    sslClientCa: "",
    gracefulShutdownTimeout: 30_000_000_000n, // 30s
    logLevel: "NOTICE",
    logJson: false,
    logEvents: false,
    eventStreamBufferSize: 1000,
    eventStreamSendTimeout: 1_000_000_000n, // 1s
    eventStreamSubscriberLimit: 10_000,
    eventStreamClientLimit: 100,
    eventStreamMaxBytes: 16 * 1024 * 1024,
    eventStreamTotalMaxBytes: 64 * 1024 * 1024,
    eventLogSize: 10_000,
    monitorAddress: `localhost:${defaultMonitorPort}`,
    prometheus: false,
    expvar: false,
    pprof: false,
    trace: false,
    tracerName: "keyquarry_server",
    serviceName: "keyquarry",
    readonly: false,
    privilegedClientId: "",
    revisionLimit: 5,
    persistentRevisions: false,
    keepDeletedKeyHistory: false,
    deletedKeyHistoryMaxAge: 0n,
    maxKeyLength: 1024,
    maxValueSize: 1_000_000,
    maxKeys: 0,
    maxPatternLength: 1024,
    maxScanDuration: 1_000_000_000n, // 1s
    maxListKeysResponseSize: 4_194_304, // gRPC clients' default receive limit
    maxClientIdLength: 256,
    maxClients: 100_000,
    maxRemovedKeyMetrics: 10_000,
    minLockDuration: 5_000_000_000n, // 5s
    maxLockDuration: 900_000_000_000n, // 15m
    minLifespan: 5_000_000_000n, // 5s
    pruneInterval: 0n,
    pruneAt: 0,
    pruneTo: 0,
    eagerPruneAt: 0,
    eagerPruneTo: 0,
    startFresh: false,
    dataDir: path.join(dataHome(env), "keyquarry"),
    maxConcurrentStreams: 1000,
    maxHeaderListSize: 16_384,
    maxConnections: 10_000,
    handshakeTimeout: 10_000_000_000n, // 10s
    idleTimeout: 300_000_000_000n, // 5m
    keepaliveInterval: 60_000_000_000n, // 1m
    keepaliveTimeout: 20_000_000_000n, // 20s
    snapshot: {
      enabled: false,
      // Every snapshot truncates the journal, so replay at start stays short.
      interval: 300_000_000_000n, // 5m
      journal: "sync",
      journalInterval: 1_000_000_000n, // 1s
      database: "",
      retain: 10,
    },
    cluster: {
      natsUrls: "",
      name: "keyquarry",
      replicas: 3,
      readConsistency: "linearizable",
      streamMaxMessages: 1_000_000,
      snapshotInterval: 60_000_000_000n, // 1m
      natsToken: "",
      natsUser: "",
      natsPassword: "",
      natsCreds: "",
      natsTlsCa: "",
      natsTlsCert: "",
      natsTlsKey: "",
    },
    auth: { enabled: false, file: "" },
  };
}

/**
 * `<user>@<hostname>`, so that servers sharing a snapshot database do not
 * overwrite each other's snapshots by default.
 */
function defaultName(): string {
  let user = "";
  try {
    user = os.userInfo().username;
  } catch {
    // userInfo() throws when the uid has no passwd entry (common in
    // containers); the host name alone is still a usable default.
  }
  const host = os.hostname();
  if (user !== "" && host !== "") return `${user}@${host}`;
  // Last resort "keyquarry" so the name is never empty.
  return user || host || "keyquarry";
}

/** `$XDG_DATA_HOME`, or `~/.local/share` as the XDG spec prescribes. */
function dataHome(env: Record<string, string | undefined>): string {
  const xdg = env["XDG_DATA_HOME"];
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg !== undefined && path.isAbsolute(xdg)) return xdg;
  return path.join(os.homedir(), ".local", "share");
}
