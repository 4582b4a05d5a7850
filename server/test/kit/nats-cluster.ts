/**
 * A throwaway NATS JetStream cluster on loopback, run with the machine's
 * `nats-server` (Debian package `nats-server`, 2.9): one process per server,
 * each with its own config file and JetStream store dir in a temp dir, routed
 * to every other one. Servers can be killed, stopped and started again on the
 * same ports and store, as a cluster member that crashes and comes back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePorts } from "./free-port.js";

/** What {@link startNatsCluster} starts. */
export interface NatsClusterOptions {
  /** Number of servers; 1 is a single JetStream server without cluster routes. */
  size?: number;
  /** JetStream limits per server, in nats-server units (e.g. "256MB"). */
  jetstream?: { maxMem?: string; maxFile?: string };
}

/** A running NATS cluster; every server index is 0-based. */
export interface NatsCluster {
  /** Each server's client URL, `nats://127.0.0.1:<port>`. */
  urls: string[];
  /** All client URLs comma-joined, as `--cluster-nats-urls` takes them. */
  url: string;
  /** Each server's monitoring endpoint, `http://127.0.0.1:<port>` (/healthz, /jsz, /varz). */
  monitorUrls: string[];
  /** SIGKILL server i (a crash) and waits for it to exit. */
  kill(i: number): Promise<void>;
  /** SIGTERM server i (a clean shutdown) and waits for it to exit. */
  stop(i: number): Promise<void>;
  /** Starts server i again with the same ports and store dir; resolves once its JetStream is healthy. */
  start(i: number): Promise<void>;
  /** Server i's log so far. */
  log(i: number): string;
  /** Kills every server and removes the temp dir. */
  close(): Promise<void>;
}

/** How long the cluster (or a restarted server) may take to get a healthy JetStream. */
const healthyTimeoutMs = 20_000;

/** Servers of every cluster still running: killed if this process exits without closing them. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) {
    child.kill("SIGKILL");
  }
});

/**
 * Starts `size` JetStream servers routed to each other and resolves once
 * every one reports a healthy JetStream (`/healthz`: it is enabled and, in a
 * cluster, in contact with a meta leader). Throws with the servers' logs if
 * they cannot start: tests must fail, never skip.
 */
export async function startNatsCluster({ size = 3, jetstream = {} }: NatsClusterOptions = {}): Promise<NatsCluster> {
  const binary = findNatsServer();
  const dir = mkdtempSync(join(tmpdir(), "kq-nats-"));
  const free = await freePorts(3 * size);
  const ports = Array.from({ length: size }, (_, i) => ({ client: free[3 * i]!, route: free[3 * i + 1]!, monitor: free[3 * i + 2]! }));
  const servers = ports.map((port, i) => {
    const home = join(dir, `n${i + 1}`);
    mkdirSync(home);
    const config = join(home, "nats-server.conf");
    const routes = ports.filter((_, j) => j !== i).map((other) => `nats-route://127.0.0.1:${other.route}`);
    writeFileSync(
      config,
      natsServerConfig({
        name: `n${i + 1}`,
        clientPort: port.client,
        monitorPort: port.monitor,
        storeDir: join(home, "jetstream"),
        logFile: join(home, "server.log"),
        maxMem: jetstream.maxMem ?? "64MB",
        maxFile: jetstream.maxFile ?? "1GB",
        cluster: size > 1 ? { name: "kq-test", port: port.route, routes } : undefined,
      }),
    );
    return { config, logFile: join(home, "server.log"), port, stderr: "", child: undefined as ChildProcess | undefined, exited: Promise.resolve() };
  });

  // Before it opens its log file (e.g. a config error) nats-server writes to stderr.
  const log = (i: number) => servers[i]!.stderr + (existsSync(servers[i]!.logFile) ? readFileSync(servers[i]!.logFile, "utf8") : "");
  const launch = (i: number) => {
    const server = servers[i]!;
    const child = spawn(binary, ["-c", server.config], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (server.stderr += chunk));
    running.add(child);
    server.child = child;
    // "close": its stderr is complete by then.
    server.exited = new Promise<void>((resolve) => child.once("close", () => resolve())).then(() => void running.delete(child));
  };
  const signal = async (i: number, name: NodeJS.Signals) => {
    const server = servers[i]!;
    if (server.child !== undefined && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill(name);
    }
    await server.exited;
    server.child = undefined;
  };
  const waitHealthy = async (indexes: number[]) => {
    const deadline = Date.now() + healthyTimeoutMs;
    const pending = new Set(indexes);
    let last = "";
    while (pending.size > 0) {
      for (const i of pending) {
        const child = servers[i]!.child!;
        if (child.exitCode !== null || child.signalCode !== null) {
          await servers[i]!.exited;
          throw new Error(`nats-server n${i + 1} exited (${child.exitCode ?? child.signalCode}):\n${log(i).slice(-2000)}`);
        }
        const health = await jetstreamHealth(servers[i]!.port.monitor);
        if (health.ok) {
          pending.delete(i);
        } else {
          last = `n${i + 1}: ${health.detail}`;
        }
      }
      if (pending.size > 0) {
        if (Date.now() > deadline) {
          throw new Error(`NATS JetStream not healthy within ${healthyTimeoutMs} ms (${last}):\n${[...pending].map((i) => log(i).slice(-1500)).join("\n")}`);
        }
        await sleep(100);
      }
    }
  };
  const close = async () => {
    await Promise.all(servers.map((_, i) => signal(i, "SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    servers.forEach((_, i) => launch(i));
    await waitHealthy(servers.map((_, i) => i));
  } catch (error) {
    await close();
    throw error;
  }
  const urls = ports.map((port) => `nats://127.0.0.1:${port.client}`);
  return {
    urls,
    url: urls.join(","),
    monitorUrls: ports.map((port) => `http://127.0.0.1:${port.monitor}`),
    kill: (i) => signal(i, "SIGKILL"),
    stop: (i) => signal(i, "SIGTERM"),
    start: async (i) => {
      if (servers[i]!.child !== undefined) {
        throw new Error(`nats-server n${i + 1} is running`);
      }
      launch(i);
      await waitHealthy([i]);
    },
    log,
    close,
  };
}

/** One server's settings for {@link natsServerConfig}. */
export interface NatsServerSettings {
  name: string;
  clientPort: number;
  monitorPort: number;
  storeDir: string;
  logFile: string;
  maxMem: string;
  maxFile: string;
  /** Absent for a single server. */
  cluster?: { name: string; port: number; routes: string[] };
}

/** A nats-server 2.9 config file: JetStream on, every address on 127.0.0.1, routes to the other members. */
export function natsServerConfig(s: NatsServerSettings): string {
  const cluster =
    s.cluster === undefined
      ? ""
      : `cluster {
  name: ${s.cluster.name}
  listen: 127.0.0.1:${s.cluster.port}
  routes: [
${s.cluster.routes.map((route) => `    ${route}`).join("\n")}
  ]
}
`;
  return `# server_name is required for JetStream clustering.
server_name: ${s.name}
listen: 127.0.0.1:${s.clientPort}
http: 127.0.0.1:${s.monitorPort}
log_file: "${s.logFile}"
jetstream {
  store_dir: "${s.storeDir}"
  max_mem: ${s.maxMem}
  max_file: ${s.maxFile}
}
${cluster}`;
}

/** `/healthz` of one server: 200 once JetStream is enabled, has a meta leader and its assets are current. */
async function jetstreamHealth(monitorPort: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`);
    return { ok: response.ok, detail: await response.text() };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** nats-server from PATH, else Debian's /usr/sbin (not on a normal user's PATH). */
export function findNatsServer(): string {
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== ""), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir, "nats-server");
    if (existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error("nats-server not found on PATH nor in /usr/sbin: install it (apt-get install nats-server)");
}
