import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import type { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../src/store/clock.js";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { killServeProcesses, spawnServe } from "./kit/spawn-serve.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

type KvClient = Client<typeof KeyQuarry>;
type AdminClient = Client<typeof Admin>;

const MS = 1_000_000n;
const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const RESERVED_COUNT = 16n;
const ADMIN_ONLY = "missing or invalid client ID for admin function";
const oneMinute = create(DurationSchema, { seconds: 60n });

/** User key names (reserved ones excluded), in creation order. */
async function userKeys(kv: KvClient, pattern = ""): Promise<string[]> {
  return (await kv.listKeys({ pattern })).keys;
}

/**
 * Whether `promise` has already settled. The calls that could have settled
 * it were answered before this is asked, and an accepted Shutdown queues
 * its request (a setImmediate) before it answers, so one more turn of the
 * event loop lets everything queued run; no waiting for time to pass.
 */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

async function expectAdminOnly(call: Promise<unknown>): Promise<void> {
  const error = await rejection(call);
  expect([error.code, error.rawMessage]).toEqual([Code.PermissionDenied, ADMIN_ONLY]);
}

describe.each(["grpc", "connect"] as const)("Admin service and pruning over %s", (protocol) => {
  describe("without a privileged client id", () => {
    let test: TestServer;

    beforeAll(async () => {
      test = await startTestServer({ privilegedClientId: "" });
    });
    afterAll(() => test.close());

    it.each(["alice", "admin", "boss"])("refuses Admin.Prune and Admin.Shutdown to %j", async (clientId) => {
      const { admin, kv } = createClients(protocol, test.url, clientId);
      await kv.set({ key: `kept-by-${clientId}`, value: bytes("x") });
      await expectAdminOnly(admin.prune({ pruneTo: 0n }));
      await expectAdminOnly(admin.shutdown({}));
      expect(await userKeys(kv, `^kept-by-${clientId}$`)).toEqual([`kept-by-${clientId}`]);
      expect((await kv.stats({})).pruneCompleted).toBe(0n);
      expect(await settled(test.server.shutdownRequested)).toBe(false);
    });
  });

  describe("with privileged client id `boss`", () => {
    const clock = new ManualClock();
    let test: TestServer;
    let boss: { kv: KvClient; admin: AdminClient };
    let alice: { kv: KvClient; admin: AdminClient };

    /** Sets each key one minute after the previous one (the first is the stalest). */
    async function fill(keys: readonly string[]): Promise<void> {
      for (const key of keys) {
        await alice.kv.set({ key, value: bytes(`value of ${key}`) });
        clock.advance(MINUTE);
      }
    }

    beforeAll(async () => {
      test = await startTestServer({ privilegedClientId: "boss", maxKeys: 50 }, { clock });
      boss = createClients(protocol, test.url, "boss");
      alice = createClients(protocol, test.url, "alice");
    });
    afterAll(() => test.close());
    beforeEach(async () => {
      await boss.kv.setReadOnly({ enable: false });
      await boss.kv.clear({ force: true });
    });

    it("refuses Admin.Prune to other clients, and checks the client id first", async () => {
      await fill(["a", "b"]);
      await expectAdminOnly(alice.admin.prune({ pruneTo: 0n }));
      await expectAdminOnly(createClients(protocol, test.url, "Boss").admin.prune({ pruneTo: 0n }));
      const missing = await rejection(createClients(protocol, test.url, undefined).admin.prune({ pruneTo: 0n }));
      expect(missing.code).toBe(Code.InvalidArgument);
      const reserved = await rejection(createClients(protocol, test.url, "keyquarry").admin.prune({ pruneTo: 0n }));
      expect(reserved.code).toBe(Code.InvalidArgument);
      expect(await userKeys(alice.kv)).toEqual(["a", "b"]);
    });

    it("removes the stalest keys down to prune_to, skipping ignore_keys, locked and reserved keys", async () => {
      const before = await boss.kv.stats({});
      await fill(["p0", "p1", "p2", "p3", "p4", "p5"]);
      await alice.kv.lock({ key: "p5", duration: oneMinute });
      // 6 user keys, prune_to 2: 4 go; p0 is ignored and p5 locked, so p1…p4.
      const response = await boss.admin.prune({ pruneTo: 2n, ignoreKeys: ["p0", "no-such-key", "keyquarry/Started"] });
      expect(response.pruned).toBe(4n);
      expect(await userKeys(alice.kv)).toEqual(["p0", "p5"]);
      const stats = await boss.kv.stats({});
      expect(stats.pruneCompleted).toBe(before.pruneCompleted! + 1n);
      expect(stats.eagerPruneTriggered).toBe(0n);
      expect(stats.events?.expunged).toBe(before.events!.expunged! + 4n);
      expect(stats.keys).toBe(RESERVED_COUNT + 2n);
      expect(stats.pressure).toMatchObject({ keys: 2n, max: 50n });
      expect(stats.pressure?.used).toBeCloseTo(0.04, 6);
      const reservedKeys = await alice.kv.listKeys({ pattern: "^keyquarry/", includeReserved: true });
      expect(BigInt(reservedKeys.keys.length)).toBe(RESERVED_COUNT);
    });

    it("answers pruned 0 (and does not count) below prune_to; prune_to 0 removes every prunable key", async () => {
      await fill(["z0", "z1", "z2"]);
      const before = (await boss.kv.stats({})).pruneCompleted!;
      // 3 user keys (19 with the reserved ones): below 4, and below any huge target.
      expect((await boss.admin.prune({ pruneTo: 4n })).pruned).toBe(0n);
      expect((await boss.admin.prune({ pruneTo: 18_446_744_073_709_551_615n })).pruned).toBe(0n);
      expect((await boss.kv.stats({})).pruneCompleted).toBe(before);
      // Equal to the target: the prune runs and counts, removing nothing.
      expect((await boss.admin.prune({ pruneTo: 3n })).pruned).toBe(0n);
      expect((await boss.kv.stats({})).pruneCompleted).toBe(before + 1n);
      expect((await boss.admin.prune({ pruneTo: 0n })).pruned).toBe(3n);
      expect(await userKeys(alice.kv)).toEqual([]);
      expect((await boss.kv.stats({})).pruneCompleted).toBe(before + 2n);
    });

    it("keeps the least stale keys: a recent Get protects a key", async () => {
      await fill(["s0", "s1", "s2"]);
      await alice.kv.get({ key: "s0" });
      clock.advance(MINUTE);
      expect((await boss.admin.prune({ pruneTo: 1n })).pruned).toBe(2n);
      expect(await userKeys(alice.kv)).toEqual(["s0"]);
    });

    it("drops the history of pruned keys and keeps their metrics", async () => {
      await alice.kv.set({ key: "h", value: bytes("v1") });
      await alice.kv.set({ key: "h", value: bytes("v2") });
      clock.advance(MINUTE);
      expect((await boss.admin.prune({ pruneTo: 0n })).pruned).toBe(1n);
      expect((await rejection(alice.kv.getRevision({ key: "h", version: 1n }))).code).toBe(Code.NotFound);
      expect((await alice.kv.getKeyMetric({ key: "h" })).setCount).toBe(2n);
    });

    it("works in readonly mode", async () => {
      await fill(["r0"]);
      await boss.kv.setReadOnly({ enable: true });
      expect((await boss.admin.prune({ pruneTo: 0n })).pruned).toBe(1n);
    });
  });

  describe("eager pruning and max_keys", () => {
    const clock = new ManualClock();
    let test: TestServer;
    let alice: KvClient;

    beforeAll(async () => {
      test = await startTestServer({ maxKeys: 10, eagerPruneAt: 6, eagerPruneTo: 3 }, { clock });
      alice = createClients(protocol, test.url, "alice").kv;
    });
    afterAll(() => test.close());

    it("prunes synchronously when a Set makes user keys exceed eager_prune_at, keeping the new key", async () => {
      for (let i = 0; i < 7; i++) {
        clock.advance(MINUTE);
        expect((await alice.set({ key: `e${i}`, value: bytes("x") })).isNew).toBe(true);
        // Already done when Set returns.
        expect((await userKeys(alice)).length).toBeLessThanOrEqual(6);
      }
      expect(await userKeys(alice)).toEqual(["e4", "e5", "e6"]);
      const stats = await alice.stats({});
      expect(stats).toMatchObject({ keys: RESERVED_COUNT + 3n, eagerPruneTriggered: 1n, pruneCompleted: 1n });
      expect(stats.events?.expunged).toBe(4n);
      expect(stats.pressure).toMatchObject({ keys: 3n, max: 10n });
      expect(stats.pressure?.used).toBeCloseTo(0.3, 6);
    });

    it("with every key locked, Lock(create_if_missing) fills up to max_keys, then RESOURCE_EXHAUSTED", async () => {
      await alice.clear({ force: true });
      const before = await alice.stats({});
      for (let i = 0; i < 10; i++) {
        await alice.lock({ key: `l${i}`, duration: oneMinute, createIfMissing: true });
      }
      const refused = await rejection(alice.lock({ key: "l10", duration: oneMinute, createIfMissing: true }));
      expect([refused.code, refused.rawMessage]).toEqual([Code.ResourceExhausted, "maximum number of keys reached: the limit is 10 (max_keys)"]);
      const stats = await alice.stats({});
      expect(stats.pressure).toMatchObject({ keys: 10n, max: 10n, used: 1 });
      expect(stats.events?.expunged).toBe(before.events!.expunged);
      // Creates 7…10 each triggered a prune that removed nothing; the refused one tried once more.
      expect(stats.eagerPruneTriggered! - before.eagerPruneTriggered!).toBe(5n);
      expect(stats.pruneCompleted! - before.pruneCompleted!).toBe(5n);
      // Once the locks are gone, a new key at max_keys makes room first.
      clock.advance(2n * 3600n * SECOND);
      expect((await alice.set({ key: "fresh", value: bytes("x") })).isNew).toBe(true);
      expect((await userKeys(alice)).slice(-1)).toEqual(["fresh"]);
      expect((await alice.stats({})).pressure?.keys).toBe(4n);
    });
  });

  describe("max_keys without eager pruning", () => {
    let test: TestServer;

    beforeAll(async () => {
      test = await startTestServer({ maxKeys: 2 });
    });
    afterAll(() => test.close());

    it("counts user keys only and refuses the next new key with RESOURCE_EXHAUSTED", async () => {
      const { kv } = createClients(protocol, test.url, "alice");
      await kv.set({ key: "one", value: bytes("1") });
      await kv.set({ key: "two", value: bytes("2") });
      const refused = await rejection(kv.set({ key: "three", value: bytes("3") }));
      expect([refused.code, refused.rawMessage]).toEqual([Code.ResourceExhausted, "maximum number of keys reached: the limit is 2 (max_keys)"]);
      expect((await kv.set({ key: "two", value: bytes("22") })).isNew).toBe(false);
      const stats = await kv.stats({});
      expect(stats).toMatchObject({ keys: RESERVED_COUNT + 2n, eagerPruneTriggered: 0n, pruneCompleted: 0n });
      expect(stats.pressure).toMatchObject({ keys: 2n, max: 2n, used: 1 });
    });
  });

  describe("scheduled pruning (prune_interval 100 ms)", () => {
    let test: TestServer;

    beforeAll(async () => {
      test = await startTestServer({ pruneInterval: 100n * MS, pruneAt: 10, pruneTo: 6, maxKeys: 50 });
    });
    afterAll(() => test.close());

    it("prunes to prune_to once prune_at user keys are reached, stalest first", async () => {
      const { kv } = createClients(protocol, test.url, "alice");
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
      // Below prune_at until the last Set: only one prune can run, from 10 keys.
      for (const key of keys) {
        await kv.set({ key, value: bytes(key) });
      }
      await vi.waitFor(
        async () => {
          expect((await kv.stats({})).pruneCompleted).toBe(1n);
        },
        { timeout: 10_000, interval: 25 },
      );
      expect(await userKeys(kv)).toEqual(keys.slice(4));
      const stats = await kv.stats({});
      expect(stats).toMatchObject({ keys: RESERVED_COUNT + 6n, eagerPruneTriggered: 0n });
      expect(stats.events?.expunged).toBe(4n);
      expect(stats.pressure).toMatchObject({ keys: 6n, max: 50n });

      const more = ["m0", "m1", "m2", "m3"];
      for (const key of more) {
        await kv.set({ key, value: bytes(key) });
      }
      await vi.waitFor(
        async () => {
          expect((await kv.stats({})).pruneCompleted).toBe(2n);
        },
        { timeout: 10_000, interval: 25 },
      );
      expect(await userKeys(kv)).toEqual([...keys.slice(8), ...more]);
    });
  });

  describe("Admin.Shutdown", () => {
    let test: TestServer;

    beforeAll(async () => {
      test = await startTestServer({ privilegedClientId: "boss" });
    });
    afterAll(() => test.close());

    it("refuses other clients and does not start a shutdown", async () => {
      await expectAdminOnly(createClients(protocol, test.url, "alice").admin.shutdown({}));
      const missing = await rejection(createClients(protocol, test.url, undefined).admin.shutdown({}));
      expect(missing.code).toBe(Code.InvalidArgument);
      expect(await settled(test.server.shutdownRequested)).toBe(false);
    });

    it("answers the privileged client {} and then signals shutdownRequested (twice is fine)", async () => {
      const { admin, kv } = createClients(protocol, test.url, "boss");
      const response = await admin.shutdown({});
      expect(response.$typeName).toBe("keyquarry.ShutdownResponse");
      await expect(test.server.shutdownRequested).resolves.toBeUndefined();
      // The host decides when to close; until then calls are still served.
      expect((await admin.shutdown({})).$typeName).toBe("keyquarry.ShutdownResponse");
      expect((await kv.exists({ key: "anything" })).exists).toBe(false);
    });

    // Regression: closeHttp2Sessions() once cancelled HTTP/2 streams whose answer was not
    // flushed yet, so the Shutdown answer was lost over gRPC.
    it(
      "answers {} even when the host closes as soon as shutdownRequested resolves (as `serve` does)",
      async () => {
        const closing = await startTestServer({ privilegedClientId: "boss" });
        const closed = closing.server.shutdownRequested.then(() => closing.close());
        try {
          const response = await createClients(protocol, closing.url, "boss").admin.shutdown({});
          expect(response.$typeName).toBe("keyquarry.ShutdownResponse");
        } finally {
          await closed;
        }
      },
    );
  });
});

describe("keyquarry serve", () => {
  afterEach(killServeProcesses);

  /** `keyquarry serve` with privileged client id `boss`, listening, and a `protocol` client of it as `boss`. */
  async function startServe(protocol: "grpc" | "connect") {
    const serving = await spawnServe({ args: ["--privileged-client-id", "boss"] });
    return { url: serving.url, boss: createClients(protocol, serving.url, "boss"), exited: serving.exited };
  }

  it("exits with status 0 by itself after Admin.Shutdown from the privileged client", async () => {
    const { url, boss, exited } = await startServe("connect");
    await expectAdminOnly(createClients("connect", url, "alice").admin.shutdown({}));
    await boss.kv.set({ key: "foo", value: bytes("bar") });
    expect((await boss.admin.shutdown({})).$typeName).toBe("keyquarry.ShutdownResponse");
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it("answers Admin.Shutdown over gRPC, then exits with status 0", async () => {
    const { boss, exited } = await startServe("grpc");
    expect((await boss.admin.shutdown({})).$typeName).toBe("keyquarry.ShutdownResponse");
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
