import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { Http2SessionManager } from "@connectrpc/connect-node";
import { KeyQuarry, KeyValueSchema, WatchRequestSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import http from "node:http";
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config/default-config.js";
import { readMaxBytesFor } from "../src/host/read-max-bytes.js";
import { bytes } from "./kit/bytes.js";
import { createTransport, protocols } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let test: TestServer;
let cors: TestServer;
let session: http2.ClientHttp2Session;
const limit = readMaxBytesFor(defaultConfig());
const tooLarge = (size: number | "at least") =>
  new RegExp(
    `^request is ${size === "at least" ? "at least \\d+" : size} bytes; the limit is ${limit} bytes \\(max_value_size 1000000 plus key and encoding\\)$`,
  );

beforeAll(async () => {
  test = await startTestServer();
  cors = await startTestServer({ corsOrigins: "*" });
  session = http2.connect(test.url, { maxSessionMemory: 256 });
  await new Promise((resolve) => session.once("connect", resolve));
});
afterAll(async () => {
  session.close();
  await Promise.all([test.close(), cors.close()]);
});

/**
 * An HTTP/2 session for clients that send 50 MB at once: Node queues a whole
 * write in the session, and a session over its maxSessionMemory (10 MB by
 * default) refuses every frame it receives with ENHANCE_YOUR_CALM: the
 * client's own limit, whatever the server answers.
 */
const bigSession = () => new Http2SessionManager(test.url, undefined, { maxSessionMemory: 256 });

const kvOver = (protocol: (typeof protocols)[number], sessionManager = bigSession()) =>
  createClient(KeyQuarry, createTransport(protocol, test.url, `big-${protocol}`, { http2: { sessionManager } }));

const setMessage = (key: string, size: number) => create(KeyValueSchema, { key, value: new Uint8Array(size) });

describe.each(protocols)("an oversized request over %s", (protocol) => {
  it.each([
    ["1.5 MB", 1_500_000],
    ["5 MB", 5_000_000],
    ["50 MB", 50_000_000],
  ])("of %s gets RESOURCE_EXHAUSTED with its size and the limit", async (_name, size) => {
    const message = setMessage(`big-${size}`, size);
    const error = await rejection(kvOver(protocol).set(message));
    expect(error.code).toBe(Code.ResourceExhausted);
    // Connect's unary body has no length prefix, and this client sends no content-length.
    expect(error.rawMessage).toMatch(tooLarge(protocol === "connect" ? "at least" : toBinary(KeyValueSchema, message).length));
    expect((await kvOver(protocol).exists({ key: `big-${size}` })).exists).toBe(false);
  });
});

describe("an oversized gRPC request", () => {
  it("for a method the fast path leaves to Connect (WatchStream) gets RESOURCE_EXHAUSTED with its size", async () => {
    const request = create(WatchRequestSchema, { keys: ["k".repeat(5_000_000)] });
    const kv = kvOver("grpc");
    const error = await rejection(
      (async () => {
        for await (const _event of kv.watchStream(request)) {
          // No event is expected.
        }
      })(),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toMatch(tooLarge(toBinary(WatchRequestSchema, request).length));
  });

  it.each([
    ["the fast path (Set)", "application/grpc"],
    ["Connect's handler (gRPC+JSON)", "application/grpc+json"],
  ])("leaves the other streams of its connection alone, via %s", async (_name, contentType) => {
    // A call in flight on the same connection: half its request sent.
    const small = toBinary(KeyValueSchema, create(KeyValueSchema, { key: "neighbour", value: bytes("v") }));
    const smallFrame = Buffer.concat([Buffer.from([0, 0, 0, 0, small.length]), small]);
    const neighbour = openRawGrpc("/keyquarry.KeyQuarry/Set", "application/grpc");
    neighbour.stream.write(smallFrame.subarray(0, 3));
    // 50 MB on the same connection, as fast as the client can send it.
    const body =
      contentType === "application/grpc"
        ? toBinary(KeyValueSchema, setMessage("huge", 50_000_000))
        : Buffer.from(JSON.stringify({ key: "huge", value: Buffer.alloc(37_000_000).toString("base64") }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
    frame.writeUInt32BE(body.length, 1);
    const status = await rawGrpc("/keyquarry.KeyQuarry/Set", contentType, frame);
    expect(status.code).toBe(Code.ResourceExhausted);
    expect(status.message).toMatch(tooLarge(body.length));
    neighbour.stream.end(smallFrame.subarray(3));
    expect(await neighbour.status).toEqual({ code: 0, message: "" });
    expect(session.destroyed).toBe(false);
  });

  it.each(["application/grpc", "application/grpc+json"])("(%s) declaring 500 MB gets RESOURCE_EXHAUSTED before any of it is sent", async (contentType) => {
    const status = await rawGrpc("/keyquarry.KeyQuarry/Set", contentType, Buffer.alloc(0), { "content-length": "500000005" }, false);
    expect(status.code).toBe(Code.ResourceExhausted);
    expect(status.message).toMatch(tooLarge(500_000_000));
  });
});

/** A raw gRPC call on the shared session, its request not sent yet, and its grpc-status and message to come. */
function openRawGrpc(path: string, contentType: string, headers: http2.OutgoingHttpHeaders = {}) {
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": contentType, te: "trailers", client_id: "raw", ...headers });
  const status = new Promise<{ code: number; message: string }>((resolve, reject) => {
    let fields: http2.IncomingHttpHeaders = {};
    stream.on("response", (response) => (fields = response));
    stream.on("trailers", (trailers) => (fields = trailers));
    stream.on("data", () => {});
    // The server resets the stream once it answered: the client's write may fail, the answer stands.
    stream.on("error", () => {});
    stream.on("close", () => {
      if (fields["grpc-status"] === undefined) {
        reject(new Error(`no grpc-status; reset code ${stream.rstCode}`));
      }
      resolve({ code: Number(fields["grpc-status"]), message: decodeURIComponent(String(fields["grpc-message"] ?? "")) });
    });
  });
  return { stream, status };
}

/** A raw gRPC call on the shared session: its grpc-status and message. */
function rawGrpc(path: string, contentType: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}, end = true) {
  const { stream, status } = openRawGrpc(path, contentType, headers);
  if (end) {
    stream.end(body);
  } else {
    stream.write(body);
  }
  return status;
}

/** A raw HTTP/1.1 request: status, headers and body of the answer. */
function rawHttp1(url: string, headers: Record<string, string>, body: Buffer | string | undefined, end = true) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = http.request(url, { method: "POST", headers: { client_id: "raw", ...headers }, agent: false });
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("latin1");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body: text }));
    });
    request.on("error", reject);
    if (body !== undefined) {
      request.write(body);
    }
    if (end) {
      request.end();
    }
  });
}

describe("a compressed request over the limit once decompressed", () => {
  const zipped = gzipSync(toBinary(KeyValueSchema, setMessage("bomb", 5_000_000)));

  it("gets RESOURCE_EXHAUSTED in the options' terms over gRPC", async () => {
    const frame = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), zipped]);
    frame.writeUInt32BE(zipped.length, 1);
    const status = await rawGrpc("/keyquarry.KeyQuarry/Set", "application/grpc", frame, { "grpc-encoding": "gzip" });
    expect(status).toEqual({ code: Code.ResourceExhausted, message: expect.stringMatching(tooLarge("at least")) });
  });

  it("gets resource_exhausted in the options' terms over Connect", async () => {
    const response = await rawHttp1(
      `${test.url}/keyquarry.KeyQuarry/Set`,
      { "content-type": "application/proto", "content-encoding": "gzip" },
      zipped,
    );
    expect(JSON.parse(response.body)).toEqual({ code: "resource_exhausted", message: expect.stringMatching(tooLarge("at least")) });
  });
});

describe("an oversized Connect request declaring 500 MB", () => {
  it.each([
    ["the fast path", {}],
    ["Connect's handler", { "content-encoding": "gzip" }],
  ])("gets resource_exhausted over %s, and the connection is closed", async (_name, extra) => {
    const response = await rawHttp1(
      `${test.url}/keyquarry.KeyQuarry/Set`,
      { "content-type": "application/json", "content-length": "500000000", ...extra },
      "{",
      false,
    );
    expect(JSON.parse(response.body)).toEqual({ code: "resource_exhausted", message: expect.stringMatching(tooLarge(500_000_000)) });
    expect(response.headers.connection).toBe("close");
  });
});

describe("a missing or wrong content type", () => {
  it.each([
    ["missing", undefined, "missing content type"],
    ["text/plain", "text/plain", 'unsupported content type "text/plain"'],
    ["malformed", "nonsense", 'unsupported content type "nonsense"'],
    ["Connect streaming for a unary method", "application/connect+xml", 'unsupported content type "application/connect+xml"'],
  ])("(%s) gets a Connect error body with HTTP 415", async (_name, contentType, message) => {
    const headers: Record<string, string> = contentType === undefined ? {} : { "content-type": contentType };
    const response = await rawHttp1(`${test.url}/keyquarry.KeyQuarry/Set`, headers, '{"key":"typeless","value":"YmFy"}');
    expect(response.status).toBe(415);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({
      code: "invalid_argument",
      message: `${message}; use application/json or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)`,
    });
  });

  it("with an unknown gRPC codec gets a gRPC status", async () => {
    const status = await rawGrpc("/keyquarry.KeyQuarry/Set", "application/grpc+xml", Buffer.from([0, 0, 0, 0, 0]));
    expect(status).toEqual({
      code: Code.InvalidArgument,
      message: 'unsupported content type "application/grpc+xml"; use application/grpc, application/grpc+proto or application/grpc+json',
    });
  });

  it("with an unknown gRPC-Web codec gets gRPC-Web status headers", async () => {
    const response = await rawHttp1(`${test.url}/keyquarry.KeyQuarry/Set`, { "content-type": "application/grpc-web+xml" }, Buffer.from([0, 0, 0, 0, 0]));
    expect(response.status).toBe(200);
    expect(response.headers["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(String(response.headers["grpc-message"]))).toMatch(/^unsupported content type "application\/grpc-web\+xml"/);
  });

  it("and no content type over HTTP/2 gets HTTP 415 (as the gRPC spec asks)", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/keyquarry.KeyQuarry/Set", te: "trailers", client_id: "raw" });
      stream.on("response", (headers) => resolve(Number(headers[":status"])));
      stream.on("error", reject);
      stream.resume();
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    expect(status).toBe(415);
  });
});

describe("a JSON bytes field that is not base64", () => {
  const valueOf = async (key: string) => {
    const kv = createClient(KeyQuarry, createTransport("connect", test.url, "b64"));
    return (await kv.exists({ key })).exists ? (await kv.get({ key })).value : undefined;
  };

  it.each(["bar", "!!!!", "YmFy!", "a"])("(%j) gets INVALID_ARGUMENT over Connect JSON and nothing is stored", async (value) => {
    for (const [server, extra] of [
      [test, {}], // the fast path
      [cors, { origin: "http://app.example" }], // Connect's handler (the fast path leaves cross-origin calls to it)
    ] as const) {
      const key = `b64-${value}-${Object.keys(extra).length}`;
      const response = await rawHttp1(`${server.url}/keyquarry.KeyQuarry/Set`, { "content-type": "application/json", ...extra }, JSON.stringify({ key, value }));
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/keyquarry\.KeyValue.*(value|base64)/) });
      const kv = createClient(KeyQuarry, createTransport("connect", server.url, "b64"));
      expect((await kv.exists({ key })).exists).toBe(false);
    }
  });

  it.each([
    ["gRPC+JSON", "application/grpc+json"],
    ["gRPC-Web+JSON", "application/grpc-web+json"],
  ])("gets INVALID_ARGUMENT over %s and nothing is stored", async (_name, contentType) => {
    const key = `b64-${contentType}`;
    const json = Buffer.from(JSON.stringify({ key, value: "bar" }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, json.length]), json]);
    const status = contentType === "application/grpc+json"
      ? await rawGrpc("/keyquarry.KeyQuarry/Set", contentType, frame)
      : grpcWebStatus(await rawHttp1(`${test.url}/keyquarry.KeyQuarry/Set`, { "content-type": contentType }, frame));
    expect(status.code).toBe(Code.InvalidArgument);
    expect(status.message).toBe("cannot decode message keyquarry.KeyValue from JSON: field value is not base64 (standard or URL-safe, padding optional)");
    expect(await valueOf(key)).toBeUndefined();
  });

  it.each([
    ["standard, padded", "YmE=", "ba"],
    ["standard, unpadded", "YmE", "ba"],
    ["URL-safe", "-_8", "\u00fb\u00ff"],
    ["empty", "", ""],
  ])("is still accepted when valid (%s)", async (_name, value, expected) => {
    const key = `b64-ok-${value}`;
    const response = await rawHttp1(`${test.url}/keyquarry.KeyQuarry/Set`, { "content-type": "application/json" }, JSON.stringify({ key, value }));
    expect(response.status).toBe(200);
    expect(Buffer.from((await valueOf(key))!).toString("latin1")).toBe(expected);
  });
});

/** The status in a gRPC-Web answer: its headers (trailers-only) or the trailer frame of its body. */
function grpcWebStatus(response: { headers: http.IncomingHttpHeaders; body: string }): { code: number; message: string } {
  const fields = new Map<string, string>();
  for (const line of response.body.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      fields.set(line.slice(0, colon).replace(/^[\s\S]*?(grpc-)/, "$1").trim(), line.slice(colon + 1).trim());
    }
  }
  const code = response.headers["grpc-status"] ?? fields.get("grpc-status");
  const message = response.headers["grpc-message"] ?? fields.get("grpc-message") ?? "";
  return { code: Number(code), message: decodeURIComponent(String(message)) };
}
