// Generators and a runner of hostile protocol requests: valid gRPC, gRPC-Web
// and Connect requests of real methods (built from the generated schemas),
// then mutated, plus HTTP/1.1 garbage and HTTP/2 misuse on raw sockets.
// Shared by server/test/protocol-fuzz.test.ts and the bench's hostile stage.
import { create, toBinary, toJsonString, type DescField, type DescMessage, type DescMethod, ScalarType } from "@bufbuild/protobuf";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import fc from "fast-check";
import http, { type IncomingHttpHeaders } from "node:http";
import http2 from "node:http2";
import net from "node:net";

// Methods whose success legitimately changes what the fuzzer's invariant
// checks (every key removed, writes refused, the server stopped), left out.
const excluded = new Set(["Clear", "SetReadOnly", "Shutdown"]);

/** The methods the fuzzer calls: every RPC of both services except {@link excluded}. */
export const fuzzMethods: readonly DescMethod[] = [...KeyQuarry.methods, ...Admin.methods].filter((m) => !excluded.has(m.name));

const pathOf = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`;

/** How a request is framed and which content type it claims. */
export type Protocol = "grpc" | "grpc-json" | "grpc-web" | "grpc-web-text" | "connect-proto" | "connect-json" | "connect-stream";

/** One change to a valid request body. */
export type Mutation =
  | { op: "flip"; at: number; xor: number }
  | { op: "truncate"; at: number }
  | { op: "append"; bytes: Uint8Array }
  | { op: "length"; value: number }
  | { op: "compressed"; garbage: Uint8Array }
  | { op: "duplicate" }
  | { op: "empty" };

/** A request of a real (or bogus) path, sent over HTTP/1.1 or HTTP/2, maybe mutated and cut short. */
export interface RequestCase {
  kind: "request";
  protocol: Protocol;
  http: 1 | 2;
  path: string;
  streaming: boolean;
  body: Uint8Array;
  headers: Record<string, string>;
  mutations: Mutation[];
  /** HTTP/2 only: how the request ends (normally, reset after part of the body, or the session destroyed). */
  ending: "end" | "reset" | "destroy";
}

/** Bytes written to a raw TCP socket (HTTP/1.1 garbage, truncated or corrupted HTTP/2 prefaces and frames). */
export interface RawCase {
  kind: "raw";
  chunks: Uint8Array[];
}

/** Many HTTP/2 streams opened on one connection, then reset or abandoned with the session. */
export interface StreamsCase {
  kind: "streams";
  count: number;
  path: string;
  rstCode: number;
}

/** One fuzz case. */
export type FuzzCase = RequestCase | RawCase | StreamsCase;

// ---------------------------------------------------------------- messages

const keyArb = fc.oneof(fc.constantFrom("fuzz", "fuzz-a", "fuzz-b", ""), fc.string({ maxLength: 24 }), fc.string({ unit: "binary", maxLength: 8 }));

function scalarArb(type: ScalarType, name: string): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      // Patterns stay small: an expensive RE2 pattern is the bench's subject, not the fuzzer's.
      return name === "key" || name === "pattern" ? keyArb : fc.string({ maxLength: 24 });
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer();
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.nat();
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    default:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  }
}

function singleArb(field: DescField, kind: "scalar" | "enum" | "message", depth: number): fc.Arbitrary<unknown> {
  if (kind === "enum" && field.enum !== undefined) {
    return fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), fc.integer({ min: -3, max: 50 }));
  }
  if (kind === "message" && field.message !== undefined) return messageInitArb(field.message, depth + 1);
  return scalarArb(field.scalar ?? ScalarType.STRING, field.localName);
}

function fieldArb(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "list":
      return fc.array(singleArb(field, field.listKind, depth), { maxLength: 3 });
    case "map":
      return fc.dictionary(fc.string({ maxLength: 8 }), singleArb(field, field.mapKind, depth), { maxKeys: 2 });
    default:
      return singleArb(field, field.fieldKind, depth);
  }
}

/** Random field values of a message (some fields left unset), for `create(schema, init)`. */
function messageInitArb(schema: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (depth > 2) return fc.constant({});
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of schema.fields) fields[field.localName] = fieldArb(field, depth);
  return fc.record(fields, { requiredKeys: [] });
}

/** A valid message of `schema` in binary and, when it has a JSON form, in JSON. */
function encode(schema: DescMessage, init: Record<string, unknown>): { binary: Uint8Array; json: Uint8Array } {
  const message = create(schema, init);
  const binary = toBinary(schema, message);
  let json: string;
  try {
    json = toJsonString(schema, message);
  } catch {
    // Durations and timestamps out of JSON's range: send the empty message instead.
    json = "{}";
  }
  return { binary, json: new TextEncoder().encode(json) };
}

// ---------------------------------------------------------------- framing

/** A 5-byte-prefixed message (gRPC, gRPC-Web and Connect streaming envelopes). */
export function envelope(message: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

const contentTypes: Record<Protocol, string> = {
  grpc: "application/grpc",
  "grpc-json": "application/grpc+json",
  "grpc-web": "application/grpc-web+proto",
  "grpc-web-text": "application/grpc-web-text",
  "connect-proto": "application/proto",
  "connect-json": "application/json",
  "connect-stream": "application/connect+proto",
};

const enveloped = (protocol: Protocol) => protocol !== "connect-proto" && protocol !== "connect-json";

function applyMutation(body: Uint8Array, mutation: Mutation): Uint8Array {
  switch (mutation.op) {
    case "flip": {
      if (body.length === 0) return body;
      const out = body.slice();
      const i = mutation.at % body.length;
      out[i] = (out[i] ?? 0) ^ mutation.xor;
      return out;
    }
    case "truncate":
      return body.slice(0, mutation.at % (body.length + 1));
    case "append":
      return concat([body, mutation.bytes]);
    case "length": {
      if (body.length < 5) return body;
      const out = body.slice();
      new DataView(out.buffer).setUint32(1, mutation.value >>> 0);
      return out;
    }
    case "compressed":
      return envelope(mutation.garbage, 1);
    case "duplicate":
      return concat([body, body]);
    case "empty":
      return new Uint8Array(0);
  }
}

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("length" as const),
      value: fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(0, 0x7fffffff, 0xffffffff, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1)),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("compressed" as const), garbage: fc.uint8Array({ maxLength: 32 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: "duplicate" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "empty" as const }) },
);

// ---------------------------------------------------------------- headers

const headerValueArb = (values: readonly string[]) => fc.option(fc.constantFrom(...values), { nil: undefined });

/** Bogus or unusual values of the headers the three protocols read. */
const headersArb = fc.record(
  {
    "grpc-timeout": headerValueArb(["1n", "1m", "0S", "100m", "5S", "99999999S", "2592000S", "999999999H", "abc", "-1S", "1", "1X", ""]),
    "grpc-encoding": headerValueArb(["identity", "gzip", "br", "deflate", "bogus", ""]),
    "grpc-accept-encoding": headerValueArb(["gzip", "bogus", ""]),
    "connect-timeout-ms": headerValueArb(["0", "1", "100", "2147483648", "99999999999", "-1", "abc", ""]),
    "connect-protocol-version": headerValueArb(["1", "2", ""]),
    "content-encoding": headerValueArb(["gzip", "br", "identity", "bogus"]),
    "connect-content-encoding": headerValueArb(["gzip", "bogus"]),
    "content-type": headerValueArb([
      "",
      "text/plain",
      "application/grpc+bogus",
      "application/grpcx",
      "application/json; charset=latin1",
      "application/connect+json",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
    ]),
    te: headerValueArb(["gzip", "", "trailers, deflate"]),
    client_id: fc.option(fc.oneof(fc.constantFrom("", "fuzz", " ", "a".repeat(2000)), fc.stringMatching(/^[\w.-]{1,40}$/)), { nil: undefined }),
  },
  { requiredKeys: [] },
);

// ---------------------------------------------------------------- cases

const protocolArb = fc.constantFrom<Protocol>("grpc", "grpc", "grpc-json", "grpc-web", "grpc-web-text", "connect-proto", "connect-json", "connect-stream");

const requestCaseArb: fc.Arbitrary<RequestCase> = fc
  .record({
    method: fc.constantFrom(...fuzzMethods),
    protocol: protocolArb,
    http: fc.constantFrom<1 | 2>(1, 2),
    bogusPath: fc.option(fc.constantFrom("/", "/keyquarry.KeyQuarry/Nope", "/keyquarry.KeyQuarry/", "/keyquarry.Bogus/Get", "/keyquarry.KeyQuarry/Get/x", "//"), { freq: 10 }),
    headers: headersArb,
    mutations: fc.array(mutationArb, { maxLength: 3 }),
    ending: fc.constantFrom<RequestCase["ending"]>("end", "end", "end", "end", "reset", "destroy"),
    seed: fc.nat(),
  })
  .chain((r) => messageInitArb(r.method.input).map((init) => ({ ...r, init })))
  .map((r) => {
    const { binary, json } = encode(r.method.input, r.init);
    const isJson = r.protocol === "grpc-json" || r.protocol === "connect-json";
    const message = isJson ? json : binary;
    let body = enveloped(r.protocol) ? envelope(message) : message;
    for (const mutation of r.mutations) body = applyMutation(body, mutation);
    if (r.protocol === "grpc-web-text") body = new TextEncoder().encode(Buffer.from(body).toString("base64"));
    const streaming = r.method.methodKind === "server_streaming";
    // gRPC over HTTP/1.1 does not exist; its cases go over HTTP/2.
    const httpVersion = r.protocol === "grpc" || r.protocol === "grpc-json" ? 2 : r.http;
    const headers: Record<string, string> = { "content-type": contentTypes[r.protocol], client_id: "fuzz" };
    if (r.protocol.startsWith("grpc") && httpVersion === 2) headers["te"] = "trailers";
    if (r.protocol.startsWith("connect")) headers["connect-protocol-version"] = "1";
    for (const [name, value] of Object.entries(r.headers)) {
      if (value !== undefined) headers[name] = value;
    }
    // node:http2 refuses to send a `te` other than "trailers" (HTTP/2 forbids it): leave it out instead.
    if (httpVersion === 2 && headers["te"] !== undefined && headers["te"] !== "trailers") delete headers["te"];
    return {
      kind: "request" as const,
      protocol: r.protocol,
      http: httpVersion,
      path: r.bogusPath ?? pathOf(r.method),
      streaming,
      body,
      headers,
      mutations: r.mutations,
      ending: httpVersion === 2 ? r.ending : "end",
    };
  });

const preface = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** An HTTP/2 frame header plus payload, with any type, flags and stream id. */
const frameArb = fc
  .record({ type: fc.integer({ min: 0, max: 12 }), flags: fc.integer({ min: 0, max: 255 }), stream: fc.nat(), payload: fc.uint8Array({ maxLength: 40 }), lie: fc.option(fc.nat({ max: 0xffffff }), { freq: 4 }) })
  .map(({ type, flags, stream, payload, lie }) => {
    const out = new Uint8Array(9 + payload.length);
    const length = lie ?? payload.length;
    out[0] = (length >> 16) & 0xff;
    out[1] = (length >> 8) & 0xff;
    out[2] = length & 0xff;
    out[3] = type;
    out[4] = flags;
    new DataView(out.buffer).setUint32(5, stream);
    out.set(payload, 9);
    return out;
  });

const http1Lines = [
  "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /keyquarry.KeyQuarry/Get HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
  "POST /keyquarry.KeyQuarry/Get HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n",
  "POST /keyquarry.KeyQuarry/Get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "GET /\x00\x01 HTTP/1.1\r\n\r\n",
  "HELLO\r\n\r\n",
  "POST /keyquarry.KeyQuarry/Get HTTP/9.9\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
];

const rawCaseArb: fc.Arbitrary<RawCase> = fc.oneof(
  // A truncated or corrupted preface, maybe followed by random frames.
  fc
    .record({ cut: fc.nat({ max: preface.length }), flip: fc.option(fc.nat({ max: preface.length - 1 }), { freq: 3, nil: undefined }), frames: fc.array(frameArb, { maxLength: 4 }) })
    .map(({ cut, flip, frames }) => {
      const head = preface.slice();
      if (flip !== undefined) head[flip] = (head[flip] ?? 0) ^ 0x20;
      return { kind: "raw" as const, chunks: [cut === preface.length ? head : head.slice(0, cut), ...(cut === preface.length ? frames : [])] };
    }),
  // A whole preface and random frames (SETTINGS, HEADERS with garbage HPACK, bad stream ids, lying lengths).
  fc.array(frameArb, { minLength: 1, maxLength: 6 }).map((frames) => ({ kind: "raw" as const, chunks: [preface, ...frames] })),
  // HTTP/1.1: smuggling-style headers, bad request lines, an h2c upgrade, and random bytes.
  fc.constantFrom(...http1Lines).map((line) => ({ kind: "raw" as const, chunks: [new TextEncoder().encode(line)] })),
  fc.uint8Array({ minLength: 1, maxLength: 128 }).map((bytes) => ({ kind: "raw" as const, chunks: [bytes] })),
);

const streamsCaseArb: fc.Arbitrary<StreamsCase> = fc.record({
  kind: fc.constant("streams" as const),
  count: fc.integer({ min: 2, max: 64 }),
  path: fc.constantFrom(...fuzzMethods.map(pathOf)),
  rstCode: fc.constantFrom(http2.constants.NGHTTP2_CANCEL, http2.constants.NGHTTP2_PROTOCOL_ERROR, http2.constants.NGHTTP2_INTERNAL_ERROR, http2.constants.NGHTTP2_NO_ERROR),
});

/** Any fuzz case: mostly mutated requests, some raw bytes, a few bursts of streams. */
export const fuzzCaseArb: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 14, arbitrary: requestCaseArb },
  { weight: 4, arbitrary: rawCaseArb },
  { weight: 1, arbitrary: streamsCaseArb },
);

// ---------------------------------------------------------------- running

/** What one case got: `problem` says what was malformed; `answered` is false when no answer was expected or came. */
export interface FuzzOutcome {
  answered: boolean;
  problem?: string;
}

const caseTimeoutMs = 15_000;
// How long a streaming call (a watch never ends by itself) is kept open after its answer starts.
const streamWindowMs = 50;

/** Runs one case against 127.0.0.1:port and checks the answer is well-formed in the request's protocol. */
export function runFuzzCase(port: number, fuzzCase: FuzzCase): Promise<FuzzOutcome> {
  switch (fuzzCase.kind) {
    case "request":
      return fuzzCase.http === 2 ? runHttp2Request(port, fuzzCase) : runHttp1Request(port, fuzzCase);
    case "raw":
      return runRaw(port, fuzzCase);
    case "streams":
      return runStreams(port, fuzzCase);
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders | http2.IncomingHttpHeaders;
  trailers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Whether the body was read to its end (false when a streaming call was cancelled). */
  complete: boolean;
}

const grpcCodeNames = new Set([
  "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists", "permission_denied",
  "resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable",
  "data_loss", "unauthenticated",
]);

const validGrpcStatus = (value: unknown) => typeof value === "string" && /^(?:[0-9]|1[0-6])$/.test(value);

/** Reads 5-byte-prefixed frames; undefined when the bytes do not split into whole frames. */
function frames(body: Buffer): Array<{ flags: number; data: Buffer }> | undefined {
  const out: Array<{ flags: number; data: Buffer }> = [];
  let at = 0;
  while (at < body.length) {
    if (at + 5 > body.length) return undefined;
    const length = body.readUInt32BE(at + 1);
    if (at + 5 + length > body.length) return undefined;
    out.push({ flags: body[at] ?? 0, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

function isConnectErrorBody(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { code?: unknown };
    return typeof parsed.code === "string" && grpcCodeNames.has(parsed.code);
  } catch {
    return false;
  }
}

/** The claimed protocol of a request, from the content type the server actually received. */
function claimedProtocol(contentType: string): "grpc" | "grpc-web" | "connect-unary" | "connect-stream" | "other" {
  if (/^application\/grpc-web(?:-text)?(?:\+(?:proto|json))?$/.test(contentType)) return "grpc-web";
  if (/^application\/grpc(?:\+(?:proto|json))?$/.test(contentType)) return "grpc";
  if (/^application\/connect\+(?:proto|json)$/.test(contentType)) return "connect-stream";
  if (/^application\/(?:proto|json)(?:; ?charset=utf-8)?$/.test(contentType)) return "connect-unary";
  return "other";
}

/** Why an answer is not a well-formed success or error of the claimed protocol (undefined when it is). */
export function malformation(contentType: string, answer: Answer): string | undefined {
  const { status, headers, trailers, body, complete } = answer;
  const header = (name: string) => trailers[name] ?? headers[name];
  switch (claimedProtocol(contentType)) {
    case "grpc":
      if (status !== 200) return status === 415 ? undefined : `gRPC answered HTTP ${status}`;
      if (!complete) return undefined;
      if (!validGrpcStatus(header("grpc-status"))) return `gRPC answer without a valid grpc-status (${String(header("grpc-status"))})`;
      if (frames(body) === undefined) return "gRPC answer body is not whole frames";
      return undefined;
    case "grpc-web": {
      if (status !== 200) return status === 415 ? undefined : `gRPC-Web answered HTTP ${status}`;
      if (!complete || validGrpcStatus(headers["grpc-status"])) return undefined;
      const text = String(headers["content-type"] ?? "").startsWith("application/grpc-web-text");
      const parsed = frames(text ? Buffer.from(body.toString("latin1"), "base64") : body);
      if (parsed === undefined) return "gRPC-Web answer body is not whole frames";
      const trailer = parsed.find((f) => (f.flags & 0x80) !== 0);
      if (trailer === undefined) return "gRPC-Web answer without grpc-status";
      const code = /^grpc-status:\s*(\d+)\s*$/im.exec(trailer.data.toString("latin1"))?.[1];
      return validGrpcStatus(code) ? undefined : "gRPC-Web trailer without a valid grpc-status";
    }
    case "connect-stream": {
      if (status !== 200) return isConnectErrorBody(body) || status === 415 ? undefined : `Connect stream answered HTTP ${status} without a Connect error`;
      if (!complete) return undefined;
      const parsed = frames(body);
      const end = parsed?.at(-1);
      if (end === undefined || (end.flags & 0x02) === 0) return "Connect stream without an end-of-stream message";
      try {
        const message = JSON.parse(end.data.toString("utf8")) as { error?: { code?: unknown } };
        if (message.error !== undefined && !grpcCodeNames.has(String(message.error.code))) return "Connect end-of-stream error without a valid code";
      } catch {
        return "Connect end-of-stream message is not JSON";
      }
      return undefined;
    }
    case "connect-unary":
      if (status === 200) return undefined;
      return isConnectErrorBody(body) || status === 415 ? undefined : `Connect answered HTTP ${status} without a Connect error body: ${body.toString("utf8").slice(0, 120)}`;
    case "other":
      // Not a protocol we speak: any client error, or an answer in one of our protocols' error formats.
      if (status >= 400 && status < 500) return undefined;
      if (status === 200 && validGrpcStatus(header("grpc-status"))) return undefined;
      return `answered HTTP ${status} to content type ${JSON.stringify(contentType)}`;
  }
}

function withTimeout<T>(run: (settle: (value: T) => void) => () => void, onTimeout: T): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    let cleanup = () => {};
    const timer = setTimeout(() => settle(onTimeout), caseTimeoutMs);
    const settle = (value: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cleanup();
      resolve(value);
    };
    cleanup = run(settle);
  });
}

function runHttp2Request(port: number, c: RequestCase): Promise<FuzzOutcome> {
  return withTimeout<FuzzOutcome>(
    (settle) => {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      // Session and stream errors (GOAWAY, RST_STREAM, resets of our own) are answers, not crashes.
      session.on("error", () => {});
      const stream = session.request({ ":method": "POST", ":path": c.path, ...c.headers }, { endStream: false });
      stream.on("error", () => {});
      let status = 0;
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      let streamTimer: NodeJS.Timeout | undefined;
      const finish = (complete: boolean) => {
        if (status === 0) {
          settle({ answered: false, ...(c.ending === "end" && !c.streaming ? { problem: `HTTP/2 stream ended without an answer (${stream.rstCode ?? "no RST"})` } : {}) });
          return;
        }
        const problem = malformation(c.headers["content-type"] ?? "", { status, headers, trailers, body: Buffer.concat(chunks), complete });
        settle({ answered: true, ...(problem === undefined ? {} : { problem }) });
      };
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        headers = h;
        if (c.streaming) streamTimer = setTimeout(() => finish(false), streamWindowMs);
      });
      stream.on("trailers", (t) => (trailers = t));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => finish(true));
      stream.on("close", () => finish(stream.rstCode === http2.constants.NGHTTP2_NO_ERROR));
      if (c.ending === "end") {
        stream.end(c.body);
      } else {
        stream.write(c.body.subarray(0, Math.ceil(c.body.length / 2)), () => {
          if (c.ending === "reset") stream.close(http2.constants.NGHTTP2_CANCEL);
          else session.destroy();
        });
      }
      return () => {
        clearTimeout(streamTimer);
        session.destroy();
      };
    },
    { answered: false, ...(c.ending === "end" && !c.streaming ? { problem: `no answer within ${caseTimeoutMs} ms` } : {}) },
  );
}

function runHttp1Request(port: number, c: RequestCase): Promise<FuzzOutcome> {
  return withTimeout<FuzzOutcome>(
    (settle) => {
      const request = http.request({ host: "127.0.0.1", port, method: "POST", path: c.path, headers: c.headers, agent: false });
      let streamTimer: NodeJS.Timeout | undefined;
      request.on("error", (err) => settle({ answered: false, problem: `HTTP/1.1 request failed without an answer: ${err.message}` }));
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        const finish = (complete: boolean) => {
          const problem = malformation(c.headers["content-type"] ?? "", { status: response.statusCode ?? 0, headers: response.headers, trailers: {}, body: Buffer.concat(chunks), complete });
          settle({ answered: true, ...(problem === undefined ? {} : { problem }) });
        };
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => finish(true));
        response.on("error", () => finish(false));
        if (c.streaming) streamTimer = setTimeout(() => finish(false), streamWindowMs);
      });
      request.end(c.body);
      return () => {
        clearTimeout(streamTimer);
        request.destroy();
      };
    },
    { answered: false, ...(c.streaming ? {} : { problem: `no HTTP/1.1 answer within ${caseTimeoutMs} ms` }) },
  );
}

// How long raw bytes wait for the server's reaction after our FIN: a socket
// the server keeps open past it is left to the idle and handshake timeouts.
const rawWindowMs = 500;

function runRaw(port: number, c: RawCase): Promise<FuzzOutcome> {
  return withTimeout<FuzzOutcome>(
    (settle) => {
      const socket = net.connect(port, "127.0.0.1");
      const received: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        const reply = Buffer.concat(received);
        // Either nothing, an HTTP/1.x response, or HTTP/2 frames (the server's SETTINGS, GOAWAY).
        const text = reply.subarray(0, 9).toString("latin1");
        const problem = reply.length === 0 || text.startsWith("HTTP/1.") || reply.length >= 9 ? undefined : `raw socket got ${reply.length} bytes that are no HTTP answer`;
        settle({ answered: reply.length > 0, ...(problem === undefined ? {} : { problem }) });
      };
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.on("close", finish);
      socket.on("connect", () => {
        for (const chunk of c.chunks) socket.write(chunk);
        socket.end();
        timer = setTimeout(finish, rawWindowMs);
      });
      return () => {
        clearTimeout(timer);
        socket.destroy();
      };
    },
    { answered: false },
  );
}

function runStreams(port: number, c: StreamsCase): Promise<FuzzOutcome> {
  return withTimeout<FuzzOutcome>(
    (settle) => {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on("error", () => {});
      const streams: http2.ClientHttp2Stream[] = [];
      session.on("connect", () => {
        for (let i = 0; i < c.count && !session.destroyed; i++) {
          try {
            const stream = session.request({ ":method": "POST", ":path": c.path, "content-type": "application/grpc", te: "trailers", client_id: "fuzz" }, { endStream: false });
            stream.on("error", () => {});
            stream.write(envelope(new Uint8Array(0)).subarray(0, 3));
            streams.push(stream);
          } catch {
            break; // the session refused more streams (GOAWAY or its own limit)
          }
        }
        // Reset every stream mid-body, then give the server a moment to see the resets.
        setImmediate(() => {
          for (const stream of streams) if (!stream.destroyed) stream.close(c.rstCode);
          session.close(() => settle({ answered: true }));
        });
      });
      return () => session.destroy();
    },
    { answered: false },
  );
}
