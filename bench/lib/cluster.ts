// The bench's "cluster" stage (issue 17): a keyquarry cluster — 3 nodes on a
// 3-server NATS JetStream cluster (the test kit's nats-cluster.ts) — against
// a 3-member etcd cluster, on the same machine in one run. gRPC writes
// (keyquarry Set, etcd Put) and linearizable reads (keyquarry Get in its
// default read consistency, etcd Range in its default, linearizable) with
// h2load: through one node, and through all three at once (one h2load per
// node, their req/s summed, the worst p99). All reads come first, then all
// writes, so that etcd's Ranges do not pay for the Puts' revisions.
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { freePorts } from "../../server/test/kit/free-port.js";
import { startNatsCluster, type NatsCluster } from "../../server/test/kit/nats-cluster.js";
import { startEtcdCluster, type EtcdCluster } from "./etcd-cluster.js";
import { etcdErrorsBetween, etcdHandled, settledEtcdHandled } from "./etcd-process.js";
import { grpcCall } from "./grpc-call.js";
import { runH2load, type H2loadResult, type H2loadRounds } from "./h2load.js";
import { spawnKeyquarry } from "./keyquarry-process.js";
import { keepStderr, startedListening, stderrTail, stopChild, which } from "./procs.js";
import { benchValue, getResponseValue, grpcFrame, lenField, rangeResponseValue } from "./proto.js";
import { median, ratio } from "./stats.js";

/** Sizes of the stage; clients and streams are per h2load process. */
export type ClusterSettings = H2loadRounds;

/** Full and quick sizes. */
export const clusterSettings = (quick: boolean): ClusterSettings =>
  quick ? { rounds: 1, seconds: 2, warmupSeconds: 0.5, clients: 8, streams: 16 } : { rounds: 3, seconds: 4, warmupSeconds: 1, clients: 8, streams: 16 };

type System = "etcd" | "keyquarry";
type Op = "read" | "write";
type Scope = "one" | "all";

/** One measurement of a row: one h2load per node reached, at the same time. */
export interface ClusterRound {
  /** Summed over the nodes. */
  rps?: number;
  /** The worst node's p99. */
  p99Ms?: number;
  perNodeRps: Array<number | undefined>;
  requests: number;
  /** Requests h2load did not complete, plus gRPC errors (grpc-status != 0). */
  errors: number;
  error?: string;
}

/** A row: a system, an operation, through one node or all three, its rounds and their medians. */
export interface ClusterRow {
  system: System;
  op: Op;
  scope: Scope;
  label: string;
  rps?: number;
  p99Ms?: number;
  rounds: ClusterRound[];
}

/** What the stage measured. */
export interface ClusterResult {
  settings: ClusterSettings;
  rows: ClusterRow[];
  /** keyquarry ÷ etcd req/s per operation and scope ("writeOne", "readAll", ...). */
  ratios: Record<string, number | undefined>;
  /** Why a system was not measured. */
  errors: Partial<Record<System, string>>;
  /** Servers that exited while they were measured (their rows are suspect). */
  earlyExits: string[];
}

/** A system's nodes as h2load reaches them. */
interface Nodes {
  system: System;
  ports: number[];
  path: Record<Op, string>;
  bodyFile: Record<Op, string>;
  /** DATA bytes of one successful response (keyquarry's are fixed-size); etcd counts its own errors instead. */
  responseBytes?: Record<Op, number>;
}

const labels: Record<System, Record<Op, string>> = {
  etcd: { write: "etcd Put", read: "etcd Range (linearizable)" },
  keyquarry: { write: "keyquarry Set", read: "keyquarry Get (linearizable)" },
};

/** One unary call that must succeed; its response message. */
async function call(port: number, route: string, body: Buffer): Promise<Buffer> {
  const result = await grpcCall(port, route, grpcFrame(body), 15_000);
  const message = result.messages[0];
  if (result.grpcStatus !== "0" || message === undefined) throw new Error(`${route} on port ${port}: grpc-status ${result.grpcStatus} ${result.grpcMessage ?? ""}`);
  return message;
}

/**
 * Starts the keyquarry cluster (3 NATS servers, 3 nodes) and checks that a
 * Set through node 1 is read through nodes 2 and 3.
 */
async function startKeyquarryCluster(node: string, rootDir: string, tmp: string, children: ChildProcess[], log: (line: string) => void): Promise<{ nats: NatsCluster; ports: number[] }> {
  const nats = await startNatsCluster({ size: 3, jetstream: { maxFile: "4GB", maxMem: "256MB" } });
  log(`cluster: NATS JetStream cluster up (${nats.url})`);
  try {
    const ports = await freePorts(3);
    ports.forEach((port, i) =>
      children.push(keepStderr(spawnKeyquarry(node, rootDir, port, path.join(tmp, `cluster-kq-${i + 1}`), { args: ["--cluster-nats-urls", nats.url, "--cluster-name", "bench"] }))),
    );
    try {
      await Promise.all(ports.map((port, i) => startedListening(children[i]!, port, `keyquarry node ${i + 1}`)));
    } catch (err) {
      throw new Error(`keyquarry refused to start as a cluster node (serve --cluster-nats-urls URLS --cluster-name bench): ${err instanceof Error ? err.message : String(err)}`);
    }
    await call(ports[0]!, "/keyquarry.KeyQuarry/Set", Buffer.concat([lenField(1, "bench"), lenField(2, benchValue)]));
    for (const port of ports.slice(1)) {
      if (!getResponseValue(await call(port, "/keyquarry.KeyQuarry/Get", lenField(1, "bench")))?.equals(benchValue)) {
        throw new Error(`a Get through port ${port} does not return the value just Set through another node`);
      }
    }
    return { nats, ports };
  } catch (err) {
    await nats.close();
    throw err;
  }
}

/** One round of a row: h2load on each port at once. */
async function measure(nodes: Nodes, op: Op, ports: number[], s: ClusterSettings, tmp: string): Promise<ClusterRound> {
  const before = new Map<number, Map<string, number> | undefined>();
  const results = await Promise.all(
    ports.map((port) =>
      runH2load(
        `http://127.0.0.1:${port}${nodes.path[op]}`,
        nodes.bodyFile[op],
        { clients: s.clients, streams: s.streams, seconds: s.seconds, warmupSeconds: s.warmupSeconds },
        path.join(tmp, `h2load-cluster-${port}.log`),
        nodes.system === "etcd" ? async () => void before.set(port, await settledEtcdHandled(port)) : undefined,
      ),
    ),
  );
  let errors = 0;
  for (const [i, result] of results.entries()) {
    errors += result.failed + result.errored + result.timeout + (result.requests - result.done);
    errors += await grpcErrors(nodes, op, ports[i]!, result, before.get(ports[i]!));
  }
  const failed = results.find((r) => !r.ok);
  const perNodeRps = results.map((r) => r.rps);
  return {
    rps: perNodeRps.every((v) => v !== undefined) ? perNodeRps.reduce((a: number, b) => a + b!, 0) : undefined,
    p99Ms: results.every((r) => r.p99Ms !== undefined) ? Math.max(...results.map((r) => r.p99Ms!)) : undefined,
    perNodeRps,
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    errors,
    error: failed?.error,
  };
}

/** Responses that were gRPC errors: etcd's own count, or keyquarry's missing DATA bytes. */
async function grpcErrors(nodes: Nodes, op: Op, port: number, result: H2loadResult, before: Map<string, number> | undefined): Promise<number> {
  if (nodes.responseBytes !== undefined) return Math.max(0, result.done - Math.floor(result.dataBytes / nodes.responseBytes[op]));
  const after = await etcdHandled(port).catch(() => undefined);
  if (before === undefined || after === undefined) return 0;
  return etcdErrorsBetween(before, after, op === "read" ? "Range" : "Put").errors;
}

/** Runs the stage: starts both clusters, measures, stops them before returning. */
export async function runCluster(node: string, rootDir: string, tmp: string, s: ClusterSettings, log: (line: string) => void): Promise<ClusterResult> {
  const result: ClusterResult = { settings: s, rows: [], ratios: {}, errors: {}, earlyExits: [] };
  const bodies = {
    get: path.join(tmp, "cluster-get.bin"),
    set: path.join(tmp, "cluster-set.bin"),
  };
  // The same bytes for both: KeyValue / PutRequest {key=1, value=2}, Key / RangeRequest {key=1}.
  writeFileSync(bodies.get, grpcFrame(lenField(1, "bench")));
  writeFileSync(bodies.set, grpcFrame(Buffer.concat([lenField(1, "bench-set"), lenField(2, benchValue)])));
  const systems: Nodes[] = [];
  const children: ChildProcess[] = [];
  let etcd: EtcdCluster | undefined;
  let nats: NatsCluster | undefined;
  let measuring = false;
  try {
    if (!(await which("h2load"))) throw new Error("h2load not found (apt-get install -y nghttp2-client)");
    if (await which("etcd")) {
      try {
        etcd = await startEtcdCluster(path.join(tmp, "cluster-etcd"));
        await call(etcd.ports[0]!, "/etcdserverpb.KV/Put", Buffer.concat([lenField(1, "bench"), lenField(2, benchValue)]));
        for (const port of etcd.ports) {
          if (!rangeResponseValue(await call(port, "/etcdserverpb.KV/Range", lenField(1, "bench")))?.equals(benchValue)) throw new Error(`a Range through port ${port} does not return the value just Put`);
        }
        systems.push({ system: "etcd", ports: etcd.ports, path: { read: "/etcdserverpb.KV/Range", write: "/etcdserverpb.KV/Put" }, bodyFile: { read: bodies.get, write: bodies.set } });
        log(`cluster: etcd 3-member cluster up (client ports ${etcd.ports.join(", ")})`);
      } catch (err) {
        result.errors.etcd = err instanceof Error ? err.message : String(err);
      }
    } else {
      result.errors.etcd = "etcd not found (apt-get install -y etcd-server)";
    }
    try {
      const kq = await startKeyquarryCluster(node, rootDir, tmp, children, log);
      nats = kq.nats;
      const paths = { read: "/keyquarry.KeyQuarry/Get", write: "/keyquarry.KeyQuarry/Set" };
      // Twice: the first Set creates the key (a longer response); the load only updates it.
      const setBody = Buffer.concat([lenField(1, "bench-set"), lenField(2, benchValue)]);
      await call(kq.ports[0]!, paths.write, setBody);
      const responseBytes = {
        write: (await call(kq.ports[0]!, paths.write, setBody)).length + 5,
        read: (await call(kq.ports[0]!, paths.read, lenField(1, "bench"))).length + 5,
      };
      systems.push({ system: "keyquarry", ports: kq.ports, path: paths, bodyFile: { read: bodies.get, write: bodies.set }, responseBytes });
      log(`cluster: keyquarry 3-node cluster up (ports ${kq.ports.join(", ")})`);
    } catch (err) {
      result.errors.keyquarry = err instanceof Error ? err.message : String(err);
    }
    for (const [system, error] of Object.entries(result.errors)) log(`cluster: ${system} not measured: ${error}`);
    const servers = [...(etcd?.members ?? []).map((child, i) => ({ child, name: `etcd member ${i + 1}` })), ...children.map((child, i) => ({ child, name: `keyquarry node ${i + 1}` }))];
    for (const { child, name } of servers) {
      child.once("exit", (code, signal) => {
        if (measuring) {
          result.earlyExits.push(`${name} exited (code ${code}, signal ${signal}): ${stderrTail(child)}`);
          log(`  ! ${result.earlyExits.at(-1)}`);
        }
      });
    }
    measuring = true;

    log(`cluster: ${s.rounds} round(s) of ${s.seconds} s per row, -c${s.clients} -m${s.streams} per h2load ...`);
    for (const op of ["read", "write"] as const) {
      for (let r = 0; r < s.rounds; r++) {
        for (const scope of ["one", "all"] as const) {
          // The systems take turns going first.
          const order = r % 2 === 0 ? systems : [...systems].reverse();
          for (const nodes of order) {
            let row = result.rows.find((x) => x.system === nodes.system && x.op === op && x.scope === scope);
            if (row === undefined) {
              row = { system: nodes.system, op, scope, label: `${labels[nodes.system][op]}, ${scope === "one" ? "one node" : "all three"}`, rounds: [] };
              result.rows.push(row);
            }
            const round = await measure(nodes, op, scope === "one" ? nodes.ports.slice(0, 1) : nodes.ports, s, tmp);
            row.rounds.push(round);
            const ms = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
            log(`  ${row.label.padEnd(44)} ${String(Math.round(round.rps ?? 0)).padStart(7)} req/s  p99 ${ms(round.p99Ms)} ms${round.errors ? `  ${round.errors} errors` : ""}${round.error ? `  ${round.error}` : ""}`);
          }
        }
      }
    }
    measuring = false;
    for (const row of result.rows) {
      const clean = row.rounds.filter((x) => x.error === undefined && x.errors === 0);
      row.rps = median(clean.map((x) => x.rps));
      row.p99Ms = median(clean.map((x) => x.p99Ms));
    }
    const rps = (system: System, op: Op, scope: Scope) => result.rows.find((x) => x.system === system && x.op === op && x.scope === scope)?.rps;
    for (const op of ["read", "write"] as const) {
      for (const scope of ["one", "all"] as const) {
        result.ratios[`${op}${scope === "one" ? "One" : "All"}`] = ratio(rps("keyquarry", op, scope), rps("etcd", op, scope));
      }
    }
  } finally {
    measuring = false;
    await Promise.all(children.map((child) => stopChild(child, 30_000)));
    await nats?.close();
    await etcd?.stop();
  }
  return result;
}

/** The stage's report lines and its targets (keyquarry ÷ etcd ≥ 1.0x for writes and reads, through one node and all three). */
export function clusterReport(r: ClusterResult): { lines: string[]; targets: Array<{ check: string; measured: number | null; target: string; pass: boolean | null }> } {
  const s = r.settings;
  const fmt = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
  const int = (v: number | undefined) => (v === undefined ? "–" : Math.round(v).toLocaleString("en-US"));
  const lines = [
    `Cluster — 3 keyquarry nodes on a 3-server NATS JetStream cluster vs a 3-member etcd cluster, gRPC via h2load, -c${s.clients} -m${s.streams} per h2load, ${s.rounds} round(s) of ${s.seconds} s per row (medians)`,
    "  through all three: one h2load per node at once, req/s summed, p99 of the worst node; 100-byte value, the same Set/Put body on every request",
    `${"row".padEnd(48)}${"req/s".padStart(9)}${"p99 ms".padStart(9)}${"÷ etcd".padStart(9)}`,
  ];
  for (const row of r.rows) {
    const etcdRow = r.rows.find((x) => x.system === "etcd" && x.op === row.op && x.scope === row.scope);
    const x = row.system === "etcd" ? "" : ((v) => (v === undefined ? "–" : `${v.toFixed(2)}x`))(ratio(row.rps, etcdRow?.rps));
    const dirty = row.rounds.some((round) => round.error !== undefined || round.errors > 0) ? " !" : "";
    lines.push(`${(row.label + dirty).padEnd(48)}${int(row.rps).padStart(9)}${fmt(row.p99Ms).padStart(9)}${x.padStart(9)}`);
  }
  for (const [system, error] of Object.entries(r.errors)) lines.push(`  ${system} not measured: ${error}`);
  for (const exit of r.earlyExits) lines.push(`  ! ${exit}`);
  const checks: Array<[string, string]> = [
    ["writeOne", "cluster Set ÷ etcd Put, one node"],
    ["writeAll", "cluster Set ÷ etcd Put, all three"],
    ["readOne", "cluster Get ÷ etcd Range, one node"],
    ["readAll", "cluster Get ÷ etcd Range, all three"],
  ];
  return {
    lines,
    targets: checks.map(([key, check]) => {
      const measured = r.ratios[key];
      return { check, measured: measured ?? null, target: "≥ 1.0x", pass: measured === undefined ? null : measured >= 1 };
    }),
  };
}
