// etcd as the bench runs it: members on loopback, each one's data (WAL,
// fsynced as usual) in a directory of the caller's; and etcd's own count of
// the gRPC calls it handled, by method and status.
import type { ChildProcess } from "node:child_process";
import { spawnTracked } from "./procs.js";

/** One etcd member of a cluster whose members are `initialCluster` ("name=http://127.0.0.1:peerPort,..."). */
export interface EtcdMember {
  name: string;
  dataDir: string;
  port: number;
  peerPort: number;
  initialCluster: string;
}

/**
 * Starts an etcd member serving clients on 127.0.0.1:port (tracked, so it is
 * stopped on exit): errors-only logs, an 8 GiB quota so that long Put runs
 * never hit the default 2 GiB one.
 */
export function spawnEtcdMember(m: EtcdMember): ChildProcess {
  return spawnTracked("etcd", [
    "--name", m.name,
    "--data-dir", m.dataDir,
    "--listen-client-urls", `http://127.0.0.1:${m.port}`,
    "--advertise-client-urls", `http://127.0.0.1:${m.port}`,
    "--listen-peer-urls", `http://127.0.0.1:${m.peerPort}`,
    "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peerPort}`,
    "--initial-cluster", m.initialCluster,
    "--initial-cluster-state", "new",
    "--logger", "zap",
    "--log-level", "error",
    "--quota-backend-bytes", String(8 * 1024 * 1024 * 1024),
  ]);
}

/** Starts a single-member etcd serving clients on 127.0.0.1:port. */
export function spawnEtcd(dataDir: string, port: number, peerPort: number): ChildProcess {
  return spawnEtcdMember({ name: "bench", dataDir, port, peerPort, initialCluster: `bench=http://127.0.0.1:${peerPort}` });
}

/** etcd's grpc_server_handled_total of its KV service, by "method code" (e.g. "Put OK"). */
export async function etcdHandled(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^grpc_server_handled_total\{grpc_code="(\w+)",grpc_method="(\w+)",grpc_service="etcdserverpb\.KV",grpc_type="unary"\} (\S+)/.exec(line);
    if (m && m[1] !== undefined && m[2] !== undefined) counts.set(`${m[2]} ${m[1]}`, Number(m[3]));
  }
  return counts;
}

/**
 * etcd's counters once they stop moving: the requests the warm-up cut off
 * when its time was up are counted (as Unknown) a little later.
 */
export async function settledEtcdHandled(port: number): Promise<Map<string, number> | undefined> {
  const total = (m: Map<string, number> | undefined) => (m === undefined ? -1 : [...m.values()].reduce((a, b) => a + b, 0));
  let previous = await etcdHandled(port).catch(() => undefined);
  for (let i = 0; i < 15; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const current = await etcdHandled(port).catch(() => undefined);
    if (total(current) === total(previous)) return current;
    previous = current;
  }
  return previous;
}

/** The calls of `method` ("Put", "Range") that etcd answered with another code than OK between two counts, and by code. */
export function etcdErrorsBetween(before: Map<string, number>, after: Map<string, number>, method: string): { errors: number; codes: string[] } {
  let errors = 0;
  const codes: string[] = [];
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (k.startsWith(`${method} `) && !k.endsWith(" OK") && d > 0) {
      errors += d;
      codes.push(`${k.split(" ")[1]} ${d}`);
    }
  }
  return { errors, codes };
}
