// The bench's "load" stage (issue 18): `keyquarry client load` of N k=v lines
// piped in (wall time from spawning the CLI to its exit, start-up included),
// next to h2load's gRPC Set rate against the same keyquarry in the same run
// (one connection with as many streams as load keeps in flight, so both
// drive the server alike). Rounds alternate h2load and load; each load round
// sets N new keys (`r<round>-key-<i>`, 100-byte values) and must exit 0 with
// N success lines. h2load sets one key with one value, which keyquarry
// answers a little faster than a new key (the value is unchanged): the
// ratio is, if anything, against load.
import { createReadStream, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import path from "node:path";
import { spawnKeyquarry } from "./keyquarry-process.js";
import { freePort } from "../../server/test/kit/free-port.js";
import { grpcCall } from "./grpc-call.js";
import { runH2load } from "./h2load.js";
import { stopChild, track, waitForPort, which } from "./procs.js";
import { benchValue, grpcFrame, lenField } from "./proto.js";
import { median, ratio, round } from "./stats.js";

/** Sizes of the stage. */
export interface CliLoadSettings {
  lines: number;
  rounds: number;
  /** `--concurrency` of load, and h2load's streams on its one connection. */
  window: number;
  h2loadSeconds: number;
}

/** Full and quick sizes. */
export const cliLoadSettings = (quick: boolean): CliLoadSettings =>
  quick ? { lines: 20_000, rounds: 1, window: 64, h2loadSeconds: 1 } : { lines: 100_000, rounds: 3, window: 64, h2loadSeconds: 3 };

/** One round's figures. */
interface CliLoadRound {
  h2loadSetRps?: number;
  loadSeconds?: number;
  loadRps?: number;
}

/** What the stage measured (medians over the rounds). */
export interface CliLoadResult {
  settings: CliLoadSettings;
  rounds: CliLoadRound[];
  h2loadSetRps?: number;
  loadSeconds?: number;
  loadRps?: number;
  /** load rate ÷ h2load Set rate. */
  ratio?: number;
  error?: string;
}

/** Runs the stage: starts keyquarry, stops it before returning. */
export async function runCliLoad(node: string, rootDir: string, tmp: string, s: CliLoadSettings, log: (line: string) => void): Promise<CliLoadResult> {
  log(`load: ${s.rounds} round(s) of h2load Set (-c1 -m${s.window}) and keyquarry client load of ${s.lines} lines ...`);
  if ((await which("h2load")) === undefined) {
    return { settings: s, rounds: [], error: "h2load not installed (apt-get install -y nghttp2-client)" };
  }
  const port = await freePort();
  const server = spawnKeyquarry(node, rootDir, port, path.join(tmp, "cli-load-data"));
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KEYQUARRY_")));
  const bodyFile = path.join(tmp, "cli-load-set.bin");
  const setMessage = grpcFrame(Buffer.concat([lenField(1, "bench-set"), lenField(2, benchValue)]));
  writeFileSync(bodyFile, setMessage);
  const rounds: CliLoadRound[] = [];
  try {
    if (!(await waitForPort(port, 20_000, server))) throw new Error("keyquarry did not start");
    const check = await grpcCall(port, "/keyquarry.KeyQuarry/Set", setMessage);
    if (check.grpcStatus !== "0") throw new Error(`Set check failed: grpc-status ${check.grpcStatus} ${check.grpcMessage ?? ""}`);
    for (let r = 0; r < s.rounds; r++) {
      const h2 = await runH2load(
        `http://127.0.0.1:${port}/keyquarry.KeyQuarry/Set`,
        bodyFile,
        { clients: 1, streams: s.window, seconds: s.h2loadSeconds, warmupSeconds: 1 },
        path.join(tmp, "cli-load-h2load.log"),
      );
      if (!h2.ok || h2.succeeded !== h2.requests) throw new Error(`h2load: ${h2.error ?? `${h2.requests - h2.succeeded} requests failed`}`);
      const linesFile = path.join(tmp, `cli-load-${r}.txt`);
      const value = benchValue.toString("latin1");
      writeFileSync(linesFile, Array.from({ length: s.lines }, (_, i) => `r${r}-key-${i}=${value}\n`).join(""));
      const load = await timeLoad(node, path.join(rootDir, "server/bin/keyquarry.js"), `127.0.0.1:${port}`, linesFile, s, env);
      rounds.push({ h2loadSetRps: round(h2.rps, 0) ?? undefined, loadSeconds: round(load.seconds, 3) ?? undefined, loadRps: round(s.lines / load.seconds, 0) ?? undefined });
      log(`  round ${r + 1}: h2load Set ${Math.round(h2.rps ?? 0)}/s, load ${load.seconds.toFixed(2)} s = ${Math.round(s.lines / load.seconds)}/s`);
    }
    const h2loadSetRps = median(rounds.map((x) => x.h2loadSetRps));
    const loadRps = median(rounds.map((x) => x.loadRps));
    return { settings: s, rounds, h2loadSetRps, loadSeconds: median(rounds.map((x) => x.loadSeconds)), loadRps, ratio: round(ratio(loadRps, h2loadSetRps), 3) ?? undefined };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`  load: failed: ${message}`);
    return { settings: s, rounds, error: message };
  } finally {
    await stopChild(server);
  }
}

/** Wall time of one `keyquarry client load < file`; fails unless it exits 0 with one success line per input line. */
async function timeLoad(node: string, bin: string, address: string, linesFile: string, s: CliLoadSettings, env: NodeJS.ProcessEnv): Promise<{ seconds: number }> {
  const started = process.hrtime.bigint();
  const child = track(spawn(node, [bin, "client", "--address", address, "load", "--concurrency", String(s.window)], { env, stdio: ["pipe", "pipe", "pipe"] }));
  // A load that stops early (exit status checked below) closes its stdin under the pipe.
  child.stdin!.on("error", () => undefined);
  createReadStream(linesFile).pipe(child.stdin!);
  let successes = 0;
  let stderr = "";
  let tail = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const text = tail + chunk;
    const lines = text.split("\n");
    tail = lines.pop() ?? "";
    for (const line of lines) if (line.endsWith('"success":true,"isNew":true}')) successes++;
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0 || successes !== s.lines) {
    throw new Error(`keyquarry client load exited ${code} with ${successes} of ${s.lines} success lines: ${stderr.trim().slice(-300)}`);
  }
  return { seconds };
}

/** One pass/fail check of the stage (null when not measured). */
export interface CliLoadTarget {
  check: string;
  measured: number | null;
  target: string;
  pass: boolean | null;
}

/** The stage's lines for the bench's table and its target. */
export function cliLoadReport(r: CliLoadResult): { lines: string[]; targets: CliLoadTarget[] } {
  const int = (x: number | undefined) => (x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));
  const lines = [
    `Bulk load — keyquarry client load of ${r.settings.lines.toLocaleString("en-US")} piped k=v lines (wall time, CLI start-up included) vs h2load gRPC Set (-c1 -m${r.settings.window}), median of ${r.settings.rounds} round(s)`,
    ...(r.error === undefined
      ? [
          `  h2load Set                     ${int(r.h2loadSetRps)} req/s`,
          `  keyquarry client load          ${int(r.loadRps)} items/s (${r.loadSeconds?.toFixed(2) ?? "–"} s)`,
          `  load ÷ h2load Set              ${r.ratio?.toFixed(2) ?? "–"}x`,
        ]
      : [`  failed: ${r.error}`]),
  ];
  const measured = r.ratio ?? null;
  return { lines, targets: [{ check: "CLI load ÷ h2load Set rate", measured, target: "≥ 0.5x", pass: measured === null ? null : measured >= 0.5 }] };
}
