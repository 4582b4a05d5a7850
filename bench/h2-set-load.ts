// A small node:http2 load generator for the "Set with a new value every
// request" rows, which h2load cannot do (it sends one fixed body, and
// keyquarry's Set returns early when the value is unchanged, while etcd
// writes a new revision on every Put). Sends KeyValue / PutRequest
// {key=1, value=2} (the same bytes for both) with a 100-byte value whose
// first 12 bytes are a counter, and checks grpc-status on every response.
// Optional: "keys": N spreads the requests over N keys (`key/000042`, in
// turn); "requests": N stops the measured phase after N requests (else at
// "seconds").
// Usage: node --import tsx bench/h2-set-load.ts '{"port":1,"path":"/...","connections":8,"streams":16,"seconds":3,"warmupSeconds":1}'
// Prints one JSON line.
import http2 from "node:http2";
import { grpcFrame, lenField } from "./lib/proto.js";
import { summarize } from "./lib/stats.js";

interface Settings {
  port: number;
  path: string;
  key: string;
  connections: number;
  streams: number;
  seconds: number;
  warmupSeconds: number;
  keys?: number;
  requests?: number;
}

const settings = JSON.parse(process.argv[2] ?? "{}") as Settings;
const headers = {
  ":method": "POST",
  ":path": settings.path,
  "content-type": "application/grpc",
  te: "trailers",
  client_id: "bench",
};
const counterWidth = 12;
const keys = settings.keys ?? 1;
const keyWidth = String(keys - 1).length;
const key = keys === 1 ? settings.key : `${settings.key}/${"0".repeat(keyWidth)}`;
const template = grpcFrame(Buffer.concat([lenField(1, key), lenField(2, Buffer.from("v".repeat(100)))]));
// The value is the last 100 bytes of the frame; the key's number ends 2 bytes before it (value tag and length).
const valueOffset = template.length - 100;
const keyNumberOffset = valueOffset - 2 - keyWidth;
let counter = 0;

function nextBody(): Buffer {
  const body = Buffer.from(template);
  if (keys > 1) body.write(String(counter % keys).padStart(keyWidth, "0"), keyNumberOffset, keyWidth, "latin1");
  body.write(String(counter++).padStart(counterWidth, "0"), valueOffset, counterWidth, "latin1");
  return body;
}

interface Tally {
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  latencies: number[];
}

function call(session: http2.ClientHttp2Session, tally: Tally | undefined): Promise<void> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const stream = session.request(headers);
    let status: string | undefined;
    stream.once("response", (h) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
    });
    stream.on("trailers", (t) => {
      if (t["grpc-status"] !== undefined) status = String(t["grpc-status"]);
    });
    stream.on("data", () => {});
    const done = (failed: boolean) => {
      if (tally !== undefined) {
        const code = failed ? "stream-error" : (status ?? "none");
        if (code === "0") {
          tally.ok++;
          tally.latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        } else {
          tally.errors++;
          tally.statuses[code] = (tally.statuses[code] ?? 0) + 1;
        }
      }
      resolve();
    };
    stream.once("end", () => done(false));
    stream.once("error", () => done(true));
    stream.end(nextBody());
  });
}

async function phase(sessions: http2.ClientHttp2Session[], seconds: number, tally: Tally | undefined, requests = Infinity): Promise<number> {
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let sent = 0;
  // Bounded: each loop stops at the deadline, after `requests` in all, or after 10M calls.
  const loops = sessions.flatMap((session) =>
    Array.from({ length: settings.streams }, async () => {
      for (let i = 0; i < 10_000_000 && sent < requests && process.hrtime.bigint() < end; i++) {
        sent++;
        await call(session, tally);
      }
    }),
  );
  await Promise.all(loops);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const sessions = Array.from({ length: settings.connections }, () => {
  const session = http2.connect(`http://127.0.0.1:${settings.port}`);
  session.on("error", () => {});
  return session;
});
await phase(sessions, settings.warmupSeconds, undefined);
const tally: Tally = { ok: 0, errors: 0, statuses: {}, latencies: [] };
const cpuStart = process.cpuUsage();
const elapsed = await phase(sessions, settings.seconds, tally, settings.requests);
const cpu = process.cpuUsage(cpuStart);
for (const session of sessions) session.close();
const s = summarize(Float64Array.from(tally.latencies));
process.stdout.write(
  `${JSON.stringify({
    ok: tally.ok,
    errors: tally.errors,
    statuses: tally.statuses,
    elapsedS: elapsed,
    rps: tally.ok / elapsed,
    p50Ms: s.p50,
    p90Ms: s.p90,
    p99Ms: s.p99,
    meanMs: s.mean,
    generatorCpuPct: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
  })}\n`,
);
