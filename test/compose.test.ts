/**
 * compose.yaml and the configs it mounts, checked without a Docker engine:
 * the files are parsed (YAML, JSON) and checked against the server's own
 * option table and configuration loader, and against each other: every
 * KEYQUARRY_* variable is a real option that loads, ports and service names
 * agree, Prometheus scrapes the keyquarry service's monitor port, and the
 * Grafana dashboard asks only for metrics the server exports.
 */
import { configOptions, defaultConfig, envVarName, loadConfig, parseListenAddress, type Config } from "@keyquarry/server";
import { DockerfileParser, Env } from "dockerfile-ast";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findNatsServer } from "../server/test/kit/nats-cluster.js";
import { startTestServer } from "../server/test/kit/start-test-server.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

/**
 * The metric names a real server exports on /metrics with Prometheus,
 * snapshots and the journal on, as compose.yaml runs it: each family's
 * `# TYPE` line, histograms with their `_bucket`, `_sum` and `_count` series.
 */
async function exportedMetricNames(): Promise<Set<string>> {
  const dir = mkdtempSync(join(tmpdir(), "kq-compose-"));
  const server = await startTestServer({
    prometheus: true,
    monitorAddress: "127.0.0.1:0",
    snapshot: { ...defaultConfig().snapshot, enabled: true, database: `sqlite://${join(dir, "kq.db")}` },
  });
  try {
    const text = await (await fetch(`${server.server.monitorUrl}/metrics`)).text();
    const names = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name!);
      if (type === "histogram") {
        for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
      }
    }
    return names;
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Service {
  build?: { context: string; dockerfile?: string };
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  command?: string[];
  profiles?: string[];
}

// merge: the cluster profile's services share their settings through YAML merge keys (<<: *anchor), as Compose reads them.
const compose = parse(read("compose.yaml"), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const keyquarry = services["keyquarry"]!;
const env = keyquarry.environment ?? {};
/** The server's configuration inside the container: the image's defaults, then compose's environment. */
const dockerfileEnv = Object.fromEntries(
  DockerfileParser.parse(read("Dockerfile"))
    .getInstructions()
    .filter((instruction): instruction is Env => instruction instanceof Env)
    .flatMap((instruction) => instruction.getProperties().map((property) => [property.getName(), property.getValue() ?? ""])),
);
const config: Config = loadConfig({ env: { ...dockerfileEnv, ...env } });

/** The container ports a service publishes (`"host:container"`). */
const containerPorts = (service: Service) => (service.ports ?? []).map((port) => Number(port.split(":").at(-1)));
/** Where a service's bind mount of a repository file is, by its path in the container. */
const mounts = (service: Service) =>
  new Map((service.volumes ?? []).filter((volume) => volume.startsWith("./")).map((volume) => [volume.split(":")[1]!, volume.split(":")[0]!]));

describe("compose.yaml", () => {
  it("builds keyquarry from the repository's Dockerfile", () => {
    expect(keyquarry.build).toEqual({ context: ".", dockerfile: "Dockerfile" });
    expect(existsSync(`${root}${keyquarry.build!.context}/${keyquarry.build!.dockerfile}`)).toBe(true);
  });

  it("sets only real keyquarry options, and they load (the configuration loader refuses unknown ones)", () => {
    const names = new Set(configOptions.map((option) => envVarName(option.name)));
    const variables = Object.keys(env).filter((name) => name.startsWith("KEYQUARRY_"));
    expect(variables.length).toBeGreaterThan(0);
    for (const name of variables) expect(names, name).toContain(name);
    expect(dockerfileEnv).toHaveProperty("KEYQUARRY_SNAPSHOT_ENABLED", "true");
  });

  it("keeps snapshots in the postgres service, which has a health check and a volume, and waits for it to be healthy", () => {
    const url = new URL(config.snapshot.database);
    expect(url.protocol).toBe("postgres:");
    expect(config.snapshot.enabled).toBe(true);
    const postgres = services[url.hostname]!;
    expect(postgres.image).toMatch(/^postgres:/);
    expect(url.port === "" ? 5432 : Number(url.port)).toBe(5432);
    expect([url.username, decodeURIComponent(url.password), url.pathname.slice(1)]).toEqual([
      postgres.environment!["POSTGRES_USER"],
      postgres.environment!["POSTGRES_PASSWORD"],
      postgres.environment!["POSTGRES_DB"],
    ]);
    expect(postgres.healthcheck!.test.join(" ")).toContain("pg_isready");
    const volume = postgres.volumes!.find((each) => each.endsWith(":/var/lib/postgresql/data"));
    expect(compose.volumes).toHaveProperty(volume!.split(":")[0]!);
    expect(keyquarry.depends_on).toMatchObject({ [url.hostname]: { condition: "service_healthy" } });
  });

  it("traces to the Jaeger service over OTLP/HTTP", () => {
    expect(config.trace).toBe(true);
    const endpoint = new URL(env["OTEL_EXPORTER_OTLP_ENDPOINT"]!);
    expect(services[endpoint.hostname]!.image).toMatch(/^jaegertracing\/all-in-one:/);
    // 4318: the OTLP/HTTP port of the OpenTelemetry protocol (4317 is OTLP/gRPC).
    expect(endpoint.port).toBe("4318");
    expect(Object.keys(keyquarry.depends_on ?? {})).toContain(endpoint.hostname);
  });

  it("publishes the ports keyquarry listens on: the API and the Prometheus monitor", () => {
    expect(config.prometheus).toBe(true);
    const listen = parseListenAddress(config.listenAddress, 33969);
    const monitor = parseListenAddress(config.monitorAddress, 33970);
    if (listen.kind !== "tcp" || monitor.kind !== "tcp") throw new Error("keyquarry must listen on TCP in a container");
    // Other containers reach the monitor only if it listens on every interface.
    expect(monitor.host).toBe("0.0.0.0");
    expect(containerPorts(keyquarry)).toEqual(expect.arrayContaining([listen.port, monitor.port]));
  });

  it("points every depends_on at a service of the file", () => {
    for (const [name, service] of Object.entries(services)) {
      const dependencies = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dependency of dependencies) expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
    }
  });

  it("mounts only files and folders that exist in the repository", () => {
    for (const service of Object.values(services)) {
      for (const source of mounts(service).values()) expect(existsSync(`${root}${source}`), source).toBe(true);
    }
  });
});

describe("Prometheus (deploy/prometheus)", () => {
  const prometheus = services["prometheus"]!;
  const file = mounts(prometheus).get("/etc/prometheus/prometheus.yml")!;
  const scrape = parse(read(file.slice(2))) as {
    scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
  };

  it("is the config file Prometheus starts with", () => {
    expect(prometheus.command).toContain("--config.file=/etc/prometheus/prometheus.yml");
  });

  it("scrapes /metrics on the keyquarry service at its monitor address's port", () => {
    const monitor = parseListenAddress(config.monitorAddress, 33970);
    const targets = scrape.scrape_configs.flatMap((job) => job.static_configs.flatMap((each) => each.targets.map((target) => ({ job, target }))));
    const keyquarryTarget = targets.find(({ target }) => target.split(":")[0] === "keyquarry");
    expect(keyquarryTarget?.target).toBe(`keyquarry:${monitor.kind === "tcp" ? monitor.port : "?"}`);
    expect(keyquarryTarget!.job.metrics_path ?? "/metrics").toBe("/metrics");
  });
});

describe("Grafana (deploy/grafana)", () => {
  const grafana = services["grafana"]!;
  const provisioning = mounts(grafana).get("/etc/grafana/provisioning")!.slice(2);
  const datasources = parse(read(`${provisioning}/datasources/prometheus.yml`)) as {
    datasources: Array<{ uid: string; type: string; url: string }>;
  };
  const providers = parse(read(`${provisioning}/dashboards/keyquarry.yml`)) as { providers: Array<{ options: { path: string } }> };
  const dashboardDir = mounts(grafana).get(providers.providers[0]!.options.path)!.slice(2);
  const dashboard = JSON.parse(read(`${dashboardDir}/keyquarry.json`)) as {
    panels: Array<{ type: string; title: string; datasource?: { uid: string }; targets?: Array<{ expr: string }> }>;
  };
  const graphs = dashboard.panels.filter((panel) => panel.type !== "row");
  const expressions = graphs.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

  it("reads the Prometheus service", () => {
    const [source] = datasources.datasources;
    expect(source!.type).toBe("prometheus");
    const url = new URL(source!.url);
    expect(containerPorts(services[url.hostname]!)).toContain(Number(url.port));
    for (const panel of graphs) expect(panel.datasource?.uid, panel.title).toBe(source!.uid);
  });

  it("asks only for metrics a real server exports", async () => {
    const used = new Set(expressions.flatMap((expr) => expr.match(/\b(?:grpc_server|keyquarry)_\w+/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    const exported = await exportedMetricNames();
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("shows RPC rate by method and code, latency quantiles, the store's gauges, events by kind and snapshots", () => {
    expect(expressions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/sum by \(.*grpc_method.*grpc_code.*\) \(rate\(grpc_server_handled_total/),
        expect.stringMatching(/histogram_quantile\(0\.99, .*grpc_server_handling_seconds_bucket/),
        expect.stringMatching(/sum by \(kind\) \(rate\(keyquarry_events_total/),
      ]),
    );
  });
});

describe('the "cluster" profile: 3 NATS servers and 3 keyquarry nodes', () => {
  const natsNames = ["nats-1", "nats-2", "nats-3"];
  const nodeNames = ["keyquarry-1", "keyquarry-2", "keyquarry-3"];
  /** Where each NATS service's config file comes from (all the same file), from its --config argument and mounts. */
  const natsConfigFile = (name: string) => {
    const service = services[name]!;
    const path = service.command![service.command!.indexOf("--config") + 1]!;
    return mounts(service).get(path)!.slice(2);
  };
  const natsConfig = read(natsConfigFile("nats-1"));
  /** A `key: value` setting of the NATS config (the first one, at any depth), or of a block's body. */
  const setting = (text: string, key: string) => new RegExp(`^\\s*${key}:\\s*(\\S+)`, "m").exec(text)?.[1];
  const block = (text: string, name: string) => new RegExp(`^${name} \\{\\n([\\s\\S]*?)^\\}`, "m").exec(text)?.[1] ?? "";
  const cluster = block(natsConfig, "cluster");
  const jetstream = block(natsConfig, "jetstream");

  it("has the six services, only in that profile; the default services are in none", () => {
    for (const name of [...natsNames, ...nodeNames]) expect(services[name]?.profiles, name).toEqual(["cluster"]);
    for (const name of ["keyquarry", "postgres", "jaeger", "prometheus", "grafana"]) expect(services[name]!.profiles, name).toBeUndefined();
  });

  it("runs the official nats image at a pinned version, each server with its own name and a volume for its JetStream store", () => {
    const storeDir = setting(jetstream, "store_dir")!;
    for (const name of natsNames) {
      const service = services[name]!;
      expect(service.image).toMatch(/^nats:\d+\.\d+\.\d+$/);
      expect(service.environment).toEqual({ NATS_SERVER_NAME: name });
      expect(natsConfigFile(name)).toBe("deploy/nats/nats-server.conf");
      const data = service.volumes!.find((volume) => !volume.startsWith("./"))!.split(":");
      expect(compose.volumes).toHaveProperty(data[0]!);
      expect(storeDir.startsWith(`${data[1]}/`), storeDir).toBe(true);
    }
    expect(new Set(natsNames.map((name) => services[name]!.volumes!.find((volume) => !volume.startsWith("./")))).size).toBe(3);
  });

  it("has a NATS config that nats-server accepts, with JetStream, a server name and a cluster name", () => {
    expect(setting(natsConfig, "server_name")).toBe("$NATS_SERVER_NAME");
    expect(setting(cluster, "name")).toMatch(/^\w+$/);
    expect(setting(jetstream, "store_dir")).toBeDefined();
    for (const name of natsNames) {
      const checked = execFileSync(findNatsServer(), ["-t", "-c", `${root}deploy/nats/nats-server.conf`], {
        env: { ...process.env, NATS_SERVER_NAME: name },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      expect(checked).toBe("");
    }
    // Without its name a server must not start (JetStream clustering needs one).
    expect(() => execFileSync(findNatsServer(), ["-t", "-c", `${root}deploy/nats/nats-server.conf`], { env: {}, stdio: "pipe" })).toThrow(/NATS_SERVER_NAME/);
  });

  it("routes every NATS server to all three at their cluster port", () => {
    const clusterPort = Number(setting(cluster, "listen")!.split(":").at(-1));
    const routes = [...(/routes: \[([^\]]*)\]/.exec(cluster)?.[1] ?? "").matchAll(/nats-route:\/\/([\w-]+):(\d+)/g)].map(([, host, port]) => ({ host, port: Number(port) }));
    expect(routes.map((route) => route.host).sort()).toEqual(natsNames);
    for (const route of routes) expect(route.port).toBe(clusterPort);
  });

  it("builds every node like the keyquarry service and points it at all three NATS servers' client port", () => {
    const clientPort = Number(setting(natsConfig, "listen")!.split(":").at(-1));
    const listen = parseListenAddress(config.listenAddress, 33969);
    if (listen.kind !== "tcp") throw new Error("keyquarry must listen on TCP in a container");
    const hostPorts = new Set<string>();
    for (const name of nodeNames) {
      const node = services[name]!;
      expect(node.build).toEqual(keyquarry.build);
      expect(node.image).toBe(keyquarry.image);
      const urls = node.environment!["KEYQUARRY_CLUSTER_NATS_URLS"]!.split(",").map((url) => new URL(url));
      expect(urls.map((url) => url.hostname).sort()).toEqual(natsNames);
      for (const url of urls) expect([url.protocol, Number(url.port)]).toEqual(["nats:", clientPort]);
      expect(node.depends_on).toEqual(natsNames);
      // Its own host port, to the port the image listens on.
      const [host, container] = node.ports![0]!.split(":");
      expect(Number(container)).toBe(listen.port);
      hostPorts.add(host!);
    }
    expect(hostPorts.size).toBe(3);
    expect(hostPorts).not.toContain(keyquarry.ports![0]!.split(":")[0]);
  });

  it("gives every node its own name and data volume, and sets only real options", () => {
    const names = new Set(configOptions.map((option) => envVarName(option.name)));
    const volumes = new Set<string>();
    for (const name of nodeNames) {
      const environment = services[name]!.environment!;
      expect(environment["KEYQUARRY_NAME"]).toBe(name);
      for (const variable of Object.keys(environment).filter((v) => v.startsWith("KEYQUARRY_"))) {
        expect(names, variable).toContain(variable);
      }
      const data = services[name]!.volumes!.find((volume) => volume.endsWith(":/data"))!.split(":")[0]!;
      expect(compose.volumes).toHaveProperty(data);
      volumes.add(data);
    }
    expect(volumes.size).toBe(3);
  });
});
