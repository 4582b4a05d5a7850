import type { Nanoseconds } from "../duration/parse-duration.js";

export type { Nanoseconds };

/** Log levels of the original server, lowest first. */
export const logLevels = ["DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "EVENT"] as const;

/** One of {@link logLevels}. */
export type LogLevel = (typeof logLevels)[number];

/** Journal modes (`snapshot.journal`): see JournalMode in journal/journal-writer.ts; `off` = none. */
export const journalModes = ["sync", "batched", "off"] as const;

/** One of {@link journalModes}. */
export type JournalModeOption = (typeof journalModes)[number];

/** How a cluster node answers reads: after catching up with the log (etcd's ReadIndex), or from what it has applied. */
export const readConsistencies = ["linearizable", "serializable"] as const;

/** One of {@link readConsistencies}. */
export type ReadConsistency = (typeof readConsistencies)[number];

/**
 * The typed, validated server configuration. Each property corresponds to
 * the snake_case option of the same name (YAML key; `KEYQUARRY_` + upper-case
 * environment variable), e.g. `listenAddress` is `listen_address`.
 */
export interface Config {
  /** gRPC/Connect listen address: `host:port`, `:port`, `tcp://...` or `unix:///path.sock`. */
  listenAddress: string;
  /**
   * Browser origins allowed to call the API (CORS), comma-separated, e.g.
   * `https://app.example.com,http://localhost:5173`; `*` allows any; "" none.
   */
  corsOrigins: string;
  /** Serve the web console at /ui/ on the main port. */
  ui: boolean;
  /** Name under which snapshots are written and restored. */
  name: string;
  /** TLS certificate (PEM path); TLS is on when both it and sslKeyfile are set. */
  sslCertfile: string;
  /** TLS private key (PEM path). */
  sslKeyfile: string;
  /** CA certificate (PEM path) that client certificates are verified against; with auth on, a verified one authenticates (needs TLS). */
  sslClientCa: string;
  /** How long a graceful shutdown waits for in-flight calls; 0 waits indefinitely. */
  gracefulShutdownTimeout: Nanoseconds;
  logLevel: LogLevel;
  logJson: boolean;
  /** Log every key event. */
  logEvents: boolean;
  /** Events a slow watcher may fall behind by before its stream is ended. */
  eventStreamBufferSize: number;
  eventStreamSendTimeout: Nanoseconds;
  /** Maximum concurrent watch streams; 0 = unlimited. */
  eventStreamSubscriberLimit: number;
  /** Maximum concurrent watch streams of one client id; 0 = unlimited. */
  eventStreamClientLimit: number;
  /** Bytes one watcher may have queued (its transport's buffers included) before its stream is ended; 0 = no limit. */
  eventStreamMaxBytes: number;
  /** Bytes of messages all watchers together may have in flight; past it messages wait and the slowest watchers are ended; 0 = no limit. */
  eventStreamTotalMaxBytes: number;
  /** Number of recent events kept for watch resumption. */
  eventLogSize: number;
  /** Address of the HTTP monitor server (health, metrics, debugging); it runs when prometheus, expvar or pprof is on. */
  monitorAddress: string;
  /** Serve Prometheus metrics at /metrics on the monitor server. */
  prometheus: boolean;
  /** Serve /debug/vars (stats, memory, configuration with secrets redacted) on the monitor server. */
  expvar: boolean;
  /** Serve /debug/pprof/profile (V8 CPU profile) and /debug/pprof/heap (heap snapshot) on the monitor server. */
  pprof: boolean;
  /** Export OpenTelemetry spans over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT). */
  trace: boolean;
  /** Name of the tracer the spans come from. */
  tracerName: string;
  /** Service name of the spans, unless OTEL_SERVICE_NAME is set. */
  serviceName: string;
  /** Start in read-only mode. */
  readonly: boolean;
  /** Client id allowed to call SetReadOnly and the Admin service; "" = nobody. */
  privilegedClientId: string;
  /** Revisions kept per key: -1 unlimited, 0 none, N the current value and N-1 older ones. */
  revisionLimit: number;
  /** Write revision history into snapshots. */
  persistentRevisions: boolean;
  /** Keep a key's history after Delete/Pop. */
  keepDeletedKeyHistory: boolean;
  deletedKeyHistoryMaxAge: Nanoseconds;
  /** Maximum key length in UTF-8 bytes; 0 = no limit. */
  maxKeyLength: number;
  /** Maximum value size in bytes; 0 = no limit beyond the request size cap. */
  maxValueSize: number;
  /** Maximum number of keys (reserved keys included); 0 = unlimited. */
  maxKeys: number;
  /** Longest ListKeys pattern accepted, UTF-8 bytes (at least 1). */
  maxPatternLength: number;
  /** Longest time one ListKeys call scans before it answers a partial page with `more`; > 0. */
  maxScanDuration: Nanoseconds;
  /** Largest ListKeys response, bytes (at least one key is always returned). */
  maxListKeysResponseSize: number;
  /** Maximum client id length (the `client_id` header) in bytes; 0 = no limit. */
  maxClientIdLength: number;
  /** Maximum number of registered client ids (Register); 0 = unlimited. */
  maxClients: number;
  /** Removed keys whose metrics are kept, the most recently removed; 0 = none, -1 = all. */
  maxRemovedKeyMetrics: number;
  minLockDuration: Nanoseconds;
  maxLockDuration: Nanoseconds;
  minLifespan: Nanoseconds;
  pruneInterval: Nanoseconds;
  pruneAt: number;
  pruneTo: number;
  eagerPruneAt: number;
  eagerPruneTo: number;
  /** Do not restore the latest snapshot at start. */
  startFresh: boolean;
  /** Directory for embedded data (the default SQLite snapshot file). */
  dataDir: string;
  /** HTTP/2 streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: number;
  /** Largest request header list in bytes, HTTP/1.1 and HTTP/2. */
  maxHeaderListSize: number;
  /** Open connections the server accepts; more are closed at once. 0 = unlimited. */
  maxConnections: number;
  /** Time a new connection has to finish TLS and send its HTTP/2 preface or first HTTP/1.1 request; 0 = no limit. */
  handshakeTimeout: Nanoseconds;
  /** An HTTP/2 connection without open streams for this long is closed with GOAWAY; 0 = never. */
  idleTimeout: Nanoseconds;
  /** Period of the HTTP/2 PINGs that detect dead peers; 0 = no PINGs. */
  keepaliveInterval: Nanoseconds;
  /** How long a PING may go unanswered before its connection is closed. */
  keepaliveTimeout: Nanoseconds;
  snapshot: {
    enabled: boolean;
    /** Period between snapshots (each compacts the journal); 0 = only at shutdown. */
    interval: Nanoseconds;
    /** Whether (and how) every change is journaled between snapshots. */
    journal: JournalModeOption;
    /** `batched` journal: the longest time between two commits. */
    journalInterval: Nanoseconds;
    /** `sqlite:///abs.db`, `sqlite://rel.db` or `postgres://...`; "" = SQLite file in dataDir. */
    database: string;
    /** Snapshots kept per name; older ones are deleted. */
    retain: number;
  };
  cluster: {
    /**
     * NATS servers (comma-separated URLs) whose JetStream holds the cluster's
     * replicated log; "" = a single server, no cluster.
     */
    natsUrls: string;
    /** The JetStream stream (and snapshot bucket) the nodes of one cluster share. */
    name: string;
    /** Replicas of the stream when a node creates it (1, 3 or 5). */
    replicas: number;
    readConsistency: ReadConsistency;
    /** Messages the stream keeps (older ones are discarded; a node behind them loads the published snapshot); 0 = all. */
    streamMaxMessages: number;
    /** Period between the snapshots each node publishes for nodes that fall behind the stream; 0 = never. */
    snapshotInterval: Nanoseconds;
    /** NATS authentication: a token, a user and password, or a credentials file (JWT + NKey seed). */
    natsToken: string;
    natsUser: string;
    natsPassword: string;
    natsCreds: string;
    /** TLS to NATS: a CA to verify the servers, and a client certificate and key. */
    natsTlsCa: string;
    natsTlsCert: string;
    natsTlsKey: string;
  };
  auth: {
    /** Whether every call must authenticate (a token or a client certificate) as an identity of `file`. */
    enabled: boolean;
    /** The identities file (YAML; reloaded on SIGHUP). */
    file: string;
  };
}
