// The bench's "journal" stage (issue 13): gRPC Set with a new value on
// every request against keyquarry with snapshots on (SQLite, the default
// database) and its journal in each mode — `sync` (the default: a Set is
// answered once its entry is committed with synchronous=FULL), `batched`,
// `off` — and against etcd Put (answered once its WAL is fsynced), in one
// run, alternating the targets round by round, all driven by the same
// node:http2 generator (bench/h2-set-load.ts) at the same concurrency, with
// the raw node:http2 ceiling as the generator's limit; plus the journal
// sync on PostgreSQL when the machine has it (journal-postgres.ts). Then the replay
// speed: a journal of N entries left behind by kill -9, and how long the
// restart takes to replay it (the server's "snapshot restored" log line).
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort } from "../../server/test/kit/free-port.js";
import { spawnEtcd } from "./etcd-process.js";
import { startBenchPostgres } from "./journal-postgres.js";
import { grpcCall } from "./grpc-call.js";
import { spawnKeyquarry } from "./keyquarry-process.js";
import { keepStderr, run, spawnTracked, startedListening, stopChild, which } from "./procs.js";
import { grpcFrame, lenField } from "./proto.js";
import { median, ratio } from "./stats.js";

/** Sizes of the stage. */
export interface JournalSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  streams: number;
  /** Keys the Sets of the throughput rows go to, in turn. */
  keys: number;
  /** Journal entries written before the kill -9 of the replay measurement. */
  replayEntries: number;
  /** Keys those entries go to, in turn. */
  replayKeys: number;
}

/** Full and quick sizes. */
export const journalSettings = (quick: boolean): JournalSettings =>
  quick
    ? { rounds: 1, seconds: 2, warmupSeconds: 0.5, connections: 8, streams: 16, keys: 1000, replayEntries: 20_000, replayKeys: 10_000 }
    : { rounds: 3, seconds: 5, warmupSeconds: 1, connections: 8, streams: 16, keys: 1000, replayEntries: 200_000, replayKeys: 100_000 };

type TargetName = "kq-sync" | "etcd" | "kq-batched" | "kq-off" | "kq-sync-postgres" | "h2-ceiling";

/** One server the Sets go to. */
interface Target {
  name: TargetName;
  label: string;
  port: number;
  path: string;
  child: ChildProcess;
  /** keyquarry's snapshot database and server name, to read its journal's length. */
  journal?: { database: string; name: string };
}

/** One run of h2-set-load.ts. */
export interface SetLoadRound {
  ok?: number;
  errors?: number;
  statuses?: Record<string, number>;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  generatorCpuPct?: number;
  error?: string;
}

/** A target's rounds and their medians. */
export interface TargetResult {
  label: string;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  rounds: SetLoadRound[];
  error?: string;
}

/** The replay measurement. */
export interface ReplayResult {
  /** How the journal was written (the entries are the same in every mode). */
  writtenWith: string;
  keys: number;
  /** Entries in the journal after the kill -9 (from `keyquarry snapshot list`). */
  journalEntries?: number;
  /** From the "snapshot restored" log line of the restart. */
  journalEntriesReplayed?: number;
  restoreMs?: number;
  entriesPerSecond?: number;
  /** Start of the process to its "keyquarry listening" line. */
  startToListeningMs?: number;
  /** The same state restored from the snapshot written at the graceful stop that followed. */
  fromSnapshot?: { snapshotId?: string; keys?: number; restoreMs?: number; journalEntriesReplayed?: number };
  error?: string;
}

/** What the stage measured. */
export interface JournalResult {
  settings: JournalSettings;
  generator: string;
  targets: Partial<Record<TargetName, TargetResult>>;
  /** keyquarry (each mode) req/s ÷ etcd Put req/s, and ÷ the generator's ceiling (of the medians). */
  ratios: Record<string, number | undefined>;
  /** journal sync ÷ etcd within each round (the machine's load changes between rounds). */
  syncOverEtcdByRound: Array<number | undefined>;
  /** Journal entries each keyquarry held after its rounds, next to the Sets it acknowledged. */
  journalCheck: Record<string, { acknowledged: number; journalEntries?: number }>;
  replay: ReplayResult;
  /** Why there is no PostgreSQL row. */
  postgresSkipped?: string;
  error?: string;
}

const keyquarrySet = "/keyquarry.KeyQuarry/Set";
const etcdPut = "/etcdserverpb.KV/Put";

/** keyquarry with snapshots on and `env` (KEYQUARRY_NAME = `name`, the data dir `dataDir`). */
function spawnJournaled(node: string, rootDir: string, port: number, dataDir: string, name: string, env: Record<string, string> = {}): ChildProcess {
  return keepStderr(spawnKeyquarry(node, rootDir, port, dataDir, { env: { KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_NAME: name, ...env } }));
}

/** Runs bench/h2-set-load.ts once with `node`; its JSON line, or the error. */
async function setLoad(node: string, rootDir: string, settings: Record<string, unknown>, timeoutMs: number): Promise<SetLoadRound> {
  const result = await run(node, ["--import", "tsx", path.join(rootDir, "bench/h2-set-load.ts"), JSON.stringify(settings)], timeoutMs, { cwd: rootDir });
  try {
    const data = JSON.parse(result.stdout.trim().split("\n").pop() ?? "") as SetLoadRound;
    return result.code === 0 ? data : { ...data, error: `exit ${result.code}` };
  } catch {
    return { error: `h2-set-load exit ${result.code}${result.timedOut ? " (timed out)" : ""}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  }
}

/** The default snapshot database of a keyquarry started by {@link spawnKeyquarry} with `dataDir`. */
const defaultDatabase = (dataDir: string) => `sqlite://${path.join(dataDir, "keyquarry", "keyquarry.db")}`;

/** The journal's entries of `name` in `database`, read by `keyquarry snapshot list`. */
async function journalEntries(node: string, rootDir: string, database: string, name: string): Promise<number | undefined> {
  const result = await run(node, [path.join(rootDir, "server/bin/keyquarry.js"), "snapshot", "list", "--database", database, "--name", name], 20_000, { cwd: rootDir });
  if (result.code !== 0) return undefined;
  for (const line of result.stdout.split("\n").filter((l) => l !== "")) {
    const parsed = JSON.parse(line) as { journal?: { entries: number } };
    if (parsed.journal !== undefined) return parsed.journal.entries;
  }
  return 0;
}

/**
 * What `child` writes to stdout until its "keyquarry listening" line, or
 * undefined if it exits first or `timeoutMs` passes.
 */
function outputUntilListening(child: ChildProcess, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = "";
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (/NOTICE: keyquarry listening \{.*\}\n/.test(out)) done(out);
    };
    const onExit = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/** The figures of the start-up's restore line ("snapshot restored" / "no snapshot to restore") in `output`. */
function restoreLine(output: string | undefined): Record<string, unknown> | undefined {
  const found = output === undefined ? null : /NOTICE: (?:snapshot restored|no snapshot to restore) (\{.*\})\n/.exec(output);
  return found?.[1] === undefined ? undefined : (JSON.parse(found[1]) as Record<string, unknown>);
}

/** SIGKILL, and waits for the exit. */
async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Builds a journal of about `replayEntries` entries, kills the server with -9, and times the restart's replay. */
async function measureReplay(node: string, rootDir: string, tmp: string, s: JournalSettings, log: (line: string) => void): Promise<ReplayResult> {
  const dataDir = path.join(tmp, "journal-replay");
  const name = "bench-replay";
  // Batched only to write the journal faster: its entries are the same as in sync mode.
  const env = { KEYQUARRY_SNAPSHOT_JOURNAL: "batched" };
  const result: ReplayResult = { writtenWith: "journal batched (kill -9 after every Set was committed)", keys: s.replayKeys };
  const port = await freePort();
  let server = spawnJournaled(node, rootDir, port, dataDir, name, env);
  try {
    await startedListening(server, port, "keyquarry");
    log(`journal: writing ${s.replayEntries.toLocaleString("en-US")} Sets for the replay ...`);
    const load = await setLoad(node, rootDir, { port, path: keyquarrySet, key: "replay", connections: s.connections, streams: s.streams, seconds: 900, warmupSeconds: 0, keys: s.replayKeys, requests: s.replayEntries }, 1_000_000);
    if (load.error !== undefined || (load.errors ?? 0) > 0 || load.ok !== s.replayEntries) {
      throw new Error(`writing the journal: ${load.error ?? `${load.ok} ok, ${load.errors} errors ${JSON.stringify(load.statuses)}`}`);
    }
    // Batched: wait (bounded) until the last Sets are committed, so the kill loses none.
    const deadline = Date.now() + 30_000;
    let entries = await journalEntries(node, rootDir, defaultDatabase(dataDir), name);
    while ((entries ?? 0) < s.replayEntries && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      entries = await journalEntries(node, rootDir, defaultDatabase(dataDir), name);
    }
    await killNow(server);
    result.journalEntries = await journalEntries(node, rootDir, defaultDatabase(dataDir), name);
    if ((result.journalEntries ?? 0) < s.replayEntries) throw new Error(`the journal holds ${result.journalEntries} entries, fewer than the ${s.replayEntries} Sets acknowledged`);

    log(`journal: restarting over ${result.journalEntries?.toLocaleString("en-US")} journal entries ...`);
    const started = process.hrtime.bigint();
    server = spawnJournaled(node, rootDir, port, dataDir, name, { ...env, KEYQUARRY_LOG_LEVEL: "NOTICE" });
    const output = await outputUntilListening(server, 300_000);
    const restored = restoreLine(output);
    if (restored === undefined) throw new Error(`the restart logged no restore line before listening: ${output ?? "(exited or timed out)"}`);
    if (Number(restored["journalEntriesReplayed"]) !== result.journalEntries) throw new Error(`the restart replayed ${String(restored["journalEntriesReplayed"])} of ${result.journalEntries} journal entries`);
    result.startToListeningMs = Number(process.hrtime.bigint() - started) / 1e6;
    result.journalEntriesReplayed = Number(restored["journalEntriesReplayed"]);
    result.restoreMs = Number(restored["ms"]);
    result.entriesPerSecond = result.restoreMs > 0 ? result.journalEntriesReplayed / (result.restoreMs / 1000) : undefined;
    // A graceful stop writes a snapshot of the same state; restoring it is the reference.
    await stopChild(server, 120_000);
    server = spawnJournaled(node, rootDir, port, dataDir, name, { ...env, KEYQUARRY_LOG_LEVEL: "NOTICE" });
    const fromSnapshot = restoreLine(await outputUntilListening(server, 300_000));
    if (typeof fromSnapshot?.["snapshotId"] !== "string") throw new Error(`the restart after the graceful stop restored no snapshot: ${JSON.stringify(fromSnapshot)}`);
    result.fromSnapshot = { snapshotId: fromSnapshot["snapshotId"], keys: Number(fromSnapshot["keys"]), restoreMs: Number(fromSnapshot["ms"]), journalEntriesReplayed: Number(fromSnapshot["journalEntriesReplayed"]) };
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`  journal replay: failed: ${result.error}`);
  } finally {
    await stopChild(server, 120_000);
  }
  return result;
}

/** Runs the stage: starts keyquarry (each mode; PostgreSQL if there), etcd and the ceiling, stops them before returning. */
export async function runJournal(node: string, rootDir: string, tmp: string, s: JournalSettings, log: (line: string) => void): Promise<JournalResult> {
  const result: JournalResult = {
    settings: s,
    generator: "bench/h2-set-load.ts (node:http2; KeyValue / PutRequest {key=1, value=2}, 100-byte values, a new value on every request)",
    targets: {},
    ratios: {},
    syncOverEtcdByRound: [],
    journalCheck: {},
    replay: { writtenWith: "", keys: 0 },
  };
  const targets: Target[] = [];
  let postgresServer: ChildProcess | undefined;
  const benchDir = path.join(rootDir, "bench");
  try {
    for (const mode of ["sync", "batched", "off"] as const) {
      const port = await freePort();
      const dataDir = path.join(tmp, `journal-${mode}`);
      // sync is the default: the variable is not set for it.
      const child = spawnJournaled(node, rootDir, port, dataDir, `bench-${mode}`, mode === "sync" ? {} : { KEYQUARRY_SNAPSHOT_JOURNAL: mode });
      targets.push({ name: `kq-${mode}`, label: `keyquarry journal ${mode}${mode === "sync" ? " (default)" : ""}`, port, path: keyquarrySet, child, journal: { database: defaultDatabase(dataDir), name: `bench-${mode}` } });
    }
    const postgres = await startBenchPostgres();
    if ("url" in postgres) {
      postgresServer = postgres.child;
      const port = await freePort();
      const child = spawnJournaled(node, rootDir, port, path.join(tmp, "journal-postgres-kq"), "bench-postgres", { KEYQUARRY_SNAPSHOT_DATABASE: postgres.url });
      targets.push({ name: "kq-sync-postgres", label: "keyquarry journal sync, PostgreSQL", port, path: keyquarrySet, child, journal: { database: postgres.url, name: "bench-postgres" } });
    } else {
      result.postgresSkipped = postgres.skipped;
      log(`journal: no PostgreSQL row: ${postgres.skipped}`);
    }
    if (await which("etcd")) {
      const port = await freePort();
      targets.splice(1, 0, { name: "etcd", label: "etcd Put (WAL fsync)", port, path: etcdPut, child: keepStderr(spawnEtcd(path.join(tmp, "journal-etcd"), port, await freePort())) });
    } else {
      log("journal: etcd not found (apt-get install -y etcd-server): no etcd row");
    }
    const ceilingPort = await freePort();
    targets.push({ name: "h2-ceiling", label: "node:http2 ceiling (no work)", port: ceilingPort, path: keyquarrySet, child: keepStderr(spawnTracked(node, ["--import", "tsx", path.join(benchDir, "ceiling-http2.ts"), String(ceilingPort)], { cwd: rootDir })) });

    for (const target of targets) {
      await startedListening(target.child, target.port, target.label);
      const check = await grpcCall(target.port, target.path, grpcFrame(Buffer.concat([lenField(1, "verify"), lenField(2, "v")])), 15_000);
      if (check.grpcStatus !== "0") throw new Error(`${target.label}: a Set answered grpc-status ${check.grpcStatus} ${check.grpcMessage ?? ""}`);
      result.targets[target.name] = { label: target.label, rounds: [] };
    }

    log(`journal: ${s.rounds} round(s) of ${s.seconds} s per target, -c${s.connections} -m${s.streams}, ${s.keys} keys ...`);
    for (let r = 0; r < s.rounds; r++) {
      const order = [...targets.slice(r % targets.length), ...targets.slice(0, r % targets.length)];
      for (const target of order) {
        const round = await setLoad(
          node,
          rootDir,
          { port: target.port, path: target.path, key: `set-${r}`, connections: s.connections, streams: s.streams, seconds: s.seconds, warmupSeconds: s.warmupSeconds, keys: s.keys },
          (s.seconds + s.warmupSeconds) * 4000 + 30_000,
        );
        result.targets[target.name]!.rounds.push(round);
        const ms = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
        log(`  ${target.label.padEnd(34)} ${String(Math.round(round.rps ?? 0)).padStart(7)} req/s  p50 ${ms(round.p50Ms)} ms  p99 ${ms(round.p99Ms)} ms${round.errors ? `  ${round.errors} errors ${JSON.stringify(round.statuses)}` : ""}${round.error ? `  ${round.error}` : ""}`);
      }
    }
    for (const t of Object.values(result.targets)) {
      const clean = t.rounds.filter((x) => x.error === undefined && (x.errors ?? 0) === 0);
      if (clean.length < t.rounds.length) t.error = `${t.rounds.length - clean.length} round(s) had errors`;
      t.rps = median(clean.map((x) => x.rps));
      t.p50Ms = median(clean.map((x) => x.p50Ms));
      t.p99Ms = median(clean.map((x) => x.p99Ms));
    }
    const rps = (name: TargetName) => result.targets[name]?.rps;
    for (const mode of ["sync", "batched", "off"]) {
      result.ratios[`${mode}OverEtcd`] = ratio(rps(`kq-${mode}` as TargetName), rps("etcd"));
      result.ratios[`${mode}OverCeiling`] = ratio(rps(`kq-${mode}` as TargetName), rps("h2-ceiling"));
    }
    result.ratios["etcdOverCeiling"] = ratio(rps("etcd"), rps("h2-ceiling"));
    const roundRps = (name: TargetName, r: number) => {
      const round = result.targets[name]?.rounds[r];
      return round?.error === undefined && (round?.errors ?? 0) === 0 ? round?.rps : undefined;
    };
    result.syncOverEtcdByRound = Array.from({ length: s.rounds }, (_, r) => ratio(roundRps("kq-sync", r), roundRps("etcd", r)));

    // The journal really holds what was acknowledged (sync), and nothing when off.
    for (const target of targets) {
      if (target.journal === undefined) continue;
      const acknowledged = result.targets[target.name]!.rounds.reduce((sum, x) => sum + (x.ok ?? 0), 0);
      result.journalCheck[target.name] = { acknowledged, journalEntries: await journalEntries(node, rootDir, target.journal.database, target.journal.name) };
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`  journal: failed: ${result.error}`);
  } finally {
    await Promise.all(targets.map((t) => stopChild(t.child, 60_000)));
    // After keyquarry: PostgreSQL's SIGTERM waits for its clients to disconnect.
    if (postgresServer !== undefined) await stopChild(postgresServer, 30_000);
  }
  result.replay = await measureReplay(node, rootDir, tmp, s, log);
  return result;
}

/** The stage's report lines and its target (journal sync Set ÷ etcd Put ≥ 1.0x). */
export function journalReport(r: JournalResult): { lines: string[]; targets: Array<{ check: string; measured: number | null; target: string; pass: boolean | null }> } {
  const s = r.settings;
  const fmt = (v: number | undefined, digits = 2) => (v === undefined ? "–" : v.toFixed(digits));
  const int = (v: number | undefined) => (v === undefined ? "–" : Math.round(v).toLocaleString("en-US"));
  const lines = [
    `Journal — gRPC Set, a new value on every request, ${s.keys} keys, -c${s.connections} -m${s.streams}, ${s.rounds} round(s) of ${s.seconds} s per target (medians)`,
    `  generator: ${r.generator}`,
    "  keyquarry: snapshots on (SQLite in its data dir, WAL, synchronous=FULL), every other option at its default; etcd: one member, WAL fsynced",
    `${"target".padEnd(36)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"÷ etcd".padStart(9)}${"÷ ceiling".padStart(11)}`,
  ];
  const etcd = r.targets.etcd?.rps;
  const ceiling = r.targets["h2-ceiling"]?.rps;
  for (const t of Object.values(r.targets)) {
    const x = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(2)}x`);
    lines.push(`${(t.label + (t.error ? " !" : "")).padEnd(36)}${int(t.rps).padStart(9)}${fmt(t.p50Ms).padStart(9)}${fmt(t.p99Ms).padStart(9)}${x(ratio(t.rps, etcd)).padStart(9)}${x(ratio(t.rps, ceiling)).padStart(11)}`);
  }
  if (r.syncOverEtcdByRound.length > 1) lines.push(`  journal sync ÷ etcd within each round: ${r.syncOverEtcdByRound.map((v) => (v === undefined ? "–" : `${v.toFixed(2)}x`)).join(", ")}`);
  for (const [name, check] of Object.entries(r.journalCheck)) {
    lines.push(`  ${name}: ${int(check.acknowledged)} Sets acknowledged in the measured runs; journal entries at the end: ${int(check.journalEntries)}`);
  }
  if ((r.ratios["etcdOverCeiling"] ?? 0) >= 0.8 || (r.ratios["syncOverCeiling"] ?? 0) >= 0.8) {
    lines.push(`  a target within 0.8x of the ceiling may be held back by the generator (2 cores shared by all processes)`);
  }
  if (r.postgresSkipped !== undefined) lines.push(`  no PostgreSQL row: ${r.postgresSkipped}`);
  if (r.error !== undefined) lines.push(`  error: ${r.error}`);
  const p = r.replay;
  lines.push(
    p.error !== undefined
      ? `Replay: failed: ${p.error}`
      : `Replay: ${int(p.journalEntriesReplayed)} journal entries (${int(p.keys)} keys; written with ${p.writtenWith}) replayed at start in ${int(p.restoreMs)} ms: ${int(p.entriesPerSecond)} entries/s; process start to listening ${int(p.startToListeningMs)} ms`,
  );
  if (p.fromSnapshot !== undefined) {
    lines.push(`  the same state from the snapshot written at the graceful stop (id ${p.fromSnapshot.snapshotId}): ${int(p.fromSnapshot.keys)} keys restored in ${int(p.fromSnapshot.restoreMs)} ms (journal entries replayed: ${int(p.fromSnapshot.journalEntriesReplayed)})`);
  }
  const syncOverEtcd = r.ratios["syncOverEtcd"];
  return {
    lines,
    targets: [{ check: `journal sync Set ÷ etcd Put (-c${s.connections} -m${s.streams})`, measured: syncOverEtcd ?? null, target: "≥ 1.0x", pass: syncOverEtcd === undefined ? null : syncOverEtcd >= 1 }],
  };
}
