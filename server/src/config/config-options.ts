import type { Config, JournalModeOption, LogLevel, Nanoseconds, ReadConsistency } from "./config.js";

/** The value type behind each option kind. */
export interface OptionKinds {
  boolean: boolean;
  integer: number;
  duration: Nanoseconds;
  string: string;
  logLevel: LogLevel;
  journalMode: JournalModeOption;
  readConsistency: ReadConsistency;
}

/** How an option's value is parsed and validated. */
export type OptionKind = keyof OptionKinds;

/** One option of a given kind; see {@link ConfigOption}. */
export interface OptionOf<K extends OptionKind> {
  /** Canonical snake_case name, e.g. `max_keys` or `snapshot.interval`. */
  readonly name: string;
  readonly kind: K;
  /** Other accepted names (YAML keys, flags, env suffixes), kept for compatibility with the original server. */
  readonly aliases: readonly string[];
  /** Smallest accepted value; only set for integers. */
  readonly minimum?: number;
  /** Reads the option from a Config (e.g. to print defaults in help output). */
  get(config: Config): OptionKinds[K];
  /** Stores an already parsed and validated value into a Config. */
  set(config: Config, value: OptionKinds[K]): void;
}

/** Describes one configuration option; a union discriminated by `kind`. */
export type ConfigOption = { [K in OptionKind]: OptionOf<K> }[OptionKind];

// Keys of T whose type is exactly V, so the table below cannot, say, point a
// "string" option at `logLevel` or a "duration" option at a number.
type KeysOfExactly<T, V> = {
  [P in keyof T]-?: [T[P]] extends [V] ? ([V] extends [T[P]] ? P : never) : never;
}[keyof T];

/** The option groups (see {@link grouped}). */
export const optionGroups = ["snapshot", "cluster", "auth"] as const;

/** An option group's name. */
export type OptionGroup = (typeof optionGroups)[number];

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// The option name is derived from the property so that the documented rule
// "option = snake_case(property)" cannot drift from the code.
function top<K extends OptionKind>(
  kind: K,
  key: KeysOfExactly<Config, OptionKinds[K]>,
  extra: { aliases?: readonly string[]; minimum?: number } = {},
): OptionOf<K> {
  const record = (config: Config) => config as unknown as Record<string, OptionKinds[K]>;
  return {
    name: snakeCase(key),
    kind,
    aliases: extra.aliases ?? [],
    ...(extra.minimum === undefined ? {} : { minimum: extra.minimum }),
    get: (config) => record(config)[key] as OptionKinds[K],
    set: (config, value) => {
      record(config)[key] = value;
    },
  };
}

// Options of a group (`snapshot.interval`, `auth.file`): a nested mapping in YAML, `KEYQUARRY_<GROUP>_<NAME>` in the environment.
function grouped<G extends OptionGroup>(group: G) {
  return <K extends OptionKind>(kind: K, property: KeysOfExactly<Config[G], OptionKinds[K]>, extra: { minimum?: number } = {}): OptionOf<K> => {
    const key = property as string;
    const record = (config: Config) => config[group] as unknown as Record<string, OptionKinds[K]>;
    return {
      name: `${group}.${snakeCase(key)}`,
      kind,
      aliases: [],
      ...(extra.minimum === undefined ? {} : { minimum: extra.minimum }),
      get: (config) => record(config)[key] as OptionKinds[K],
      set: (config, value) => {
        record(config)[key] = value;
      },
    };
  };
}

const snapshot = grouped("snapshot");
const cluster = grouped("cluster");
const auth = grouped("auth");

/**
 * Every configuration option, in the order of {@link Config}. The single
 * source of truth for option names, aliases and value kinds, used by
 * loadConfig and available for help output.
 */
export const configOptions: readonly ConfigOption[] = [
  top("string", "listenAddress"),
  top("string", "corsOrigins"),
  top("boolean", "ui"),
  top("string", "name"),
  top("string", "sslCertfile"),
  top("string", "sslKeyfile"),
  top("string", "sslClientCa"),
  top("duration", "gracefulShutdownTimeout", { aliases: ["graceful_stop_timeout"] }),
  top("logLevel", "logLevel"),
  top("boolean", "logJson"),
  top("boolean", "logEvents"),
  top("integer", "eventStreamBufferSize", { minimum: 0 }),
  top("duration", "eventStreamSendTimeout"),
  top("integer", "eventStreamSubscriberLimit", { minimum: 0 }),
  top("integer", "eventStreamClientLimit", { minimum: 0 }),
  top("integer", "eventStreamMaxBytes", { minimum: 0 }),
  top("integer", "eventStreamTotalMaxBytes", { minimum: 0 }),
  top("integer", "eventLogSize", { minimum: 0 }),
  top("string", "monitorAddress"),
  top("boolean", "prometheus", { aliases: ["metrics"] }),
  top("boolean", "expvar"),
  top("boolean", "pprof"),
  top("boolean", "trace"),
  top("string", "tracerName"),
  top("string", "serviceName"),
  top("boolean", "readonly"),
  top("string", "privilegedClientId"),
  // -1 means unlimited revisions.
  top("integer", "revisionLimit", { minimum: -1 }),
  top("boolean", "persistentRevisions"),
  top("boolean", "keepDeletedKeyHistory", { aliases: ["keep_key_history_after_delete"] }),
  top("duration", "deletedKeyHistoryMaxAge"),
  top("integer", "maxKeyLength", { minimum: 0 }),
  top("integer", "maxValueSize", { minimum: 0 }),
  top("integer", "maxKeys", { minimum: 0 }),
  top("integer", "maxPatternLength", { minimum: 1 }),
  top("duration", "maxScanDuration"),
  top("integer", "maxListKeysResponseSize", { minimum: 1 }),
  top("integer", "maxClientIdLength", { minimum: 0 }),
  top("integer", "maxClients", { minimum: 0 }),
  // -1 keeps the metrics of every removed key (the original's behaviour).
  top("integer", "maxRemovedKeyMetrics", { minimum: -1 }),
  top("duration", "minLockDuration"),
  top("duration", "maxLockDuration"),
  top("duration", "minLifespan"),
  top("duration", "pruneInterval"),
  top("integer", "pruneAt", { minimum: 0 }),
  top("integer", "pruneTo", { minimum: 0 }),
  top("integer", "eagerPruneAt", { minimum: 0 }),
  top("integer", "eagerPruneTo", { minimum: 0 }),
  top("boolean", "startFresh"),
  top("string", "dataDir"),
  top("integer", "maxConcurrentStreams", { minimum: 1 }),
  // Below 1 KiB ordinary requests (a gRPC call's own headers) would be refused.
  top("integer", "maxHeaderListSize", { minimum: 1024 }),
  top("integer", "maxConnections", { minimum: 0 }),
  top("duration", "handshakeTimeout"),
  top("duration", "idleTimeout"),
  top("duration", "keepaliveInterval"),
  top("duration", "keepaliveTimeout"),
  snapshot("boolean", "enabled"),
  snapshot("duration", "interval"),
  snapshot("journalMode", "journal"),
  snapshot("duration", "journalInterval"),
  snapshot("string", "database"),
  snapshot("integer", "retain", { minimum: 0 }),
  cluster("string", "natsUrls"),
  cluster("string", "name"),
  cluster("integer", "replicas", { minimum: 1 }),
  cluster("readConsistency", "readConsistency"),
  cluster("integer", "streamMaxMessages", { minimum: 0 }),
  cluster("duration", "snapshotInterval"),
  cluster("string", "natsToken"),
  cluster("string", "natsUser"),
  cluster("string", "natsPassword"),
  cluster("string", "natsCreds"),
  cluster("string", "natsTlsCa"),
  cluster("string", "natsTlsCert"),
  cluster("string", "natsTlsKey"),
  auth("boolean", "enabled"),
  auth("string", "file"),
];

const byName = new Map<string, ConfigOption>();
for (const option of configOptions) {
  for (const name of [option.name, ...option.aliases]) byName.set(name, option);
}

/** Looks an option up by canonical name or alias; undefined if unknown. */
export function findOption(name: string): ConfigOption | undefined {
  return byName.get(name);
}
