// Probe (by hand, not part of `npm run bench`): RSS growth of a server with
// watchers that never read. Opens WATCHERS raw gRPC WatchKeyValue streams
// (HTTP/2 windows as large as allowed, sockets paused; one client id each,
// spread over CONNECTIONS connections), sets their key to a 990 KB value
// WRITES times, and reports the server's RSS before, at its peak, and 3 s
// after; then closes the watchers while a Get runs every 20 ms and reports
// the slowest Get (a stall while they are let go shows there).
// The server is ROOT's bench/watch-server.ts (default configuration), so
// the same probe measures another checkout, e.g. /work/main.
// Usage: node --import tsx bench/unread-watchers-probe.ts [ROOT] [WATCHERS] [CONNECTIONS] [WRITES]
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { fork } from "node:child_process";
import path from "node:path";
import { StallableConnection } from "../server/test/stallable-connection.js";
import { freePort, installCleanup, sleep, stopChild, track } from "./lib/procs.js";

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

let peak = before;
const sampler = setInterval(() => void rss().then((value) => (peak = Math.max(peak, value))), 200);
const value = new Uint8Array(990_000);
for (let i = 0; i < writes; i++) {
  await kv.set({ key, value });
}
await sleep(3000);
clearInterval(sampler);
const after = await rss();
peak = Math.max(peak, after);

let slowestGetMs = 0;
let pinging = true;
const pinger = (async () => {
  while (pinging) {
    const start = performance.now();
    await kv.get({ key: "absent" }).catch(() => {});
    slowestGetMs = Math.max(slowestGetMs, performance.now() - start);
    await sleep(20);
  }
})();
await sleep(200);
for (const connection of connections) connection.close();
await sleep(3000);
pinging = false;
await pinger;

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
    slowestGetWhileClosingMs: Math.round(slowestGetMs),
  }),
);
await stopChild(server);
process.exit(0);
