import { randomUUID } from "node:crypto";
import { deserialize } from "node:v8";
import type { Config } from "../config/config.js";
import type { Clock } from "../store/clock.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import type { StoreState } from "../store/store-state.js";
import { CommandStream, startRetryMs } from "./command-stream.js";
import { Replica, type ReplicaLogger } from "./replica.js";

/** How a node joined: where its state came from, for the start-up log. */
export interface Joined {
  replica: Replica;
  /** The stream position the node started from (its local snapshot's, the published snapshot's, or 0). */
  startedFrom: bigint;
  /** Whether it started from the snapshot the nodes publish (it was behind the stream's start). */
  fromPublishedSnapshot: boolean;
  /** Commands applied to catch up. */
  caughtUp: bigint;
}

/**
 * Joins the cluster of `config.cluster`: opens its stream (creating it if
 * need be), starts from `restored` (a new store, or one restored from this
 * node's snapshot) unless the stream no longer holds the commands after it
 * (then from the published snapshot, into a store from `newStore`), and
 * applies the stream until it has caught up. Refuses a state the stream
 * does not continue (a local snapshot past the stream's end: another cluster's),
 * and `settings` other than those the cluster's first node recorded.
 */
export async function joinCluster(
  config: Config,
  settings: Record<string, unknown>,
  restored: KeyValueStore,
  newStore: () => KeyValueStore,
  clock: Clock,
  log: ReplicaLogger,
): Promise<Joined> {
  const { cluster } = config;
  const servers = cluster.natsUrls.split(",").map((url) => url.trim());
  const stream = await CommandStream.open({
    servers,
    name: cluster.name,
    replicas: cluster.replicas,
    maxMessages: cluster.streamMaxMessages,
    token: cluster.natsToken,
    user: cluster.natsUser,
    password: cluster.natsPassword,
    credsFile: cluster.natsCreds,
    tls: { caFile: cluster.natsTlsCa || undefined, certFile: cluster.natsTlsCert || undefined, keyFile: cluster.natsTlsKey || undefined },
    connectionName: `keyquarry ${config.name}`,
  }).catch((error: unknown) => {
    throw new Error(`cannot join the cluster through ${servers.join(",")}: ${(error as Error).message}`, { cause: error });
  });
  try {
    await checkSettings(stream, settings);
    const { first, last } = await stream.bounds(startRetryMs);
    let store = restored;
    let fromPublishedSnapshot = false;
    if (store.commandSeq > last) {
      throw new Error(
        `this node's snapshot covers the cluster's log up to ${store.commandSeq}, but stream ${cluster.name} ends at ${last}: it belongs to another cluster (or the stream was deleted); start with --fresh`,
      );
    }
    if (store.commandSeq + 1n < first) {
      const published = await stream.publishedSnapshot();
      if (published === undefined || published.seq + 1n < first) {
        throw new Error(
          `stream ${cluster.name} starts at ${first}, after this node's state (${store.commandSeq}), and no published snapshot covers what it discarded` +
            (published === undefined ? "" : ` (the published one covers up to ${published.seq})`) +
            "; raise cluster.stream_max_messages or lower cluster.snapshot_interval",
        );
      }
      store = newStore();
      store.importState(deserialize(published.bytes) as StoreState);
      fromPublishedSnapshot = true;
    }
    const startedFrom = store.commandSeq;
    const replica = new Replica(store, stream, clock, randomUUID(), log);
    await replica.start(last);
    return { replica, startedFrom, fromPublishedSnapshot, caughtUp: replica.applied - startedFrom };
  } catch (error) {
    await stream.close();
    throw error;
  }
}

/**
 * Refuses to join a cluster whose nodes run with other store settings: every
 * node checks each command against its own (max_keys, lock durations...),
 * so nodes that differ would apply the same log differently.
 */
async function checkSettings(stream: CommandStream, settings: Record<string, unknown>): Promise<void> {
  const ours = JSON.stringify(settings, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value));
  const recorded = JSON.parse(await stream.agreeOnSettings(ours)) as Record<string, unknown>;
  const mine = JSON.parse(ours) as Record<string, unknown>;
  const differ = Object.keys({ ...recorded, ...mine }).filter((key) => JSON.stringify(recorded[key]) !== JSON.stringify(mine[key]));
  if (differ.length > 0) {
    const option = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    const show = (values: Record<string, unknown>) => differ.map((key) => `${option(key)}=${JSON.stringify(values[key])}`).join(", ");
    throw new Error(
      `this node's settings differ from the cluster's (${show(mine)} here, ${show(recorded)} in the cluster): every node must apply the log with the same settings`,
    );
  }
}
