import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { KeyQuarry, KeyValueSchema, type Event } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import http from "node:http";
import http2 from "node:http2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createTransport, type Protocol } from "./kit/create-clients.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { Watcher, WatchScope, writeUntilSeen } from "./kit/watch-helpers.js";

let test: TestServer;
let session: http2.ClientHttp2Session;
const scope = new WatchScope();

beforeAll(async () => {
  test = await startTestServer();
  session = http2.connect(test.url);
  await new Promise((resolve) => session.once("connect", resolve));
});
afterEach(() => scope.cancelAll());
afterAll(async () => {
  session.close();
  await test.close();
});

/** A WatchStream of `key` over `protocol` with extra request headers (a deadline). */
function watchWith(protocol: Protocol, key: string, headers: Record<string, string>): Watcher<Event> {
  const kv = createClient(KeyQuarry, createTransport(protocol, test.url, `deadline-${protocol}`));
  return scope.open((signal) => kv.watchStream({ keys: [key] }, { signal, headers }));
}

/** Sets `key` until `watcher` has seen an event. */
function setUntilSeen(protocol: Protocol, key: string, watcher: Watcher<Event>): Promise<void> {
  const kv = createClient(KeyQuarry, createTransport(protocol, test.url, `writer-${protocol}`));
  return writeUntilSeen(watcher, () => kv.set({ key, value: bytes("v") }));
}

describe("deadlines longer than Node's timers hold (about 24.8 days)", () => {
  it.each([
    ["grpc", { "grpc-timeout": "2592000S" }],
    ["grpc", { "grpc-timeout": "99999999H" }],
    ["grpc-web", { "grpc-timeout": "2592000S" }],
    ["connect", { "connect-timeout-ms": "2147483648" }],
    ["connect", { "connect-timeout-ms": "9999999999" }],
  ] as const)("keep a %s WatchStream open with %o until the client cancels", async (protocol, headers) => {
    const key = `long-${protocol}-${Object.values(headers)[0]}`;
    const watcher = watchWith(protocol, key, headers);
    await setUntilSeen(protocol, key, watcher);
    expect(watcher.done).toBe(false);
    expect(watcher.items[0]?.key).toBe(key);
    watcher.cancel();
    expect((await watcher.ended)?.code).toBe(Code.Canceled);
  });

  it("do not cut a unary call on the gRPC fast path whose body arrives in two parts", async () => {
    const message = toBinary(KeyValueSchema, create(KeyValueSchema, { key: "long-unary", value: bytes("v") }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const stream = session.request({
      ":method": "POST",
      ":path": "/keyquarry.KeyQuarry/Set",
      "content-type": "application/grpc",
      te: "trailers",
      client_id: "raw",
      "grpc-timeout": "2592000S",
    });
    const status = grpcStatusOf(stream);
    stream.write(frame.subarray(0, 3));
    // The rest comes later: the overflowing timer of old fired within a millisecond.
    setTimeout(() => stream.end(frame.subarray(3)), 50);
    expect(await status).toEqual({ code: 0, message: "" });
  });
});

describe("a short deadline", () => {
  it.each(["grpc", "grpc-web", "connect"] as const)("still ends a %s WatchStream with DEADLINE_EXCEEDED", async (protocol) => {
    const headers: Record<string, string> = protocol === "connect" ? { "connect-timeout-ms": "500" } : { "grpc-timeout": "500m" };
    const watcher = watchWith(protocol, `short-${protocol}`, headers);
    expect((await watcher.ended)?.code).toBe(Code.DeadlineExceeded);
  });
});

/** grpc-status and grpc-message of a raw HTTP/2 gRPC call (trailers, or headers of a trailers-only answer). */
function grpcStatusOf(stream: http2.ClientHttp2Stream): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    let status: http2.IncomingHttpHeaders = {};
    stream.on("response", (headers) => (status = headers));
    stream.on("trailers", (trailers) => (status = trailers));
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("close", () =>
      resolve({ code: Number(status["grpc-status"]), message: decodeURIComponent(String(status["grpc-message"] ?? "")) }),
    );
  });
}

/** Status, headers and body of a raw HTTP/1.1 request whose body is never finished. */
function unfinishedHttp1(path: string, headers: Record<string, string>, part: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = http.request(`${test.url}${path}`, { method: "POST", headers: { client_id: "raw", ...headers }, agent: false });
    request.on("response", (response) => {
      let body = "";
      response.setEncoding("latin1");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.write(part);
  });
}

describe("a deadline that passes while the request body is still arriving", () => {
  const message = toBinary(KeyValueSchema, create(KeyValueSchema, { key: "slow", value: bytes("never complete") }));
  const frameHeader = Buffer.from([0, 0, 0, 0, message.length + 10]);

  it.each([
    ["gRPC+JSON (Connect's handler)", "application/grpc+json"],
    ["gRPC with gzip (Connect's handler)", "application/grpc"],
    ["gRPC (the fast path)", "application/grpc"],
  ])("gets DEADLINE_EXCEEDED over %s", async (name, contentType) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/keyquarry.KeyQuarry/Set",
      "content-type": contentType,
      te: "trailers",
      client_id: "raw",
      "grpc-timeout": "1S",
      ...(name.includes("gzip") ? { "grpc-encoding": "gzip" } : {}),
    });
    const status = grpcStatusOf(stream);
    stream.write(frameHeader);
    expect(await status).toMatchObject({ code: Code.DeadlineExceeded });
    expect(stream.rstCode === http2.constants.NGHTTP2_CANCEL || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR).toBe(true);
    // The connection serves on.
    expect(session.destroyed).toBe(false);
  });

  it("gets DEADLINE_EXCEEDED in gRPC-Web status headers", async () => {
    const response = await unfinishedHttp1(
      "/keyquarry.KeyQuarry/Set",
      { "content-type": "application/grpc-web+proto", "grpc-timeout": "1S", "content-length": "1000" },
      frameHeader,
    );
    expect(response.status).toBe(200);
    // gRPC-Web sends its trailers in the body: a frame with flag 0x80.
    expect(response.body).toContain("grpc-status: 4");
    expect(response.headers.connection).toBe("close");
  });

  it.each([
    ["the fast path", {}],
    ["Connect's handler", { "content-encoding": "gzip" }],
  ])("gets a Connect deadline_exceeded error over %s", async (_name, extra) => {
    const response = await unfinishedHttp1(
      "/keyquarry.KeyQuarry/Set",
      { "content-type": "application/json", "connect-timeout-ms": "1000", "content-length": "1000", ...extra },
      Buffer.from('{"key":"slow","val'),
    );
    expect(response.status).toBe(504);
    expect(JSON.parse(response.body)).toMatchObject({ code: "deadline_exceeded" });
    expect(response.headers.connection).toBe("close");
  });
});
