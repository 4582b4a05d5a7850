import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytes, text } from "./kit/bytes.js";
import { createClients, protocols } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

describe.each(protocols)("core key/value RPCs over %s", (protocol) => {
  let test: TestServer;
  let alice: ReturnType<typeof createClients>["kv"];
  let bob: ReturnType<typeof createClients>["kv"];
  let admin: ReturnType<typeof createClients>["kv"];

  beforeAll(async () => {
    test = await startTestServer({ privilegedClientId: "admin", revisionLimit: 3 });
    alice = createClients(protocol, test.url, "alice").kv;
    bob = createClients(protocol, test.url, "bob").kv;
    admin = createClients(protocol, test.url, "admin").kv;
  });
  afterAll(() => test.close());

  it("sets a new key, then updates it", async () => {
    expect(await alice.set({ key: "foo", value: bytes("bar") })).toMatchObject({ success: true, isNew: true });
    expect(text((await bob.get({ key: "foo" })).value)).toBe("bar");
    expect(await bob.set({ key: "foo", value: bytes("baz") })).toMatchObject({ success: true, isNew: false });
    expect(text((await alice.get({ key: "foo" })).value)).toBe("baz");
  });

  it("inspects a key's metadata, with the value only on request", async () => {
    await alice.set({ key: "inspected", value: bytes("bar") });
    const first = await alice.inspect({ key: "inspected" });
    expect(first).toMatchObject({
      key: "inspected",
      hash: 16101355973854746n,
      version: 1n,
      size: 3n,
      locked: false,
      contentType: "text/plain; charset=utf-8",
    });
    expect(first.value).toBeUndefined();
    expect(first.updated).toBeUndefined();
    expect(first.created?.seconds).toBeGreaterThan(1_600_000_000n);

    await alice.set({ key: "inspected", value: bytes("bar") });
    expect((await alice.inspect({ key: "inspected" })).version).toBe(1n);
    await alice.set({ key: "inspected", value: bytes("{\"json\":true}") });
    const second = await alice.inspect({ key: "inspected", includeValue: true });
    expect(second).toMatchObject({ version: 2n, size: 13n });
    expect(text(second.value!)).toBe("{\"json\":true}");
    expect(second.updated).toBeDefined();
  });

  it("keeps an explicit content type and sniffs a missing one", async () => {
    await alice.set({ key: "typed", value: bytes("{}"), contentType: "application/json" });
    await alice.set({ key: "png", value: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]) });
    expect((await alice.inspect({ key: "typed" })).contentType).toBe("application/json");
    expect((await alice.inspect({ key: "png" })).contentType).toBe("image/png");
  });

  it("answers Exists, Delete and Pop", async () => {
    await alice.set({ key: "gone", value: bytes("1") });
    expect((await alice.exists({ key: "gone" })).exists).toBe(true);
    expect((await alice.delete({ key: "gone" })).deleted).toBe(true);
    expect((await alice.exists({ key: "gone" })).exists).toBe(false);
    expect((await rejection(alice.delete({ key: "gone" }))).code).toBe(Code.NotFound);

    await alice.set({ key: "popped", value: bytes("once") });
    expect(text((await bob.pop({ key: "popped" })).value)).toBe("once");
    const error = await rejection(bob.get({ key: "popped" }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe("Key not found");
  });

  it("lists keys with a pattern, a limit and reserved keys on request", async () => {
    for (const key of ["list/apple", "list/banana", "list/cherry"]) {
      await alice.set({ key, value: bytes(key) });
    }
    expect((await alice.listKeys({ pattern: "^list/" })).keys).toEqual(["list/apple", "list/banana", "list/cherry"]);
    expect((await alice.listKeys({ pattern: "an+a" })).keys).toEqual(["list/banana"]);
    expect((await alice.listKeys({ pattern: "^list/", limit: 2n })).keys).toHaveLength(2);
    expect((await alice.listKeys({ limit: 1_000_000n })).keys.some((k) => k.startsWith("keyquarry"))).toBe(false);
    const all = (await alice.listKeys({ includeReserved: true })).keys;
    expect(all).toContain("keyquarry/MaxValueSize");
  });

  it("refuses writes to reserved keys but lets anyone read them", async () => {
    const error = await rejection(alice.set({ key: "KeyQuarry/mine", value: bytes("x") }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("Key cannot begin with 'keyquarry'");
    expect(text((await alice.get({ key: "keyquarry/MaxValueSize" })).value)).toBe("1000000");
    expect((await rejection(alice.delete({ key: "keyquarry/MaxKeys" }))).code).toBe(Code.InvalidArgument);
  });

  it("reports Stats with every counter present", async () => {
    const before = await alice.stats({});
    await alice.set({ key: "stats/a", value: bytes("12345") });
    await alice.get({ key: "stats/a" });
    const after = await alice.stats({});
    expect(after.keys).toBe(before.keys! + 1n);
    expect(after.totalSize).toBe(before.totalSize! + 5n);
    expect(after.events?.new).toBe(before.events!.new! + 1n);
    expect(after.events?.accessed).toBe(before.events!.accessed! + 1n);
    expect(after.currentLocks).toBe(0n);
    expect(after.pressure).toMatchObject({ keys: after.keys! - 16n, max: 0n, used: 0 });
    expect(after.history?.keys).toBeGreaterThan(0n);
  });

  it("registers a client id once", async () => {
    const id = `registered-${protocol}`;
    const client = createClients(protocol, test.url, id).kv;
    expect(await client.register({})).toMatchObject({ success: true, clientId: id });
    expect((await rejection(client.register({}))).code).toBe(Code.AlreadyExists);
  });

  it("lets only the privileged client switch read-only mode, which refuses writes and Stats reports", async () => {
    expect((await rejection(alice.setReadOnly({ enable: true }))).code).toBe(Code.PermissionDenied);
    await alice.set({ key: "ro", value: bytes("before") });
    expect((await alice.stats({})).readonly).toBe(false);
    expect((await admin.setReadOnly({ enable: true })).success).toBe(true);
    try {
      expect((await alice.stats({})).readonly).toBe(true);
      const error = await rejection(alice.set({ key: "ro", value: bytes("after") }));
      expect(error.code).toBe(Code.FailedPrecondition);
      expect(error.rawMessage).toBe("server in readonly mode");
      expect((await rejection(alice.clear({}))).code).toBe(Code.FailedPrecondition);
      expect(text((await alice.get({ key: "ro" })).value)).toBe("before");
    } finally {
      await admin.setReadOnly({ enable: false });
    }
    expect((await alice.stats({})).readonly).toBe(false);
    await alice.set({ key: "ro", value: bytes("after") });
  });

  it("clears every user key and keeps the size accounting right", async () => {
    await alice.set({ key: "clear/1", value: bytes("abc") });
    const keysBefore = (await alice.listKeys({})).keys.length;
    const cleared = await bob.clear({});
    expect(cleared).toMatchObject({ success: true, keysDeleted: BigInt(keysBefore) });
    expect((await alice.listKeys({})).keys).toEqual([]);
    const stats = await alice.stats({});
    expect(stats.keys).toBe(16n);
    const reserved = (await alice.listKeys({ includeReserved: true })).keys;
    let reservedSize = 0n;
    for (const key of reserved) {
      reservedSize += BigInt((await alice.get({ key })).value.length);
    }
    expect(stats.totalSize).toBe(reservedSize);
  });
});
