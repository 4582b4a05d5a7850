// Cluster mode against NATS servers that require authentication and TLS: the cluster.nats_*
// options reach a real nats-server, and a wrong credential stops the node at start.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "./kit/create-clients.js";
import { freePort } from "./kit/free-port.js";
import { findNatsServer } from "./kit/nats-cluster.js";
import { pollUntil } from "./kit/watch-helpers.js";
import { killServeProcesses, ServeExitedError, spawnServe } from "./kit/spawn-serve.js";
import { textValueOf } from "./kit/text-value-of.js";
import { createCa, issueCertificate, type CertificateFiles } from "./kit/test-certificates.js";

let dir: string;
let ca: CertificateFiles;
let client: CertificateFiles;
const servers: ChildProcess[] = [];

/** A single JetStream nats-server with `settings` (authorization, tls blocks); resolves to its port once healthy. */
async function startNats(name: string, settings: string): Promise<number> {
  const [port, monitor] = [await freePort(), await freePort()];
  const config = join(dir, `${name}.conf`);
  writeFileSync(config, `listen: 127.0.0.1:${port}\nhttp: 127.0.0.1:${monitor}\njetstream { store_dir: "${join(dir, name)}" }\n${settings}\n`);
  servers.push(spawn(findNatsServer(), ["-c", config], { stdio: "ignore" }));
  const healthy = await pollUntil(
    () => fetch(`http://127.0.0.1:${monitor}/healthz`).then((response) => response.ok, () => false),
    (ok) => ok,
    15_000,
  );
  expect(healthy, `nats-server ${name} did not become healthy`).toBe(true);
  return port;
}

let tlsPort: number;
let tokenPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kq-nats-security-"));
  ca = createCa(dir, "ca");
  const server = issueCertificate(dir, ca, "nats", { cn: "nats", altNames: ["IP:127.0.0.1", "DNS:localhost"], usage: "serverAuth" });
  client = issueCertificate(dir, ca, "node", { cn: "node", usage: "clientAuth" });
  tlsPort = await startNats(
    "tls",
    `tls { cert_file: "${server.cert}", key_file: "${server.key}", ca_file: "${ca.cert}", verify: true }\nauthorization { user: kq, password: s3cret }`,
  );
  tokenPort = await startNats("token", "authorization { token: t0ken }");
}, 60_000);
afterEach(() => killServeProcesses());
afterAll(() => {
  for (const server of servers) server.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** `serve` as a one-replica cluster node of the NATS server at `url`, with `env` (KEYQUARRY_CLUSTER_*). */
const node = (url: string, env: Record<string, string>) =>
  spawnServe({
    args: ["--cluster-nats-urls", url, "--cluster-replicas", "1", "--cluster-name", `s${Math.random().toString(36).slice(2)}`],
    env: { KEYQUARRY_DATA_DIR: mkdtempSync(join(dir, "data-")), ...env },
  });

describe("a cluster node's connection to NATS", () => {
  const tls = () => ({
    KEYQUARRY_CLUSTER_NATS_TLS_CA: ca.cert,
    KEYQUARRY_CLUSTER_NATS_TLS_CERT: client.cert,
    KEYQUARRY_CLUSTER_NATS_TLS_KEY: client.key,
  });

  it("authenticates with a user and password over mutual TLS, and serves", async () => {
    const server = await node(`tls://127.0.0.1:${tlsPort}`, { ...tls(), KEYQUARRY_CLUSTER_NATS_USER: "kq", KEYQUARRY_CLUSTER_NATS_PASSWORD: "s3cret" });
    const { kv } = createClients("grpc", server.url, "tester");
    await kv.set({ key: "secure", value: new TextEncoder().encode("yes") });
    expect(await textValueOf(kv, "secure")).toBe("yes");
  });

  it("authenticates with a token", async () => {
    const server = await node(`nats://127.0.0.1:${tokenPort}`, { KEYQUARRY_CLUSTER_NATS_TOKEN: "t0ken" });
    const { kv } = createClients("grpc", server.url, "tester");
    await kv.set({ key: "token", value: new TextEncoder().encode("ok") });
    expect(await textValueOf(kv, "token")).toBe("ok");
  });

  it("stops at start (exit 1) with a wrong password, a wrong token, or no client certificate", async () => {
    const refusals = await Promise.allSettled([
      node(`tls://127.0.0.1:${tlsPort}`, { ...tls(), KEYQUARRY_CLUSTER_NATS_USER: "kq", KEYQUARRY_CLUSTER_NATS_PASSWORD: "wrong" }),
      node(`nats://127.0.0.1:${tokenPort}`, { KEYQUARRY_CLUSTER_NATS_TOKEN: "wrong" }),
      node(`tls://127.0.0.1:${tlsPort}`, { KEYQUARRY_CLUSTER_NATS_TLS_CA: ca.cert, KEYQUARRY_CLUSTER_NATS_USER: "kq", KEYQUARRY_CLUSTER_NATS_PASSWORD: "s3cret" }),
    ]);
    for (const refused of refusals) {
      expect(refused.status).toBe("rejected");
      const error = (refused as PromiseRejectedResult).reason as ServeExitedError;
      expect(error).toBeInstanceOf(ServeExitedError);
      expect(error.exit.code).toBe(1);
      expect(error.stderr).toMatch(/^keyquarry: cannot join the cluster through nats:\/\/|^keyquarry: cannot join the cluster through tls:\/\//);
    }
    expect((refusals[0] as PromiseRejectedResult).reason.stderr).toContain("Authorization Violation");
  }, 60_000);
});
