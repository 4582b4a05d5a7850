import fs from "node:fs";
import { isAlias, isMap, isScalar, parseDocument, type Document, type Node, type YAMLMap } from "yaml";
import { journalModes, logLevels, readConsistencies, type Config, type LogLevel, type Nanoseconds } from "./config.js";
import { ConfigError } from "./config-error.js";
import { configOptions, findOption, optionGroups, type ConfigOption } from "./config-options.js";
import { defaultConfig, defaultListenPort, defaultMonitorPort } from "./default-config.js";
import { parseListenAddress } from "./listen-address.js";
import { suggestOption } from "./suggest-option.js";
import { formatDuration, parseDuration } from "../duration/parse-duration.js";

/** Where {@link loadConfig} reads options from; every source is optional. */
export interface ConfigSources {
  /** YAML config file. Read only when given: there is no search path, so what is loaded is always explicit. */
  file?: string;
  /**
   * Environment to read `KEYQUARRY_*` variables from (pass `process.env`).
   * Omitted: no variables are read, and the default `data_dir` uses
   * `process.env.XDG_DATA_HOME`.
   */
  env?: Record<string, string | undefined>;
  /** Command-line values keyed by option name (`listen_address`, `snapshot.enabled`); undefined entries are ignored. */
  flags?: Record<string, string | boolean | number | undefined>;
}

/** Prefix of the environment variables that set options. */
export const envPrefix = "KEYQUARRY_";

/**
 * `KEYQUARRY_*` variables that are not options but are used elsewhere, so
 * they must not be reported as unknown options.
 */
export const nonOptionEnvVars: readonly string[] = ["KEYQUARRY_TEST_POSTGRES_URL"];

/**
 * Prefixes of non-option `KEYQUARRY_*` variables (`KEYQUARRY_CLIENT_*` belongs
 * to the CLI client, `KEYQUARRY_FC_*` to the model-based test, whose servers
 * and CLI children inherit it).
 */
export const nonOptionEnvPrefixes: readonly string[] = ["KEYQUARRY_CLIENT_", "KEYQUARRY_FC_"];

/** `KEYQUARRY_` + the option name upper-cased with `.` → `_`, e.g. `KEYQUARRY_SNAPSHOT_INTERVAL`. */
export function envVarName(option: string): string {
  return envPrefix + option.toUpperCase().replaceAll(".", "_");
}

/**
 * Builds the configuration from, lowest precedence first: defaults, the
 * YAML file, `KEYQUARRY_*` environment variables, then flags. Every value is
 * parsed and range-checked, then cross-field rules are applied. Unknown
 * options in any source are errors, so typos never pass silently. Returns a
 * fresh, fully populated Config; throws {@link ConfigError} naming the
 * offending option.
 */
export function loadConfig(sources: ConfigSources): Config {
  const config = defaultConfig(sources.env ?? process.env);
  if (sources.file !== undefined) applySettings(config, readFileSettings(sources.file));
  if (sources.env !== undefined) applySettings(config, envSettings(sources.env));
  if (sources.flags !== undefined) applySettings(config, flagSettings(sources.flags));
  validateConfig(config);
  return config;
}

/** One value for one option from one source, not yet parsed. */
interface Setting {
  option: ConfigOption;
  /** The name as written (may be an alias, or the environment variable). */
  givenAs: string;
  value: unknown;
  /** Original YAML text of a plain scalar, so `name: 0123` stays "0123". */
  text?: string | undefined;
  /** Where the value came from, for messages: "in /x.yaml", "from flags, as 'metrics'". */
  origin: string;
}

function readFileSettings(file: string): Setting[] {
  let source: string;
  try {
    source = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw ConfigError.invalidValue("config", `cannot read config file ${JSON.stringify(file)}: ${messageOf(error)}`, undefined, {
      cause: error,
    });
  }
  const doc = parseDocument(source, { prettyErrors: true });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    throw ConfigError.invalidValue("config", `config file ${JSON.stringify(file)} is not valid YAML: ${firstError.message}`, undefined, {
      cause: firstError,
    });
  }
  const root = doc.contents;
  // An empty (or all-comments) file is a valid, if pointless, config.
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isMap(root)) {
    throw ConfigError.invalidValue(
      "config",
      `config file ${JSON.stringify(file)} must contain a mapping of option names to values, found ${describeValue(root.toJS(doc))}`,
    );
  }

  const origin = `in ${file}`;
  const settings: Setting[] = [];
  // Walking the document (rather than YAML.parse) keeps each scalar's source
  // text, which string options need, and resolves anchors explicitly.
  const visit = (map: YAMLMap, prefix: string) => {
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const name = prefix + key;
      const node = resolve(doc, pair.value as Node | null);
      if (prefix === "" && (optionGroups as readonly string[]).includes(key)) {
        if (node === null || (isScalar(node) && node.value === null)) continue;
        if (!isMap(node)) {
          const value = describeValue(node.toJS(doc));
          const members = configOptions.filter((option) => option.name.startsWith(`${key}.`)).map((option) => option.name.slice(key.length + 1));
          throw ConfigError.invalidValue(key, `expected a mapping (${members.join(", ")}), got ${value}`, origin);
        }
        visit(node, `${key}.`);
        continue;
      }
      const option = findOption(name);
      if (option === undefined) throw ConfigError.unknownOption(name, origin, suggestOption(name));
      // YAML null (`key:` or `key: ~`) means "no value": keep the lower layer's.
      if (node === null || (isScalar(node) && node.value === null)) continue;
      const where = withAlias(origin, option, name);
      if (isScalar(node)) settings.push({ option, givenAs: name, value: node.value, text: node.source, origin: where });
      else settings.push({ option, givenAs: name, value: node.toJS(doc), origin: where });
    }
  };
  visit(root, "");
  return settings;
}

// Errors name the canonical option; mention the alias the user actually wrote.
function withAlias(origin: string, option: ConfigOption, name: string): string {
  return name === option.name ? origin : `${origin}, as '${name}'`;
}

function resolve(doc: Document, node: Node | null): Node | null {
  if (node !== null && isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
  return node;
}

// Environment variable name → option, including aliases.
const optionsByEnvVar = new Map<string, ConfigOption>(
  configOptions.flatMap((option) => [option.name, ...option.aliases].map((name) => [envVarName(name), option] as const)),
);

function envSettings(env: Record<string, string | undefined>): Setting[] {
  const settings: Setting[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || !variable.startsWith(envPrefix)) continue;
    if (nonOptionEnvVars.includes(variable) || nonOptionEnvPrefixes.some((p) => variable.startsWith(p))) continue;
    const origin = `from environment variable ${variable}`;
    const option = optionsByEnvVar.get(variable);
    if (option === undefined) {
      // Best guess at the option meant, so the message reads like the others.
      const lower = variable.slice(envPrefix.length).toLowerCase();
      const group = optionGroups.find((name) => lower.startsWith(`${name}_`));
      const guess = group === undefined ? lower : `${group}.${lower.slice(group.length + 1)}`;
      const suggestion = suggestOption(guess);
      throw ConfigError.unknownOption(guess, origin, suggestion === undefined ? undefined : envVarName(suggestion));
    }
    settings.push({ option, givenAs: variable, value, origin });
  }
  return settings;
}

function flagSettings(flags: Record<string, string | boolean | number | undefined>): Setting[] {
  const settings: Setting[] = [];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const option = findOption(name);
    if (option === undefined) throw ConfigError.unknownOption(name, "from flags", suggestOption(name));
    settings.push({ option, givenAs: name, value, origin: withAlias("from flags", option, name) });
  }
  return settings;
}

function applySettings(config: Config, settings: readonly Setting[]): void {
  // An option given twice in one source (e.g. under its name and an alias)
  // has no obvious winner, so refuse rather than guess.
  const seen = new Map<ConfigOption, string>();
  for (const s of settings) {
    const earlier = seen.get(s.option);
    if (earlier !== undefined) {
      throw new ConfigError(
        s.option.name,
        `option '${s.option.name}' is set twice, as '${earlier}' and as '${s.givenAs}' (${s.origin})`,
      );
    }
    seen.set(s.option, s.givenAs);
    applySetting(config, s);
  }
}

function applySetting(config: Config, s: Setting): void {
  const { option } = s;
  const invalid = (expected: string): never => {
    throw ConfigError.invalidValue(option.name, `expected ${expected}, got ${describeValue(s.value)}`, s.origin);
  };
  switch (option.kind) {
    case "boolean":
      option.set(config, parseBoolean(s.value) ?? invalid("a boolean (true/false, yes/no, on/off, 1/0)"));
      break;
    case "integer": {
      const minimum = option.minimum ?? 0;
      const expected = minimum === 0 ? "a non-negative integer" : `an integer >= ${minimum}`;
      const value = parseInteger(s.value) ?? invalid(expected);
      option.set(config, value >= minimum ? value : invalid(expected));
      break;
    }
    case "duration": {
      const expected = "a non-negative duration such as 500ms, 5s or 1h30m";
      const value = parseDurationValue(s.value) ?? invalid(expected);
      option.set(config, value >= 0n ? value : invalid(expected));
      break;
    }
    case "logLevel":
      option.set(config, parseLogLevel(s.value) ?? invalid(`one of ${logLevels.join(", ")}`));
      break;
    case "journalMode":
      option.set(config, oneOf(journalModes, s.value) ?? invalid(`one of ${journalModes.join(", ")}`));
      break;
    case "readConsistency":
      option.set(config, oneOf(readConsistencies, s.value) ?? invalid(`one of ${readConsistencies.join(", ")}`));
      break;
    case "string":
      option.set(config, parseString(s.value, s.text) ?? invalid("a string"));
      break;
  }
}

/** The word of `words` that `value` is (case and surrounding spaces aside). */
function oneOf<W extends string>(words: readonly W[], value: unknown): W | undefined {
  const text = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  return words.find((word) => word === text);
}

const booleanWords = new Map<string, boolean>([
  ["1", true],
  ["t", true],
  ["true", true],
  ["yes", true],
  ["on", true],
  ["0", false],
  ["f", false],
  ["false", false],
  ["no", false],
  ["off", false],
]);

function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  // YAML reads `1`/`0` as numbers; accept them like the strings.
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string") return booleanWords.get(value.trim().toLowerCase());
  return undefined;
}

function parseInteger(value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^[+-]?[0-9]+$/.test(value.trim())) n = Number(value.trim());
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

function parseDurationValue(value: unknown): Nanoseconds | undefined {
  // A bare YAML (or flag) number is nanoseconds, like a unit-less string.
  if (typeof value === "number") return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value !== "string") return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

function parseLogLevel(value: unknown): LogLevel | undefined {
  if (typeof value !== "string") return undefined;
  const upper = value.trim().toUpperCase();
  return logLevels.find((level) => level === upper);
}

function parseString(value: unknown, text: string | undefined): string | undefined {
  if (typeof value === "string") return value;
  // A YAML scalar that merely looks like a number (`privileged_client_id:
  // 0123`) is kept exactly as written.
  if (text !== undefined) return text;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** Cross-field and range rules, checked once all layers are merged. */
function validateConfig(c: Config): void {
  for (const [option, address, port] of [
    ["listen_address", c.listenAddress, defaultListenPort],
    ["monitor_address", c.monitorAddress, defaultMonitorPort],
  ] as const) {
    try {
      parseListenAddress(address, port);
    } catch (error) {
      throw ConfigError.invalidValue(option, messageOf(error), undefined, { cause: error });
    }
  }

  // TLS needs both halves; one alone is almost certainly a mistake.
  if ((c.sslCertfile === "") !== (c.sslKeyfile === "")) {
    const [missing, present] = c.sslCertfile === "" ? ["ssl_certfile", "ssl_keyfile"] : ["ssl_keyfile", "ssl_certfile"];
    throw ConfigError.invalidValue(missing, `must be set when ${present} is set (TLS needs both)`);
  }

  if (c.minLockDuration <= 0n) throw ConfigError.invalidValue("min_lock_duration", "must be greater than 0");
  if (c.minLockDuration > c.maxLockDuration) {
    throw ConfigError.invalidValue(
      "min_lock_duration",
      `must be less than or equal to max_lock_duration (${formatDuration(c.minLockDuration)} > ${formatDuration(c.maxLockDuration)})`,
    );
  }
  if (c.minLifespan <= 0n) throw ConfigError.invalidValue("min_lifespan", "must be greater than 0");
  // A scan without a time cap is what max_scan_duration exists to prevent.
  if (c.maxScanDuration <= 0n) throw ConfigError.invalidValue("max_scan_duration", "must be greater than 0");

  if (c.pruneInterval > 0n && c.pruneTo > 0 && c.pruneTo > c.pruneAt) {
    throw ConfigError.invalidValue(
      "prune_to",
      `prune_to must be less than or equal to prune_at (prune_to is ${c.pruneTo}, prune_at is ${c.pruneAt})`,
    );
  }
  if (c.eagerPruneAt > 0 && c.eagerPruneTo >= c.eagerPruneAt) {
    throw ConfigError.invalidValue(
      "eager_prune_to",
      `eager_prune_to must be less than eager_prune_at (eager_prune_to is ${c.eagerPruneTo}, eager_prune_at is ${c.eagerPruneAt})`,
    );
  }

  for (const [option, value] of [
    ["event_stream_buffer_size", c.eventStreamBufferSize],
    ["event_log_size", c.eventLogSize],
    ["snapshot.retain", c.snapshot.retain],
  ] as const) {
    if (value < 1) throw ConfigError.invalidValue(option, `must be at least 1, got ${value}`);
  }

  validateConnectionLimits(c);
  validateAuth(c);
  validateCluster(c);
  // Accepted (and ignored) by the original; an option that does nothing is refused rather than ignored.
  if (c.deletedKeyHistoryMaxAge !== 0n) {
    throw ConfigError.invalidValue(
      "deleted_key_history_max_age",
      "is not supported yet: removed keys' history (keep_deleted_key_history) is kept until ClearHistory; leave it at 0s",
    );
  }
  // A watcher must be able to hold a message being sent plus the next one, however large the value.
  if (c.eventStreamMaxBytes > 0 && c.maxValueSize > 0 && c.eventStreamMaxBytes < 2 * c.maxValueSize) {
    throw ConfigError.invalidValue(
      "event_stream_max_bytes",
      `must be at least twice max_value_size (event_stream_max_bytes is ${c.eventStreamMaxBytes}, max_value_size is ${c.maxValueSize})`,
    );
  }

  // The connection string is deliberately not echoed: it may hold a password.
  if (c.snapshot.database !== "" && !/^(sqlite|postgres|postgresql):\/\/./.test(c.snapshot.database)) {
    throw ConfigError.invalidValue(
      "snapshot.database",
      "unsupported or invalid database driver in connection string (expected sqlite://, postgres:// or postgresql://)",
    );
  }
  // Snapshot settings do nothing while snapshots are off: refused, so that a forgotten
  // snapshot.enabled is found at start rather than after a restart that lost the data.
  // (A value other than the default counts as set.)
  if (!c.snapshot.enabled) {
    const defaults = defaultConfig({}).snapshot;
    for (const [option, set] of [
      ["snapshot.interval", c.snapshot.interval !== defaults.interval],
      ["snapshot.database", c.snapshot.database !== defaults.database],
      ["snapshot.journal", c.snapshot.journal !== defaults.journal],
      ["snapshot.journal_interval", c.snapshot.journalInterval !== defaults.journalInterval],
      ["persistent_revisions", c.persistentRevisions],
    ] as const) {
      if (set) {
        throw ConfigError.invalidValue(option, "has no effect while snapshots are off: set snapshot.enabled (KEYQUARRY_SNAPSHOT_ENABLED=true) too, or leave it unset");
      }
    }
  }
}

/** cluster.*: the others need nats_urls; a cluster's log is its journal. */
function validateCluster(c: Config): void {
  const { cluster } = c;
  if (cluster.natsUrls.trim() === "") {
    const defaults = defaultConfig({}).cluster;
    for (const [key, value] of Object.entries(cluster)) {
      if (key !== "natsUrls" && value !== defaults[key as keyof typeof defaults]) {
        const option = `cluster.${key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`;
        throw ConfigError.invalidValue(option, "has no effect without cluster.nats_urls (KEYQUARRY_CLUSTER_NATS_URLS): set it too, or leave this unset");
      }
    }
    return;
  }
  for (const url of cluster.natsUrls.split(",")) {
    if (!/^(nats|tls|wss?):\/\/[^\s,]+$|^[^\s,:/]+:\d+$/.test(url.trim())) {
      throw ConfigError.invalidValue("cluster.nats_urls", `expected comma-separated NATS URLs such as nats://127.0.0.1:4222, got ${JSON.stringify(url.trim())}`);
    }
  }
  if (![1, 3, 5].includes(cluster.replicas)) {
    throw ConfigError.invalidValue("cluster.replicas", `must be 1, 3 or 5 (a JetStream stream's replicas), got ${cluster.replicas}`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(cluster.name)) {
    throw ConfigError.invalidValue("cluster.name", `must be a JetStream stream name (letters, digits, - and _), got ${JSON.stringify(cluster.name)}`);
  }
  if ((cluster.natsTlsCert === "") !== (cluster.natsTlsKey === "")) {
    throw ConfigError.invalidValue(cluster.natsTlsCert === "" ? "cluster.nats_tls_cert" : "cluster.nats_tls_key", "must be set with the other (a client certificate needs its key)");
  }
  if ((cluster.natsUser === "") !== (cluster.natsPassword === "")) {
    throw ConfigError.invalidValue(cluster.natsUser === "" ? "cluster.nats_user" : "cluster.nats_password", "must be set with the other");
  }
  // The stream is the cluster's journal: every write is acknowledged once the stream's replicas hold it (what `sync` means).
  if (c.snapshot.journal === "batched") {
    throw ConfigError.invalidValue("snapshot.journal", "cannot be batched in a cluster: the replicated log is the journal, and a write is acknowledged once its replicas hold it; leave it unset");
  }
}

/** auth.* and ssl_client_ca: each needs the others it works with. */
function validateAuth(c: Config): void {
  if (c.auth.enabled && c.auth.file === "") {
    throw ConfigError.invalidValue("auth.enabled", "needs auth.file (KEYQUARRY_AUTH_FILE), the identities file");
  }
  if (!c.auth.enabled && c.auth.file !== "") {
    throw ConfigError.invalidValue("auth.file", "has no effect while auth is off: set auth.enabled (KEYQUARRY_AUTH_ENABLED=true) too, or leave it unset");
  }
  if (c.sslClientCa !== "" && c.sslCertfile === "") {
    throw ConfigError.invalidValue("ssl_client_ca", "needs TLS: set ssl_certfile and ssl_keyfile too (client certificates are verified in the TLS handshake)");
  }
  if (c.sslClientCa !== "" && !c.auth.enabled) {
    throw ConfigError.invalidValue("ssl_client_ca", "has no effect while auth is off (client certificates name identities): set auth.enabled too, or leave it unset");
  }
  // Admin rights come from roles then; a privileged id that silently stopped working would be worse.
  if (c.auth.enabled && c.privilegedClientId !== "") {
    throw ConfigError.invalidValue("privileged_client_id", "has no effect while auth is on: give the identity the admin role in auth.file instead");
  }
}

/** Largest value of an HTTP/2 setting (a 32-bit field). */
const maxHttp2Setting = 2 ** 32 - 1;

/** Longest delay a Node timer holds (larger ones fire at once, with a TimeoutOverflowWarning). */
const maxTimerNs = BigInt(2 ** 31 - 1) * 1_000_000n;

function validateConnectionLimits(c: Config): void {
  for (const [option, value] of [
    ["max_concurrent_streams", c.maxConcurrentStreams],
    ["max_header_list_size", c.maxHeaderListSize],
  ] as const) {
    if (value > maxHttp2Setting) throw ConfigError.invalidValue(option, `must be at most ${maxHttp2Setting}, got ${value}`);
  }
  for (const [option, value] of [
    ["handshake_timeout", c.handshakeTimeout],
    ["idle_timeout", c.idleTimeout],
    ["keepalive_interval", c.keepaliveInterval],
    ["keepalive_timeout", c.keepaliveTimeout],
  ] as const) {
    if (value > maxTimerNs) {
      throw ConfigError.invalidValue(option, `must be at most ${formatDuration(maxTimerNs)}, got ${formatDuration(value)}`);
    }
  }
  if (c.keepaliveInterval > 0n && c.keepaliveTimeout === 0n) {
    throw ConfigError.invalidValue("keepalive_timeout", "must be greater than 0 while keepalive_interval is set");
  }
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a mapping";
  return String(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
