/**
 * The NATS cluster kit: three Debian nats-server processes form a JetStream
 * cluster that holds an R3 stream, keeps acknowledging publishes when the
 * stream's leader is killed, and takes the server back with its store.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, describe, expect, test } from "vitest";
import { startNatsCluster, type NatsCluster } from "./kit/nats-cluster.js";

let cluster: NatsCluster | undefined;
let connection: NatsConnection | undefined;

afterEach(async () => {
  await connection?.close();
  await cluster?.close();
  connection = undefined;
  cluster = undefined;
});

/**
 * Publishes until acknowledged, with one msgID so a retry after a lost ack
 * is not stored twice: while a new stream leader is elected a publish may
 * time out or find no responder.
 */
async function publishAcked(js: JetStreamClient, subject: string, data: string): Promise<PubAck> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await js.publish(subject, data, { msgID: data, timeout: 2_000 });
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
    }
  }
}

describe("startNatsCluster", () => {
  test("three servers hold an R3 stream that survives killing its leader, and the server comes back", { timeout: 90_000 }, async () => {
    cluster = await startNatsCluster({ size: 3 });
    expect(cluster.urls).toHaveLength(3);
    expect(new Set(cluster.urls).size).toBe(3);
    expect(cluster.url).toBe(cluster.urls.join(","));
    // Every server sees the same JetStream meta leader, one of the three.
    const metaLeaders = await Promise.all(
      cluster.monitorUrls.map(async (url) => ((await (await fetch(`${url}/jsz`)).json()) as { meta_cluster?: { leader?: string } }).meta_cluster?.leader),
    );
    expect(new Set(metaLeaders).size).toBe(1);
    expect(["n1", "n2", "n3"]).toContain(metaLeaders[0]);
    connection = await connect({ servers: cluster.urls });
    const jsm = await jetstreamManager(connection);
    const js = jetstream(connection);

    await jsm.streams.add({ name: "kit", subjects: ["kit.>"], num_replicas: 3 });
    expect((await publishAcked(js, "kit.a", "one")).seq).toBe(1);
    const info = await jsm.streams.info("kit");
    expect(info.cluster?.replicas).toHaveLength(2);
    const leader = Number(info.cluster!.leader!.slice(1)) - 1;
    expect([0, 1, 2]).toContain(leader);

    await cluster.kill(leader);
    const afterKill = await publishAcked(js, "kit.a", "two");
    expect(afterKill.seq).toBe(2);
    expect(afterKill.duplicate).toBe(false);
    expect((await jsm.streams.info("kit")).cluster?.leader).not.toBe(`n${leader + 1}`);

    await cluster.start(leader);
    expect((await publishAcked(js, "kit.a", "three")).seq).toBe(3);
    const messages = await Promise.all([1, 2, 3].map((seq) => jsm.streams.getMessage("kit", { seq })));
    expect(messages.map((m) => m?.string())).toEqual(["one", "two", "three"]);

    // A clean stop then start keeps the store too: the stream is still R3 with every message.
    await cluster.stop(leader);
    await cluster.start(leader);
    const back = await jsm.streams.info("kit");
    expect(back.state.messages).toBe(3);
    expect([back.cluster!.leader, ...back.cluster!.replicas!.map((r) => r.name)].sort()).toEqual(["n1", "n2", "n3"]);
  });

  test("a server that cannot start fails the start with its own error", async () => {
    await expect(startNatsCluster({ size: 1, jetstream: { maxMem: "lots" } })).rejects.toThrow(/nats-server n1 exited \(1\):\n.*max_mem/);
  });

  test("size 1 is a single JetStream server", async () => {
    cluster = await startNatsCluster({ size: 1 });
    expect(cluster.urls).toHaveLength(1);
    connection = await connect({ servers: cluster.url });
    const jsm = await jetstreamManager(connection);
    await jsm.streams.add({ name: "solo", subjects: ["solo"] });
    expect((await jetstream(connection).publish("solo", "x")).seq).toBe(1);
    expect(cluster.log(0)).toContain("Server is ready");
  });
});
