// The bench's "hostile clients" stage (issue 10): what one client can do to
// everyone else. Each part starts its own keyquarry (the real CLI, default
// configuration, fresh memory), runs a steady normal client doing gRPC Gets
// one at a time on its own connection, and measures that client's latency and
// the server's RSS while a hostile client works:
//   scan     ListKeys with a complex pattern over keys of 1,000 bytes;
//   watchers unread WatchKeyValue streams (raw HTTP/2, huge windows, socket
//            not read) while another client sets a 990 KB value again and again;
//   streams  tens of thousands of streams opened on one connection, ignoring
//            the server's MAX_CONCURRENT_STREAMS;
//   fuzz     the protocol fuzzer's cases (server/test/protocol-fuzz-cases.ts).
// Every part is bounded in count, time and server memory growth (it stops
// early and says so), targets 127.0.0.1 only, and closes its clients and
// stops its server before the next one starts.
import { create, toBinary } from "@bufbuild/protobuf";
import { KeySchema, KeyValueSchema, ListKeysRequestSchema, WatchKeyValueRequestSchema, WatchRequestSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import fc from "fast-check";
import http2 from "node:http2";
import path from "node:path";
import { fuzzCaseArb, runFuzzCase } from "../../server/test/protocol-fuzz-cases.js";
import { grpcCall, grpcHeaders } from "./grpc-call.js";
import { rssMiB, sampleRss, spawnKeyquarry } from "./keyquarry-process.js";
import { freePort } from "../../server/test/kit/free-port.js";
import { sleep, stopChild, waitForPort } from "./procs.js";
import { grpcFrame } from "./proto.js";
import { headerBlock, RawH2Connection } from "./raw-h2.js";
import { summarize } from "./stats.js";

/** Sizes of the hostile stage. */
export interface HostileSettings {
  scanKeys: number;
  scanSeconds: number;
  watchers: number;
  watchSets: number;
  watchValueBytes: number;
  streams: number;
  fuzzCases: number;
  fuzzSeconds: number;
  /** A part stops its hostile client once the server's RSS has grown this much (protects the machine). */
  rssCapMiB: number;
}

/** Full and quick sizes. */
export const hostileSettings = (quick: boolean): HostileSettings =>
  quick
    ? { scanKeys: 20, scanSeconds: 5, watchers: 200, watchSets: 20, watchValueBytes: 990_000, streams: 5_000, fuzzCases: 5_000, fuzzSeconds: 30, rssCapMiB: 2048 }
    : { scanKeys: 100, scanSeconds: 15, watchers: 1000, watchSets: 100, watchValueBytes: 990_000, streams: 20_000, fuzzCases: 100_000, fuzzSeconds: 120, rssCapMiB: 2048 };

/** The complex pattern of issue 10, then cheaper ones, tried in order until the server accepts one. */
export const scanPatterns = ["(?:k?){1000}k{1000}", "(?:k?){300}k{300}", "(?:k?){100}k{100}", "(?:k?){30}k{30}", "k{1000}", "k+"];

const get = "/keyquarry.KeyQuarry/Get";
const probeKey = "hostile-probe";
const mib = (x: number | undefined) => (x === undefined ? undefined : Math.round(x));

/** Latency of a steady normal client: one gRPC Get at a time on its own HTTP/2 connection. */
interface ProbeResult {
  gets: number;
  errors: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Set when the last Get had still no answer when the part ended (its wait so far counts in maxMs). */
  unansweredMs?: number;
}

function startProbe(port: number): { stop(): Promise<ProbeResult> } {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const body = grpcFrame(toBinary(KeySchema, create(KeySchema, { key: probeKey })));
  const latencies: number[] = [];
  let errors = 0;
  let running = true;
  let inFlightSince: number | undefined;
  const loop = (async () => {
    while (running && !session.destroyed) {
      inFlightSince = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        const stream = session.request({ ":method": "POST", ":path": get, ...grpcHeaders });
        let status: string | undefined;
        stream.on("response", (h) => (status = h["grpc-status"] === undefined ? status : String(h["grpc-status"])));
        stream.on("trailers", (t) => (status = String(t["grpc-status"])));
        stream.on("data", () => {});
        stream.on("error", () => resolve(false));
        stream.on("close", () => resolve(status === "0"));
        stream.end(body);
      });
      latencies.push(performance.now() - inFlightSince);
      inFlightSince = undefined;
      if (!ok) errors++;
      // A short pause: a steady client, not a load generator competing for the CPU.
      await sleep(5);
    }
  })();
  return {
    async stop() {
      running = false;
      // The last Get may be stuck behind a frozen event loop: wait for it, but not forever.
      const settled = await Promise.race([loop.then(() => true), sleep(60_000).then(() => false)]);
      const unansweredMs = settled || inFlightSince === undefined ? undefined : performance.now() - inFlightSince;
      session.destroy();
      const stats = summarize(Float64Array.from(unansweredMs === undefined ? latencies : [...latencies, unansweredMs]));
      return { gets: latencies.length, errors, p50Ms: stats.p50, p99Ms: stats.p99, maxMs: stats.max, ...(unansweredMs === undefined ? {} : { unansweredMs }) };
    },
  };
}

/** A fresh keyquarry for one part, with the probe key set. */
async function withServer<T>(node: string, rootDir: string, tmp: string, name: string, part: (port: number, pid: number | undefined) => Promise<T>): Promise<T & { rssStartMiB?: number; probe: ProbeResult }> {
  const port = await freePort();
  const child = spawnKeyquarry(node, rootDir, port, path.join(tmp, `hostile-${name}`));
  try {
    if (!(await waitForPort(port, 60_000, child))) throw new Error(`keyquarry (${name}) did not start listening within 60 s`);
    const set = await grpcCall(port, "/keyquarry.KeyQuarry/Set", grpcFrame(toBinary(KeyValueSchema, create(KeyValueSchema, { key: probeKey, value: new Uint8Array(100) }))));
    if (set.grpcStatus !== "0") throw new Error(`keyquarry (${name}): Set of the probe key failed: grpc-status ${set.grpcStatus}`);
    const rssStartMiB = mib(rssMiB(child.pid));
    const probe = startProbe(port);
    let result: T;
    try {
      result = await part(port, child.pid);
    } catch (err) {
      await probe.stop();
      throw err;
    }
    return { ...result, rssStartMiB, probe: await probe.stop() };
  } finally {
    await stopChild(child);
  }
}

/** scan: ListKeys with the most complex accepted pattern, back to back, for `scanSeconds`. */
async function scanPart(port: number, s: HostileSettings) {
  const keys = Array.from({ length: s.scanKeys }, (_, i) => `${"k".repeat(994)}${String(i).padStart(6, "0")}`);
  for (const key of keys) {
    const result = await grpcCall(port, "/keyquarry.KeyQuarry/Set", grpcFrame(toBinary(KeyValueSchema, create(KeyValueSchema, { key, value: new Uint8Array(10) }))));
    if (result.grpcStatus !== "0") throw new Error(`setting scan keys failed: grpc-status ${result.grpcStatus} ${result.grpcMessage ?? ""}`);
  }
  const refused: Record<string, string> = {};
  const statuses: Record<string, number> = {};
  let pattern: string | undefined;
  let scans = 0;
  const scanMs: number[] = [];
  const until = Date.now() + s.scanSeconds * 1000;
  for (const candidate of scanPatterns) {
    pattern = candidate;
    const body = grpcFrame(toBinary(ListKeysRequestSchema, create(ListKeysRequestSchema, { pattern: candidate })));
    let refusedNow = false;
    do {
      const started = performance.now();
      const result = await grpcCall(port, "/keyquarry.KeyQuarry/ListKeys", body, 300_000);
      scanMs.push(performance.now() - started);
      scans++;
      const status = result.grpcStatus ?? "none";
      statuses[status] = (statuses[status] ?? 0) + 1;
      // INVALID_ARGUMENT: the server refuses this pattern; try a cheaper one.
      if (status === "3") {
        refused[candidate] = result.grpcMessage ?? "";
        refusedNow = true;
      }
    } while (!refusedNow && Date.now() < until);
    if (!refusedNow) break;
  }
  const stats = summarize(Float64Array.from(scanMs));
  return { keys: s.scanKeys, keyBytes: 1000, pattern, refused, scans, scanStatuses: statuses, scanMaxMs: stats.max, scanP50Ms: stats.p50 };
}

/** watchers: unread WatchKeyValue streams while another client sets a big value again and again. */
async function watchersPart(port: number, pid: number | undefined, s: HostileSettings) {
  const key = "hostile-big";
  const setBig = (fill: number) =>
    grpcCall(port, "/keyquarry.KeyQuarry/Set", grpcFrame(toBinary(KeyValueSchema, create(KeyValueSchema, { key, value: new Uint8Array(s.watchValueBytes).fill(fill) }))), 120_000);
  await setBig(0);
  // Each watcher under its own client id (anyone may send any id), so the per-client watcher limit does not hide the rest.
  const block = (i: number) =>
    headerBlock({ ":method": "POST", ":scheme": "http", ":path": "/keyquarry.KeyQuarry/WatchKeyValue", ":authority": `127.0.0.1:${port}`, ...grpcHeaders, client_id: `hostile-${i}` });
  const body = grpcFrame(toBinary(WatchKeyValueRequestSchema, create(WatchKeyValueRequestSchema, { key })));
  const connections: RawH2Connection[] = [];
  const rssBeforeMiB = rssMiB(pid) ?? 0;
  const sampler = sampleRss(pid);
  try {
    for (let i = 0; i < s.watchers; i++) {
      const connection = new RawH2Connection(port);
      connections.push(connection);
      await connection.ready;
      connection.request(1, block(i), body, true);
    }
    // Each watcher reads until its stream has started, then never again.
    const started = await Promise.race([Promise.all(connections.map((c) => c.firstResponse.then(() => c.stopReading()))).then(() => true), sleep(60_000).then(() => false)]);
    const watchersStarted = connections.filter((c) => c.socket.isPaused()).length;
    const rssWatchingMiB = mib(rssMiB(pid));
    let sets = 0;
    let setErrors = 0;
    let capped = false;
    for (let i = 1; i <= s.watchSets; i++) {
      if ((rssMiB(pid) ?? 0) - rssBeforeMiB > s.rssCapMiB) {
        capped = true;
        break;
      }
      const result = await setBig(i % 256).catch(() => undefined);
      if (result?.grpcStatus === "0") sets++;
      else setErrors++;
    }
    await sleep(1000); // let the last writes reach the watchers' buffers before reading the peak
    sampler.stop();
    const endedByServer = connections.filter((c) => c.closed || c.counts.resets > 0 || c.counts.goaway).length;
    const rssPeakMiB = mib(sampler.peakMiB);
    const closing = performance.now();
    for (const c of connections) c.close();
    const closeMs = performance.now() - closing;
    await sleep(2000); // the probe keeps running: a server that stalls while it frees them shows here
    return {
      watchers: s.watchers,
      watchersStarted: started ? watchersStarted : `${watchersStarted} (not all within 60 s)`,
      sets,
      setErrors,
      valueBytes: s.watchValueBytes,
      cappedAtRssGrowthMiB: capped ? s.rssCapMiB : undefined,
      endedByServer,
      rssBeforeMiB: mib(rssBeforeMiB),
      rssWatchingMiB,
      rssPeakMiB,
      rssGrowthMiB: rssPeakMiB === undefined ? undefined : rssPeakMiB - Math.round(rssBeforeMiB),
      rssAfterCloseMiB: mib(rssMiB(pid)),
      clientCloseMs: closeMs,
    };
  } finally {
    sampler.stop();
    for (const c of connections) c.close();
  }
}

/** streams: many WatchStream calls on one connection (each a long-lived stream), ignoring MAX_CONCURRENT_STREAMS. */
async function streamsPart(port: number, pid: number | undefined, s: HostileSettings) {
  const connection = new RawH2Connection(port);
  try {
    await connection.ready;
    // A client id per stream, as for the watchers: the stream limit is what is measured, not the per-client one.
    const block = (i: number) =>
      headerBlock({ ":method": "POST", ":scheme": "http", ":path": "/keyquarry.KeyQuarry/WatchStream", ":authority": `127.0.0.1:${port}`, ...grpcHeaders, client_id: `hostile-${i}` });
    const body = grpcFrame(toBinary(WatchRequestSchema, create(WatchRequestSchema, {})));
    const sampler = sampleRss(pid);
    const rssBefore = rssMiB(pid) ?? 0;
    let opened = 0;
    let capped = false;
    for (let i = 0; i < s.streams && !connection.closed; i++) {
      connection.request(2 * i + 1, block(i), body, true);
      opened++;
      if (i % 500 === 499) {
        // Let the server take them in (and answer) before sending more.
        await new Promise<void>((resolve) => (connection.socket.writableLength === 0 ? setImmediate(resolve) : connection.socket.once("drain", () => resolve())));
        await sleep(20);
        if ((rssMiB(pid) ?? 0) - rssBefore > s.rssCapMiB) {
          capped = true;
          break;
        }
      }
    }
    // Until the server has answered (or refused) every stream it got, or closed the connection: at most 60 s.
    const sent = performance.now();
    const until = Date.now() + 60_000;
    while (!connection.closed && connection.counts.answered < opened && Date.now() < until) await sleep(100);
    const answerMs = performance.now() - sent;
    await sleep(1000);
    sampler.stop();
    const rssPeakMiB = mib(sampler.peakMiB);
    const counts = { ...connection.counts };
    return {
      streamsSent: opened,
      cappedAtRssGrowthMiB: capped ? s.rssCapMiB : undefined,
      advertisedMaxConcurrentStreams: counts.maxConcurrentStreams ?? "none",
      answered: counts.answered,
      answeredWithinMs: answerMs,
      refused: counts.refused,
      resets: counts.resets,
      goaway: counts.goaway ? `code ${counts.goawayCode}` : "no",
      connectionClosedByServer: connection.closed,
      rssBeforeMiB: mib(rssBefore),
      rssPeakMiB,
      rssGrowthMiB: rssPeakMiB === undefined ? undefined : rssPeakMiB - Math.round(rssBefore),
    };
  } finally {
    connection.close();
  }
}

/** fuzz: the protocol fuzzer's cases, 128 at a time; RSS after a warm-up and at the end. */
async function fuzzPart(port: number, pid: number | undefined, s: HostileSettings) {
  const concurrency = 128;
  const warmup = Math.min(2_000, Math.floor(s.fuzzCases / 10));
  const problems = new Map<string, number>();
  let done = 0;
  let rssAfterWarmupMiB: number | undefined;
  const until = Date.now() + s.fuzzSeconds * 1000;
  const sampler = sampleRss(pid);
  const chunk = 1_000;
  for (let offset = 0; offset < s.fuzzCases && Date.now() < until; offset += chunk) {
    const cases = fc.sample(fuzzCaseArb, { numRuns: Math.min(chunk, s.fuzzCases - offset), seed: 10_000 + offset });
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < cases.length) {
          const outcome = await runFuzzCase(port, cases[next++]!);
          done++;
          if (outcome.problem !== undefined) {
            const what = outcome.problem.slice(0, 100);
            problems.set(what, (problems.get(what) ?? 0) + 1);
          }
          if (done === warmup) rssAfterWarmupMiB = mib(rssMiB(pid));
        }
      }),
    );
  }
  sampler.stop();
  const rssEndMiB = mib(rssMiB(pid));
  return {
    cases: done,
    casesPlanned: s.fuzzCases,
    seeds: "10000 + offset of each chunk of 1,000 (fc.sample)",
    malformedAnswers: Object.fromEntries([...problems].sort((a, b) => b[1] - a[1]).slice(0, 8)),
    rssAfterWarmupMiB,
    warmupCases: warmup,
    rssPeakMiB: mib(sampler.peakMiB),
    rssEndMiB,
    rssGrowthMiB: rssEndMiB === undefined || rssAfterWarmupMiB === undefined ? undefined : rssEndMiB - rssAfterWarmupMiB,
  };
}

/** The four parts' results. */
export type HostileResult = Awaited<ReturnType<typeof runHostile>>;

/** Runs the hostile stage's four parts one after another, each on a fresh keyquarry run by `node`. */
export async function runHostile(node: string, rootDir: string, tmp: string, s: HostileSettings, log: (line: string) => void) {
  const part = async <T>(name: string, run: (port: number, pid: number | undefined) => Promise<T>) => {
    log(`hostile: ${name} ...`);
    const started = Date.now();
    try {
      const result = await withServer(node, rootDir, tmp, name, run);
      log(`  ${name}: ${JSON.stringify(result)}`);
      return { ...result, seconds: (Date.now() - started) / 1000 };
    } catch (err) {
      log(`  ${name}: failed: ${err instanceof Error ? err.message : String(err)}`);
      return { error: err instanceof Error ? err.message : String(err), seconds: (Date.now() - started) / 1000 };
    }
  };
  return {
    settings: s,
    scan: await part("scan", (port) => scanPart(port, s)),
    watchers: await part("watchers", (port, pid) => watchersPart(port, pid, s)),
    streams: await part("streams", (port, pid) => streamsPart(port, pid, s)),
    fuzz: await part("fuzz", (port, pid) => fuzzPart(port, pid, s)),
  };
}

/** One pass/fail check of the stage (null when not measured). */
export interface HostileTarget {
  check: string;
  measured: number | null;
  target: string;
  pass: boolean | null;
}

/** The stage's lines for the bench's table and its targets. */
export function hostileReport(r: HostileResult): { lines: string[]; targets: HostileTarget[] } {
  const ms = (x: unknown) => (typeof x === "number" ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : "–");
  const field = (o: object, k: string): unknown => (o as Record<string, unknown>)[k];
  const probeLine = (o: object) => {
    const p = field(o, "probe") as ProbeResult | undefined;
    return p === undefined ? "normal Get: –" : `normal Get: ${p.gets} Gets, p99 ${ms(p.p99Ms)}, max ${ms(p.maxMs)}${p.unansweredMs === undefined ? "" : " (still unanswered at the end)"}${p.errors ? `, ${p.errors} errors` : ""}`;
  };
  const lines = [`Hostile clients — each part on a fresh keyquarry (default configuration); a normal client does one gRPC Get at a time throughout`];
  const parts = { scan: r.scan, watchers: r.watchers, streams: r.streams, fuzz: r.fuzz };
  for (const [name, o] of Object.entries(parts)) {
    const error = field(o, "error");
    if (error !== undefined) {
      lines.push(`${name}: failed: ${String(error)}`);
      continue;
    }
    const get = (k: string) => field(o, k);
    switch (name) {
      case "scan":
        lines.push(
          `scan:     ListKeys ${JSON.stringify(get("pattern"))} over ${get("keys")} keys of ${get("keyBytes")} B${Object.keys(get("refused") as object).length > 0 ? ` (refused: ${Object.keys(get("refused") as object).join(", ")})` : ""}: ${get("scans")} scans, slowest ${ms(get("scanMaxMs"))}; ${probeLine(o)}`,
        );
        break;
      case "watchers":
        lines.push(
          `watchers: ${get("watchersStarted")} unread WatchKeyValue streams, ${get("sets")} Sets of ${get("valueBytes")} B${get("cappedAtRssGrowthMiB") === undefined ? "" : ` (stopped at +${get("cappedAtRssGrowthMiB")} MiB)`}: RSS ${get("rssBeforeMiB")} -> ${get("rssWatchingMiB")} with the watchers -> peak ${get("rssPeakMiB")} MiB (+${get("rssGrowthMiB")}), ${get("endedByServer")} ended by the server, ${get("rssAfterCloseMiB")} MiB after closing; ${probeLine(o)}`,
        );
        break;
      case "streams":
        lines.push(
          `streams:  ${get("streamsSent")} WatchStream calls sent on one connection${get("cappedAtRssGrowthMiB") === undefined ? "" : ` (stopped at +${get("cappedAtRssGrowthMiB")} MiB)`}, MAX_CONCURRENT_STREAMS ${get("advertisedMaxConcurrentStreams")}, ${get("answered")} answered or reset (${ms(get("answeredWithinMs"))} after the last was sent), ${get("refused")} refused, ${get("resets")} reset, GOAWAY ${get("goaway")}: RSS ${get("rssBeforeMiB")} -> peak ${get("rssPeakMiB")} MiB (+${get("rssGrowthMiB")}); ${probeLine(o)}`,
        );
        break;
      case "fuzz":
        lines.push(
          `fuzz:     ${get("cases")} of ${get("casesPlanned")} cases: RSS ${get("rssAfterWarmupMiB")} MiB after ${get("warmupCases")} -> ${get("rssEndMiB")} MiB at the end (peak ${get("rssPeakMiB")}); malformed answers ${JSON.stringify(get("malformedAnswers"))}; ${probeLine(o)}`,
        );
        break;
    }
  }
  const num = (o: object, k: string) => (typeof field(o, k) === "number" ? (field(o, k) as number) : null);
  const maxGets = Object.values(parts).map((o) => (field(o, "probe") as ProbeResult | undefined)?.maxMs);
  const worstGet = maxGets.some((x) => x === undefined) ? null : Math.max(...(maxGets as number[]));
  const target = (check: string, measured: number | null, text: string, pass: (v: number) => boolean): HostileTarget => ({ check, measured, target: text, pass: measured === null ? null : pass(measured) });
  return {
    lines,
    targets: [
      target("hostile: worst normal Get latency (ms)", worstGet, "< 1000 ms", (v) => v < 1000),
      target("hostile: unread watchers, RSS growth (MiB)", num(r.watchers, "rssGrowthMiB"), "< 256 MiB", (v) => v < 256),
      target("hostile: streams on one conn, RSS growth (MiB)", num(r.streams, "rssGrowthMiB"), "< 512 MiB", (v) => v < 512),
      target("hostile: fuzz, RSS growth after warm-up (MiB)", num(r.fuzz, "rssGrowthMiB"), "< 64 MiB", (v) => v < 64),
    ],
  };
}
