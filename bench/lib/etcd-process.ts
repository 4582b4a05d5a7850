// etcd as the bench runs it: one member on loopback, its data (WAL, fsynced
// as usual) in a directory of the caller's.
import type { ChildProcess } from "node:child_process";
import { spawnTracked } from "./procs.js";

/**
 * Starts a single-member etcd serving clients on 127.0.0.1:port (tracked, so
 * it is stopped on exit): errors-only logs, an 8 GiB quota so that long
 * Put runs never hit the default 2 GiB one.
 */
export function spawnEtcd(dataDir: string, port: number, peerPort: number): ChildProcess {
  return spawnTracked("etcd", [
    "--name", "bench",
    "--data-dir", dataDir,
    "--listen-client-urls", `http://127.0.0.1:${port}`,
    "--advertise-client-urls", `http://127.0.0.1:${port}`,
    "--listen-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-cluster", `bench=http://127.0.0.1:${peerPort}`,
    "--logger", "zap",
    "--log-level", "error",
    "--quota-backend-bytes", String(8 * 1024 * 1024 * 1024),
  ]);
}
