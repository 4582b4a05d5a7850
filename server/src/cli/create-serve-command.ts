import { Command, Option } from "commander";
import { describeError } from "./describe-error.js";
import { CliError } from "./exit-code.js";

/** `serve` flags, each with the configuration option it sets. */
const serveFlags: ReadonlyArray<{ option: Option; configKey: string }> = [
  { option: new Option("--listen <address>", "listen address: host:port, :port or unix:///path"), configKey: "listen_address" },
  { option: new Option("--name <name>", "server name under which snapshots are stored"), configKey: "name" },
  { option: new Option("--readonly", "start in readonly mode"), configKey: "readonly" },
  { option: new Option("--fresh", "do not restore the latest snapshot"), configKey: "start_fresh" },
  { option: new Option("--monitor-address <address>", "listen address of the monitor HTTP server (/healthz, /readyz, /metrics, /debug/...), started by --prometheus, --expvar or --pprof (default localhost:33970)"), configKey: "monitor_address" },
  { option: new Option("--prometheus", "serve Prometheus metrics (RPC, store, Node runtime) at /metrics on the monitor server"), configKey: "prometheus" },
  { option: new Option("--expvar", "serve /debug/vars (stats, memory, configuration with secrets redacted) on the monitor server"), configKey: "expvar" },
  { option: new Option("--pprof", "serve /debug/pprof/profile?seconds=N (V8 CPU profile) and /debug/pprof/heap (heap snapshot) on the monitor server"), configKey: "pprof" },
  { option: new Option("--trace", "export OpenTelemetry spans (one per RPC, snapshots) over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318)"), configKey: "trace" },
  { option: new Option("--snapshot", "save snapshots and journal every change (see --journal)"), configKey: "snapshot.enabled" },
  { option: new Option("--snapshot-database <url>", "snapshot database: sqlite:///file.db or postgres://..."), configKey: "snapshot.database" },
  { option: new Option("--snapshot-interval <duration>", "time between snapshots, e.g. 5m (needs --snapshot)"), configKey: "snapshot.interval" },
  {
    option: new Option("--journal <mode>", "sync: acknowledge writes once committed; batched: commit every --journal-interval; off").choices([
      "sync",
      "batched",
      "off",
    ]),
    configKey: "snapshot.journal",
  },
  { option: new Option("--journal-interval <duration>", "batched journal: time between commits, e.g. 1s"), configKey: "snapshot.journal_interval" },
  { option: new Option("--cluster-nats-urls <urls>", "run as a node of a cluster whose log is on these NATS JetStream servers (comma-separated nats:// URLs)"), configKey: "cluster.nats_urls" },
  { option: new Option("--cluster-name <name>", "the cluster's JetStream stream (default keyquarry)"), configKey: "cluster.name" },
  { option: new Option("--cluster-replicas <n>", "replicas of the stream when this node creates it: 1, 3 or 5 (default 3)"), configKey: "cluster.replicas" },
  {
    option: new Option("--cluster-read-consistency <mode>", "linearizable: reads wait until this node has applied the log's end; serializable: read what it has").choices([
      "linearizable",
      "serializable",
    ]),
    configKey: "cluster.read_consistency",
  },
  { option: new Option("--ssl-certfile <file>", "TLS certificate (PEM)"), configKey: "ssl_certfile" },
  { option: new Option("--ssl-keyfile <file>", "TLS private key (PEM)"), configKey: "ssl_keyfile" },
  { option: new Option("--ssl-client-ca <file>", "CA (PEM) client certificates are verified against; with --auth a verified one authenticates"), configKey: "ssl_client_ca" },
  { option: new Option("--auth", "require every call to authenticate as an identity of --auth-file (token or client certificate)"), configKey: "auth.enabled" },
  { option: new Option("--auth-file <file>", "identities file (YAML), reloaded on SIGHUP"), configKey: "auth.file" },
  { option: new Option("--log-level <level>", "DEBUG, INFO, NOTICE, WARN, ERROR or EVENT (everything, key events too)"), configKey: "log_level" },
  { option: new Option("--log-json", "log JSON lines"), configKey: "log_json" },
  { option: new Option("--privileged-client-id <id>", "client id allowed to switch readonly mode and use the Admin service (auth off; with --auth, admin identities)"), configKey: "privileged_client_id" },
];

/**
 * Creates `keyquarry serve`. Flags override environment variables, which
 * override the config file; flags not given on the command line are left
 * out so that they do not shadow the other sources.
 */
export function createServeCommand(): Command {
  const command = new Command("serve")
    .description("run a keyquarry server")
    .option("--config <file>", "YAML config file");
  for (const { option } of serveFlags) {
    command.addOption(option);
  }
  return command.action(async () => {
    // Loaded on demand so that client commands do not pay for the server.
    const { loadConfig, serve } = await import("../index.js");
    const options = command.opts<Record<string, string | true | undefined>>();
    const flags = Object.fromEntries(
      serveFlags.map(({ option, configKey }) => [configKey, options[option.attributeName()]]),
    );
    const file = options["config"];
    try {
      const config = loadConfig({ file: typeof file === "string" ? file : undefined, env: process.env, flags });
      process.exitCode = await serve(config);
    } catch (error) {
      // A server that cannot start (configuration, snapshot, address) exits 1, as the original did.
      throw new CliError(describeError(error), 1);
    }
  });
}
