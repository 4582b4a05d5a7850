// Runs h2load and parses its report. Each measurement is a short
// timing-based warm-up run (-D, also used to size N) followed by a
// count-based run (-n N) sized to last about the requested duration.
// Count-based runs are used for the numbers because h2load then counts the
// response DATA bytes of exactly the measured requests, which lets the bench
// count gRPC-level errors (trailers-only responses carry no DATA, and h2load
// itself counts any HTTP 200 as "succeeded"). The warm-up's last requests are
// cut off when its time is up (servers may count them as cancelled), so
// server-side counters are read between warm-up and measured run.
import { readFileSync, rmSync } from "node:fs";
import { run } from "./procs.js";
import { summarize } from "./stats.js";

export interface H2loadSettings {
  clients: number;
  streams: number;
  /** Seconds the measured run should last (sets N from the warm-up rate). */
  seconds: number;
  warmupSeconds: number;
}

/** A stage's load: `rounds` of one h2load run per row, each with these settings. */
export interface H2loadRounds extends H2loadSettings {
  rounds: number;
}

export interface H2loadResult {
  ok: boolean;
  error?: string;
  requests: number;
  rps?: number;
  elapsedS?: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  status2xx: number;
  dataBytes: number;
  meanMs?: number;
  minMs?: number;
  maxMs?: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  warmupRps?: number;
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

function toMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return Number(m[1]) * (unitMs[m[2]] ?? NaN);
}

export function parseH2load(out: string): Omit<H2loadResult, "ok" | "requests"> {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx/.exec(out);
  const data = /\((\d+)\) data/.exec(out);
  const time = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  return {
    rps: finished ? Number(finished[3]) : undefined,
    elapsedS: finished ? (toMs(`${finished[1]}${finished[2]}`) ?? 0) / 1000 : undefined,
    done: n(req?.[3]),
    succeeded: n(req?.[4]),
    failed: n(req?.[5]),
    errored: n(req?.[6]),
    timeout: n(req?.[7]),
    status2xx: n(status?.[1]),
    dataBytes: n(data?.[1]),
    minMs: toMs(time?.[1]),
    maxMs: toMs(time?.[2]),
    meanMs: toMs(time?.[3]),
  };
}

function baseArgs(settings: H2loadSettings, bodyFile: string): string[] {
  return [
    "-t", "1",
    "-c", String(settings.clients),
    "-m", String(settings.streams),
    "-d", bodyFile,
    "-H", "content-type: application/grpc",
    "-H", "te: trailers",
    "-H", "client_id: bench",
  ];
}

/** Warm-up (timing-based), then the measured count-based run with a per-request log for percentiles. */
export async function runH2load(
  url: string,
  bodyFile: string,
  settings: H2loadSettings,
  logFile: string,
  /** Called between the warm-up and the measured run (e.g. to snapshot server-side counters). */
  beforeMeasure?: () => Promise<void>,
): Promise<H2loadResult> {
  const empty = { done: 0, succeeded: 0, failed: 0, errored: 0, timeout: 0, status2xx: 0, dataBytes: 0 };
  const args = baseArgs(settings, bodyFile);
  const warm = await run("h2load", [...args, "-D", `${Math.max(1, Math.round(settings.warmupSeconds * 1000))}ms`, url], (settings.warmupSeconds + 20) * 1000);
  const warmParsed = parseH2load(warm.stdout);
  if (warm.code !== 0 || warmParsed.rps === undefined || warmParsed.done === 0) {
    return { ok: false, error: `warm-up failed (exit ${warm.code}${warm.timedOut ? ", timed out" : ""}): ${(warm.stderr || warm.stdout).trim().split("\n").slice(-3).join(" | ")}`, requests: 0, ...empty };
  }
  const connections = settings.clients;
  const requests = Math.max(connections * settings.streams, Math.round(warmParsed.rps * settings.seconds));
  rmSync(logFile, { force: true });
  await beforeMeasure?.();
  // Bounded: a run that takes more than 4x its planned time (plus slack) is killed and flagged.
  const measured = await run("h2load", [...args, "-n", String(requests), "--log-file", logFile, url], (settings.seconds * 4 + 20) * 1000);
  const parsed = parseH2load(measured.stdout);
  const result: H2loadResult = { ok: measured.code === 0 && !measured.timedOut, requests, warmupRps: warmParsed.rps, ...parsed };
  if (!result.ok) {
    result.error = `h2load exit ${measured.code}${measured.timedOut ? " (killed: too slow)" : ""}: ${(measured.stderr || measured.stdout).trim().split("\n").slice(-3).join(" | ")}`;
  }
  try {
    const lines = readFileSync(logFile, "utf8").split("\n");
    const durations = new Float64Array(lines.length);
    let count = 0;
    for (const line of lines) {
      const us = Number(line.split("\t")[2]);
      if (line !== "" && Number.isFinite(us)) durations[count++] = us / 1000;
    }
    const s = summarize(durations.subarray(0, count));
    result.p50Ms = s.p50;
    result.p90Ms = s.p90;
    result.p99Ms = s.p99;
  } catch {
    // No log: percentiles stay undefined.
  }
  rmSync(logFile, { force: true });
  return result;
}
