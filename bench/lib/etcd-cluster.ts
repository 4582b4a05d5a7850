// A 3-member etcd cluster on loopback for the cluster stage: free client and
// peer ports, each member's data dir under the caller's dir, and every
// member listed in --initial-cluster.
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { freePorts } from "../../server/test/kit/free-port.js";
import { spawnEtcdMember } from "./etcd-process.js";
import { grpcCall } from "./grpc-call.js";
import { keepStderr, sleep, startedListening, stopChild } from "./procs.js";
import { benchValue, grpcFrame, lenField } from "./proto.js";

/** A running etcd cluster. */
export interface EtcdCluster {
  /** Each member's client port on 127.0.0.1. */
  ports: number[];
  members: ChildProcess[];
  /** Stops every member. */
  stop(): Promise<void>;
}

/**
 * Starts `size` etcd members forming one cluster and resolves once a Put
 * succeeds through every member (a leader is elected and each member
 * reaches it). Stops them and throws if they do not within a minute.
 */
export async function startEtcdCluster(dir: string, size = 3): Promise<EtcdCluster> {
  const ports = await freePorts(2 * size);
  const members = Array.from({ length: size }, (_, i) => ({ name: `etcd-${i + 1}`, dataDir: path.join(dir, `etcd-${i + 1}`), port: ports[2 * i]!, peerPort: ports[2 * i + 1]! }));
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
  const children = members.map((m) => keepStderr(spawnEtcdMember({ ...m, initialCluster })));
  const stop = async () => void (await Promise.all(children.map((child) => stopChild(child, 10_000))));
  try {
    await Promise.all(members.map((m, i) => startedListening(children[i]!, m.port, m.name)));
    const put = grpcFrame(Buffer.concat([lenField(1, "bench-ready"), lenField(2, benchValue)]));
    const deadline = Date.now() + 60_000;
    for (const m of members) {
      for (;;) {
        const result = await grpcCall(m.port, "/etcdserverpb.KV/Put", put, 5_000).catch((err: unknown) => ({ grpcStatus: undefined, grpcMessage: String(err) }));
        if (result.grpcStatus === "0") break;
        if (Date.now() > deadline) throw new Error(`${m.name}: no successful Put within 60 s (last: grpc-status ${result.grpcStatus} ${result.grpcMessage ?? ""})`);
        await sleep(200);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports: members.map((m) => m.port), members: children, stop };
}
