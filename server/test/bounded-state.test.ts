import { Code } from "@connectrpc/connect";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients, protocols } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

// Issue 10, hole 7: client ids, registered clients and removed keys' metrics are bounded.

let test: TestServer;

beforeAll(async () => {
  test = await startTestServer({ maxClientIdLength: 32, maxClients: protocols.length, maxRemovedKeyMetrics: 2 });
});
afterAll(() => test.close());

const tooLong = "c".repeat(33);
const tooLongMessage = "client_id too long: 33 bytes, max_client_id_length is 32";

describe.each(protocols)("client ids over %s", (protocol) => {
  it("accepts an id of max_client_id_length bytes and refuses a longer one, naming the limit", async () => {
    const atLimit = createClients(protocol, test.url, "c".repeat(32)).kv;
    expect((await atLimit.exists({ key: "k" })).exists).toBe(false);
    const error = await rejection(createClients(protocol, test.url, tooLong).kv.exists({ key: "k" }));
    expect({ code: error.code, message: error.rawMessage }).toEqual({ code: Code.InvalidArgument, message: tooLongMessage });
  });

  it("refuses a watch stream with a too long id", async () => {
    const kv = createClients(protocol, test.url, tooLong).kv;
    const watch = async () => {
      for await (const _ of kv.watchStream({}, { signal: AbortSignal.timeout(20_000) })) {
        // No event can come: the stream must end at once.
      }
    };
    const error = await rejection(watch());
    expect({ code: error.code, message: error.rawMessage }).toEqual({ code: Code.InvalidArgument, message: tooLongMessage });
  });
});

describe("client id length", () => {
  it("counts the bytes received, not characters", async () => {
    // 17 × "é" as its 34 UTF-8 bytes, written as is on a raw socket (clients differ in how they encode header strings).
    const { port } = new URL(test.url);
    const body = '{"key":"k"}';
    const head = [
      "POST /keyquarry.KeyQuarry/Exists HTTP/1.1",
      `host: 127.0.0.1:${port}`,
      "content-type: application/json",
      `content-length: ${body.length}`,
      "connection: close",
    ].join("\r\n");
    const request = Buffer.concat([
      Buffer.from(`${head}\r\nclient_id: `),
      Buffer.from("é".repeat(17), "utf8"),
      Buffer.from(`\r\n\r\n${body}`),
    ]);
    const response = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(Number(port), "127.0.0.1", () => socket.end(request));
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4))).toEqual({
      code: "invalid_argument",
      message: "client_id too long: 34 bytes, max_client_id_length is 32",
    });
  });
});

describe("registered clients", () => {
  it("refuses a new client id once max_clients are registered, on every protocol; known ids answer as before", async () => {
    for (const protocol of protocols) {
      expect((await createClients(protocol, test.url, `registered-${protocol}`).kv.register({})).success).toBe(true);
    }
    for (const protocol of protocols) {
      const error = await rejection(createClients(protocol, test.url, `late-${protocol}`).kv.register({}));
      expect({ code: error.code, message: error.rawMessage }).toEqual({
        code: Code.ResourceExhausted,
        message: `maximum number of registered clients reached: max_clients is ${protocols.length}`,
      });
      const again = await rejection(createClients(protocol, test.url, `registered-${protocol}`).kv.register({}));
      expect(again.code).toBe(Code.AlreadyExists);
    }
    // An unregistered id still works for everything else (registration is optional).
    const late = createClients("grpc", test.url, "late-grpc").kv;
    expect((await late.set({ key: "by-late", value: bytes("v") })).success).toBe(true);
    expect((await late.stats({})).clientIds).toBe(BigInt(protocols.length));
  });
});

describe("metrics of removed keys", () => {
  it("answers GetKeyMetric for the recently removed keys only, on every protocol", async () => {
    const kv = createClients("grpc", test.url, "remover").kv;
    const before = await kv.stats({});
    const removed = ["gone-0", "gone-1", "gone-2", "gone-3"];
    for (const key of removed) {
      await kv.set({ key, value: bytes("v") });
      await kv.delete({ key });
    }
    for (const protocol of protocols) {
      const client = createClients(protocol, test.url, "reader").kv;
      for (const key of ["gone-0", "gone-1"]) {
        expect((await rejection(client.getKeyMetric({ key }))).code).toBe(Code.NotFound);
      }
      for (const key of ["gone-2", "gone-3"]) {
        expect((await client.getKeyMetric({ key })).setCount).toBe(1n);
      }
    }
    const after = await kv.stats({});
    expect(after.keys).toBe(before.keys);
    expect(after.events?.deleted).toBe((before.events?.deleted ?? 0n) + BigInt(removed.length));
  });
});

describe("a snapshot beyond the limits", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "keyquarry-bounded-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("restores every client and the last removed keys' metrics, then refuses new registrations", async () => {
    const snapshot = { enabled: true, interval: 0n, journal: "sync" as const, journalInterval: 1_000_000_000n, database: `sqlite://${join(dir, "snapshots.db")}`, retain: 2 };
    const first = await startTestServer({ name: "bounded", snapshot, maxClients: 0, maxRemovedKeyMetrics: -1 });
    try {
      for (const id of ["a", "b", "c", "d"]) {
        await createClients("grpc", first.url, id).kv.register({});
      }
      const kv = createClients("grpc", first.url, "writer").kv;
      for (const key of ["old-0", "old-1", "old-2"]) {
        await kv.set({ key, value: bytes("v") });
        await kv.delete({ key });
      }
    } finally {
      await first.close();
    }
    const second = await startTestServer({ name: "bounded", snapshot, maxClients: 2, maxRemovedKeyMetrics: 1 });
    try {
      const kv = createClients("grpc", second.url, "e").kv;
      expect((await kv.stats({})).clientIds).toBe(4n);
      expect((await rejection(kv.register({}))).code).toBe(Code.ResourceExhausted);
      expect((await rejection(createClients("grpc", second.url, "a").kv.register({}))).code).toBe(Code.AlreadyExists);
      expect((await rejection(kv.getKeyMetric({ key: "old-1" }))).code).toBe(Code.NotFound);
      expect((await kv.getKeyMetric({ key: "old-2" })).setCount).toBe(1n);
    } finally {
      await second.close();
    }
  });
});
