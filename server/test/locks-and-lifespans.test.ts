import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/store/clock.js";
import { bytes, text } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

const seconds = (n: number) => create(DurationSchema, { seconds: BigInt(n) });
const second = 1_000_000_000n;

describe.each(["grpc", "connect"] as const)("locks, lifespans, history and metrics over %s", (protocol) => {
  const clock = new ManualClock();
  let test: TestServer;
  let alice: ReturnType<typeof createClients>["kv"];
  let bob: ReturnType<typeof createClients>["kv"];

  beforeAll(async () => {
    test = await startTestServer(
      { minLockDuration: second, maxLockDuration: 3600n * second, minLifespan: second, revisionLimit: 3 },
      { clock },
    );
    alice = createClients(protocol, test.url, "alice").kv;
    bob = createClients(protocol, test.url, "bob").kv;
  });
  afterAll(() => test.close());

  it("lets two clients fight for a lock: one wins until it unlocks or its lock expires", async () => {
    const first = await alice.lock({ key: "mutex", duration: seconds(10), createIfMissing: true });
    expect(first.success).toBe(true);
    const refused = await rejection(bob.lock({ key: "mutex", duration: seconds(10) }));
    expect([refused.code, refused.rawMessage]).toEqual([Code.PermissionDenied, "locked by another client"]);
    expect((await rejection(bob.get({ key: "mutex" }))).rawMessage).toBe("Key is locked");
    expect((await rejection(bob.set({ key: "mutex", value: bytes("x") }))).rawMessage).toBe(
      "client_id provided does not match key",
    );
    expect((await bob.inspect({ key: "mutex" })).locked).toBe(true);

    clock.advance(10n * second - 1n);
    expect((await rejection(bob.lock({ key: "mutex", duration: seconds(10) }))).code).toBe(Code.PermissionDenied);
    clock.advance(1n);
    const second_ = await bob.lock({ key: "mutex", duration: seconds(10) });
    expect(second_.fencingToken).toBeGreaterThan(first.fencingToken);
    expect((await bob.inspect({ key: "mutex" })).fencingToken).toBe(second_.fencingToken);
    await bob.unlock({ key: "mutex" });
    expect((await alice.inspect({ key: "mutex" })).locked).toBe(false);
  });

  it("extends a held lock and keeps its fencing token", async () => {
    const held = await alice.lock({ key: "lease", duration: seconds(5), createIfMissing: true });
    clock.advance(4n * second);
    const extended = await alice.lock({ key: "lease", duration: seconds(5) });
    expect(extended.fencingToken).toBe(held.fencingToken);
    clock.advance(5n * second); // 9 s after the first lock: still held (5 + 5 = 10 s)
    expect((await rejection(bob.lock({ key: "lease", duration: seconds(5) }))).code).toBe(Code.PermissionDenied);
    clock.advance(1n * second);
    expect((await bob.lock({ key: "lease", duration: seconds(5) })).fencingToken).toBeGreaterThan(held.fencingToken);
  });

  it("refuses lock durations outside the configured bounds", async () => {
    const tooLong = await rejection(alice.lock({ key: "bounds", duration: seconds(3601), createIfMissing: true }));
    expect([tooLong.code, tooLong.rawMessage]).toEqual([
      Code.OutOfRange,
      "lock Duration too long: 1h0m1s is above the maximum of 1h0m0s (max_lock_duration)",
    ]);
    const missing = await rejection(alice.lock({ key: "bounds", createIfMissing: true }));
    expect([missing.code, missing.rawMessage]).toEqual([Code.OutOfRange, "invalid lock Duration: no duration given"]);
    const short = await rejection(alice.set({ key: "bounds", value: bytes("x"), lifespan: create(DurationSchema, { nanos: 5 }) }));
    expect([short.code, short.rawMessage]).toEqual([Code.InvalidArgument, "invalid lifespan: 5ns is below the minimum of 1s (min_lifespan)"]);
  });

  it("expires a key at the end of its lifespan, renewed by each update, even while locked", async () => {
    const set = await alice.set({ key: "session", value: bytes("1"), lifespan: seconds(30), lockDuration: seconds(60) });
    expect(set.fencingToken).toBeGreaterThan(0n);
    const inspected = await alice.inspect({ key: "session" });
    expect(inspected.lifespan?.seconds).toBe(30n);
    clock.advance(20n * second);
    await alice.set({ key: "session", value: bytes("2") }); // renews: 30 s from now
    clock.advance(29n * second);
    expect(text((await alice.get({ key: "session" })).value)).toBe("2");
    const before = await alice.stats({});
    clock.advance(1n * second);
    expect((await rejection(alice.get({ key: "session" }))).code).toBe(Code.NotFound);
    const after = await alice.stats({});
    expect(after.events?.expired).toBe(before.events!.expired! + 1n);
    expect(after.events?.unlocked).toBe(before.events!.unlocked! + 1n);
    expect(after.currentLocks).toBe(before.currentLocks! - 1n);
    expect(after.reapers).toBe(before.reapers! - 1n);
  });

  it("lets exactly one of several concurrent compare-and-set writers win", async () => {
    await alice.set({ key: "counter", value: bytes("0") });
    const { version } = await alice.inspect({ key: "counter" });
    const writers = Array.from({ length: 8 }, (_, i) => createClients(protocol, test.url, `writer-${i}`).kv);
    const results = await Promise.allSettled(
      writers.map((writer, i) => writer.set({ key: "counter", value: bytes(`${i + 1}`), ifVersion: version })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const result of results.filter((r) => r.status === "rejected")) {
      const error = await rejection(Promise.reject(result.reason));
      expect([error.code, error.rawMessage]).toEqual([
        Code.FailedPrecondition,
        `version mismatch: the current version is ${version + 1n}`,
      ]);
    }
    expect((await rejection(alice.set({ key: "counter", value: bytes("x"), ifVersion: 0n }))).code).toBe(
      Code.FailedPrecondition,
    );
    expect((await rejection(alice.delete({ key: "counter", ifVersion: version }))).code).toBe(Code.FailedPrecondition);
    expect((await alice.delete({ key: "counter", ifVersion: version + 1n })).deleted).toBe(true);
  });

  it("reads revisions and key metrics", async () => {
    for (const value of ["v1", "v2", "v3", "v4"]) {
      await alice.set({ key: "history", value: bytes(value) });
    }
    expect(text((await bob.getRevision({ key: "history", version: 4n })).value)).toBe("v4");
    expect(text((await bob.getRevision({ key: "history", version: -2n })).value)).toBe("v2");
    expect((await rejection(bob.getRevision({ key: "history", version: 1n }))).rawMessage).toBe("revision not found");
    expect((await rejection(bob.getRevision({ key: "history", version: 0n }))).code).toBe(Code.InvalidArgument);
    await alice.lock({ key: "history", duration: seconds(10) });
    expect((await rejection(bob.getRevision({ key: "history", version: 3n }))).rawMessage).toBe("Key is locked");
    await alice.unlock({ key: "history" });

    await bob.get({ key: "history" });
    const metrics = await bob.getKeyMetric({ key: "history" });
    expect(metrics).toMatchObject({ setCount: 4n, accessCount: 1n, lockCount: 1n });
    expect(metrics.firstSet!.seconds).toBeLessThanOrEqual(metrics.lastSet!.seconds);
    const inspected = await bob.inspect({ key: "history", includeValue: true, includeMetrics: true });
    expect(inspected.metrics?.accessCount).toBe(2n);
    expect((await rejection(bob.getKeyMetric({ key: "never-existed" }))).rawMessage).toBe("key not found");

    const cleared = await alice.clearHistory({});
    expect(cleared.cleared).toBeGreaterThanOrEqual(2n);
    expect(text((await bob.getRevision({ key: "history", version: 4n })).value)).toBe("v4");
  });
});

describe("locks and compare-and-set over Connect JSON with plain fetch", () => {
  let test: TestServer;
  beforeAll(async () => {
    test = await startTestServer();
  });
  afterAll(() => test.close());

  const post = async (method: string, body: object) => {
    const response = await fetch(`${test.url}/keyquarry.KeyQuarry/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", client_id: "curl" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("speaks the additive fields in camelCase JSON", async () => {
    const created = await post("Set", { key: "j", value: "YmFy", lockDuration: "30s", lifespan: "3600s", ifVersion: "0" });
    expect(created).toEqual({ status: 200, body: { success: true, isNew: true, fencingToken: expect.stringMatching(/^\d+$/) } });
    const locked = await post("Lock", { key: "j", duration: "10s" });
    expect(locked.body).toEqual({ success: true, fencingToken: created.body["fencingToken"] });
    const inspected = await post("Inspect", { key: "j" });
    expect(inspected.body).toMatchObject({ locked: true, lifespan: "3600s", version: "1", hash: "16101355973854746" });
    const mismatch = await post("Set", { key: "j", value: "YmF6", ifVersion: "7" });
    expect(mismatch).toEqual({
      status: 400,
      body: { code: "failed_precondition", message: "version mismatch: the current version is 1" },
    });
  });
});
