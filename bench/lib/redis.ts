// Runs redis-benchmark (no pipelining) and parses its --csv report.
import { run } from "./procs.js";

export interface RedisRow {
  test: string;
  rps: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runRedisBenchmark(port: number, clients: number, requests: number): Promise<{ ok: boolean; error?: string; rows: RedisRow[] }> {
  const result = await run(
    "redis-benchmark",
    ["-h", "127.0.0.1", "-p", String(port), "-t", "set,get", "-d", "100", "-c", String(clients), "-n", String(requests), "-P", "1", "--csv"],
    120_000,
  );
  const rows: RedisRow[] = [];
  for (const line of result.stdout.split("\n")) {
    const cells = line.split(",").map((c) => c.replace(/"/g, ""));
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    if (cells.length >= 7 && (cells[0] === "GET" || cells[0] === "SET")) {
      rows.push({ test: cells[0], rps: Number(cells[1]), meanMs: Number(cells[2]), p50Ms: Number(cells[4]), p99Ms: Number(cells[6]) });
    }
  }
  const ok = result.code === 0 && rows.length === 2;
  return ok ? { ok, rows } : { ok, error: `redis-benchmark exit ${result.code}: ${(result.stderr || result.stdout).trim().slice(-300)}`, rows };
}
