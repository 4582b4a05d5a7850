import { request as httpRequest, type ClientRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config/default-config.js";
import type { Config } from "../src/config/config.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { pollUntil } from "./kit/watch-helpers.js";

let server: TestServer | undefined;
let held: ClientRequest | undefined;

afterEach(async () => {
  held?.destroy();
  held = undefined;
  await server?.close();
  server = undefined;
});

async function startWithMonitor(overrides: Partial<Config>): Promise<string> {
  server = await startTestServer({ monitorAddress: "127.0.0.1:0", ...overrides });
  const monitor = server.server.monitorUrl;
  if (monitor === undefined) {
    throw new Error("the monitor is not listening");
  }
  return monitor;
}

describe("monitor listener", () => {
  it("is not started when prometheus, expvar and pprof are all off", async () => {
    server = await startTestServer({ monitorAddress: "127.0.0.1:0" });
    expect(server.server.monitorUrl).toBeUndefined();
  });

  it("answers /healthz and /readyz, 404 for unknown paths and for the endpoints that are off", async () => {
    const monitor = await startWithMonitor({ expvar: true });
    expect((await fetch(`${monitor}/healthz`)).status).toBe(200);
    expect((await fetch(`${monitor}/readyz`)).status).toBe(200);
    expect((await fetch(`${monitor}/nope`)).status).toBe(404);
    expect((await fetch(`${monitor}/metrics`)).status).toBe(404);
    expect((await fetch(`${monitor}/debug/pprof/profile?seconds=1`)).status).toBe(404);
    expect((await fetch(`${monitor}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("answers /readyz with 503 while a graceful shutdown waits for a call in flight, /healthz still 200", async () => {
    const monitor = await startWithMonitor({ prometheus: true });
    // A Connect call whose body never completes holds the graceful shutdown open.
    const { port } = new URL(server!.url);
    held = httpRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/keyquarry.KeyQuarry/Get",
      headers: { "content-type": "application/json", "content-length": "100", client_id: "holder" },
    });
    held.on("error", () => {});
    held.write("{");
    // The server holds the call once the connection is open on its side.
    const app = server!.server.app;
    const connections = () => new Promise<number>((resolve, reject) => app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    expect(await pollUntil(connections, (count) => count === 1)).toBe(1);
    const closed = server!.close();
    let closedYet = false;
    void closed.then(() => (closedYet = true));
    expect((await fetch(`${monitor}/readyz`)).status).toBe(503);
    expect((await fetch(`${monitor}/healthz`)).status).toBe(200);
    expect(closedYet).toBe(false);
    held.destroy();
    await closed;
    server = undefined;
    await expect(fetch(`${monitor}/healthz`)).rejects.toThrow();
  });

  it("serves /debug/vars: stats, memory and the configuration with the database password and privileged client id redacted", async () => {
    const monitor = await startWithMonitor({
      expvar: true,
      privilegedClientId: "the-admin-secret",
      snapshot: { ...defaultConfig().snapshot, database: "postgres://keyquarry:hunter2@db.example:5432/kq?sslmode=disable" },
    });
    server!.server.store.set("writer", { key: "k", value: new Uint8Array(3), contentType: "" });
    const response = await fetch(`${monitor}/debug/vars`);
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("the-admin-secret");
    const vars = JSON.parse(text) as {
      stats: { keys: number; events: Record<string, number> };
      memstats: { rss: number; heapUsed: number };
      config: Record<string, unknown>;
    };
    expect(vars.config["snapshot.database"]).toBe("postgres://keyquarry:xxxxx@db.example:5432/kq?sslmode=disable");
    expect(vars.config["privileged_client_id"]).toBe("xxxxx");
    expect(vars.config["expvar"]).toBe(true);
    expect(vars.config["graceful_shutdown_timeout"]).toMatch(/s$/);
    expect(vars.stats.keys).toBe(Number(server!.server.store.stats().keys));
    expect(vars.stats.events["created"]).toBeGreaterThanOrEqual(1);
    expect(vars.memstats.heapUsed).toBeGreaterThan(0);
  });

  it("serves a V8 CPU profile for ?seconds=1 and refuses bad seconds with 400", async () => {
    const monitor = await startWithMonitor({ pprof: true });
    for (const bad of ["abc", "0", "-1", "1.5", "301", ""]) {
      const response = await fetch(`${monitor}/debug/pprof/profile?seconds=${bad}`);
      expect(response.status, `seconds=${bad}`).toBe(400);
      expect(await response.text()).toContain("seconds must be a whole number from 1 to 300");
    }
    const response = await fetch(`${monitor}/debug/pprof/profile?seconds=1`);
    expect(response.status).toBe(200);
    const profile = (await response.json()) as { nodes: Array<{ id: number; callFrame: { functionName: string } }>; samples: number[]; startTime: number; endTime: number };
    expect(profile.nodes.length).toBeGreaterThan(0);
    expect(profile.nodes[0]!.callFrame.functionName).toBe("(root)");
    expect(profile.samples.length).toBeGreaterThan(0);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(1_000_000);
  });

  it("serves a V8 heap snapshot at /debug/pprof/heap", async () => {
    const monitor = await startWithMonitor({ pprof: true });
    const response = await fetch(`${monitor}/debug/pprof/heap`);
    expect(response.status).toBe(200);
    const snapshot = (await response.json()) as { snapshot: { meta: { node_fields: string[] }; node_count: number }; nodes: number[] };
    expect(snapshot.snapshot.meta.node_fields).toContain("name");
    expect(snapshot.nodes.length).toBe(snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);
  });
});
