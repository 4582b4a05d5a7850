import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { defaultConfig } from "./default-config.js";
import { envVarName, loadConfig, type ConfigSources } from "./load-config.js";

const second = 1_000_000_000n;
let dir: string;
let counter = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keyquarry-config-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes `yaml` to a fresh file in the temp dir and returns its path. */
function yamlFile(yaml: string): string {
  const file = path.join(dir, `config-${++counter}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

/** The ConfigError thrown by loadConfig(sources); fails the test if none. */
function configError(sources: ConfigSources): ConfigError {
  try {
    loadConfig(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to throw a ConfigError");
}

describe("loadConfig layering", () => {
  it("returns the defaults when given no sources", () => {
    const env = { XDG_DATA_HOME: "/xdg" };
    expect(loadConfig({ env })).toEqual(defaultConfig(env));
  });

  it("returns a fresh object each time", () => {
    const a = loadConfig({ env: {} });
    const b = loadConfig({ env: {} });
    expect(a).not.toBe(b);
    expect(a.snapshot).not.toBe(b.snapshot);
  });

  // Each row: option, file value, env value, flag value, and the Config
  // property read back with the value expected from each layer.
  const layers: {
    option: string;
    file: string;
    env: string;
    flag: string | number | boolean;
    read: (c: ReturnType<typeof loadConfig>) => unknown;
    expected: [unknown, unknown, unknown, unknown];
  }[] = [
    {
      option: "listen_address",
      file: '"file-host:1"',
      env: "env-host:2",
      flag: ":3",
      read: (c) => c.listenAddress,
      expected: ["localhost:33969", "file-host:1", "env-host:2", ":3"],
    },
    {
      option: "max_keys",
      file: "100",
      env: "200",
      flag: 300,
      read: (c) => c.maxKeys,
      expected: [0, 100, 200, 300],
    },
    {
      option: "max_removed_key_metrics",
      file: "100",
      env: "-1",
      flag: 0,
      read: (c) => c.maxRemovedKeyMetrics,
      expected: [10_000, 100, -1, 0],
    },
    {
      option: "min_lifespan",
      file: "10s",
      env: "1m",
      flag: "1.5h",
      read: (c) => c.minLifespan,
      expected: [5n * second, 10n * second, 60n * second, 5400n * second],
    },
    {
      option: "readonly",
      file: "true",
      env: "off",
      flag: true,
      read: (c) => c.readonly,
      expected: [false, true, false, true],
    },
    {
      option: "log_level",
      file: "debug",
      env: "Warn",
      flag: "EVENT",
      read: (c) => c.logLevel,
      expected: ["NOTICE", "DEBUG", "WARN", "EVENT"],
    },
    {
      option: "revision_limit",
      file: "-1",
      env: "0",
      flag: "7",
      read: (c) => c.revisionLimit,
      expected: [5, -1, 0, 7],
    },
    {
      option: "snapshot.interval",
      file: "5m",
      env: "10m",
      flag: "1h",
      read: (c) => c.snapshot.interval,
      expected: [300n * second, 300n * second, 600n * second, 3600n * second],
    },
    {
      option: "snapshot.retain",
      file: "3",
      env: "4",
      flag: 5,
      read: (c) => c.snapshot.retain,
      expected: [10, 3, 4, 5],
    },
  ];

  it.each(layers)("$option: default < file < env < flag", ({ option, file, env, flag, read, expected }) => {
    const yaml = option.startsWith("snapshot.")
      ? `snapshot:\n  enabled: true\n  ${option.slice("snapshot.".length)}: ${file}\n`
      : `${option}: ${file}\n`;
    const sources: ConfigSources = { env: {} };
    expect(read(loadConfig(sources))).toEqual(expected[0]);
    sources.file = yamlFile(yaml);
    expect(read(loadConfig(sources))).toEqual(expected[1]);
    sources.env = { [envVarName(option)]: env };
    expect(read(loadConfig(sources))).toEqual(expected[2]);
    sources.flags = { [option]: flag };
    expect(read(loadConfig(sources))).toEqual(expected[3]);
    // An undefined flag does not hide the lower layers.
    sources.flags = { [option]: undefined };
    expect(read(loadConfig(sources))).toEqual(expected[2]);
  });

  it("layers independent options from all sources together", () => {
    const config = loadConfig({
      file: yamlFile("name: from-file\nmax_keys: 10\nsnapshot:\n  enabled: true\n  retain: 2\n"),
      env: { KEYQUARRY_MAX_KEYS: "20", KEYQUARRY_SNAPSHOT_DATABASE: "sqlite:///tmp/kq.db", PATH: "/bin" },
      flags: { prune_interval: "1m", "snapshot.retain": 4 },
    });
    expect(config.name).toBe("from-file");
    expect(config.maxKeys).toBe(20);
    expect(config.pruneInterval).toBe(60n * second);
    expect(config.snapshot).toEqual({
      enabled: true,
      interval: 300n * second,
      journal: "sync",
      journalInterval: second,
      database: "sqlite:///tmp/kq.db",
      retain: 4,
    });
  });

  it("does not read the environment unless given", () => {
    process.env["KEYQUARRY_MAX_KYES"] = "1";
    try {
      expect(loadConfig({}).maxKeys).toBe(0);
    } finally {
      delete process.env["KEYQUARRY_MAX_KYES"];
    }
  });
});

describe("loadConfig aliases", () => {
  it.each<[string, string, string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]>([
    ["graceful_stop_timeout", "graceful_shutdown_timeout", "2m", (c) => c.gracefulShutdownTimeout, 120n * second],
    ["keep_key_history_after_delete", "keep_deleted_key_history", "true", (c) => c.keepDeletedKeyHistory, true],
    ["metrics", "prometheus", "yes", (c) => c.prometheus, true],
  ])("%s = %s in YAML, env and flags", (alias, canonical, value, read, expected) => {
    expect(read(loadConfig({ env: {} }))).not.toEqual(expected);
    expect(read(loadConfig({ file: yamlFile(`${alias}: ${value}\n`), env: {} }))).toEqual(expected);
    expect(read(loadConfig({ env: { [envVarName(alias)]: value } }))).toEqual(expected);
    expect(read(loadConfig({ env: {}, flags: { [alias]: value } }))).toEqual(expected);

    // Under both names in one source there is no obvious winner.
    const e = configError({ file: yamlFile(`${canonical}: ${value}\n${alias}: ${value}\n`) });
    expect(e.option).toBe(canonical);
    expect(e.message).toBe(`option '${canonical}' is set twice, as '${canonical}' and as '${alias}' (in ${dir}/config-${counter}.yaml, as '${alias}')`);
    expect(configError({ env: { [envVarName(alias)]: value, [envVarName(canonical)]: value } }).option).toBe(canonical);
    expect(configError({ flags: { [alias]: value, [canonical]: value } }).option).toBe(canonical);
  });

  it("names the canonical option and the alias used in value errors", () => {
    const e = configError({ flags: { graceful_stop_timeout: "soon" } });
    expect(e.option).toBe("graceful_shutdown_timeout");
    expect(e.message).toBe(
      `invalid value for option 'graceful_shutdown_timeout': expected a non-negative duration such as 500ms, 5s or 1h30m, got "soon" (from flags, as 'graceful_stop_timeout')`,
    );
  });

  it("lets a later source override an alias with the canonical name", () => {
    const config = loadConfig({ file: yamlFile("graceful_stop_timeout: 1s\n"), flags: { graceful_shutdown_timeout: "2s" } });
    expect(config.gracefulShutdownTimeout).toBe(2n * second);
  });
});

describe("loadConfig value parsing", () => {
  it.each([
    ["1", true],
    ["0", false],
    ["true", true],
    ["FALSE", false],
    ["t", true],
    ["F", false],
    ["Yes", true],
    ["no", false],
    ["ON", true],
    ["off", false],
  ])("boolean %j = %s", (text, expected) => {
    expect(loadConfig({ env: { KEYQUARRY_LOG_JSON: text } }).logJson).toBe(expected);
    expect(loadConfig({ flags: { log_json: text } }).logJson).toBe(expected);
    expect(loadConfig({ file: yamlFile(`log_json: ${text}\n`) }).logJson).toBe(expected);
  });

  it.each<[string, Record<string, string | number | boolean>, string]>([
    ["log_json", { log_json: "maybe" }, `expected a boolean (true/false, yes/no, on/off, 1/0), got "maybe"`],
    ["log_json", { log_json: 2 }, "expected a boolean (true/false, yes/no, on/off, 1/0), got 2"],
    ["max_keys", { max_keys: "abc" }, `expected a non-negative integer, got "abc"`],
    ["max_keys", { max_keys: "1.5" }, `expected a non-negative integer, got "1.5"`],
    ["max_keys", { max_keys: 1.5 }, "expected a non-negative integer, got 1.5"],
    ["max_keys", { max_keys: "-1" }, `expected a non-negative integer, got "-1"`],
    ["max_keys", { max_keys: "" }, `expected a non-negative integer, got ""`],
    ["max_keys", { max_keys: true }, "expected a non-negative integer, got true"],
    ["max_keys", { max_keys: "99999999999999999999" }, `expected a non-negative integer, got "99999999999999999999"`],
    ["revision_limit", { revision_limit: "-2" }, `expected an integer >= -1, got "-2"`],
    ["max_pattern_length", { max_pattern_length: 0 }, "expected an integer >= 1, got 0"],
    ["max_list_keys_response_size", { max_list_keys_response_size: "0" }, `expected an integer >= 1, got "0"`],
    ["max_client_id_length", { max_client_id_length: "-1" }, `expected a non-negative integer, got "-1"`],
    ["max_clients", { max_clients: "many" }, `expected a non-negative integer, got "many"`],
    ["max_removed_key_metrics", { max_removed_key_metrics: "-2" }, `expected an integer >= -1, got "-2"`],
    ["min_lifespan", { min_lifespan: "-5s" }, `expected a non-negative duration such as 500ms, 5s or 1h30m, got "-5s"`],
    ["min_lifespan", { min_lifespan: "5 minutes" }, `expected a non-negative duration such as 500ms, 5s or 1h30m, got "5 minutes"`],
    ["min_lifespan", { min_lifespan: -1 }, "expected a non-negative duration such as 500ms, 5s or 1h30m, got -1"],
    ["log_level", { log_level: "verbose" }, `expected one of DEBUG, INFO, NOTICE, WARN, ERROR, EVENT, got "verbose"`],
    ["name", { name: true }, "expected a string, got true"],
    ["snapshot.enabled", { "snapshot.enabled": "sure" }, `expected a boolean (true/false, yes/no, on/off, 1/0), got "sure"`],
  ])("flag %s: %j is rejected", (option, flags, problem) => {
    const e = configError({ flags });
    expect(e.option).toBe(option);
    expect(e.message).toBe(`invalid value for option '${option}': ${problem} (from flags)`);
  });

  it("names the environment variable and the file in value errors", () => {
    const env = configError({ env: { KEYQUARRY_MAX_KEYS: "abc" } });
    expect(env.option).toBe("max_keys");
    expect(env.message).toBe(
      `invalid value for option 'max_keys': expected a non-negative integer, got "abc" (from environment variable KEYQUARRY_MAX_KEYS)`,
    );
    const file = yamlFile("snapshot:\n  retain: [1, 2]\n");
    const yaml = configError({ file });
    expect(yaml.option).toBe("snapshot.retain");
    expect(yaml.message).toBe(`invalid value for option 'snapshot.retain': expected a non-negative integer, got a list (in ${file})`);
    expect(configError({ file: yamlFile("name: {a: 1}\n") }).message).toMatch(/^invalid value for option 'name': expected a string, got a mapping/);
  });

  it("accepts YAML numbers for integers and nanosecond durations", () => {
    const config = loadConfig({
      file: yamlFile("max_value_size: 2048\nmin_lock_duration: 2000000000\nrevision_limit: -1\nsnapshot:\n  enabled: true\n  interval: 0\n"),
    });
    expect(config.maxValueSize).toBe(2048);
    expect(config.minLockDuration).toBe(2n * second);
    expect(config.revisionLimit).toBe(-1);
    expect(config.snapshot.interval).toBe(0n);
  });

  it("reads the ListKeys limits from the environment", () => {
    const config = loadConfig({
      env: { KEYQUARRY_MAX_PATTERN_LENGTH: "64", KEYQUARRY_MAX_SCAN_DURATION: "250ms", KEYQUARRY_MAX_LIST_KEYS_RESPONSE_SIZE: "65536" },
    });
    expect([config.maxPatternLength, config.maxScanDuration, config.maxListKeysResponseSize]).toEqual([64, 250_000_000n, 65536]);
  });

  it("reads the watch limits from the environment", () => {
    const config = loadConfig({
      env: {
        KEYQUARRY_EVENT_STREAM_CLIENT_LIMIT: "7",
        KEYQUARRY_EVENT_STREAM_MAX_BYTES: "3000000",
        KEYQUARRY_EVENT_STREAM_TOTAL_MAX_BYTES: "9000000",
      },
    });
    expect([config.eventStreamClientLimit, config.eventStreamMaxBytes, config.eventStreamTotalMaxBytes]).toEqual([
      7, 3_000_000, 9_000_000,
    ]);
  });

  it("treats a unit-less duration string as nanoseconds", () => {
    expect(loadConfig({ env: { KEYQUARRY_EVENT_STREAM_SEND_TIMEOUT: "1500" } }).eventStreamSendTimeout).toBe(1500n);
  });

  it("keeps YAML scalars for string options exactly as written", () => {
    const config = loadConfig({ file: yamlFile("privileged_client_id: 0123\nname: true\ntracer_name: '42'\n") });
    expect(config.privilegedClientId).toBe("0123");
    expect(config.name).toBe("true");
    expect(config.tracerName).toBe("42");
  });

  it("keeps strings as-is, including empty ones from the environment", () => {
    const config = loadConfig({
      file: yamlFile("ssl_certfile: /c.pem\nssl_keyfile: /k.pem\n"),
      env: { KEYQUARRY_SSL_CERTFILE: "", KEYQUARRY_SSL_KEYFILE: "", KEYQUARRY_NAME: "  padded  " },
    });
    expect(config.sslCertfile).toBe("");
    expect(config.sslKeyfile).toBe("");
    expect(config.name).toBe("  padded  ");
  });

  it("treats YAML null as not set and follows YAML aliases", () => {
    const config = loadConfig({
      file: yamlFile("max_keys:\nname: ~\nsnapshot:\nprune_at: &n 50\nprune_to: *n\n"),
    });
    expect(config.maxKeys).toBe(0);
    expect(config.name).toBe(defaultConfig().name);
    expect(config.snapshot.retain).toBe(10);
    expect(config.pruneAt).toBe(50);
    expect(config.pruneTo).toBe(50);
  });

  it("accepts an empty or comment-only file", () => {
    expect(loadConfig({ file: yamlFile(""), env: {} })).toEqual(loadConfig({ env: {} }));
    expect(loadConfig({ file: yamlFile("# nothing yet\n"), env: {} })).toEqual(loadConfig({ env: {} }));
  });
});

describe("loadConfig unknown options", () => {
  it("rejects an unknown YAML key, naming the file", () => {
    const file = yamlFile("max_kyes: 5\n");
    const e = configError({ file });
    expect(e.option).toBe("max_kyes");
    expect(e.message).toBe(`unknown option 'max_kyes' (in ${file}); did you mean 'max_keys'?`);
  });

  it("rejects an unknown nested snapshot key", () => {
    const file = yamlFile("snapshot:\n  intervall: 5m\n");
    const e = configError({ file });
    expect(e.option).toBe("snapshot.intervall");
    expect(e.message).toBe(`unknown option 'snapshot.intervall' (in ${file}); did you mean 'snapshot.interval'?`);
  });

  it("accepts a dotted snapshot key in YAML, but not twice", () => {
    expect(loadConfig({ file: yamlFile("snapshot.enabled: true\n") }).snapshot.enabled).toBe(true);
    const e = configError({ file: yamlFile("snapshot.enabled: true\nsnapshot:\n  enabled: false\n") });
    expect(e.option).toBe("snapshot.enabled");
    expect(e.message).toMatch(/^option 'snapshot.enabled' is set twice/);
    expect(configError({ file: yamlFile("snapshot:\n  max_keys: 1\n") }).option).toBe("snapshot.max_keys");
  });

  it("rejects a non-mapping snapshot in YAML", () => {
    const e = configError({ file: yamlFile("snapshot: true\n") });
    expect(e.option).toBe("snapshot");
    expect(e.message).toMatch(/^invalid value for option 'snapshot': expected a mapping \(enabled, interval, database, retain\), got true/);
  });

  it("rejects an unknown KEYQUARRY_ environment variable", () => {
    const e = configError({ env: { KEYQUARRY_MAX_KYES: "5" } });
    expect(e.option).toBe("max_kyes");
    expect(e.message).toBe(
      "unknown option 'max_kyes' (from environment variable KEYQUARRY_MAX_KYES); did you mean 'KEYQUARRY_MAX_KEYS'?",
    );
    const nested = configError({ env: { KEYQUARRY_SNAPSHOT_RETIAN: "5" } });
    expect(nested.option).toBe("snapshot.retian");
    expect(nested.message).toContain("did you mean 'KEYQUARRY_SNAPSHOT_RETAIN'?");
    expect(configError({ env: { KEYQUARRY_: "x" } }).message).toBe("unknown option '' (from environment variable KEYQUARRY_)");
  });

  it("ignores allowlisted and unrelated environment variables", () => {
    const config = loadConfig({
      env: {
        KEYQUARRY_TEST_POSTGRES_URL: "postgres://x",
        KEYQUARRY_CLIENT_ADDRESS: "localhost:1",
        KEYQUARRY_CLIENT_ANYTHING_AT_ALL: "1",
        KEYQUARRY_FC_SEED: "42",
        KEYQUARRY_MAX_KEYS_TYPO: undefined,
        keyquarry_max_keys: "oops",
        HOME: "/root",
      },
    });
    expect(config).toEqual(loadConfig({ env: {} }));
  });

  it("rejects an unknown flag", () => {
    const e = configError({ flags: { listen_adress: ":1" } });
    expect(e.option).toBe("listen_adress");
    expect(e.message).toBe("unknown option 'listen_adress' (from flags); did you mean 'listen_address'?");
    expect(configError({ flags: { zzz: true } }).message).toBe("unknown option 'zzz' (from flags)");
    // Flags use option names, not environment-style or kebab-case spellings.
    expect(configError({ flags: { "listen-address": ":1" } }).option).toBe("listen-address");
    expect(configError({ flags: { snapshot_enabled: true } }).option).toBe("snapshot_enabled");
  });
});

describe("loadConfig config file problems", () => {
  it("rejects a missing file", () => {
    const file = path.join(dir, "missing.yaml");
    const e = configError({ file });
    expect(e.option).toBe("config");
    expect(e.message).toMatch(new RegExp(`^invalid value for option 'config': cannot read config file "${file}": ENOENT`));
  });

  it("rejects a directory", () => {
    const e = configError({ file: dir });
    expect(e.option).toBe("config");
    expect(e.message).toContain(`cannot read config file "${dir}"`);
  });

  it("rejects invalid YAML", () => {
    const file = yamlFile("max_keys: [1, 2\n");
    const e = configError({ file });
    expect(e.option).toBe("config");
    expect(e.message).toContain(`invalid value for option 'config': config file "${file}" is not valid YAML: `);
  });

  it("rejects duplicate YAML keys", () => {
    const e = configError({ file: yamlFile("max_keys: 1\nmax_keys: 2\n") });
    expect(e.option).toBe("config");
    expect(e.message).toContain("is not valid YAML");
  });

  it.each([
    ["- max_keys\n- 5\n", "a list"],
    ["just a string\n", '"just a string"'],
    ["42\n", "42"],
  ])("rejects a file that is not a mapping: %j", (yaml, found) => {
    const file = yamlFile(yaml);
    const e = configError({ file });
    expect(e.option).toBe("config");
    expect(e.message).toBe(
      `invalid value for option 'config': config file "${file}" must contain a mapping of option names to values, found ${found}`,
    );
  });
});

describe("loadConfig validation", () => {
  it.each<[string, ConfigSources["flags"], string]>([
    ["listen_address", { listen_address: "localhost:http" }, `invalid listen address "localhost:http": invalid port "http"`],
    ["listen_address", { listen_address: "ftp://x:1" }, `invalid listen address "ftp://x:1": unsupported scheme "ftp://" (use tcp:// or unix://)`],
    ["monitor_address", { monitor_address: "::1" }, `invalid listen address "::1": IPv6 addresses must be written in brackets, e.g. [::1]:33970`],
    ["ssl_keyfile", { ssl_certfile: "/c.pem" }, "must be set when ssl_certfile is set (TLS needs both)"],
    ["ssl_certfile", { ssl_keyfile: "/k.pem" }, "must be set when ssl_keyfile is set (TLS needs both)"],
    ["min_lock_duration", { min_lock_duration: "0s" }, "must be greater than 0"],
    [
      "min_lock_duration",
      { min_lock_duration: "20m" },
      "must be less than or equal to max_lock_duration (20m0s > 15m0s)",
    ],
    ["min_lifespan", { min_lifespan: 0 }, "must be greater than 0"],
    ["max_scan_duration", { max_scan_duration: "0s" }, "must be greater than 0"],
    [
      "prune_to",
      { prune_interval: "1m", prune_at: 10, prune_to: 11 },
      "prune_to must be less than or equal to prune_at (prune_to is 11, prune_at is 10)",
    ],
    [
      "eager_prune_to",
      { eager_prune_at: 10, eager_prune_to: 10 },
      "eager_prune_to must be less than eager_prune_at (eager_prune_to is 10, eager_prune_at is 10)",
    ],
    ["event_stream_buffer_size", { event_stream_buffer_size: 0 }, "must be at least 1, got 0"],
    [
      "deleted_key_history_max_age",
      { deleted_key_history_max_age: "1h" },
      "is not supported yet: removed keys' history (keep_deleted_key_history) is kept until ClearHistory; leave it at 0s",
    ],
    ["snapshot.interval", { "snapshot.interval": "1m" }, "has no effect while snapshots are off: set snapshot.enabled (KEYQUARRY_SNAPSHOT_ENABLED=true) too, or leave it unset"],
    ["snapshot.database", { "snapshot.database": "sqlite:///tmp/kq.db" }, "has no effect while snapshots are off: set snapshot.enabled (KEYQUARRY_SNAPSHOT_ENABLED=true) too, or leave it unset"],
    ["persistent_revisions", { persistent_revisions: true }, "has no effect while snapshots are off: set snapshot.enabled (KEYQUARRY_SNAPSHOT_ENABLED=true) too, or leave it unset"],
    ["snapshot.journal", { "snapshot.journal": "batched" }, "has no effect while snapshots are off: set snapshot.enabled (KEYQUARRY_SNAPSHOT_ENABLED=true) too, or leave it unset"],
    ["snapshot.journal", { "snapshot.journal": "never" }, "expected one of sync, batched, off, got \"never\" (from flags)"],
    ["snapshot.journal_interval", { "snapshot.journal_interval": "2s" }, "has no effect while snapshots are off: set snapshot.enabled (KEYQUARRY_SNAPSHOT_ENABLED=true) too, or leave it unset"],
    ["event_log_size", { event_log_size: "0" }, "must be at least 1, got 0"],
    ["snapshot.retain", { "snapshot.retain": 0 }, "must be at least 1, got 0"],
    ["max_concurrent_streams", { max_concurrent_streams: 0 }, "expected an integer >= 1, got 0 (from flags)"],
    ["max_concurrent_streams", { max_concurrent_streams: 2 ** 32 }, "must be at most 4294967295, got 4294967296"],
    ["max_header_list_size", { max_header_list_size: "1023" }, `expected an integer >= 1024, got "1023" (from flags)`],
    ["max_header_list_size", { max_header_list_size: 2 ** 32 }, "must be at most 4294967295, got 4294967296"],
    ["max_connections", { max_connections: -1 }, "expected a non-negative integer, got -1 (from flags)"],
    ["handshake_timeout", { handshake_timeout: "-1s" }, "expected a non-negative duration such as 500ms, 5s or 1h30m, got \"-1s\" (from flags)"],
    ["idle_timeout", { idle_timeout: "720h" }, "must be at most 596h31m23.647s, got 720h0m0s"],
    ["keepalive_interval", { keepalive_interval: "1000h" }, "must be at most 596h31m23.647s, got 1000h0m0s"],
    ["keepalive_timeout", { keepalive_timeout: "0s" }, "must be greater than 0 while keepalive_interval is set"],
    [
      "event_stream_max_bytes",
      { event_stream_max_bytes: 1_999_999 },
      "must be at least twice max_value_size (event_stream_max_bytes is 1999999, max_value_size is 1000000)",
    ],
    ...["mysql://u:secret@h/db", "sqlite:", "sqlite://", "file.db", "SQLITE:///x.db"].map(
      (database): [string, ConfigSources["flags"], string] => [
        "snapshot.database",
        { "snapshot.database": database },
        "unsupported or invalid database driver in connection string (expected sqlite://, postgres:// or postgresql://)",
      ],
    ),
  ])("%s: %j", (option, flags, problem) => {
    const e = configError({ flags });
    expect(e.option).toBe(option);
    expect(e.message).toBe(`invalid value for option '${option}': ${problem}`);
  });

  it("does not echo database connection strings (they may hold passwords)", () => {
    expect(configError({ flags: { "snapshot.database": "mysql://u:secret@h/db" } }).message).not.toContain("secret");
  });

  it.each<[string, ConfigSources["flags"]]>([
    ["prune_to may exceed prune_at while pruning is off", { prune_at: 10, prune_to: 11 }],
    ["prune_to 0 is always fine", { prune_interval: "1m", prune_at: 10, prune_to: 0 }],
    ["prune_to equal to prune_at", { prune_interval: "1m", prune_at: 10, prune_to: 10 }],
    ["eager pruning off", { eager_prune_at: 0, eager_prune_to: 10 }],
    ["eager_prune_to below eager_prune_at", { eager_prune_at: 10, eager_prune_to: 9 }],
    ["min_lock_duration equal to max_lock_duration", { min_lock_duration: "15m" }],
    ["TLS with both files", { ssl_certfile: "/c.pem", ssl_keyfile: "/k.pem" }],
    ["sqlite", { "snapshot.enabled": true, "snapshot.database": "sqlite:///var/lib/kq.db" }],
    ["relative sqlite", { "snapshot.enabled": true, "snapshot.database": "sqlite://kq.db" }],
    ["postgres", { "snapshot.enabled": true, "snapshot.database": "postgres://u:p@localhost/kq" }],
    ["postgresql", { "snapshot.enabled": true, "snapshot.database": "postgresql://localhost/kq" }],
    ["unix listen and host-only monitor", { listen_address: "unix:///run/kq.sock", monitor_address: "0.0.0.0" }],
    ["connection limits off", { max_connections: 0, handshake_timeout: 0, idle_timeout: "0s", keepalive_interval: 0, keepalive_timeout: 0 }],
    ["the longest timer", { idle_timeout: "596h31m23.647s", max_concurrent_streams: 2 ** 32 - 1 }],
    ["minimums", { event_stream_buffer_size: 1, event_log_size: 1, "snapshot.retain": 1, revision_limit: -1 }],
    ["no state bounds", { max_client_id_length: 0, max_clients: 0, max_removed_key_metrics: -1 }],
    ["watch byte budgets off", { event_stream_max_bytes: 0, event_stream_total_max_bytes: 0 }],
    ["a watcher budget of twice max_value_size", { event_stream_max_bytes: 2_000_000 }],
    ["any watcher budget without a value size limit", { max_value_size: 0, event_stream_max_bytes: 1 }],
    ["unlimited watchers", { event_stream_subscriber_limit: 0, event_stream_client_limit: 0 }],
  ])("accepts %s", (_name, flags) => {
    expect(() => loadConfig({ flags })).not.toThrow();
  });
});
