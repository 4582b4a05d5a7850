/**
 * keyquarry nodes of one cluster, as `keyquarry serve` processes (the built
 * bin) joined to a NATS JetStream cluster of the test's own: each node with
 * its own data directory, killable and restartable with the same settings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import type { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { createClients } from "./create-clients.js";
import type { NatsCluster } from "./nats-cluster.js";
import { spawnServe, type ServeProcess } from "./spawn-serve.js";

/** One running node. */
export interface ClusterNode {
  process: ServeProcess;
  url: string;
  /** gRPC clients of the node as `clientId`. */
  clients(clientId: string): { kv: Client<typeof KeyQuarry>; admin: Client<typeof Admin> };
}

/** What {@link startKeyquarryCluster} starts. */
export interface KeyquarryClusterOptions {
  nats: NatsCluster;
  /** The stream's name (one per test file keeps tests apart). */
  name: string;
  nodes?: number;
  /** More `serve` arguments for every node. */
  args?: string[];
  /** More environment for every node (KEYQUARRY_CLUSTER_* options). */
  env?: Record<string, string>;
}

/** Nodes of one cluster; indexes are 0-based. */
export class KeyquarryCluster {
  readonly nodes: Array<ClusterNode | undefined> = [];
  private readonly dataDirs: string[] = [];

  constructor(private readonly options: KeyquarryClusterOptions) {}

  /** Node i, which must be running. */
  node(i: number): ClusterNode {
    const node = this.nodes[i];
    if (node === undefined) {
      throw new Error(`node ${i} is not running`);
    }
    return node;
  }

  /** Starts node i (again, with its data directory, when it ran before); resolves once it listens (it has caught up). */
  async start(i: number, extra: { args?: string[]; env?: Record<string, string> } = {}): Promise<ClusterNode> {
    this.dataDirs[i] ??= mkdtempSync(join(tmpdir(), `kq-node${i}-`));
    const { nats, name } = this.options;
    const process = await spawnServe({
      args: ["--cluster-nats-urls", nats.url, "--cluster-name", name, ...(this.options.args ?? []), ...(extra.args ?? [])],
      env: { KEYQUARRY_DATA_DIR: this.dataDirs[i]!, ...this.options.env, ...extra.env },
    });
    const node: ClusterNode = { process, url: process.url, clients: (clientId) => createClients("grpc", process.url, clientId) };
    this.nodes[i] = node;
    return node;
  }

  /** SIGKILLs node i (a crash) and waits for it to exit. */
  async kill(i: number): Promise<void> {
    const { process } = this.node(i);
    this.nodes[i] = undefined;
    process.child.kill("SIGKILL");
    await process.exited;
  }

  /** Stops every node (SIGKILL) and removes their data directories. */
  async close(): Promise<void> {
    for (const node of this.nodes) {
      node?.process.child.kill("SIGKILL");
    }
    await Promise.all(this.nodes.map((node) => node?.process.exited));
    for (const dir of this.dataDirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Starts `nodes` (3) nodes of a cluster on `nats`, one after the other. */
export async function startKeyquarryCluster(options: KeyquarryClusterOptions): Promise<KeyquarryCluster> {
  const cluster = new KeyquarryCluster(options);
  try {
    for (let i = 0; i < (options.nodes ?? 3); i++) {
      await cluster.start(i);
    }
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
