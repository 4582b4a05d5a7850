// Probe (by hand, not part of `npm run bench`): RSS growth of a server with
// watchers that never read. Opens WATCHERS raw gRPC WatchKeyValue streams
// (HTTP/2 windows as large as allowed, sockets paused; one client id each,
// spread over CONNECTIONS connections), sets their key to a 990 KB value
// WRITES times, and reports the server's RSS before, at its peak, and 3 s
// after; then closes the watchers. A Get runs every 20 ms throughout: the
// slowest one while writing (the server cuts watchers off meanwhile) and
// while the watchers close shows any stall.
// The server is ROOT's bench/watch-server.ts (default configuration), so
// the same probe measures another checkout, e.g. /work/main.
// Usage: node --import tsx bench/unread-watchers-probe.ts [ROOT] [WATCHERS] [CONNECTIONS] [WRITES]
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { fork } from "node:child_process";
import path from "node:path";
import { StallableConnection } from "../server/test/kit/stallable-connection.js";
import { freePort } from "../server/test/kit/free-port.js";
import { installCleanup, sleep, stopChild, track } from "./lib/procs.js";

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, ".."));
const watchers = Number(process.argv[3] ?? 400);
const connectionCount = Number(process.argv[4] ?? 40);
const writes = Number(process.argv[5] ?? 100);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

installCleanup();
const port = await freePort();
const server = track(fork(path.join(root, "bench/watch-server.ts"), [String(port)], { cwd: root, execArgv: ["--import", "tsx"] }));
const replies: Array<(message: { type: string; rssBytes?: number }) => void> = [];
server.on("message", (message: { type: string; rssBytes?: number }) => replies.shift()?.(message));
const next = () => new Promise<{ type: string; rssBytes?: number }>((resolve) => replies.push(resolve));
await next(); // listening
const rss = async () => {
  const reply = next();
  server.send({ type: "cpu" });
  return (await reply).rssBytes!;
};

const url = `http://127.0.0.1:${port}`;
const kv = createClient(
  KeyQuarry,
  createGrpcTransport({
    baseUrl: url,
    interceptors: [(nextCall) => (request) => (request.header.set("client_id", "probe-writer"), nextCall(request))],
  }),
);
const key = "probe";
await kv.set({ key, value: new Uint8Array([1]) });

const connections = await Promise.all(Array.from({ length: connectionCount }, () => StallableConnection.open(url)));
const opened = await Promise.allSettled(
  Array.from({ length: watchers }, (_, i) => connections[i % connectionCount]!.watchKeyValue(key, `probe-${i}`)),
);
const streams = opened.filter((result) => result.status === "fulfilled").length;
for (const connection of connections) connection.stopReading();
await sleep(500);
const before = await rss();

/** Gets every 20 ms until stopped; resolves to the slowest, in ms. */
function pingUntil(stop: Promise<void>): Promise<number> {
  let slowest = 0;
  let pinging = true;
  void stop.then(() => (pinging = false));
  return (async () => {
    while (pinging) {
      const start = performance.now();
      await kv.get({ key: "absent" }).catch(() => {});
      slowest = Math.max(slowest, performance.now() - start);
      await sleep(20);
    }
    return slowest;
  })();
}

let stopWritePings = () => {};
const writePings = pingUntil(new Promise((resolve) => (stopWritePings = resolve)));
let peak = before;
const sampler = setInterval(() => void rss().then((value) => (peak = Math.max(peak, value))), 200);
const value = new Uint8Array(990_000);
for (let i = 0; i < writes; i++) {
  await kv.set({ key, value });
}
await sleep(3000);
stopWritePings();
const slowestGetWhileWritingMs = await writePings;
clearInterval(sampler);
const after = await rss();
peak = Math.max(peak, after);

let stopClosePings = () => {};
const closePings = pingUntil(new Promise((resolve) => (stopClosePings = resolve)));
await sleep(200);
for (const connection of connections) connection.close();
await sleep(3000);
stopClosePings();
const slowestGetWhileClosingMs = await closePings;

console.log(
  JSON.stringify({
    root,
    watchers: streams,
    connections: connectionCount,
    writes,
    rssBefore: mib(before),
    rssPeak: mib(peak),
    rssAfter3s: mib(after),
    growthPeak: mib(peak - before),
    growthAfter: mib(after - before),
    slowestGetWhileWritingMs: Math.round(slowestGetWhileWritingMs),
    slowestGetWhileClosingMs: Math.round(slowestGetWhileClosingMs),
  }),
);
await stopChild(server);
process.exit(0);
