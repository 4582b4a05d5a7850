import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { compressionGzip, createGrpcTransport } from "@connectrpc/connect-node";
import { KeyQuarry, KeySchema, KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import http2 from "node:http2";
import { connect } from "node:net";
import { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytes, text } from "./kit/bytes.js";
import { withClientId } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let test: TestServer;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  test = await startTestServer({ maxValueSize: 1024, maxKeyLength: 64 });
  session = http2.connect(test.url);
  await new Promise((resolve) => session.once("connect", resolve));
});
afterAll(async () => {
  session.close();
  await test.close();
});

const frame = (message: Uint8Array, flags = 0) => {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
};

interface RawResponse {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw gRPC call: full control over headers and body, as an arbitrary client could send. */
function call(path: string, headers: http2.OutgoingHttpHeaders, body: Buffer | undefined, end = true): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      client_id: "raw",
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("close", () => resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    if (body !== undefined) {
      stream.write(body);
    }
    if (end) {
      stream.end();
    }
  });
}

/** grpc-status and grpc-message from trailers, or from the headers of a trailers-only response. */
const status = (response: RawResponse) => ({
  code: Number(response.trailers["grpc-status"] ?? response.headers["grpc-status"]),
  message: decodeURIComponent(String(response.trailers["grpc-message"] ?? response.headers["grpc-message"] ?? "")),
});

const setBody = (key: string, value: string) => frame(toBinary(KeyValueSchema, create(KeyValueSchema, { key, value: bytes(value) })));

describe("the gRPC fast path", () => {
  it("answers a unary call with headers, one framed message and grpc-status 0 trailers", async () => {
    const response = await call("/keyquarry.KeyQuarry/Set", {}, setBody("raw", "value"));
    expect(response.headers[":status"]).toBe(200);
    expect(response.headers["content-type"]).toBe("application/grpc+proto");
    expect(status(response)).toEqual({ code: 0, message: "" });
    expect(response.body.readUInt32BE(1)).toBe(response.body.length - 5);
    expect(response.body.subarray(5)).toEqual(Buffer.from([0x08, 0x01, 0x10, 0x01])); // success: true, is_new: true
  });

  it("answers errors with their code and a percent-encoded message", async () => {
    const missing = await call("/keyquarry.KeyQuarry/Get", {}, frame(toBinary(KeySchema, create(KeySchema, { key: "nope" }))));
    expect(status(missing)).toEqual({ code: Code.NotFound, message: "Key not found" });
    const anonymous = await call("/keyquarry.KeyQuarry/Get", { client_id: undefined }, frame(new Uint8Array()));
    expect(status(anonymous).code).toBe(Code.InvalidArgument);
    expect(status(anonymous).message).toMatch(/^missing client_id/);
    const dashed = await call("/keyquarry.KeyQuarry/Exists", { client_id: undefined, "client-id": "dashed" }, frame(new Uint8Array()));
    expect(status(dashed).code).toBe(0);
  });

  it.each([
    ["no message at all", Buffer.alloc(0), Code.Unimplemented],
    ["a frame longer than the body", Buffer.from([0, 0, 0, 0, 9, 1]), Code.InvalidArgument],
    ["two messages for a unary call", Buffer.concat([frame(new Uint8Array()), frame(new Uint8Array())]), Code.Unimplemented],
    ["a compressed flag without grpc-encoding", frame(new Uint8Array(), 1), Code.Internal],
    ["bytes that are no KeyValue", frame(Buffer.from([0x0a, 0xff, 0xff])), Code.Internal],
  ])("refuses %s", async (_name, body, code) => {
    expect(status(await call("/keyquarry.KeyQuarry/Set", {}, body)).code).toBe(code);
  });

  it("refuses a message over the size limit, by content-length or while reading", async () => {
    const huge = setBody("huge", "x".repeat(200_000));
    const declared = await call("/keyquarry.KeyQuarry/Set", { "content-length": String(huge.length) }, huge);
    expect(status(declared).code).toBe(Code.ResourceExhausted);
    const streamed = await call("/keyquarry.KeyQuarry/Set", {}, huge);
    expect(status(streamed)).toMatchObject({ code: Code.ResourceExhausted });
    // The frame's length prefix tells the whole size before the rest arrives.
    expect(status(streamed).message).toBe(
      `request is ${huge.length - 5} bytes; the limit is 67286 bytes (max_value_size 1024 plus key and encoding)`,
    );
  });

  it("honours grpc-timeout while the request is still arriving", async () => {
    const stalled = await call("/keyquarry.KeyQuarry/Set", { "grpc-timeout": "50m" }, setBody("slow", "x").subarray(0, 3), false);
    expect(status(stalled)).toEqual({ code: Code.DeadlineExceeded, message: "the operation timed out" });
    const invalid = await call("/keyquarry.KeyQuarry/Get", { "grpc-timeout": "soon" }, frame(new Uint8Array()));
    expect(status(invalid).code).toBe(Code.InvalidArgument);
  });

  it("leaves compressed, JSON and unknown calls to the general handler", async () => {
    const gzip = createClient(
      KeyQuarry,
      createGrpcTransport({ baseUrl: test.url, sendCompression: compressionGzip, compressMinBytes: 0, interceptors: [withClientId("gz")] }),
    );
    expect((await gzip.set({ key: "gzipped", value: bytes("zipped") })).isNew).toBe(true);
    expect(text((await gzip.get({ key: "gzipped" })).value)).toBe("zipped");

    const json = createClient(
      KeyQuarry,
      createGrpcTransport({ baseUrl: test.url, useBinaryFormat: false, interceptors: [withClientId("json")] }),
    );
    expect(text((await json.get({ key: "gzipped" })).value)).toBe("zipped");
    expect((await rejection(json.get({ key: "missing" }))).code).toBe(Code.NotFound);

    const unknown = await call("/keyquarry.KeyQuarry/Nope", {}, frame(new Uint8Array()));
    expect(status(unknown)).toEqual({ code: Code.Unimplemented, message: "unknown method POST /keyquarry.KeyQuarry/Nope" });
  });

  it("keeps serving 2 048 calls in flight at once", async () => {
    const calls = Array.from({ length: 2048 }, (_, i) => call("/keyquarry.KeyQuarry/Set", {}, setBody(`many-${i % 64}`, `v${i}`)));
    const codes = (await Promise.all(calls)).map((response) => status(response).code);
    expect(codes.every((code) => code === 0)).toBe(true);
  });
});

describe("HTTP/2 connections on the shared port", () => {
  it("read their socket natively, not through a JavaScript stream wrapper", async () => {
    const handle = new Promise<string>((resolve) =>
      test.server.app.server.once("session", (serverSession: http2.ServerHttp2Session) =>
        resolve((serverSession.socket as unknown as { _handle: object })._handle.constructor.name),
      ),
    );
    const client = http2.connect(test.url);
    try {
      // A socket Node cannot read natively gets a JSStream handle, at ~25% of a call's CPU.
      expect(await handle).toBe("TCP");
    } finally {
      client.close();
    }
  });

  it("work when the client preface arrives a few bytes at a time", async () => {
    const socket = connect(Number(new URL(test.url).port), "127.0.0.1");
    // Everything the client writes goes out in 3-byte pieces, one per event-loop turn.
    const trickle = new Duplex({
      read: () => {},
      write: (chunk: Buffer, _encoding, callback) => {
        void (async () => {
          for (let offset = 0; offset < chunk.length; offset += 3) {
            socket.write(chunk.subarray(offset, offset + 3));
            await new Promise((resolve) => setImmediate(resolve));
          }
          callback();
        })();
      },
    });
    socket.on("data", (chunk: Buffer) => trickle.push(chunk));
    socket.on("end", () => trickle.push(null));
    const trickled = http2.connect(test.url, { createConnection: () => trickle });
    try {
      const stream = trickled.request({ ":method": "POST", ":path": "/keyquarry.KeyQuarry/Set", "content-type": "application/grpc", te: "trailers", client_id: "trickle" });
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
      stream.on("data", () => {});
      stream.end(setBody("trickled", "slowly"));
      expect((await trailers)["grpc-status"]).toBe("0");
    } finally {
      trickled.close();
      socket.destroy();
    }
  });
});
