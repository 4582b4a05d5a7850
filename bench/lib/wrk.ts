// Runs wrk (HTTP/1.1, keep-alive, no pipelining) with a Lua script for the
// Connect JSON POST, and parses its --latency report.
import { writeFileSync } from "node:fs";
import { run } from "./procs.js";

export interface WrkResult {
  ok: boolean;
  error?: string;
  rps?: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  meanMs?: number;
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return Number(m[1]) * (unitMs[m[2]] ?? NaN);
}

/** Writes the Lua script that turns every wrk request into the Connect JSON Get. */
export function writeWrkScript(file: string, body: string): void {
  writeFileSync(
    file,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(body)}`,
      'wrk.headers["Content-Type"] = "application/json"',
      'wrk.headers["client_id"] = "bench"',
      "",
    ].join("\n"),
  );
}

export function parseWrk(out: string): Omit<WrkResult, "ok"> {
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out)?.[1]);
  const requests = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const mean = /Latency\s+(\S+)/.exec(out);
  return {
    rps: rps ? Number(rps[1]) : undefined,
    requests: requests ? Number(requests[1]) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((sum, v) => sum + Number(v), 0) : 0,
    p50Ms: pct("50"),
    p90Ms: pct("90"),
    p99Ms: pct("99"),
    meanMs: toMs(mean?.[1]),
  };
}

/** A short discarded warm-up, then the measured run. */
export async function runWrk(url: string, script: string, connections: number, seconds: number, warmupSeconds: number): Promise<WrkResult> {
  const common = ["-t", "1", "-c", String(connections), "-s", script];
  if (warmupSeconds > 0) {
    await run("wrk", [...common, "-d", `${warmupSeconds}s`, url], (warmupSeconds + 20) * 1000);
  }
  const result = await run("wrk", [...common, "-d", `${seconds}s`, "--latency", url], (seconds + 30) * 1000);
  const parsed = parseWrk(result.stdout);
  const ok = result.code === 0 && !result.timedOut && parsed.rps !== undefined;
  return ok ? { ok, ...parsed } : { ok, error: `wrk exit ${result.code}: ${(result.stderr || result.stdout).trim().split("\n").slice(-2).join(" | ")}`, ...parsed };
}
