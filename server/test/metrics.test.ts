import { Code, ConnectError } from "@connectrpc/connect";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config/default-config.js";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { sampleSum, scrape, type Sample } from "./kit/prometheus-text.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { pollUntil, WatchScope, writeUntilSeen } from "./kit/watch-helpers.js";

const kq = { grpc_service: "keyquarry.KeyQuarry" };

let server: TestServer | undefined;
let dir: string | undefined;
const scope = new WatchScope();

afterEach(async () => {
  scope.cancelAll();
  await server?.close();
  server = undefined;
  if (dir !== undefined) {
    await rm(dir, { recursive: true, force: true });
    dir = undefined;
  }
});

async function start(fastPaths = true): Promise<{ url: string; monitor: string }> {
  server = await startTestServer({ prometheus: true, monitorAddress: "127.0.0.1:0" }, { fastPaths });
  const monitor = server.server.monitorUrl;
  if (monitor === undefined) {
    throw new Error("the monitor is not listening");
  }
  return { url: server.url, monitor };
}

async function expectCode(call: Promise<unknown>, code: Code): Promise<void> {
  await expect(call).rejects.toSatisfy((error) => ConnectError.from(error).code === code);
}

/** Opens a watch of `key` over `protocol`, writes until it has a message, and cancels it. */
async function watchOnce(url: string, protocol: "grpc" | "connect", key: string): Promise<void> {
  const { kv } = createClients(protocol, url, `watcher-${protocol}`);
  const watcher = scope.open((signal) => kv.watchKeyValue({ key }, { signal }));
  await writeUntilSeen(watcher, () => kv.set({ key, value: bytes("v") }));
  expect(watcher.items.length).toBeGreaterThan(0);
  watcher.cancel();
}

describe("Prometheus metrics", () => {
  it("counts unary calls once on the gRPC and Connect fast paths and on connect-es (gRPC-Web), with go-grpc-prometheus labels and codes", async () => {
    const { url, monitor } = await start();
    const grpc = createClients("grpc", url, "metrics-grpc").kv;
    await grpc.set({ key: "here", value: bytes("1") });
    await grpc.get({ key: "here" });
    await expectCode(grpc.get({ key: "missing" }), Code.NotFound);
    await expectCode(createClients("connect", url, "metrics-connect").kv.get({ key: "missing" }), Code.NotFound);
    await createClients("connect", url, "metrics-connect").kv.get({ key: "here" });
    await expectCode(createClients("grpc-web", url, "metrics-web").kv.get({ key: "missing" }), Code.NotFound);
    // A missing client id fails in the interceptor (connect-es) and before the operation (fast path): both observed.
    await expectCode(createClients("grpc", url, undefined).kv.get({ key: "here" }), Code.InvalidArgument);
    await expectCode(createClients("grpc-web", url, undefined).kv.get({ key: "here" }), Code.InvalidArgument);

    const samples = await scrape(monitor);
    const get = (protocol: string) => ({ ...kq, grpc_method: "Get", grpc_type: "unary", protocol });
    const handled = (protocol: string, grpc_code: string) => sampleSum(samples, "grpc_server_handled_total", { ...get(protocol), grpc_code });
    expect(sampleSum(samples, "grpc_server_started_total", get("grpc"))).toBe(3);
    expect(handled("grpc", "OK")).toBe(1);
    expect(handled("grpc", "NotFound")).toBe(1);
    expect(handled("grpc", "InvalidArgument")).toBe(1);
    expect(sampleSum(samples, "grpc_server_msg_received_total", get("grpc"))).toBe(3);
    expect(sampleSum(samples, "grpc_server_msg_sent_total", get("grpc"))).toBe(1);
    expect(sampleSum(samples, "grpc_server_handling_seconds_count", get("grpc"))).toBe(3);
    expect(sampleSum(samples, "grpc_server_handling_seconds_bucket", { ...get("grpc"), le: "+Inf" })).toBe(3);
    expect(sampleSum(samples, "grpc_server_started_total", get("connect"))).toBe(2);
    expect(handled("connect", "NotFound")).toBe(1);
    expect(handled("connect", "OK")).toBe(1);
    expect(sampleSum(samples, "grpc_server_started_total", get("grpc-web"))).toBe(2);
    expect(handled("grpc-web", "NotFound")).toBe(1);
    expect(handled("grpc-web", "InvalidArgument")).toBe(1);
    expect(sampleSum(samples, "grpc_server_handled_total", { ...kq, grpc_method: "Set", grpc_code: "OK", protocol: "grpc" })).toBe(1);
    // Every call counted once: as many ended as started, over every path.
    expect(sampleSum(samples, "grpc_server_handled_total")).toBe(sampleSum(samples, "grpc_server_started_total"));
    expect(sampleSum(samples, "grpc_server_started_total")).toBe(8);
  });

  it("counts gRPC calls connect-es serves when the fast paths are off", async () => {
    const { url, monitor } = await start(false);
    await expectCode(createClients("grpc", url, "slow-path").kv.get({ key: "missing" }), Code.NotFound);
    const samples = await scrape(monitor);
    expect(sampleSum(samples, "grpc_server_handled_total", { ...kq, grpc_method: "Get", protocol: "grpc", grpc_code: "NotFound" })).toBe(1);
    expect(sampleSum(samples, "grpc_server_started_total")).toBe(1);
  });

  it("counts watches on the gRPC watch fast path and on connect-es, with their messages and their end", async () => {
    const { url, monitor } = await start();
    await watchOnce(url, "grpc", "watched-grpc");
    await watchOnce(url, "connect", "watched-connect");
    const watch = (protocol: string) => ({ ...kq, grpc_method: "WatchKeyValue", grpc_type: "server_stream", protocol });
    // The server learns of the cancellation a moment after the client acts.
    const samples = await pollUntil(
      () => scrape(monitor),
      (read: Sample[]) => sampleSum(read, "grpc_server_handled_total", watch("grpc")) + sampleSum(read, "grpc_server_handled_total", watch("connect")) === 2,
    );
    for (const protocol of ["grpc", "connect"]) {
      expect(sampleSum(samples, "grpc_server_started_total", watch(protocol))).toBe(1);
      expect(sampleSum(samples, "grpc_server_msg_received_total", watch(protocol))).toBe(1);
      expect(sampleSum(samples, "grpc_server_msg_sent_total", watch(protocol))).toBeGreaterThanOrEqual(1);
      expect(sampleSum(samples, "grpc_server_handled_total", { ...watch(protocol), grpc_code: "Canceled" })).toBe(1);
    }
  });

  it("reads the store's gauges and counters and Node's runtime metrics when scraped", async () => {
    const { url, monitor } = await start();
    const { kv } = createClients("grpc", url, "store-metrics");
    await kv.set({ key: "a", value: bytes("12345") });
    await kv.set({ key: "b", value: bytes("123") });
    await kv.lock({ key: "a", duration: { seconds: 60n } });
    const samples = await scrape(monitor);
    const stats = server!.server.store.stats();
    expect(sampleSum(samples, "keyquarry_keys")).toBe(Number(stats.keys));
    expect(sampleSum(samples, "keyquarry_value_bytes")).toBe(Number(stats.totalSize));
    expect(sampleSum(samples, "keyquarry_locks")).toBe(1);
    expect(sampleSum(samples, "keyquarry_events_total", { kind: "created" })).toBe(Number(stats.events[0]));
    expect(sampleSum(samples, "keyquarry_events_total", { kind: "locked" })).toBe(1);
    expect(sampleSum(samples, "keyquarry_watchers")).toBe(0);
    expect(sampleSum(samples, "keyquarry_event_log_events")).toBeGreaterThanOrEqual(3);
    expect(samples.some((sample) => sample.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(samples.some((sample) => sample.name === "nodejs_heap_size_used_bytes")).toBe(true);
    expect(samples.some((sample) => sample.name === "nodejs_gc_duration_seconds_count") || samples.some((s) => s.name === "process_cpu_seconds_total")).toBe(true);
  });

  it("reports the periodic snapshots: saves, their keys and bytes, and when the last one ended", async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-metrics-"));
    const startedAt = Date.now() / 1000;
    server = await startTestServer({
      prometheus: true,
      monitorAddress: "127.0.0.1:0",
      snapshot: { ...defaultConfig().snapshot, enabled: true, interval: 20_000_000n, database: `sqlite://${join(dir, "kq.db")}` },
    });
    await createClients("grpc", server.url, "snapshotted").kv.set({ key: "saved", value: bytes("12345") });
    const samples = await pollUntil(
      () => scrape(server!.server.monitorUrl!),
      (read: Sample[]) => sampleSum(read, "keyquarry_snapshots_saved_total") >= 1,
    );
    expect(sampleSum(samples, "keyquarry_snapshots_saved_total")).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, "keyquarry_snapshot_failures_total")).toBe(0);
    // Reserved keys are written at each start, never saved: the snapshot holds the one key set.
    expect(sampleSum(samples, "keyquarry_snapshot_keys")).toBe(1);
    expect(sampleSum(samples, "keyquarry_snapshot_bytes")).toBe(5);
    expect(sampleSum(samples, "keyquarry_snapshot_last_success_timestamp_seconds")).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(samples.some((sample) => sample.name === "keyquarry_snapshot_duration_seconds")).toBe(true);
  });

  it("reports the journal's commits: how many, their entries and time, the backlog, and no failure", async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-metrics-"));
    server = await startTestServer({
      prometheus: true,
      monitorAddress: "127.0.0.1:0",
      // Snapshots only at shutdown: what is counted here is the journal's alone.
      snapshot: { ...defaultConfig().snapshot, enabled: true, interval: 0n, database: `sqlite://${join(dir, "kq.db")}` },
    });
    const { kv } = createClients("grpc", server.url, "journaled");
    // Acknowledged in sync mode only once committed: the commits are counted by the time they answer.
    await Promise.all(Array.from({ length: 20 }, (_, i) => kv.set({ key: `k${i}`, value: bytes("v") })));
    const samples = await scrape(server.server.monitorUrl!);
    const commits = sampleSum(samples, "keyquarry_journal_commits_total");
    // The reserved keys at start, then the 20 Sets: at least one commit, at most one per entry.
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, "keyquarry_journal_entries_total")).toBeGreaterThanOrEqual(21);
    expect(commits).toBeLessThanOrEqual(sampleSum(samples, "keyquarry_journal_entries_total"));
    expect(sampleSum(samples, "keyquarry_journal_commit_seconds_total")).toBeGreaterThan(0);
    expect(sampleSum(samples, "keyquarry_journal_last_batch_entries")).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, "keyquarry_journal_backlog")).toBe(0);
    expect(sampleSum(samples, "keyquarry_journal_failing")).toBe(0);
    expect(sampleSum(samples, "keyquarry_journal_commit_failures_total")).toBe(0);
  });
});
