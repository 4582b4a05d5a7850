// Watch fan-out: W watchers on WatchStream (no filter) over gRPC
// (connect-node, spread over C HTTP/2 connections) in THIS process, the
// keyquarry server in-process via build() in a forked child process
// (watch-server.ts), and a writer in this process (own connection) doing S
// Sets with 8 in flight, each with a new value (one UPDATED/CREATED event
// each). Reports events delivered per second in total (W x S deliveries from
// the first Set to the last receipt) and the delivery delay, receipt time
// minus the event's time (server clock and this process's clock are both
// wall clock at start + monotonic offset, so they agree within ~1 ms).
// Usage: node --import tsx bench/watch-fanout.ts WATCHERS SETS CONNECTIONS   (prints one JSON line)
import { fork, type ChildProcess } from "node:child_process";
import { setMaxListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { createKeyquarryClient, type KeyquarryClient } from "../client-node/src/create-keyquarry-client.js";
import { createSystemClock } from "../server/src/store/clock.js";
import { freePort } from "../server/test/kit/free-port.js";
import { stopChild, track } from "./lib/procs.js";
import { summarize } from "./lib/stats.js";

const watchers = Number(process.argv[2] ?? 1000);
const sets = Number(process.argv[3] ?? 1000);
const connections = Number(process.argv[4] ?? 10);
const writerConcurrency = 8;
const clock = createSystemClock();

function waitFor<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch server: no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type?: string }) => {
      if (message.type === type) {
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(message as T);
      }
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`watch server exited (${code})`)));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

const port = await freePort();
const server = track(
  fork(fileURLToPath(new URL("./watch-server.ts", import.meta.url)), [String(port)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  }),
);
let exitCode = 0;
try {
  await waitFor(server, "listening", 60_000);
  const address = `127.0.0.1:${port}`;
  const clients: KeyquarryClient[] = Array.from({ length: connections }, (_, i) =>
    createKeyquarryClient(address, { clientId: `bench-watch-${i}` }),
  );
  const abort = new AbortController();
  // Every watch stream listens on this one signal.
  setMaxListeners(watchers + 16, abort.signal);
  const delays = new Float64Array(watchers * sets);
  let delivered = 0;
  let lastReceipt = 0n;
  let ready = 0;
  let complete = 0;
  const counts = new Int32Array(watchers);
  // Events each watcher must receive (lowered if the writer stops early).
  let target = sets;
  const endings: Record<string, number> = {};
  let resolveReady = () => {};
  const allReady = new Promise<void>((resolve) => (resolveReady = resolve));
  let resolveComplete = () => {};
  const allComplete = new Promise<void>((resolve) => (resolveComplete = resolve));
  let finished = 0;
  const checkDone = () => {
    if (complete + Object.values(endings).reduce((a, b) => a + b, 0) >= watchers) resolveComplete();
  };

  const streams = Array.from({ length: watchers }, async (_, w) => {
    const client = clients[w % connections]!;
    let isReady = false;
    try {
      for await (const event of client.watchStream({ progressInterval: { seconds: 3600n, nanos: 0 } }, { signal: abort.signal })) {
        if (event.progress) {
          if (!isReady) {
            isReady = true;
            if (++ready === watchers) resolveReady();
          }
          continue;
        }
        const now = clock.now();
        const time = event.time === undefined ? now : event.time.seconds * 1_000_000_000n + BigInt(event.time.nanos);
        if (delivered < delays.length) delays[delivered] = Number(now - time) / 1e6;
        delivered++;
        lastReceipt = now;
        if (++counts[w]! === target) {
          complete++;
          checkDone();
        }
      }
      endings["ended by server"] = (endings["ended by server"] ?? 0) + 1;
    } catch (err) {
      if (!abort.signal.aborted) {
        const reason = err instanceof Error ? err.message : String(err);
        endings[reason] = (endings[reason] ?? 0) + 1;
      }
    } finally {
      finished++;
      if (!abort.signal.aborted) checkDone();
    }
  });

  const readyInTime = await withTimeout(allReady.then(() => true), 120_000, false);
  if (!readyInTime) throw new Error(`only ${ready} of ${watchers} watchers were subscribed after 120 s`);

  server.send({ type: "cpu-start" });
  await waitFor(server, "cpu-started", 10_000);
  const cpuStart = process.cpuUsage();
  const writer = createKeyquarryClient(address, { clientId: "bench-writer" });
  const start = clock.now();
  // Bounded: the writer stops after `sets` Sets or 30 s, whichever comes first.
  const writeUntil = start + 30_000_000_000n;
  let next = 0;
  let setErrors = 0;
  let attempted = 0;
  await Promise.all(
    Array.from({ length: writerConcurrency }, async () => {
      for (let i = next++; i < sets && clock.now() < writeUntil; i = next++) {
        attempted++;
        try {
          await writer.set({ key: `fan-${i % 16}`, value: new TextEncoder().encode(`value-${i}`.padEnd(100, "v")) });
        } catch {
          setErrors++;
        }
      }
    }),
  );
  const writerDone = clock.now();
  const written = attempted - setErrors;
  if (written < sets) {
    // Fewer Sets than planned: each watcher now completes at `written` events.
    for (let w = 0; w < watchers; w++) if (counts[w]! >= written && counts[w]! < sets) complete++;
    target = written;
    checkDone();
  }
  const completeInTime = await withTimeout(allComplete.then(() => true), 60_000, false);
  const cpu = process.cpuUsage(cpuStart);
  server.send({ type: "cpu" });
  const serverCpu = await waitFor<{ userS: number; systemS: number; rssBytes: number }>(server, "cpu", 10_000);
  abort.abort();
  await withTimeout(Promise.all(streams).then(() => true), 10_000, false);
  const elapsedS = Number(lastReceipt - start) / 1e9;
  const s = summarize(delays.subarray(0, Math.min(delivered, delays.length)));
  process.stdout.write(
    `${JSON.stringify({
      watchers,
      connections,
      sets,
      setsWritten: written,
      setErrors,
      expectedDeliveries: watchers * written,
      delivered,
      completeWatchers: complete,
      endings,
      completeInTime,
      writerSetsPerSecond: written / (Number(writerDone - start) / 1e9),
      elapsedS,
      eventsPerSecond: delivered / elapsedS,
      delayMs: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean },
      serverCpuS: serverCpu.userS + serverCpu.systemS,
      clientCpuS: (cpu.user + cpu.system) / 1e6,
      serverRssBytes: serverCpu.rssBytes,
      streamsFinished: finished,
    })}\n`,
  );
} catch (err) {
  process.stderr.write(`watch-fanout: ${err instanceof Error ? err.message : String(err)}\n`);
  exitCode = 1;
} finally {
  server.send({ type: "stop" });
  await stopChild(server, 5000);
}
process.exit(exitCode);
