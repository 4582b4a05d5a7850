// Cluster mode end to end: a 3-server NATS JetStream cluster (Debian nats-server) and
// keyquarry nodes as real processes on loopback, called over real gRPC.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { KeyEvent, type KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startKeyquarryCluster, type KeyquarryCluster } from "./kit/keyquarry-cluster.js";
import { HistoryRecorder, recordedRegister } from "./kit/linearizability.js";
import { startNatsCluster, type NatsCluster } from "./kit/nats-cluster.js";
import { rejection } from "./kit/rejection.js";
import { ServeExitedError } from "./kit/spawn-serve.js";
import { millis, pollUntil, WatchScope } from "./kit/watch-helpers.js";
import { textValueOf } from "./kit/text-value-of.js";

const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

let nats: NatsCluster;
let cluster: KeyquarryCluster;
const scope = new WatchScope();

beforeAll(async () => {
  nats = await startNatsCluster({ size: 3 });
  cluster = await startKeyquarryCluster({
    nats,
    name: "functional",
    args: ["--privileged-client-id", "boss", "--prometheus", "--monitor-address", "127.0.0.1:0"],
    env: { KEYQUARRY_MIN_LIFESPAN: "100ms" },
  });
}, 120_000);
afterEach(() => scope.cancelAll());
afterAll(async () => {
  await cluster?.close();
  await nats?.close();
}, 60_000);

/** The KeyQuarry client of node i as `clientId`. */
const kv = (i: number, clientId = "tester") => cluster.node(i).clients(clientId).kv;

/**
 * What a node holds (read linearizably, so it has caught up): its revision and
 * every user key's version, value hash and lock state (values of keys other
 * clients locked cannot be read).
 */
async function stateOf(client: Client<typeof KeyQuarry>): Promise<{ revision: bigint; keys: Record<string, string> }> {
  const revision = (await client.stats({})).revision ?? 0n;
  const keys: Record<string, string> = {};
  let cursor = "";
  do {
    const page = await client.listKeys({ pattern: "", cursor });
    for (const key of page.keys) {
      const info = await client.inspect({ key });
      keys[key] = `v${info.version} #${info.hash}${info.locked ? " locked" : ""}`;
    }
    cursor = page.more ? page.nextCursor : "";
  } while (cursor !== "");
  return { revision, keys };
}

describe("a 3-node cluster", () => {
  it("reads on B a write made on A at once, and agrees on the revision", async () => {
    await kv(0).set({ key: "greeting", value: text("hello from A") });
    expect(decode((await kv(1).get({ key: "greeting" })).value)).toBe("hello from A");
    const revisions = await Promise.all([0, 1, 2].map(async (i) => (await kv(i).stats({})).revision));
    expect(new Set(revisions).size).toBe(1);
  });

  it("reports each node's position in the log in Stats and /readyz: the same on every node once caught up", async () => {
    await kv(2).set({ key: "position", value: text("x") });
    const stats = await Promise.all([0, 1, 2].map((i) => kv(i).stats({})));
    expect(stats.map((s) => s.clusterApplied)).toEqual([stats[0]!.clusterApplied, stats[0]!.clusterApplied, stats[0]!.clusterApplied]);
    expect(stats[0]!.clusterApplied).toBeGreaterThan(0n);
    expect(stats.map((s) => s.clusterLag)).toEqual([0n, 0n, 0n]);
    const { monitorAddress } = JSON.parse(/keyquarry listening (\{.*\})/.exec(cluster.node(1).process.stdout())![1]!) as { monitorAddress: string };
    const readyz = await fetch(`${monitorAddress}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).toBe(`ready\ncluster applied ${stats[0]!.clusterApplied}, lag 0\n`);
  });

  it("holds a lock taken on B on C too, and refuses another client there with PERMISSION_DENIED", async () => {
    await kv(1, "owner").lock({ key: "door", duration: millis(60_000), createIfMissing: true });
    const refused = await rejection(kv(2, "intruder").set({ key: "door", value: text("open") }));
    expect(refused.code).toBe(Code.PermissionDenied);
    expect((await rejection(kv(2, "intruder").lock({ key: "door", duration: millis(60_000) }))).code).toBe(Code.PermissionDenied);
    await kv(2, "owner").set({ key: "door", value: text("owner writes through C") });
    await kv(0, "owner").unlock({ key: "door" });
    await kv(2, "intruder").set({ key: "door", value: text("now free") });
  });

  it("gives fencing tokens that strictly increase across nodes", async () => {
    const tokens: bigint[] = [];
    for (let round = 0; round < 9; round++) {
      const node = round % 3;
      const { fencingToken } = await kv(node, `locker-${round}`).lock({ key: `fence-${round}`, duration: millis(60_000), createIfMissing: true });
      tokens.push(fencingToken);
    }
    for (let i = 1; i < tokens.length; i++) {
      expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
    }
  });

  it("answers CAS with the store's own checks at apply time: one of two writers with the same if_version wins", async () => {
    const { isNew } = await kv(0).set({ key: "cas", value: text("v1") });
    expect(isNew).toBe(true);
    const outcomes = await Promise.allSettled([
      kv(1).set({ key: "cas", value: text("from B"), ifVersion: 1n }),
      kv(2).set({ key: "cas", value: text("from C"), ifVersion: 1n }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
    const failed = outcomes.find((outcome) => outcome.status === "rejected") as PromiseRejectedResult;
    expect(ConnectError.from(failed.reason).code).toBe(Code.FailedPrecondition);
    const info = await kv(0).inspect({ key: "cas", includeValue: true });
    expect(info.version).toBe(2n);
  });

  it("expires a key set with a lifespan on A on every node: B's watcher sees EXPIRED, C then answers NOT_FOUND", async () => {
    const watcher = scope.open((signal) => kv(1).watchKeyValue({ key: "ephemeral" }, { signal }));
    await kv(0).set({ key: "ephemeral", value: text("soon gone"), lifespan: millis(300) });
    await watcher.takeUntil((message) => message.keyEvent === KeyEvent.EXPIRED, 15_000);
    expect((await rejection(kv(2).get({ key: "ephemeral" }))).code).toBe(Code.NotFound);
  });

  it("resumes a watch moved from C to A from the last revision seen, without gap or duplicate", async () => {
    const first = scope.open((signal) => kv(2).watchStream({ progressInterval: millis(100) }, { signal }));
    // A progress mark tells the revision the watch starts after.
    const [start] = await first.take(1);
    const writes = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await kv(i % 3).set({ key: `moved/${i}`, value: text(String(i)) });
      }
    };
    const upTo = (items: typeof first.items, key: string) => items.slice(0, items.findIndex((message) => message.key === key) + 1);
    await writes(0, 20);
    await first.takeUntil((message) => message.key === "moved/19");
    const seenOnC = upTo(first.items, "moved/19");
    const lastOnC = seenOnC[seenOnC.length - 1]!.revision;
    first.cancel();
    await writes(20, 40);
    const second = scope.open((signal) => kv(0).watchStream({ startRevision: lastOnC }, { signal }));
    await second.takeUntil((message) => message.key === "moved/39");
    const events = [...seenOnC, ...upTo(second.items, "moved/39")].filter((message) => !message.progress);
    const revisions = events.map((message) => message.revision);
    // Every event of the cluster has a revision, one apart: none missing, none twice.
    expect(revisions[0]).toBe(start!.revision + 1n);
    revisions.forEach((revision, i) => expect(revision).toBe(revisions[0]! + BigInt(i)));
    const keys = events.filter((message) => message.key.startsWith("moved/")).map((message) => message.key);
    expect(keys).toEqual(Array.from({ length: 40 }, (_, i) => `moved/${i}`));
  });

  it("keeps a linearizable register under concurrent CAS increments through random nodes: no lost update", async () => {
    const recorder = new HistoryRecorder();
    const key = "counter";
    let successes = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, client) => {
        for (let attempt = 0; attempt < 12; attempt++) {
          const register = recordedRegister(recorder, client, kv(Math.floor(Math.random() * 3), `incrementer-${client}`), key);
          const read = await register.read();
          if (read.kind !== "read" || read.version === undefined) continue;
          const next = String(Number(read.value || "0") + 1);
          const written = await register.cas(read.version, next);
          if (written.kind === "ok") successes++;
        }
      }),
    );
    const verdict = recorder.check();
    expect(verdict, JSON.stringify(verdict, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toMatchObject({ ok: true });
    expect(successes).toBeGreaterThan(0);
    const final = await kv(1).inspect({ key, includeValue: true });
    expect(decode(final.value ?? new Uint8Array())).toBe(String(successes));
    expect(final.version).toBe(BigInt(successes));
  });

  it("refuses a node whose store settings differ from the cluster's (it would apply the log differently)", async () => {
    const refused = await cluster.start(3, { env: { KEYQUARRY_MAX_KEYS: "5" } }).then(
      () => undefined,
      (error: unknown) => error as ServeExitedError,
    );
    expect(refused).toBeInstanceOf(ServeExitedError);
    expect(refused!.exit.code).toBe(1);
    expect(refused!.stderr).toContain("this node's settings differ from the cluster's (max_keys=5 here, max_keys=0 in the cluster)");
  });

  it("stops only the node Admin.Shutdown reached", async () => {
    const node = cluster.node(2);
    await node.clients("boss").admin.shutdown({});
    expect((await node.process.exited).code).toBe(0);
    cluster.nodes[2] = undefined;
    await kv(0).set({ key: "after-shutdown", value: text("still here") });
    expect(await textValueOf(kv(1), "after-shutdown")).toBe("still here");
    // It comes back and catches up from the stream.
    await cluster.start(2);
    expect(await textValueOf(kv(2), "after-shutdown")).toBe("still here");
    expect(await stateOf(kv(2))).toEqual(await stateOf(kv(0)));
  });
});

describe("failures", () => {
  it("loses no acknowledged write when a keyquarry node and a NATS server are killed under concurrent writes; the survivors agree and the restarted node catches up", async () => {
    const crash = await startKeyquarryCluster({ nats, name: "crash" });
    let natsDown = false;
    try {
      const acknowledged = new Map<string, string>();
      let stop = false;
      let written = 0;
      const writer = async (id: number) => {
        for (let i = 0; !stop; i++) {
          const key = `w${id}/${i}`;
          // Through whichever node is up; a failed call may or may not have been applied.
          const node = crash.nodes[(id + i) % 3] ?? crash.nodes[0]!;
          try {
            await node.clients(`writer-${id}`).kv.set({ key, value: text(`${id}:${i}`) });
            acknowledged.set(key, `${id}:${i}`);
            written++;
          } catch (error) {
            if (![Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Canceled, Code.Aborted].includes(ConnectError.from(error).code)) throw error;
          }
        }
      };
      const writers = Array.from({ length: 4 }, (_, id) => writer(id));
      await pollUntil(async () => written, (count) => count >= 200, 30_000);
      await crash.kill(1);
      await nats.kill(0);
      natsDown = true;
      const before = written;
      await pollUntil(async () => written, (count) => count >= before + 200, 60_000);
      stop = true;
      await Promise.all(writers);
      expect(written).toBeGreaterThanOrEqual(400);

      const survivors = [crash.node(0).clients("checker").kv, crash.node(2).clients("checker").kv];
      const [a, c] = await Promise.all(survivors.map(stateOf));
      expect(c).toEqual(a);
      for (const [key, value] of acknowledged) {
        expect(await textValueOf(survivors[0]!, key), key).toBe(value);
      }

      await nats.start(0);
      natsDown = false;
      await crash.start(1);
      expect(await stateOf(crash.node(1).clients("checker").kv)).toEqual(await stateOf(survivors[0]!));
    } finally {
      await crash.close();
      // The next test needs the whole NATS cluster.
      if (natsDown) await nats.start(0);
    }
  }, 180_000);

  it("restarts a node from its local snapshot and applies only the stream after it", async () => {
    const local = await startKeyquarryCluster({ nats, name: "local", nodes: 2, env: { KEYQUARRY_SNAPSHOT_ENABLED: "true" } });
    try {
      for (let i = 0; i < 20; i++) {
        await local.node(i % 2).clients("writer").kv.set({ key: `before/${i}`, value: text(String(i)) });
      }
      // A graceful stop writes the final snapshot.
      const stopped = local.node(1).process;
      stopped.child.kill("SIGTERM");
      expect((await stopped.exited).code).toBe(0);
      local.nodes[1] = undefined;
      for (let i = 0; i < 10; i++) {
        await local.node(0).clients("writer").kv.set({ key: `after/${i}`, value: text(String(i)) });
      }
      const node = await local.start(1);
      const joined = JSON.parse(/joined the cluster (\{.*\})/.exec(node.process.stdout())![1]!) as { startedFrom: string; caughtUp: string };
      expect(node.process.stdout()).toMatch(/snapshot restored .*"keys":20/);
      expect(BigInt(joined.startedFrom)).toBeGreaterThan(0n);
      expect(BigInt(joined.caughtUp)).toBeGreaterThanOrEqual(10n);
      expect(await stateOf(node.clients("checker").kv)).toEqual(await stateOf(local.node(0).clients("checker").kv));
    } finally {
      await local.close();
    }
  }, 60_000);

  it("recovers a node that fell behind the stream's start from the snapshot the nodes publish", async () => {
    const name = "bounded";
    const lagging = await startKeyquarryCluster({
      nats,
      name,
      nodes: 2,
      env: { KEYQUARRY_CLUSTER_STREAM_MAX_MESSAGES: "50", KEYQUARRY_CLUSTER_SNAPSHOT_INTERVAL: "200ms" },
    });
    const connection = await connect({ servers: nats.urls });
    try {
      await lagging.kill(1);
      for (let i = 0; i < 150; i++) {
        await lagging.node(0).clients("filler").kv.set({ key: `fill/${i}`, value: text(String(i)) });
      }
      // The stream has discarded what node 1 missed; wait until a published snapshot covers it.
      const manager = await jetstreamManager(connection);
      const { state } = await manager.streams.info(name);
      expect(state.first_seq).toBeGreaterThan(100);
      const bucket = await new Objm(connection).open(`${name}-snapshots`);
      await pollUntil(
        async () => Number((await bucket.info("latest"))?.metadata?.["seq"] ?? 0),
        (seq) => seq + 1 >= state.first_seq,
        30_000,
      );
      const node = await lagging.start(1);
      expect(node.process.stdout()).toMatch(/joined the cluster .*"fromPublishedSnapshot":true/);
      expect(await stateOf(node.clients("checker").kv)).toEqual(await stateOf(lagging.node(0).clients("checker").kv));
    } finally {
      await connection.close();
      await lagging.close();
    }
  }, 120_000);
});
