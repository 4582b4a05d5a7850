// The bench's "snapshot-stall" stage (issue 13): does persistence stall reads?
// For each build (this checkout, and a baseline checkout given by
// `--baseline DIR`, e.g. the code before the SQLite worker) and each database
// (SQLite; PostgreSQL when its binaries are installed), one keyquarry
// (the real CLI, journal sync, snapshots every `intervalS`) is filled with
// `keys` keys of `valueBytes` bytes over gRPC, then a steady client doing
// Gets one at a time measures its latency:
//   idle       nothing else runs;
//   set load   `setStreams` clients Set existing keys back to back (each Set
//              waits for its journal commit): where the commit runs matters;
//   snapshot   during the next periodic snapshot, the window being read from
//              the server's "snapshot saved" log line (its end and duration).
// Latencies are reported as ratios to idle, the worst Get during a snapshot
// in ms (about the longest stop of the server's event loop).
import { create, toBinary } from "@bufbuild/protobuf";
import { KeySchema, KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { ChildProcess } from "node:child_process";
import http2 from "node:http2";
import path from "node:path";
import postgres from "postgres";
import { freePort } from "../../server/test/kit/free-port.js";
import { grpcHeaders } from "./grpc-call.js";
import { sleep, spawnTracked, stopChild, waitForPort } from "./procs.js";
import { grpcFrame } from "./proto.js";
import { ratio, round, summarize } from "./stats.js";

/** Sizes of the stage. */
export interface SnapshotStallSettings {
  keys: number;
  valueBytes: number;
  /** Concurrent Sets while filling and during the set-load phase. */
  setStreams: number;
  phaseSeconds: number;
  /** snapshot.interval, long enough for the idle and set-load phases to fit between two snapshots. */
  intervalS: number;
}

/** Full (200 MB of values) and quick sizes. */
export const snapshotStallSettings = (quick: boolean): SnapshotStallSettings =>
  quick
    ? { keys: 20_000, valueBytes: 1000, setStreams: 16, phaseSeconds: 2, intervalS: 10 }
    : { keys: 200_000, valueBytes: 1000, setStreams: 16, phaseSeconds: 4, intervalS: 25 };

/** One build to measure: a checkout whose server/bin/keyquarry.js is built. */
export interface StallBuild {
  label: string;
  rootDir: string;
}

interface Latencies {
  gets: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** What one build measured against one database. */
export interface StallRun {
  build: string;
  database: "sqlite" | "postgres";
  fillSeconds: number | null;
  idle: Latencies;
  setLoad: Latencies & { sets: number };
  snapshot: Latencies & { snapshotMs: number };
}

const getPath = "/keyquarry.KeyQuarry/Get";
const setPath = "/keyquarry.KeyQuarry/Set";
const probeKey = "stall-probe";

const latencies = (samples: readonly number[]): Latencies => {
  const s = summarize(Float64Array.from(samples));
  return { gets: samples.length, p50Ms: round(s.p50, 3), p99Ms: round(s.p99, 3), maxMs: round(s.max, 3) };
};

/** One unary call on `session`; resolves with its grpc-status. */
function unary(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...grpcHeaders });
    let status: string | undefined;
    stream.on("response", (h) => (status = h["grpc-status"] === undefined ? status : String(h["grpc-status"])));
    stream.on("trailers", (t) => (status = String(t["grpc-status"])));
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("close", () => resolve(status));
    stream.end(body);
  });
}

const setBody = (key: string, value: Uint8Array) => grpcFrame(toBinary(KeyValueSchema, create(KeyValueSchema, { key, value })));
const keyName = (i: number) => `stall-${String(i).padStart(7, "0")}`;

/** Sets keys [from, to) with `streams` Sets in flight on one connection; throws on the first failure. */
async function setKeys(session: http2.ClientHttp2Session, from: number, to: number, streams: number, valueBytes: number, pick: (n: number) => number): Promise<number> {
  let next = from;
  let done = 0;
  const value = new Uint8Array(valueBytes);
  const worker = async () => {
    while (next < to) {
      const i = pick(next++);
      value[0] = i & 0xff;
      const status = await unary(session, setPath, setBody(keyName(i), value));
      if (status !== "0") throw new Error(`Set ${keyName(i)} failed: grpc-status ${status}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: streams }, worker));
  return done;
}

/** A steady client: one Get at a time, each latency kept with its end time (performance.now()). */
function startProbe(port: number) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const body = grpcFrame(toBinary(KeySchema, create(KeySchema, { key: probeKey })));
  const samples: Array<{ end: number; ms: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      const status = await unary(session, getPath, body);
      if (status !== "0") throw new Error(`probe Get failed: grpc-status ${status}`);
      const end = performance.now();
      samples.push({ end, ms: end - start });
      // A steady client, not a load generator competing for the CPU.
      await sleep(2);
    }
  })();
  return {
    between: (from: number, to: number) => samples.filter((s) => s.end >= from && s.end <= to).map((s) => s.ms),
    async stop() {
      running = false;
      await loop;
      session.destroy();
    },
  };
}

/** keyquarry with snapshots and the journal on, JSON logs at INFO; `saved` gets each "snapshot saved" line. */
function spawnServer(node: string, rootDir: string, port: number, dataDir: string, database: string, intervalS: number, saved: (at: number, ms: number) => void): ChildProcess {
  const child = spawnTracked(node, [path.join(rootDir, "server/bin/keyquarry.js"), "serve", "--listen", `127.0.0.1:${port}`], {
    cwd: rootDir,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KEYQUARRY_"))),
      KEYQUARRY_LOG_LEVEL: "INFO",
      KEYQUARRY_LOG_JSON: "true",
      KEYQUARRY_SNAPSHOT_ENABLED: "true",
      KEYQUARRY_SNAPSHOT_DATABASE: database,
      KEYQUARRY_SNAPSHOT_INTERVAL: `${intervalS}s`,
      KEYQUARRY_SNAPSHOT_JOURNAL: "sync",
      XDG_DATA_HOME: dataDir,
    },
  });
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        const entry = JSON.parse(line) as { msg?: string; ms?: number };
        if (entry.msg === "snapshot saved" && typeof entry.ms === "number") saved(performance.now(), entry.ms);
      } catch {
        // Not a JSON line.
      }
    }
  });
  // Start-up errors go to stderr: shown, so a refused configuration is not a mystery.
  child.stderr?.pipe(process.stderr);
  return child;
}

/** One build against one database. */
async function runOne(node: string, build: StallBuild, database: StallRun["database"], connection: string, tmp: string, s: SnapshotStallSettings, log: (line: string) => void): Promise<StallRun> {
  const port = await freePort();
  const snapshots: Array<{ at: number; ms: number }> = [];
  let onSaved: (() => void) | undefined;
  const child = spawnServer(node, build.rootDir, port, path.join(tmp, `stall-${build.label}-${database}`), connection, s.intervalS, (at, ms) => {
    snapshots.push({ at, ms });
    onSaved?.();
  });
  const nextSnapshot = (timeoutS: number) =>
    new Promise<{ at: number; ms: number }>((resolve, reject) => {
      const count = snapshots.length;
      const timer = setTimeout(() => reject(new Error(`no snapshot saved within ${timeoutS} s`)), timeoutS * 1000);
      onSaved = () => {
        if (snapshots.length > count) {
          clearTimeout(timer);
          resolve(snapshots[snapshots.length - 1]!);
        }
      };
    });
  let session: http2.ClientHttp2Session | undefined;
  try {
    if (!(await waitForPort(port, 60_000, child))) throw new Error(`keyquarry (${build.label}) did not start listening within 60 s`);
    session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    if ((await unary(session, setPath, setBody(probeKey, new Uint8Array(100)))) !== "0") throw new Error("Set of the probe key failed");
    log(`snapshot-stall: ${build.label}/${database}: filling ${s.keys} keys of ${s.valueBytes} B`);
    const fillStart = performance.now();
    await setKeys(session, 0, s.keys, s.setStreams * 4, s.valueBytes, (i) => i);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    // Right after the snapshot of the filled store: the phases fit before the next one.
    const first = await nextSnapshot(s.intervalS * 2 + 600);
    log(`snapshot-stall: ${build.label}/${database}: filled in ${fillSeconds.toFixed(1)} s, first snapshot ${first.ms} ms`);
    const probe = startProbe(port);
    try {
      const idleFrom = performance.now();
      await sleep(s.phaseSeconds * 1000);
      const idle = latencies(probe.between(idleFrom, performance.now()));
      const loadFrom = performance.now();
      let sets = 0;
      const deadline = loadFrom + s.phaseSeconds * 1000;
      const random = (n: number) => Math.floor(Math.random() * n);
      while (performance.now() < deadline) {
        sets += await setKeys(session, 0, s.setStreams * 8, s.setStreams, s.valueBytes, () => random(s.keys));
      }
      const setLoad = { ...latencies(probe.between(loadFrom, performance.now())), sets };
      if (snapshots.length > 1 && snapshots[snapshots.length - 1]!.at > idleFrom) throw new Error("a snapshot ran during the idle or set-load phase: raise intervalS");
      const next = await nextSnapshot(s.intervalS * 2 + 600);
      const snapshot = { ...latencies(probe.between(next.at - next.ms, next.at)), snapshotMs: next.ms };
      log(`snapshot-stall: ${build.label}/${database}: idle p99 ${idle.p99Ms} ms, set load p99 ${setLoad.p99Ms} ms, snapshot (${next.ms} ms) p99 ${snapshot.p99Ms} max ${snapshot.maxMs} ms`);
      return { build: build.label, database, fillSeconds: round(fillSeconds, 1), idle, setLoad, snapshot };
    } finally {
      await probe.stop();
    }
  } finally {
    session?.destroy();
    await stopChild(child);
  }
}

/** Every build against SQLite, and against PostgreSQL (a throwaway cluster) when it can be started. */
export async function runSnapshotStall(node: string, builds: readonly StallBuild[], tmp: string, s: SnapshotStallSettings, log: (line: string) => void): Promise<{ settings: SnapshotStallSettings; runs: StallRun[]; postgres: string }> {
  const runs: StallRun[] = [];
  for (const build of builds) {
    runs.push(await runOne(node, build, "sqlite", `sqlite://${path.join(tmp, `stall-${build.label}.db`)}`, tmp, s, log));
  }
  let url: string | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    // The tests' cluster starter (a vitest globalSetup: given a stand-in for its project), imported by URL
    // so that the bench's type check does not pull in vitest's types; KEYQUARRY_TEST_POSTGRES_URL works too.
    const setupUrl = new URL("../../server/test/kit/postgres-global-setup.ts", import.meta.url).href;
    const { default: startPostgres } = (await import(setupUrl)) as { default: (project: unknown) => Promise<(() => Promise<void>) | undefined> };
    stop = await startPostgres({ provide: (_key: string, value: string) => (url = value) });
  } catch (error) {
    log(`snapshot-stall: PostgreSQL not measured: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    return { settings: s, runs, postgres: "not available" };
  }
  try {
    for (const build of builds) {
      // A database of its own per build: each starts from an empty journal and no snapshot.
      const name = `kq_stall_${build.label.replace(/\W/g, "_")}`;
      const admin = postgres(url!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`CREATE DATABASE ${name}`).finally(() => admin.end());
      const dbUrl = new URL(url!);
      dbUrl.pathname = `/${name}`;
      runs.push(await runOne(node, build, "postgres", dbUrl.toString(), tmp, s, log));
    }
  } finally {
    await stop?.();
  }
  return { settings: s, runs, postgres: "throwaway cluster, fsync=off" };
}

/** Lines of the report (latencies as ratios to the idle p50/p99 of the same run) and no targets. */
export function snapshotStallReport(result: { settings: SnapshotStallSettings; runs: StallRun[] }): {
  lines: string[];
  targets: Array<{ check: string; measured: number | null; target: string; pass: boolean | null }>;
} {
  const { keys, valueBytes } = result.settings;
  const lines = [`Get latency, one client, ${keys} keys of ${valueBytes} B: ratios to idle (p50 / p99), worst Get during a snapshot`];
  for (const r of result.runs) {
    const rel = (l: Latencies) => `${round(ratio(l.p50Ms ?? undefined, r.idle.p50Ms ?? undefined), 1)}x / ${round(ratio(l.p99Ms ?? undefined, r.idle.p99Ms ?? undefined), 1)}x`;
    lines.push(
      `  ${r.build.padEnd(10)} ${r.database.padEnd(9)} idle ${r.idle.p50Ms}/${r.idle.p99Ms} ms; set load ${rel(r.setLoad)} (${r.setLoad.sets} sets); ` +
        `snapshot ${r.snapshot.snapshotMs} ms: ${rel(r.snapshot)}, worst Get ${r.snapshot.maxMs} ms`,
    );
  }
  return { lines, targets: [] };
}
