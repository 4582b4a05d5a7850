import { Code } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { KeyEvent, type Event } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@keyquarry/gen/grpc/health/v1/health_pb.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients, type TransportKind } from "./kit/create-clients.js";
import { withToken, writeIdentitiesFile } from "./kit/identities.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { millis, WatchScope, type Watcher } from "./kit/watch-helpers.js";

const tokens = { boss: "boss-token-0123456789", writer: "writer-token-0123456789", reader: "reader-token-0123456789", billing: "billing-token-0123456789" };
type Who = keyof typeof tokens;

/** The events up to the first progress message at `revision` or later: every event the stream has for those revisions. */
async function eventsThrough<T extends { progress: boolean; revision: bigint }>(watcher: Watcher<T>, revision: bigint): Promise<T[]> {
  const items = await watcher.takeUntil((item) => item.progress && item.revision >= revision);
  return items.filter((item) => !item.progress);
}

const brief = (e: Event) => [e.key, KeyEvent[e.event], e.clientId];

// Every transport, on the fast paths and on connect-es alone: each reads the caller its own way.
const paths = [
  { name: "fast paths", fastPaths: true },
  { name: "connect-es", fastPaths: false },
];
const kinds: TransportKind[] = ["grpc", "connect-json", "grpc-web"];

describe.each(paths)("auth on ($name)", ({ fastPaths }) => {
  let dir: string;
  let server: TestServer;
  const scope = new WatchScope();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-auth-"));
    const file = join(dir, "identities.yaml");
    await writeIdentitiesFile(file, [
      { id: "boss", role: "admin", tokens: [tokens.boss] },
      { id: "writer", role: "readwrite", tokens: [tokens.writer] },
      { id: "reader", role: "readonly", tokens: [tokens.reader] },
      { id: "billing", role: "readwrite", tokens: [tokens.billing], keyPrefixes: ["billing/"] },
    ]);
    server = await startTestServer({ auth: { enabled: true, file } }, { fastPaths });
  });
  afterEach(async () => {
    scope.cancelAll();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe.each(kinds)("%s", (kind) => {
    const as = (who: Who, clientId?: string) => createClients(kind, server.url, clientId, { interceptors: [withToken(tokens[who])] });

    it("refuses a call without credentials or with an unknown token (UNAUTHENTICATED)", async () => {
      const anonymous = createClients(kind, server.url, "writer");
      const missing = await rejection(anonymous.kv.get({ key: "a" }));
      expect([missing.code, missing.rawMessage]).toEqual([Code.Unauthenticated, expect.stringContaining("credentials required")]);
      const stranger = createClients(kind, server.url, undefined, { interceptors: [withToken("not-a-known-token")] });
      const unknown = await rejection(stranger.kv.set({ key: "a", value: bytes("x") }));
      expect([unknown.code, unknown.rawMessage]).toEqual([Code.Unauthenticated, "unknown token"]);
      const watch = await rejection(scope.open((signal) => anonymous.kv.watchStream({}, { signal })).ended.then((e) => Promise.reject(e)));
      expect(watch.code).toBe(Code.Unauthenticated);
      expect(await as("reader").kv.exists({ key: "a" })).toMatchObject({ exists: false });
    });

    it("runs every call as the identity: a client_id naming someone else is refused, none means the identity", async () => {
      const spoof = await rejection(as("writer", "boss").kv.set({ key: "k", value: bytes("x") }));
      expect([spoof.code, spoof.rawMessage]).toEqual([
        Code.PermissionDenied,
        'client_id "boss" is not the authenticated identity "writer": send no client_id or that one',
      ]);
      expect(await as("writer").kv.register({})).toMatchObject({ clientId: "writer" });
      expect(await as("writer", "writer").kv.lock({ key: "k", createIfMissing: true, duration: millis(60_000) })).toMatchObject({ success: true });
      // The lock is the writer's: another identity cannot take it over by naming the writer.
      expect((await rejection(as("boss", "writer").kv.unlock({ key: "k" }))).code).toBe(Code.PermissionDenied);
      expect((await rejection(as("boss").kv.set({ key: "k", value: bytes("y") }))).code).toBe(Code.PermissionDenied);
      const stats = await as("reader").kv.stats({});
      expect(stats.clientIds).toBe(1n);
    });

    it("gives each role only its permissions, naming the missing one", async () => {
      const reader = as("reader");
      const writer = as("writer");
      const boss = as("boss");
      await writer.kv.set({ key: "a", value: bytes("1") });
      expect(await reader.kv.get({ key: "a" })).toMatchObject({ value: bytes("1") });
      expect(await reader.kv.inspect({ key: "a" })).toMatchObject({ key: "a" });
      expect(await reader.kv.getRevision({ key: "a", version: 1n })).toMatchObject({ value: bytes("1") });
      expect(await reader.kv.getKeyMetric({ key: "a" })).toMatchObject({ setCount: 1n });
      expect(await reader.kv.listKeys({})).toMatchObject({ keys: ["a"] });
      for (const call of [
        () => reader.kv.set({ key: "a", value: bytes("2") }),
        () => reader.kv.delete({ key: "a" }),
        () => reader.kv.pop({ key: "a" }),
        () => reader.kv.lock({ key: "a" }),
        () => reader.kv.unlock({ key: "a" }),
        () => reader.kv.clear({}),
        () => reader.kv.register({}),
      ]) {
        const error = await rejection(call());
        expect([error.code, error.rawMessage]).toEqual([Code.PermissionDenied, expect.stringMatching(/^\w+ needs the write permission, which identity "reader" \(role readonly\) lacks$/)]);
      }
      for (const call of [
        () => writer.kv.setReadOnly({ enable: true }),
        () => writer.kv.clear({ force: true }),
        () => writer.kv.clearHistory({}),
        () => writer.admin.prune({ pruneTo: 0n }),
        () => writer.admin.shutdown({}),
      ]) {
        const error = await rejection(call());
        expect([error.code, error.rawMessage]).toEqual([Code.PermissionDenied, expect.stringMatching(/^\w+ needs the admin permission, which identity "writer" \(role readwrite\) lacks$/)]);
      }
      expect(await reader.kv.get({ key: "a" })).toMatchObject({ value: bytes("1") });
      // The admin role is what counts (privileged_client_id is refused while auth is on).
      expect(await boss.kv.clearHistory({})).toMatchObject({ keys: 1n });
      expect(await boss.admin.prune({ pruneTo: 0n })).toMatchObject({ pruned: 1n });
      expect(await boss.kv.setReadOnly({ enable: true })).toMatchObject({ success: true });
      expect((await rejection(writer.kv.set({ key: "b", value: bytes("1") }))).code).toBe(Code.FailedPrecondition);
    });

    it("limits every key-addressed call to the identity's key prefixes", async () => {
      const billing = as("billing");
      await as("writer").kv.set({ key: "payroll", value: bytes("secret") });
      expect(await billing.kv.set({ key: "billing/1", value: bytes("1") })).toMatchObject({ success: true });
      for (const [call, permission] of [
        [() => billing.kv.get({ key: "payroll" }), "read"],
        [() => billing.kv.inspect({ key: "payroll" }), "read"],
        [() => billing.kv.exists({ key: "payroll" }), "read"],
        [() => billing.kv.getRevision({ key: "payroll", version: 1n }), "read"],
        [() => billing.kv.getKeyMetric({ key: "payroll" }), "read"],
        [() => billing.kv.set({ key: "payroll", value: bytes("x") }), "write"],
        [() => billing.kv.delete({ key: "payroll" }), "write"],
        [() => billing.kv.pop({ key: "payroll" }), "write"],
        [() => billing.kv.lock({ key: "payroll" }), "write"],
        [() => billing.kv.unlock({ key: "payroll" }), "write"],
      ] as const) {
        const error = await rejection(call());
        expect([error.code, error.rawMessage]).toEqual([
          Code.PermissionDenied,
          expect.stringMatching(new RegExp(`^\\w+ needs the ${permission} permission on key "payroll", which identity "billing" lacks \\(key_prefixes \\["billing/"\\]\\)$`)),
        ]);
      }
      const payroll = await as("reader").kv.get({ key: "payroll" });
      expect(payroll.value).toEqual(bytes("secret"));
    });

    it("lists only the keys the prefixes cover, in full pages with working cursors", async () => {
      const writer = as("writer");
      for (const key of ["a", "billing/1", "b", "c", "billing/2", "d", "billing/3", "e"]) {
        await writer.kv.set({ key, value: bytes("v") });
      }
      const billing = as("billing");
      const pages: string[][] = [];
      let cursor = "";
      for (;;) {
        const page = await billing.kv.listKeys({ limit: 2n, cursor });
        pages.push(page.keys);
        if (!page.more) break;
        cursor = page.nextCursor;
      }
      expect(pages.flat()).toEqual(["billing/1", "billing/2", "billing/3"]);
      expect(pages[0]).toEqual(["billing/1", "billing/2"]);
      expect((await billing.kv.listKeys({ pattern: "[0-9]" })).keys).toEqual(["billing/1", "billing/2", "billing/3"]);
    });

    it("clears only the keys the prefixes cover", async () => {
      const writer = as("writer");
      for (const key of ["a", "billing/1", "billing/2", "b"]) {
        await writer.kv.set({ key, value: bytes("v") });
      }
      expect(await as("billing").kv.clear({})).toMatchObject({ keysDeleted: 2n });
      expect((await writer.kv.listKeys({})).keys).toEqual(["a", "b"]);
    });

    it("never sends a watcher an event of a key it may not read (WatchStream, WatchKeyValue)", async () => {
      const writer = as("writer");
      const billing = as("billing");
      await writer.kv.set({ key: "payroll", value: bytes("1") });
      await writer.kv.set({ key: "billing/1", value: bytes("1") });
      // From revision 1: the log's replay is filtered as the live events are.
      const watcher = scope.open((signal) => billing.kv.watchStream({ startRevision: 1n, progressInterval: millis(100) }, { signal }));
      const named = scope.open((signal) =>
        billing.kv.watchStream({ keys: ["payroll", "billing/2"], startRevision: 1n, progressInterval: millis(100) }, { signal }),
      );
      await writer.kv.set({ key: "payroll", value: bytes("2") });
      await writer.kv.set({ key: "billing/2", value: bytes("2") });
      await writer.kv.delete({ key: "payroll" });
      const latest = (await writer.kv.stats({})).revision!;
      const seen = (await eventsThrough(watcher, latest)).map(brief);
      expect(seen).toEqual([
        ["billing/1", "CREATED", "writer"],
        ["billing/2", "CREATED", "writer"],
      ]);
      expect((await eventsThrough(named, latest)).map(brief)).toEqual([["billing/2", "CREATED", "writer"]]);
      const refused = await scope.open((signal) => billing.kv.watchKeyValue({ key: "payroll" }, { signal })).ended;
      expect([refused?.code, refused?.rawMessage]).toEqual([
        Code.PermissionDenied,
        'WatchKeyValue needs the read permission on key "payroll", which identity "billing" lacks (key_prefixes ["billing/"])',
      ]);
      const own = scope.open((signal) => billing.kv.watchKeyValue({ key: "billing/2" }, { signal }));
      expect(await own.next()).toMatchObject({ key: "billing/2", value: bytes("2") });
    });
  });

  it("answers a Connect call without credentials with HTTP 401, and leaves health open", async () => {
    const response = await fetch(`${server.url}/keyquarry.KeyQuarry/Get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: "a" }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "unauthenticated" });
    const health = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});
