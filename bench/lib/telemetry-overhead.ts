// `--only metrics`: what Prometheus metrics and OpenTelemetry tracing cost a
// gRPC Get. The same h2load load against a fresh keyquarry per variant (off,
// --prometheus, --trace, both), variants alternating round by round; the
// ratio of each variant's median rate to the median rate with both off.
// Tracing exports to an OTLP/HTTP sink in this process that takes and drops
// every request, so that the exporter does the work it does in production.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { KeySchema, KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { freePort } from "../../server/test/kit/free-port.js";
import { grpcCall } from "./grpc-call.js";
import { runH2load, type H2loadRounds } from "./h2load.js";
import { spawnKeyquarry } from "./keyquarry-process.js";
import { stopChild, waitForPort } from "./procs.js";
import { grpcFrame } from "./proto.js";
import { median, ratio, round } from "./stats.js";

/** The stage's load: rounds of one h2load run per variant. */
export type TelemetryOverheadSettings = H2loadRounds;

export const telemetryOverheadSettings = (quick: boolean): TelemetryOverheadSettings =>
  quick ? { rounds: 2, clients: 8, streams: 16, seconds: 1, warmupSeconds: 0.5 } : { rounds: 5, clients: 8, streams: 16, seconds: 3, warmupSeconds: 1 };

const variants = {
  off: [],
  prometheus: ["--prometheus", "--monitor-address", "127.0.0.1:0"],
  trace: ["--trace"],
  both: ["--prometheus", "--monitor-address", "127.0.0.1:0", "--trace"],
} as const;

type Variant = keyof typeof variants;

/** Get rates (requests/s) by variant, one per round, and each variant's median relative to off. */
export interface TelemetryOverheadResult {
  settings: TelemetryOverheadSettings;
  rps: Record<Variant, number[]>;
  ratios: Record<Variant, number | null>;
  errors: string[];
}

/** Runs the stage with `node` running keyquarry (the built CLI in `rootDir`). */
export async function runTelemetryOverhead(node: string, rootDir: string, tmp: string, s: TelemetryOverheadSettings, log: (line: string) => void): Promise<TelemetryOverheadResult> {
  const sink = await startOtlpSink();
  const getBody = path.join(tmp, "metrics-get.bin");
  writeFileSync(getBody, grpcFrame(toBinary(KeySchema, create(KeySchema, { key: "bench" }))));
  const rps: Record<Variant, number[]> = { off: [], prometheus: [], trace: [], both: [] };
  const errors: string[] = [];
  const names = Object.keys(variants) as Variant[];
  try {
    for (let round = 0; round < s.rounds; round++) {
      for (const variant of names.map((_, i) => names[(i + round) % names.length]!)) {
        const port = await freePort();
        const child = spawnKeyquarry(node, rootDir, port, path.join(tmp, `metrics-${variant}`), {
          args: [...variants[variant]],
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint },
        });
        try {
          if (!(await waitForPort(port, 60_000, child))) throw new Error(`keyquarry (${variant}) did not start listening within 60 s`);
          const set = await grpcCall(port, "/keyquarry.KeyQuarry/Set", grpcFrame(toBinary(KeyValueSchema, create(KeyValueSchema, { key: "bench", value: new Uint8Array(100) }))));
          if (set.grpcStatus !== "0") throw new Error(`keyquarry (${variant}): Set failed: grpc-status ${set.grpcStatus}`);
          const result = await runH2load(`http://127.0.0.1:${port}/keyquarry.KeyQuarry/Get`, getBody, s, path.join(tmp, "metrics-h2load.log"));
          if (!result.ok || result.rps === undefined || result.failed + result.errored > 0) {
            throw new Error(`keyquarry (${variant}): ${result.error ?? `${result.failed + result.errored} failed requests`}`);
          }
          rps[variant].push(result.rps);
          log(`  round ${round + 1} ${variant}: ${Math.round(result.rps)} Get/s`);
        } catch (err) {
          errors.push(err instanceof Error ? err.message : String(err));
          log(`  ${errors.at(-1)}`);
        } finally {
          await stopChild(child);
        }
      }
    }
  } finally {
    await new Promise((resolve) => sink.server.close(resolve));
  }
  const off = median(rps.off);
  const ratios = Object.fromEntries(names.map((variant) => [variant, round(ratio(median(rps[variant]), off), 3)])) as Record<Variant, number | null>;
  return { settings: s, rps, ratios, errors };
}

/** The stage's lines and its target (metrics on >= 0.95x of off). */
export function telemetryOverheadReport(r: TelemetryOverheadResult): { lines: string[]; targets: Array<{ check: string; measured: number | null; target: string; pass: boolean | null }> } {
  const lines = [
    `Telemetry cost — gRPC Get, h2load ${r.settings.clients} connections x ${r.settings.streams} streams, ${r.settings.seconds} s, ${r.settings.rounds} round(s), a fresh keyquarry per run`,
    ...(Object.keys(r.rps) as Variant[]).map(
      (variant) => `${variant.padEnd(12)}median ${String(Math.round(median(r.rps[variant]) ?? 0)).padStart(7)} Get/s  ${r.ratios[variant] === null ? "–" : `${r.ratios[variant]!.toFixed(3)}x`} of off  (${r.rps[variant].map(Math.round).join(", ")})`,
    ),
    ...r.errors.map((error) => `error: ${error}`),
  ];
  const measured = r.ratios.prometheus;
  return {
    lines,
    targets: [
      { check: "gRPC Get rate, --prometheus / off", measured, target: ">= 0.95x", pass: measured === null ? null : measured >= 0.95 },
      { check: "gRPC Get rate, --trace / off (informative)", measured: r.ratios.trace, target: "–", pass: null },
    ],
  };
}

/** An OTLP/HTTP endpoint that accepts every export and drops it. */
async function startOtlpSink(): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
