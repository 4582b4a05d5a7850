// `npm run bench [-- --quick]`: keyquarry against etcd, Redis and two raw
// Node ceilings, in one run, alternating targets round by round; then the
// in-process measurements (memory per key, lifespan expiry, watch fan-out).
// Prints a table and writes bench/results/latest-node<major>.json. Only 127.0.0.1 is
// ever targeted; every child process is stopped on exit, Ctrl-C or error.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { grpcCall } from "./lib/grpc-call.js";
import { runH2load, type H2loadResult } from "./lib/h2load.js";
import { cliStartupReport, cliStartupSettings, runCliStartup } from "./lib/cli-startup.js";
import { cliLoadReport, cliLoadSettings, runCliLoad } from "./lib/cli-load.js";
import { clusterReport, clusterSettings, runCluster } from "./lib/cluster.js";
import { hostileReport, hostileSettings, runHostile } from "./lib/hostile.js";
import { journalReport, journalSettings, runJournal } from "./lib/journal.js";
import { etcdErrorsBetween, etcdHandled, settledEtcdHandled, spawnEtcd } from "./lib/etcd-process.js";
import { runTelemetryOverhead, telemetryOverheadReport, telemetryOverheadSettings } from "./lib/telemetry-overhead.js";
import { runSnapshotStall, snapshotStallReport, snapshotStallSettings } from "./lib/snapshot-stall.js";
import { rssMiB, sampleRss, spawnKeyquarry } from "./lib/keyquarry-process.js";
import { freePort } from "../server/test/kit/free-port.js";
import { installCleanup, isStoppingAll, run, spawnTracked, stopAll, stopChild, waitForPort, which } from "./lib/procs.js";
import { benchValue, decodeFields, getResponseValue, grpcFrame, lenField, rangeResponseValue, varintField } from "./lib/proto.js";
import { runRedisBenchmark, type RedisRow } from "./lib/redis.js";
import { median, ratio, round } from "./lib/stats.js";
import { runWrk, writeWrkScript, type WrkResult } from "./lib/wrk.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.dirname(benchDir);
const quick = process.argv.includes("--quick");
// `--node PATH`: the Node.js that runs keyquarry, the ceilings and the bench's own
// programs (default: the one running this script), e.g. Node 24 from the npm `node` package.
const nodeFlag = process.argv.indexOf("--node");
const targetNode = nodeFlag === -1 ? process.execPath : path.resolve(process.argv[nodeFlag + 1] ?? "");
const targetNodeVersion = execFileSync(targetNode, ["--version"], { encoding: "utf8" }).trim();
const installHint = "apt-get install -y etcd-server redis-server nghttp2-client wrk";

// ---------------------------------------------------------------- settings

interface Level {
  clients: number;
  streams: number;
  seconds: number;
}

const settings = quick
  ? {
      rounds: 1,
      warmupSeconds: 0.5,
      grpcLevels: [
        { clients: 1, streams: 1, seconds: 1 },
        { clients: 8, streams: 16, seconds: 1 },
        { clients: 32, streams: 32, seconds: 1 },
      ] as Level[],
      setNewValue: { clients: 8, streams: 16, seconds: 1 },
      jsonConnections: [8, 64],
      jsonSeconds: 1,
      redisRequests: 20_000,
      memoryKeys: 100_000,
      expiryKeys: 100_000,
      expiryWindowS: 2,
      watchers: 100,
      watchSets: 50,
      watchConnections: 10,
      overload: { clients: 16, streams: 128, seconds: 1, runs: 3 },
    }
  : {
      rounds: 3,
      warmupSeconds: 1,
      grpcLevels: [
        { clients: 1, streams: 1, seconds: 2 },
        { clients: 8, streams: 16, seconds: 3 },
        { clients: 32, streams: 32, seconds: 2 },
      ] as Level[],
      setNewValue: { clients: 8, streams: 16, seconds: 3 },
      jsonConnections: [8, 64],
      jsonSeconds: 3,
      redisRequests: 100_000,
      memoryKeys: 1_000_000,
      expiryKeys: 1_000_000,
      expiryWindowS: 2,
      watchers: 1000,
      watchSets: 100,
      watchConnections: 10,
      overload: { clients: 16, streams: 128, seconds: 3, runs: 5 },
    };
/** The level the pass/fail targets are judged at. */
const headlineLevel = { clients: 8, streams: 16 };

// ---------------------------------------------------------------- helpers

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmtInt = (n: number | undefined) => (n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));
const fmtMs = (n: number | undefined) => (n === undefined ? "–" : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const fmtRatio = (n: number | undefined) => (n === undefined ? "–" : `${n.toFixed(2)}x`);
const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

function toolVersion(command: string, args: string[], pattern: RegExp): string | undefined {
  try {
    const out = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    return pattern.exec(out)?.[0]?.trim() ?? out.split("\n")[0]?.trim();
  } catch (err) {
    // wrk -v exits 1 but prints its version.
    const out = String((err as { stdout?: unknown }).stdout ?? "");
    return pattern.exec(out)?.[0]?.trim() ?? (out.split("\n")[0]?.trim() || undefined);
  }
}

function gitInfo(): { commit?: string; dirtyFiles?: number } {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: rootDir, encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: rootDir, encoding: "utf8" });
    return { commit, dirtyFiles: status.split("\n").filter((l) => l.trim() !== "").length };
  } catch {
    return {};
  }
}

/** Runs one of the bench's own TypeScript programs in a child node process; parses its last JSON line. */
async function runChild(script: string, args: string[], timeoutMs: number, gc: boolean): Promise<{ ok: boolean; data?: Record<string, unknown>; error?: string }> {
  const nodeArgs = ["--import", "tsx", ...(gc ? ["--expose-gc"] : []), path.join(benchDir, script), ...args];
  const result = await run(targetNode, nodeArgs, timeoutMs, { cwd: rootDir });
  const lastLine = result.stdout.trim().split("\n").pop() ?? "";
  try {
    const data = JSON.parse(lastLine) as Record<string, unknown>;
    return { ok: result.code === 0, data };
  } catch {
    return { ok: false, error: `${script} exit ${result.code}${result.timedOut ? " (timed out)" : ""}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  }
}

// ---------------------------------------------------------------- targets

type GrpcTargetName = "keyquarry" | "etcd" | "h2-ceiling";
type Op = "get" | "set";

interface GrpcTarget {
  name: GrpcTargetName;
  port: number;
  path: Record<Op, string>;
  bodyFile: Record<Op, string>;
  /** Bytes of DATA in one successful response, as verified (for counting gRPC errors). */
  responseBytes: Record<Op, number>;
  /** Whether responses have a fixed size (then errors are counted exactly from DATA bytes). */
  fixedSize: boolean;
  available: boolean;
  skipReason?: string;
}

const keyquarryGet = lenField(1, "bench");
const keyquarrySet = Buffer.concat([lenField(1, "bench-set"), lenField(2, benchValue)]);
const etcdRange = lenField(1, "bench");
const etcdPut = Buffer.concat([lenField(1, "bench-set"), lenField(2, benchValue)]);

/** Checks one gRPC call: grpc-status 0 and, for Get, the benchmark value. Returns the response DATA size. */
async function verifyGrpc(target: GrpcTarget, op: Op, body: Buffer, valueOf?: (message: Buffer) => Buffer | undefined): Promise<number> {
  const result = await grpcCall(target.port, target.path[op], grpcFrame(body));
  if (result.httpStatus !== 200 || result.grpcStatus !== "0") {
    throw new Error(`${target.name} ${target.path[op]}: HTTP ${result.httpStatus}, grpc-status ${result.grpcStatus} ${result.grpcMessage ?? ""}`);
  }
  const message = result.messages[0];
  if (message === undefined || result.messages.length !== 1) {
    throw new Error(`${target.name} ${target.path[op]}: expected one response message, got ${result.messages.length}`);
  }
  if (valueOf !== undefined) {
    const value = valueOf(message);
    if (value === undefined || !value.equals(benchValue)) {
      throw new Error(`${target.name} ${target.path[op]}: response does not carry the benchmark value`);
    }
  }
  return message.length + 5;
}


/** Retries `fn` until it succeeds or `timeoutMs` passes. */
async function retry<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Compacts etcd's history to its current revision (physically), before each
 * etcd run: the Put rows add hundreds of thousands of revisions, and an
 * uncompacted etcd gets slower and slower (Range ~2-3x after 300k Puts),
 * which no production etcd (auto-compaction) sees. Outside the measurement.
 */
let etcdCompactedAt = 0;
async function compactEtcd(port: number): Promise<void> {
  const range = await grpcCall(port, "/etcdserverpb.KV/Range", grpcFrame(lenField(1, "bench")));
  const header = range.messages[0] === undefined ? undefined : decodeFields(range.messages[0]).find((f) => f.field === 1)?.bytes;
  const revision = header === undefined ? undefined : decodeFields(header).find((f) => f.field === 3)?.num;
  if (revision === undefined || revision <= etcdCompactedAt) return;
  // CompactionRequest{revision = 1, physical = 2}
  const result = await grpcCall(port, "/etcdserverpb.KV/Compact", grpcFrame(Buffer.concat([varintField(1, revision), varintField(2, 1)])), 120_000);
  if (result.grpcStatus !== "0") {
    flag("etcd", `compaction to revision ${revision} failed: grpc-status ${result.grpcStatus} ${result.grpcMessage ?? ""}`);
    return;
  }
  etcdCompactedAt = revision;
}

// ---------------------------------------------------------------- results

interface GrpcRound {
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  meanMs?: number;
  requests: number;
  done: number;
  failed: number;
  grpcErrors?: number;
  error?: string;
}

interface Flag {
  where: string;
  what: string;
}

const flags: Flag[] = [];
const flag = (where: string, what: string) => {
  flags.push({ where, what });
  log(`  ! ${where}: ${what}`);
};

function grpcRound(result: H2loadResult, target: GrpcTarget, op: Op, etcdErrors: number | undefined): GrpcRound {
  let grpcErrors: number | undefined;
  if (target.name === "etcd") {
    grpcErrors = etcdErrors;
  } else if (result.done > 0) {
    const expected = target.responseBytes[op];
    const okResponses = result.dataBytes / expected;
    grpcErrors = Math.max(0, result.done - Math.floor(okResponses));
    if (target.fixedSize && !Number.isInteger(okResponses)) {
      flag(`${target.name} ${op}`, `response DATA bytes (${result.dataBytes}) are not a multiple of one response (${expected})`);
    }
  }
  return {
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    meanMs: result.meanMs,
    requests: result.requests,
    done: result.done,
    failed: result.failed + result.errored + result.timeout + (result.requests - result.done),
    grpcErrors,
    error: result.error,
  };
}

// ---------------------------------------------------------------- main

installCleanup();
const startedAt = new Date();
const loadavgStart = os.loadavg();
const tmp = mkdtempSync(path.join(os.tmpdir(), "keyquarry-bench-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
log(`keyquarry bench (${quick ? "quick" : "full"}): ${settings.rounds} round(s); temp dir ${tmp}`);

// `--only hostile` / `--only cli` / `--only metrics`: one stage alone (to re-run after a change);
// writes bench/results/<stage>[-quick]-node<major>.json.
const onlyFlag = process.argv.indexOf("--only");
if (onlyFlag !== -1) {
  const stage = process.argv[onlyFlag + 1];
  const stages = {
    hostile: async () => {
      const hostile = await runHostile(targetNode, rootDir, tmp, hostileSettings(quick), log);
      return { data: { hostile }, ...hostileReport(hostile), show: (v: number) => String(Math.round(v)) };
    },
    cli: async () => {
      const cliStartup = await runCliStartup(targetNode, rootDir, tmp, cliStartupSettings(quick), log);
      return { data: { cliStartup }, ...cliStartupReport(cliStartup), show: fmtRatio };
    },
    load: async () => {
      const cliLoad = await runCliLoad(targetNode, rootDir, tmp, cliLoadSettings(quick), log);
      return { data: { cliLoad }, ...cliLoadReport(cliLoad), show: fmtRatio };
    },
    journal: async () => {
      const journal = await runJournal(targetNode, rootDir, tmp, journalSettings(quick), log);
      return { data: { journal }, ...journalReport(journal), show: fmtRatio };
    },
    cluster: async () => {
      const cluster = await runCluster(targetNode, rootDir, tmp, clusterSettings(quick), log);
      return { data: { cluster }, ...clusterReport(cluster), show: fmtRatio };
    },
    metrics: async () => {
      const telemetry = await runTelemetryOverhead(targetNode, rootDir, tmp, telemetryOverheadSettings(quick), log);
      return { data: { telemetry }, ...telemetryOverheadReport(telemetry), show: fmtRatio };
    },
    // `--baseline DIR`: a built checkout to compare with (e.g. the code before a change).
    "snapshot-stall": async () => {
      const baselineFlag = process.argv.indexOf("--baseline");
      const builds = [{ label: "this", rootDir }];
      if (baselineFlag !== -1) builds.push({ label: "baseline", rootDir: path.resolve(process.argv[baselineFlag + 1] ?? "") });
      const snapshotStall = await runSnapshotStall(targetNode, builds, tmp, snapshotStallSettings(quick), log);
      return { data: { snapshotStall }, ...snapshotStallReport(snapshotStall), show: fmtRatio };
    },
  };
  if (stage === undefined || !Object.hasOwn(stages, stage)) {
    log(`--only: unknown stage ${JSON.stringify(stage)} (known: ${Object.keys(stages).join(", ")})`);
    process.exit(2);
  }
  const { data, lines, targets, show } = await stages[stage as keyof typeof stages]();
  const git = gitInfo();
  const header = `keyquarry bench — ${stage} stage only${quick ? " (quick)" : ""}, ${startedAt.toISOString()}, Node ${targetNodeVersion}, git ${git.commit ?? "?"}${git.dirtyFiles ? ` (+${git.dirtyFiles} modified files)` : ""}, load average ${loadavgStart.map((x) => x.toFixed(1)).join(" ")}`;
  const targetLines = targets.map((t) => `${pad(t.check, 50)}${pad(t.measured === null ? "–" : show(t.measured), 12)}${pad(t.target, 12)}${t.pass === null ? "n/a" : t.pass ? "PASS" : "FAIL"}`);
  process.stdout.write(`\n${[header, "", ...lines, "", "Targets", ...targetLines].join("\n")}\n`);
  const nodeMajor = targetNodeVersion.replace(/^v/, "").split(".")[0];
  const outFile = path.join(benchDir, "results", `${stage}${quick ? "-quick" : ""}-node${nodeMajor}.json`);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify({ schema: 1, date: startedAt.toISOString(), mode: quick ? "quick" : "full", node: targetNodeVersion, git, loadavgStart, loadavgEnd: os.loadavg(), ...data, targets }, null, 2)}\n`);
  log(`wrote ${path.relative(rootDir, outFile)} (${Math.round((Date.now() - startedAt.getTime()) / 1000)} s)`);
  await stopAll();
  process.exit(0);
}

const tools = {
  h2load: await which("h2load"),
  wrk: await which("wrk"),
  etcd: await which("etcd"),
  redisServer: await which("redis-server"),
  redisBenchmark: await which("redis-benchmark"),
};
const skipped: string[] = [];
const skip = (what: string) => {
  skipped.push(what);
  log(`skipped: ${what}: install with ${installHint}`);
};
if (!tools.h2load) skip("gRPC rows (h2load, from nghttp2-client, not found)");
if (!tools.etcd) skip("etcd target (etcd, from etcd-server, not found)");
if (!tools.redisServer || !tools.redisBenchmark) skip("Redis reference rows (redis-server / redis-benchmark not found)");
if (!tools.wrk) skip("Connect JSON rows (wrk not found)");

const versions = {
  h2load: tools.h2load ? toolVersion("h2load", ["--version"], /nghttp2\/\S+/) : undefined,
  wrk: tools.wrk ? toolVersion("wrk", ["-v"], /wrk \S+/) : undefined,
  etcd: tools.etcd ? toolVersion("etcd", ["--version"], /etcd Version: \S+/) : undefined,
  redis: tools.redisServer ? toolVersion("redis-server", ["--version"], /v=\S+/) : undefined,
  redisBenchmark: tools.redisBenchmark ? toolVersion("redis-benchmark", ["--version"], /\d+\.\d+\.\d+/) : undefined,
};

// Request bodies for h2load.
const bodyFiles = {
  keyquarryGet: path.join(tmp, "keyquarry-get.bin"),
  keyquarrySet: path.join(tmp, "keyquarry-set.bin"),
  etcdRange: path.join(tmp, "etcd-range.bin"),
  etcdPut: path.join(tmp, "etcd-put.bin"),
};
writeFileSync(bodyFiles.keyquarryGet, grpcFrame(keyquarryGet));
writeFileSync(bodyFiles.keyquarrySet, grpcFrame(keyquarrySet));
writeFileSync(bodyFiles.etcdRange, grpcFrame(etcdRange));
writeFileSync(bodyFiles.etcdPut, grpcFrame(etcdPut));
const wrkScript = path.join(tmp, "connect-get.lua");
writeWrkScript(wrkScript, JSON.stringify({ key: "bench" }));

// --- start the servers
const ports = {
  keyquarry: await freePort(),
  etcd: await freePort(),
  etcdPeer: await freePort(),
  redis: await freePort(),
  h2Ceiling: await freePort(),
  httpCeiling: await freePort(),
};
const childOutput = (name: string, child: ReturnType<typeof spawnTracked>) => {
  let tail = "";
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.once("exit", (code, signal) => {
    if (!stopping && !isStoppingAll()) log(`  ! ${name} exited early (code ${code}, signal ${signal}): ${tail.trim().split("\n").slice(-3).join(" | ")}`);
  });
  return child;
};
let stopping = false;

log("starting keyquarry, etcd, redis and the ceilings on 127.0.0.1 ...");
const keyquarry = childOutput("keyquarry", spawnKeyquarry(targetNode, rootDir, ports.keyquarry, path.join(tmp, "xdg-data")));
const h2Ceiling = childOutput("h2-ceiling", spawnTracked(targetNode, ["--import", "tsx", path.join(benchDir, "ceiling-http2.ts"), String(ports.h2Ceiling)], { cwd: rootDir }));
const httpCeiling = childOutput("http-ceiling", spawnTracked(targetNode, ["--import", "tsx", path.join(benchDir, "ceiling-http.ts"), String(ports.httpCeiling)], { cwd: rootDir }));
const etcd = tools.etcd
  ? childOutput(
      "etcd",
      spawnEtcd(path.join(tmp, "etcd"), ports.etcd, ports.etcdPeer),
    )
  : undefined;
const redis =
  tools.redisServer && tools.redisBenchmark
    ? childOutput("redis", spawnTracked("redis-server", ["--port", String(ports.redis), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]))
    : undefined;

const targets: Record<GrpcTargetName, GrpcTarget> = {
  keyquarry: {
    name: "keyquarry",
    port: ports.keyquarry,
    path: { get: "/keyquarry.KeyQuarry/Get", set: "/keyquarry.KeyQuarry/Set" },
    bodyFile: { get: bodyFiles.keyquarryGet, set: bodyFiles.keyquarrySet },
    responseBytes: { get: 0, set: 0 },
    fixedSize: true,
    available: false,
  },
  etcd: {
    name: "etcd",
    port: ports.etcd,
    path: { get: "/etcdserverpb.KV/Range", set: "/etcdserverpb.KV/Put" },
    bodyFile: { get: bodyFiles.etcdRange, set: bodyFiles.etcdPut },
    responseBytes: { get: 0, set: 0 },
    fixedSize: false,
    available: false,
  },
  "h2-ceiling": {
    name: "h2-ceiling",
    port: ports.h2Ceiling,
    path: { get: "/keyquarry.KeyQuarry/Get", set: "/keyquarry.KeyQuarry/Set" },
    bodyFile: { get: bodyFiles.keyquarryGet, set: bodyFiles.keyquarrySet },
    responseBytes: { get: 0, set: 0 },
    fixedSize: true,
    available: false,
  },
};

async function prepare(target: GrpcTarget, child: ReturnType<typeof spawnTracked> | undefined, setBody: Buffer, getBody: Buffer, prepopulate: Buffer | undefined, valueOf: (m: Buffer) => Buffer | undefined): Promise<void> {
  if (child === undefined) {
    target.skipReason = "not installed";
    return;
  }
  try {
    if (!(await waitForPort(target.port, 60_000, child))) throw new Error("did not start listening within 60 s");
    await retry(async () => {
      if (prepopulate !== undefined) {
        const result = await grpcCall(target.port, target.path.set, grpcFrame(prepopulate));
        if (result.grpcStatus !== "0") throw new Error(`pre-populating failed: grpc-status ${result.grpcStatus} ${result.grpcMessage ?? ""}`);
      }
      // Twice: the first Set may create the key (a longer response); the load only updates it.
      await verifyGrpc(target, "set", setBody);
      target.responseBytes.set = await verifyGrpc(target, "set", setBody);
      target.responseBytes.get = await verifyGrpc(target, "get", getBody, valueOf);
    }, 15_000);
    target.available = true;
    log(`  ${target.name}: verified (Get response ${target.responseBytes.get} B, Set response ${target.responseBytes.set} B)`);
  } catch (err) {
    target.skipReason = err instanceof Error ? err.message : String(err);
    flag(target.name, `not measured: ${target.skipReason}`);
  }
}

await Promise.all([
  prepare(targets.keyquarry, keyquarry, keyquarrySet, keyquarryGet, Buffer.concat([lenField(1, "bench"), lenField(2, benchValue)]), getResponseValue),
  prepare(targets.etcd, etcd, etcdPut, etcdRange, Buffer.concat([lenField(1, "bench"), lenField(2, benchValue)]), rangeResponseValue),
  prepare(targets["h2-ceiling"], h2Ceiling, keyquarrySet, keyquarryGet, undefined, getResponseValue),
]);

// Connect JSON targets.
const jsonTargets = {
  keyquarry: { port: ports.keyquarry, available: false },
  "http-ceiling": { port: ports.httpCeiling, available: false },
};
for (const [name, target] of Object.entries(jsonTargets)) {
  try {
    if (!(await waitForPort(target.port, 30_000))) throw new Error("not listening");
    const response = await fetch(`http://127.0.0.1:${target.port}/keyquarry.KeyQuarry/Get`, {
      method: "POST",
      headers: { "content-type": "application/json", client_id: "bench" },
      body: JSON.stringify({ key: "bench" }),
    });
    const body = (await response.json()) as { value?: string };
    if (response.status !== 200 || body.value !== benchValue.toString("base64")) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
    target.available = true;
  } catch (err) {
    flag(`${name} (Connect JSON)`, `not measured: ${err instanceof Error ? err.message : String(err)}`);
  }
}
const redisAvailable = redis !== undefined && (await waitForPort(ports.redis, 30_000, redis));

// --- the rounds
const grpcTargetNames: GrpcTargetName[] = ["keyquarry", "etcd", "h2-ceiling"];
const grpcResults = new Map<string, Record<GrpcTargetName, GrpcRound[]>>();
interface SetLoadResult {
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  ok?: number;
  errors?: number;
  statuses?: Record<string, number>;
  error?: string;
}
const setNewValueResults: Record<GrpcTargetName, SetLoadResult[]> = { keyquarry: [], etcd: [], "h2-ceiling": [] };
const jsonResults = new Map<number, Record<string, WrkResult[]>>();
const redisResults: RedisRow[][] = [];
const rowKey = (op: Op, level: Level) => `${op} -c${level.clients} -m${level.streams}`;
const rotate = <T>(xs: readonly T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]!);

for (let r = 0; r < settings.rounds; r++) {
  log(`round ${r + 1}/${settings.rounds}`);
  if (tools.h2load) {
    for (const level of settings.grpcLevels) {
      for (const op of ["get", "set"] as const) {
        const key = rowKey(op, level);
        const row = grpcResults.get(key) ?? { keyquarry: [], etcd: [], "h2-ceiling": [] };
        grpcResults.set(key, row);
        for (const name of rotate(grpcTargetNames, r)) {
          const target = targets[name];
          if (!target.available) continue;
          if (name === "etcd") await compactEtcd(target.port).catch((err) => flag("etcd", `compaction failed: ${String(err)}`));
          // etcd counts its gRPC responses by code: read them around the measured run.
          let before: Map<string, number> | undefined;
          const snapshot = name === "etcd" ? async () => void (before = await settledEtcdHandled(target.port)) : undefined;
          const result = await runH2load(`http://127.0.0.1:${target.port}${target.path[op]}`, target.bodyFile[op], { ...level, warmupSeconds: settings.warmupSeconds }, path.join(tmp, "h2load.log"), snapshot);
          let etcdErrors: number | undefined;
          if (before !== undefined) {
            const after = await etcdHandled(target.port).catch(() => undefined);
            const method = op === "get" ? "Range" : "Put";
            if (after !== undefined) {
              const { errors, codes } = etcdErrorsBetween(before, after, method);
              etcdErrors = errors;
              if (codes.length > 0) log(`  etcd ${method} error codes: ${codes.join(", ")}`);
            }
          }
          const round = grpcRound(result, target, op, etcdErrors);
          row[name].push(round);
          log(`  ${pad(name, 11)} ${pad(key, 16)} ${lpad(fmtInt(round.rps), 8)} req/s  p50 ${fmtMs(round.p50Ms)} ms  p99 ${fmtMs(round.p99Ms)} ms${round.failed ? `  failed ${round.failed}` : ""}${round.grpcErrors ? `  gRPC errors ${round.grpcErrors}` : ""}`);
          if (round.error) flag(`${name} ${key} round ${r + 1}`, round.error);
          if (round.failed > 0) flag(`${name} ${key} round ${r + 1}`, `${round.failed} of ${round.requests} requests failed (h2load)`);
          if ((round.grpcErrors ?? 0) > 0) flag(`${name} ${key} round ${r + 1}`, `${round.grpcErrors} of ${round.done} responses were gRPC errors (grpc-status != 0)`);
        }
      }
    }
  }
  // Set with a new value on every request (node:http2 generator).
  for (const name of rotate(grpcTargetNames, r)) {
    const target = targets[name];
    if (!target.available) continue;
    if (name === "etcd") await compactEtcd(target.port).catch((err) => flag("etcd", `compaction failed: ${String(err)}`));
    const level = settings.setNewValue;
    const res = await runChild(
      "h2-set-load.ts",
      [JSON.stringify({ port: target.port, path: target.path.set, key: "bench-new", connections: level.clients, streams: level.streams, seconds: level.seconds, warmupSeconds: settings.warmupSeconds })],
      (level.seconds + settings.warmupSeconds) * 1000 * 4 + 30_000,
      false,
    );
    const data = (res.data ?? {}) as SetLoadResult;
    setNewValueResults[name].push(res.ok ? data : { error: res.error ?? "failed" });
    log(`  ${pad(name, 11)} ${pad("set new value", 16)} ${lpad(fmtInt(data.rps), 8)} req/s  p50 ${fmtMs(data.p50Ms)} ms  p99 ${fmtMs(data.p99Ms)} ms${data.errors ? `  gRPC errors ${data.errors}` : ""}`);
    if (!res.ok) flag(`${name} set-new-value round ${r + 1}`, res.error ?? "failed");
    if ((data.errors ?? 0) > 0) flag(`${name} set-new-value round ${r + 1}`, `${data.errors} gRPC errors: ${JSON.stringify(data.statuses)}`);
  }
  // Connect JSON over HTTP/1.1.
  if (tools.wrk) {
    for (const connections of settings.jsonConnections) {
      const row = jsonResults.get(connections) ?? {};
      jsonResults.set(connections, row);
      for (const [name, target] of rotate(Object.entries(jsonTargets), r)) {
        if (!target.available) continue;
        const result = await runWrk(`http://127.0.0.1:${target.port}/keyquarry.KeyQuarry/Get`, wrkScript, connections, settings.jsonSeconds, settings.warmupSeconds >= 1 ? 1 : 0);
        (row[name] ??= []).push(result);
        log(`  ${pad(name, 12)} ${pad(`JSON Get -c${connections}`, 15)} ${lpad(fmtInt(result.rps), 8)} req/s  p50 ${fmtMs(result.p50Ms)} ms  p99 ${fmtMs(result.p99Ms)} ms`);
        if (!result.ok) flag(`${name} JSON -c${connections} round ${r + 1}`, result.error ?? "wrk failed");
        if (result.non2xx > 0 || result.socketErrors > 0) flag(`${name} JSON -c${connections} round ${r + 1}`, `${result.non2xx} non-2xx responses, ${result.socketErrors} socket errors of ${result.requests}`);
      }
    }
  }
  // Redis reference.
  if (redisAvailable) {
    const result = await runRedisBenchmark(ports.redis, 8, settings.redisRequests);
    if (result.ok) redisResults.push(result.rows);
    else flag(`redis round ${r + 1}`, result.error ?? "failed");
    for (const row of result.rows) log(`  ${pad("redis", 11)} ${pad(row.test, 16)} ${lpad(fmtInt(row.rps), 8)} req/s  p50 ${fmtMs(row.p50Ms)} ms  p99 ${fmtMs(row.p99Ms)} ms`);
  }
}

// --- overload: 2,048 calls in flight (16 connections x 128 streams), run after run, while
// keyquarry's resident memory is sampled: it must level off, not grow with every run.
interface OverloadRun {
  rps?: number;
  failed: number;
  grpcErrors?: number;
  rssBeforeMiB?: number;
  rssPeakMiB?: number;
  rssAfterMiB?: number;
}
const overloadRuns: OverloadRun[] = [];
if (tools.h2load && targets.keyquarry.available) {
  const { runs, ...level } = settings.overload;
  log(`overload: ${level.clients * level.streams} Sets in flight, ${runs} runs of ${level.seconds} s ...`);
  for (let run = 0; run < runs; run++) {
    const rssBeforeMiB = rssMiB(keyquarry.pid);
    const sampler = sampleRss(keyquarry.pid);
    const result = await runH2load(`http://127.0.0.1:${ports.keyquarry}${targets.keyquarry.path.set}`, targets.keyquarry.bodyFile.set, { ...level, warmupSeconds: settings.warmupSeconds }, path.join(tmp, "h2load.log"));
    sampler.stop();
    const rssPeakMiB = sampler.peakMiB;
    const round = grpcRound(result, targets.keyquarry, "set", undefined);
    const entry = { rps: round.rps, failed: round.failed, grpcErrors: round.grpcErrors, rssBeforeMiB, rssPeakMiB, rssAfterMiB: rssMiB(keyquarry.pid) };
    overloadRuns.push(entry);
    log(`  keyquarry   overload run ${run + 1} ${lpad(fmtInt(entry.rps), 8)} req/s  RSS ${fmtInt(rssBeforeMiB)} -> peak ${fmtInt(rssPeakMiB)} -> ${fmtInt(entry.rssAfterMiB)} MiB`);
    if (round.error) flag(`keyquarry overload run ${run + 1}`, round.error);
    if (round.failed > 0 || (round.grpcErrors ?? 0) > 0) flag(`keyquarry overload run ${run + 1}`, `${round.failed} failed, ${round.grpcErrors ?? 0} gRPC errors of ${round.requests}`);
  }
}

log("stopping the servers ...");
stopping = true;
await Promise.all([keyquarry, etcd, redis, h2Ceiling, httpCeiling].map((child) => (child ? stopChild(child) : Promise.resolve())));

// --- in-process measurements (one child process each; the servers above are stopped)
log(`memory: ${settings.memoryKeys.toLocaleString("en-US")} keys ...`);
const memory = await runChild("memory.ts", [String(settings.memoryKeys)], 600_000, true);
if (!memory.ok) flag("memory", memory.error ?? "failed");
const memoryLoadS = typeof memory.data?.["loadMs"] === "number" ? (memory.data["loadMs"] as number) / 1000 : undefined;
log(`expiry: ${settings.expiryKeys.toLocaleString("en-US")} keys ...`);
const expiryArgs = [String(settings.expiryKeys), String(settings.expiryWindowS)];
// Lifespans add work to the load: estimate from the memory run's load time, +30%.
if (memoryLoadS !== undefined && settings.memoryKeys === settings.expiryKeys) expiryArgs.push(String(memoryLoadS * 1.3));
const expiry = await runChild("expiry.ts", expiryArgs, 900_000, true);
if (!expiry.ok) flag("expiry", expiry.error ?? "failed");
log(`watch fan-out: ${settings.watchers} watchers ...`);
const watch = await runChild("watch-fanout.ts", [String(settings.watchers), String(settings.watchSets), String(settings.watchConnections)], 600_000, false);
if (!watch.ok) flag("watch", watch.error ?? "failed");
const hostile = await runHostile(targetNode, rootDir, tmp, hostileSettings(quick), log);
const hostileSummary = hostileReport(hostile);
const cliStartup = await runCliStartup(targetNode, rootDir, tmp, cliStartupSettings(quick), log);
const cliStartupSummary = cliStartupReport(cliStartup);
await stopAll();

// ---------------------------------------------------------------- report

interface Summary {
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  rounds: number;
}
const summarizeRounds = (rounds: Array<{ rps?: number; p50Ms?: number; p99Ms?: number }>): Summary => ({
  rps: median(rounds.map((x) => x.rps)),
  p50Ms: median(rounds.map((x) => x.p50Ms)),
  p99Ms: median(rounds.map((x) => x.p99Ms)),
  rounds: rounds.length,
});
const cell = (s: Summary | undefined) => (s === undefined || s.rps === undefined ? "–" : `${fmtInt(s.rps)} (${fmtMs(s.p50Ms)}/${fmtMs(s.p99Ms)})`);

const lines: string[] = [];
const out = (line = "") => lines.push(line);
const cpuModel = os.cpus()[0]?.model ?? "unknown";
const git = gitInfo();
const loadavgEnd = os.loadavg();
out(`keyquarry bench — ${quick ? "QUICK (smoke run, not for comparison)" : "full"}, ${settings.rounds} round(s), median per cell`);
out(`${startedAt.toISOString()}  ${cpuModel} x${os.cpus().length}  Node ${targetNodeVersion}  git ${git.commit ?? "?"}${git.dirtyFiles ? ` (+${git.dirtyFiles} modified files)` : ""}`);
out(`load average at start ${loadavgStart.map((x) => x.toFixed(1)).join(" ")}, at end ${loadavgEnd.map((x) => x.toFixed(1)).join(" ")} (2 cores shared with everything else on the machine)`);
out();

const grpcReport: Array<Record<string, unknown>> = [];
out(
  tools.h2load
    ? `gRPC unary, h2c — h2load -t1, req/s (p50/p99 ms); ${settings.warmupSeconds}s warm-up then -n sized to ~${settings.grpcLevels.map((l) => `${l.seconds}`).join("/")} s`
    : "gRPC unary, h2c — h2load rows skipped (h2load not installed)",
);
out(`${pad("op", 6)}${pad("load", 12)}${pad("keyquarry", 22)}${pad("etcd", 22)}${pad("http2 ceiling", 22)}${pad("kq/etcd", 9)}kq/ceiling`);
if (tools.h2load) {
  for (const op of ["get", "set"] as const) {
    for (const level of settings.grpcLevels) {
      const key = rowKey(op, level);
      const row = grpcResults.get(key);
      if (row === undefined) continue;
      const s = {
        keyquarry: summarizeRounds(row.keyquarry),
        etcd: summarizeRounds(row.etcd),
        "h2-ceiling": summarizeRounds(row["h2-ceiling"]),
      };
      const vsEtcd = ratio(s.keyquarry.rps, s.etcd.rps);
      const vsCeiling = ratio(s.keyquarry.rps, s["h2-ceiling"].rps);
      const bad = (name: GrpcTargetName) => row[name].some((x) => x.failed > 0 || (x.grpcErrors ?? 0) > 0 || x.error !== undefined);
      const mark = (name: GrpcTargetName) => (bad(name) ? " !" : "");
      out(
        `${pad(op === "get" ? "Get" : "Set", 6)}${pad(`-c${level.clients} -m${level.streams}`, 12)}${pad(cell(s.keyquarry) + mark("keyquarry"), 22)}${pad(cell(s.etcd) + mark("etcd"), 22)}${pad(cell(s["h2-ceiling"]) + mark("h2-ceiling"), 22)}${pad(fmtRatio(vsEtcd), 9)}${fmtRatio(vsCeiling)}`,
      );
      grpcReport.push({
        op,
        etcdMethod: op === "get" ? "Range" : "Put",
        clients: level.clients,
        streams: level.streams,
        seconds: level.seconds,
        ratios: { keyquarryOverEtcd: round(vsEtcd, 3), keyquarryOverCeiling: round(vsCeiling, 3) },
        targets: Object.fromEntries(
          grpcTargetNames.map((name) => [
            name,
            {
              rps: round(s[name].rps, 0),
              p50Ms: round(s[name].p50Ms, 3),
              p99Ms: round(s[name].p99Ms, 3),
              clean: !bad(name),
              rounds: row[name].map((x) => ({
                rps: round(x.rps, 0),
                p50Ms: round(x.p50Ms, 3),
                p99Ms: round(x.p99Ms, 3),
                meanMs: round(x.meanMs, 3),
                requests: x.requests,
                failed: x.failed,
                grpcErrors: x.grpcErrors ?? null,
              })),
            },
          ]),
        ),
      });
    }
  }
}
const setNew = Object.fromEntries(grpcTargetNames.map((name) => [name, summarizeRounds(setNewValueResults[name].filter((x) => x.error === undefined))])) as Record<GrpcTargetName, Summary>;
const setNewVsEtcd = ratio(setNew.keyquarry.rps, setNew.etcd.rps);
const setNewVsCeiling = ratio(setNew.keyquarry.rps, setNew["h2-ceiling"].rps);
// A target within 0.8x of the ceiling under this generator may be held back by the generator:
// if keyquarry is, the row cannot rank it; if only etcd is, kq/etcd is an upper bound.
const setNewKqBound = (setNewVsCeiling ?? 0) >= 0.8;
const setNewEtcdBound = (ratio(setNew.etcd.rps, setNew["h2-ceiling"].rps) ?? 0) >= 0.8;
{
  const l = settings.setNewValue;
  const bad = (name: GrpcTargetName) => setNewValueResults[name].some((x) => x.error !== undefined || (x.errors ?? 0) > 0);
  out(
    `${pad("Set*", 6)}${pad(`-c${l.clients} -m${l.streams}`, 12)}${pad(cell(setNew.keyquarry) + (bad("keyquarry") ? " !" : ""), 22)}${pad(cell(setNew.etcd) + (bad("etcd") ? " !" : ""), 22)}${pad(cell(setNew["h2-ceiling"]), 22)}${pad(fmtRatio(setNewVsEtcd), 9)}${fmtRatio(setNewVsCeiling)}`,
  );
  out(`  Set* = a new value on every request, sent by a node:http2 generator (h2load sends one fixed body, and keyquarry's`);
  out(`  Set returns early when the value is unchanged, while etcd writes a new revision on every Put).`);
  if (setNewKqBound) {
    out(`  Set*: keyquarry reached >= 0.8x of the ceiling under this generator: GENERATOR-BOUND, the row cannot rank it.`);
  } else if (setNewEtcdBound) {
    out(`  Set*: etcd reached >= 0.8x of the ceiling under this generator (generator-bound), so kq/etcd is an upper bound.`);
  }
  out(`  "!" = a round had failed requests or gRPC errors (see flags). etcd persists every Put to ${os.tmpdir()} (WAL + fsync); keyquarry keeps memory only.`);
  out(`  etcd is compacted to its current revision before each of its runs (as its auto-compaction would); Range is linearizable (etcd's default).`);
  out();
}

const jsonReport: Array<Record<string, unknown>> = [];
if (tools.wrk) {
  out(`Connect JSON Get over HTTP/1.1 — wrk -t1, ${settings.jsonSeconds}s, req/s (p50/p99 ms)`);
  out(`${pad("op", 6)}${pad("load", 12)}${pad("keyquarry", 22)}${pad("node:http ceiling", 22)}kq/ceiling`);
  for (const connections of settings.jsonConnections) {
    const row = jsonResults.get(connections) ?? {};
    const kq = summarizeRounds(row["keyquarry"] ?? []);
    const ceiling = summarizeRounds(row["http-ceiling"] ?? []);
    const r = ratio(kq.rps, ceiling.rps);
    const bad = (name: string) => (row[name] ?? []).some((x) => !x.ok || x.non2xx > 0 || x.socketErrors > 0);
    out(`${pad("Get", 6)}${pad(`-c${connections}`, 12)}${pad(cell(kq) + (bad("keyquarry") ? " !" : ""), 22)}${pad(cell(ceiling) + (bad("http-ceiling") ? " !" : ""), 22)}${fmtRatio(r)}`);
    jsonReport.push({
      connections,
      seconds: settings.jsonSeconds,
      ratios: { keyquarryOverCeiling: round(r, 3) },
      targets: Object.fromEntries(
        ["keyquarry", "http-ceiling"].map((name) => [
          name,
          {
            rps: round(summarizeRounds(row[name] ?? []).rps, 0),
            p50Ms: round(summarizeRounds(row[name] ?? []).p50Ms, 3),
            p99Ms: round(summarizeRounds(row[name] ?? []).p99Ms, 3),
            clean: !bad(name),
            rounds: (row[name] ?? []).map((x) => ({ rps: round(x.rps, 0), p50Ms: round(x.p50Ms, 3), p99Ms: round(x.p99Ms, 3), requests: x.requests, non2xx: x.non2xx, socketErrors: x.socketErrors })),
          },
        ]),
      ),
    });
  }
  out();
}

const redisReport: Record<string, unknown> = {};
if (redisResults.length > 0) {
  out(`Redis 7 reference (RESP, not gRPC: a different protocol) — redis-benchmark -c 8 -d 100, no pipelining, ${settings.redisRequests.toLocaleString("en-US")} requests`);
  for (const test of ["GET", "SET"]) {
    const rows = redisResults.map((rows) => rows.find((x) => x.test === test)).filter((x): x is RedisRow => x !== undefined);
    const s = summarizeRounds(rows);
    out(`${pad(test, 6)}${pad("-c8", 12)}${cell(s)}`);
    redisReport[test.toLowerCase()] = { rps: round(s.rps, 0), p50Ms: round(s.p50Ms, 3), p99Ms: round(s.p99Ms, 3), rounds: rows.map((x) => ({ rps: round(x.rps, 0), p50Ms: x.p50Ms, p99Ms: x.p99Ms })) };
  }
  out();
}

const num = (o: Record<string, unknown> | undefined, k: string) => (typeof o?.[k] === "number" ? (o[k] as number) : undefined);
const mib = (bytes: number | undefined) => (bytes === undefined ? "–" : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);
if (overloadRuns.length > 0) {
  const o = settings.overload;
  out(`Overload — keyquarry gRPC Set, h2load -c${o.clients} -m${o.streams} (${fmtInt(o.clients * o.streams)} calls in flight), ${o.runs} runs of ${o.seconds} s; server RSS before -> peak -> after`);
  for (const [i, run] of overloadRuns.entries()) {
    out(`run ${i + 1}  ${lpad(fmtInt(run.rps), 8)} req/s  RSS ${fmtInt(run.rssBeforeMiB)} -> ${fmtInt(run.rssPeakMiB)} -> ${fmtInt(run.rssAfterMiB)} MiB${run.failed || run.grpcErrors ? `  !${run.failed} failed, ${run.grpcErrors ?? 0} gRPC errors` : ""}`);
  }
  out();
}
out("In-process (separate node processes, server code through tsx)");
if (memory.data) {
  const m = memory.data;
  out(
    `memory: ${fmtInt(num(m, "keys"))} keys (10-byte keys, 100-byte values) loaded in ${((num(m, "loadMs") ?? 0) / 1000).toFixed(1)} s (${fmtInt(num(m, "keysPerSecond"))} keys/s); after gc: RSS +${mib(num(m, "rssDeltaBytes"))}, heapUsed +${mib(num(m, "heapUsedDeltaBytes"))}, external +${mib(num(m, "externalDeltaBytes"))}`,
  );
  out(`        per key beyond key+value: ${fmtInt(num(m, "overheadPerKeyRss"))} B by RSS, ${fmtInt(num(m, "overheadPerKeyLive"))} B by heapUsed+external`);
}
if (expiry.data) {
  const e = expiry.data;
  const lat = (e["latenessMs"] ?? {}) as Record<string, number>;
  out(
    `expiry: ${fmtInt(num(e, "expired"))}/${fmtInt(num(e, "keys"))} keys expired, deadlines spread over ${num(e, "deadlinesSpreadS")?.toFixed(2)} s, last one done ${num(e, "expiryWallS")?.toFixed(2)} s after the first deadline`,
  );
  out(`        CPU ${num(e, "cpuTotalS")?.toFixed(2)} s (user ${num(e, "cpuUserS")?.toFixed(2)}, sys ${num(e, "cpuSystemS")?.toFixed(2)}; ${num(e, "cpuExpiringS")?.toFixed(2)} s until the last EXPIRED, then the first Stats ${fmtMs(num(e, "firstWalkMs"))} ms); lateness p50 ${fmtMs(lat["p50"])} ms, p99 ${fmtMs(lat["p99"])} ms, max ${fmtMs(lat["max"])} ms`);
}
if (watch.data) {
  const w = watch.data;
  const d = (w["delayMs"] ?? {}) as Record<string, number>;
  out(
    `watch:  ${fmtInt(num(w, "watchers"))} watchers (WatchStream, gRPC, ${num(w, "connections")} connections) in one process, server (build()) in another; ${fmtInt(num(w, "setsWritten"))} Sets, 8 in flight`,
  );
  out(
    `        ${fmtInt(num(w, "delivered"))}/${fmtInt(num(w, "expectedDeliveries"))} events delivered, ${fmtInt(num(w, "eventsPerSecond"))} events/s; delay p50 ${fmtMs(d["p50"])} ms, p99 ${fmtMs(d["p99"])} ms; writer ${fmtInt(num(w, "writerSetsPerSecond"))} Sets/s; CPU server ${num(w, "serverCpuS")?.toFixed(1)} s, watchers+writer ${num(w, "clientCpuS")?.toFixed(1)} s over ${num(w, "elapsedS")?.toFixed(1)} s`,
  );
  const endings = (w["endings"] ?? {}) as Record<string, number>;
  if (Object.keys(endings).length > 0) flag("watch", `streams ended early: ${JSON.stringify(endings)}`);
  if (num(w, "delivered") !== num(w, "expectedDeliveries")) flag("watch", `delivered ${num(w, "delivered")} of ${num(w, "expectedDeliveries")} events`);
}
out();
for (const line of hostileSummary.lines) out(line);
out();
for (const line of cliStartupSummary.lines) out(line);
out();

// Targets.
const headline = (op: Op) => grpcReport.find((r) => r["op"] === op && r["clients"] === headlineLevel.clients && r["streams"] === headlineLevel.streams) as
  | { ratios: { keyquarryOverEtcd: number | null; keyquarryOverCeiling: number | null } }
  | undefined;
const jsonHeadline = jsonReport.find((r) => r["connections"] === settings.jsonConnections[0]) as { ratios: { keyquarryOverCeiling: number | null } } | undefined;
const memoryOverhead = num(memory.data, "overheadPerKeyRss");
const memoryOverheadLive = num(memory.data, "overheadPerKeyLive");
const expiryLat = (expiry.data?.["latenessMs"] ?? {}) as Record<string, number>;
const targetRows: Array<{ check: string; value: string; target: string; pass: boolean | null; measured: number | null; note?: string }> = [];
const check = (checkName: string, value: number | null | undefined, target: string, pass: (v: number) => boolean, show: (v: number) => string, na?: string) =>
  targetRows.push({
    check: checkName,
    measured: value ?? null,
    value: value === null || value === undefined ? "–" : show(value),
    target,
    pass: value === null || value === undefined || na !== undefined ? null : pass(value),
    ...(na === undefined ? {} : { note: na }),
  });
const lv = `-c${headlineLevel.clients} -m${headlineLevel.streams}`;
check(`gRPC Get ÷ etcd Range (${lv})`, headline("get")?.ratios.keyquarryOverEtcd, "≥ 1.0x", (v) => v >= 1, fmtRatio);
check(`gRPC Set ÷ etcd Put (${lv})`, headline("set")?.ratios.keyquarryOverEtcd, "≥ 1.0x", (v) => v >= 1, fmtRatio);
check(
  `gRPC Set* (new values) ÷ etcd Put`,
  setNewVsEtcd,
  "≥ 1.0x (extra)",
  (v) => v >= 1,
  (v) => `${setNewEtcdBound && !setNewKqBound ? "≤ " : ""}${fmtRatio(v)}`,
  setNewKqBound || (setNewEtcdBound && (setNewVsEtcd ?? 0) >= 1) ? "generator-bound" : undefined,
);
check(`gRPC Get ÷ http2 ceiling (${lv})`, headline("get")?.ratios.keyquarryOverCeiling, "≥ 0.5x", (v) => v >= 0.5, fmtRatio);
check(`gRPC Set ÷ http2 ceiling (${lv})`, headline("set")?.ratios.keyquarryOverCeiling, "≥ 0.5x", (v) => v >= 0.5, fmtRatio);
check(`JSON Get ÷ node:http ceiling (-c${settings.jsonConnections[0]})`, jsonHeadline?.ratios.keyquarryOverCeiling, "≥ 0.5x", (v) => v >= 0.5, fmtRatio);
check(`overhead per key at ${fmtInt(settings.memoryKeys)} keys (RSS)`, memoryOverhead, "≤ 250 B", (v) => v <= 250, (v) => `${fmtInt(v)} B`);
check(`overhead per key (heapUsed+external)`, memoryOverheadLive, "≤ 250 B", (v) => v <= 250, (v) => `${fmtInt(v)} B`);
// Bounded memory under overload: the peak RSS stops growing after the first run (which includes warm-up).
const overloadGrowth =
  overloadRuns.length >= 3 && overloadRuns[1]?.rssPeakMiB !== undefined && overloadRuns.at(-1)?.rssPeakMiB !== undefined
    ? overloadRuns.at(-1)!.rssPeakMiB! / overloadRuns[1].rssPeakMiB - 1
    : undefined;
check(`overload: peak RSS growth, run 2 -> run ${overloadRuns.length}`, overloadGrowth, "< 10%", (v) => v < 0.1, (v) => `${(v * 100).toFixed(1)}%`);
check(`expiry of ${fmtInt(settings.expiryKeys)} keys: CPU`, num(expiry.data, "cpuTotalS"), "< 2 s", (v) => v < 2, (v) => `${v.toFixed(2)} s`);
check(`expiry lateness p99`, expiryLat["p99"], "< 100 ms", (v) => v < 100, (v) => `${fmtMs(v)} ms`);
for (const t of hostileSummary.targets) targetRows.push({ check: t.check, measured: t.measured, value: t.measured === null ? "–" : String(Math.round(t.measured)), target: t.target, pass: t.pass });
for (const t of cliStartupSummary.targets) targetRows.push({ ...t, value: t.measured === null ? "–" : fmtRatio(t.measured) });
out("Targets");
out(`${pad("check", 46)}${pad("measured", 12)}${pad("target", 16)}result`);
for (const t of targetRows) out(`${pad(t.check, 46)}${pad(t.value, 12)}${pad(t.target, 16)}${t.pass === null ? `n/a${t.note ? ` (${t.note})` : ""}` : t.pass ? "PASS" : "FAIL"}`);
if (quick) out("(quick run: fewer keys and 1 round; the memory and expiry targets are defined at 1,000,000 keys)");
out();
if (skipped.length > 0) {
  out("Skipped");
  for (const s of skipped) out(`- skipped: ${s}: install with ${installHint}`);
  out();
}
if (flags.length > 0) {
  out("Flags");
  for (const f of flags) out(`- ${f.where}: ${f.what}`);
  out();
}
process.stdout.write(`\n${lines.join("\n")}\n`);

const report = {
  schema: 1,
  date: startedAt.toISOString(),
  mode: quick ? "quick" : "full",
  rounds: settings.rounds,
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  machine: {
    cpu: cpuModel,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavgStart: loadavgStart.map((x) => round(x, 2)),
    loadavgEnd: loadavgEnd.map((x) => round(x, 2)),
    tmpdir: os.tmpdir(),
  },
  node: targetNodeVersion,
  tools: versions,
  git,
  settings: { ...settings, headlineLevel, h2loadThreads: 1, wrkThreads: 1 },
  grpc: grpcReport,
  grpcSetNewValue: {
    generator: "bench/h2-set-load.ts (node:http2)",
    clients: settings.setNewValue.clients,
    streams: settings.setNewValue.streams,
    seconds: settings.setNewValue.seconds,
    ratios: { keyquarryOverEtcd: round(setNewVsEtcd, 3), keyquarryOverCeiling: round(setNewVsCeiling, 3) },
    generatorBound: { keyquarry: setNewKqBound, etcd: setNewEtcdBound },
    targets: Object.fromEntries(
      grpcTargetNames.map((name) => [
        name,
        {
          rps: round(setNew[name].rps, 0),
          p50Ms: round(setNew[name].p50Ms, 3),
          p99Ms: round(setNew[name].p99Ms, 3),
          rounds: setNewValueResults[name].map((x) =>
            x.error !== undefined ? { error: x.error } : { rps: round(x.rps, 0), p50Ms: round(x.p50Ms, 3), p99Ms: round(x.p99Ms, 3), ok: x.ok, errors: x.errors },
          ),
        },
      ]),
    ),
  },
  connectJson: jsonReport,
  overload: { ...settings.overload, inFlight: settings.overload.clients * settings.overload.streams, runs: overloadRuns.map((x) => ({ ...x, rps: round(x.rps, 0) })), peakRssGrowth: round(overloadGrowth, 4) },
  redis: redisReport,
  memory: memory.data ?? { error: memory.error },
  expiry: expiry.data ?? { error: expiry.error },
  hostile,
  cliStartup,
  watch: watch.data ? { mode: "watchers + writer in one process (connect-node gRPC), server via build() in a second process", ...watch.data } : { error: watch.error },
  targets: targetRows,
  skipped,
  flags,
};
const roundDeep = (value: unknown): unknown => {
  if (typeof value === "number") return Number.isInteger(value) ? value : Math.round(value * 1000) / 1000;
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
};
mkdirSync(path.join(benchDir, "results"), { recursive: true });
// One file per Node major, so runs on Node 20 and Node 24 can be compared side by side.
const nodeMajor = targetNodeVersion.replace(/^v/, "").split(".")[0];
const outFile = path.join(benchDir, "results", `${quick ? "quick" : "latest"}-node${nodeMajor}.json`);
writeFileSync(outFile, `${JSON.stringify(roundDeep(report), null, 2)}\n`);
log(`wrote ${path.relative(rootDir, outFile)} (${report.durationS} s)`);
process.exit(0);
