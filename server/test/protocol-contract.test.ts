import { create, toBinary, toJsonString, type DescMessage, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { Admin } from "@keyquarry/gen/keyquarry/admin_pb.js";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../src/config/config.js";
import { defaultConfig } from "../src/config/default-config.js";
import { build, type KeyquarryServer } from "../src/host/server.js";
import { ManualClock } from "../src/store/clock.js";
import { rawExchange, type RawRequest, type RawResponse } from "./kit/raw-exchange.js";

/**
 * One contract, two paths: every unary method, valid and in each error
 * class, sent as the same raw request to a server whose fast paths serve it
 * and to one where connect-es serves everything (BuildOptions.fastPaths:
 * false). The answers must be the same bytes: status, headers (but Date),
 * body and trailers. Both servers run on the same manual clock, so
 * timestamps and revisions agree too.
 *
 * One difference is allowed, and only in form: a gRPC error the fast path
 * answers before any message is trailers-only (the status in the one
 * HEADERS frame, as the gRPC spec recommends), where connect-es sends
 * headers and then trailers; both carry the same status and message.
 */

const config: Config = {
  ...defaultConfig(),
  listenAddress: "127.0.0.1:0",
  maxValueSize: 64,
  maxKeyLength: 64,
  maxClientIdLength: 16,
  privilegedClientId: "admin",
};

/** A server and the number of calls that reached Fastify (i.e. not served by a fast path). */
interface Counted {
  server: KeyquarryServer;
  url: string;
  viaFastify: number;
}

async function start(fastPaths: boolean): Promise<Counted> {
  const server = await build(config, { logger: false, clock: new ManualClock(), fastPaths });
  const counted: Counted = { server, url: "", viaFastify: 0 };
  server.app.addHook("onRequest", (_request, _reply, done) => {
    counted.viaFastify++;
    done();
  });
  counted.url = await server.listen();
  return counted;
}

/** How a protocol puts a message and a deadline on the wire. */
interface Variant {
  name: string;
  transport: RawRequest["transport"];
  headers: Record<string, string>;
  encode(schema: DescMessage, message: MessageInitShape<DescMessage>): Uint8Array;
  timeoutHeader: string;
  /** A deadline of 100 ms in the protocol's terms. */
  timeout: string;
  /** The status code of an answer. */
  outcome(response: RawResponse): Code | "ok";
}

const grpcFrame = (message: Uint8Array) => {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
};

const connectOutcome = (response: RawResponse): Code | "ok" => {
  if (response.status === 200) {
    return "ok";
  }
  const code = codeFromString((JSON.parse(response.body) as { code: string }).code);
  if (code === undefined) {
    throw new Error(`not a Connect error: ${response.body}`);
  }
  return code;
};

const variants: Variant[] = [
  {
    name: "gRPC",
    transport: "h2",
    headers: { "content-type": "application/grpc", te: "trailers" },
    encode: (schema, message) => grpcFrame(toBinary(schema, create(schema, message))),
    timeoutHeader: "grpc-timeout",
    timeout: "100m",
    outcome: (response) => {
      const status = response.trailers?.["grpc-status"] ?? response.headers["grpc-status"];
      return status === "0" ? "ok" : (Number(status) as Code);
    },
  },
  ...(["http1", "h2"] as const).flatMap((transport): Variant[] => [
    {
      name: `Connect binary over ${transport === "h2" ? "HTTP/2" : "HTTP/1.1"}`,
      transport,
      headers: { "content-type": "application/proto" },
      encode: (schema, message) => toBinary(schema, create(schema, message)),
      timeoutHeader: "connect-timeout-ms",
      timeout: "100",
      outcome: connectOutcome,
    },
    {
      name: `Connect JSON over ${transport === "h2" ? "HTTP/2" : "HTTP/1.1"}`,
      transport,
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
      encode: (schema, message) => Buffer.from(toJsonString(schema, create(schema, message))),
      timeoutHeader: "connect-timeout-ms",
      timeout: "100",
      outcome: connectOutcome,
    },
  ]),
];

/** One call of the scenario; `clientId: null` sends none. */
interface Case {
  name: string;
  method: DescMethodUnary;
  message?: MessageInitShape<DescMessage>;
  clientId?: string | null;
  headers?: (variant: Variant) => Record<string, string>;
  /** A body other than the encoded message (malformed input), per protocol. */
  body?: (variant: Variant) => Uint8Array | undefined;
  hold?: boolean;
  /** The outcome both must have, so that the case shows what it says it shows. */
  expect: Code | "ok" | ((variant: Variant) => Code | "ok");
}

const kv = KeyQuarry.method;
const admin = Admin.method;
const seconds = (s: bigint, nanos = 0) => ({ seconds: s, nanos });
const isJson = (variant: Variant) => variant.headers["content-type"] === "application/json";
const isGrpc = (variant: Variant) => variant.name === "gRPC";
const raw = (variant: Variant, grpc: Buffer, proto: Buffer, json: string) =>
  isGrpc(variant) ? grpc : isJson(variant) ? Buffer.from(json) : proto;

// In order: later calls see what earlier ones did (on both servers alike).
const cases: Case[] = [
  { name: "Register", method: kv.register, expect: "ok" },
  { name: "Register again: already registered", method: kv.register, expect: Code.AlreadyExists },
  { name: "Set a new key", method: kv.set, message: { key: "k1", value: Buffer.from("v1"), contentType: "text/plain" }, expect: "ok" },
  { name: "Set again", method: kv.set, message: { key: "k1", value: Buffer.from("v2") }, expect: "ok" },
  { name: "Set with a lifespan", method: kv.set, message: { key: "k2", value: Buffer.from("x"), lifespan: seconds(60n) }, expect: "ok" },
  { name: "Set: value too large", method: kv.set, message: { key: "big", value: Buffer.alloc(65) }, expect: Code.FailedPrecondition },
  {
    name: "Set: request over the size limit",
    method: kv.set,
    message: { key: "huge", value: Buffer.alloc(70_000) },
    expect: Code.ResourceExhausted,
  },
  { name: "Set: reserved key", method: kv.set, message: { key: "keyquarry/x", value: Buffer.from("x") }, expect: Code.InvalidArgument },
  { name: "Set: empty key", method: kv.set, message: { key: "" }, expect: Code.InvalidArgument },
  { name: "Set: bad lifespan", method: kv.set, message: { key: "k3", lifespan: seconds(-1n) }, expect: Code.InvalidArgument },
  { name: "Set: if_version mismatch", method: kv.set, message: { key: "k1", ifVersion: 7n }, expect: Code.FailedPrecondition },
  { name: "Get", method: kv.get, message: { key: "k1" }, expect: "ok" },
  { name: "Get: not found", method: kv.get, message: { key: "missing" }, expect: Code.NotFound },
  { name: "Inspect with value and metrics", method: kv.inspect, message: { key: "k2", includeValue: true, includeMetrics: true }, expect: "ok" },
  { name: "Inspect: not found", method: kv.inspect, message: { key: "missing" }, expect: Code.NotFound },
  { name: "Exists", method: kv.exists, message: { key: "k1" }, expect: "ok" },
  { name: "Exists: absent", method: kv.exists, message: { key: "missing" }, expect: "ok" },
  { name: "Lock", method: kv.lock, message: { key: "k1", duration: seconds(60n) }, expect: "ok" },
  { name: "Set: locked by another client", method: kv.set, clientId: "bob", message: { key: "k1", value: Buffer.from("b") }, expect: Code.PermissionDenied },
  { name: "Lock: bad duration", method: kv.lock, message: { key: "k2", duration: seconds(-5n) }, expect: Code.OutOfRange },
  { name: "Lock: duration too long", method: kv.lock, message: { key: "k2", duration: seconds(100_000n) }, expect: Code.OutOfRange },
  { name: "Lock: not found", method: kv.lock, message: { key: "missing", duration: seconds(10n) }, expect: Code.NotFound },
  { name: "Unlock by another client", method: kv.unlock, clientId: "bob", message: { key: "k1" }, expect: Code.PermissionDenied },
  { name: "Unlock", method: kv.unlock, message: { key: "k1" }, expect: "ok" },
  { name: "GetRevision", method: kv.getRevision, message: { key: "k1", version: 1n }, expect: "ok" },
  { name: "GetRevision: not found", method: kv.getRevision, message: { key: "k1", version: 99n }, expect: Code.NotFound },
  { name: "GetRevision: version zero", method: kv.getRevision, message: { key: "k1", version: 0n }, expect: Code.InvalidArgument },
  { name: "GetKeyMetric", method: kv.getKeyMetric, message: { key: "k1" }, expect: "ok" },
  { name: "GetKeyMetric: not found", method: kv.getKeyMetric, message: { key: "missing" }, expect: Code.NotFound },
  { name: "ListKeys", method: kv.listKeys, message: { pattern: "k*", limit: 1n, includeReserved: false }, expect: "ok" },
  { name: "ListKeys with reserved keys", method: kv.listKeys, message: { includeReserved: true }, expect: "ok" },
  { name: "ListKeys: bad cursor", method: kv.listKeys, message: { cursor: "not a cursor" }, expect: Code.InvalidArgument },
  { name: "Stats", method: kv.stats, message: {}, expect: "ok" },
  { name: "Delete: if_version mismatch", method: kv.delete, message: { key: "k2", ifVersion: 9n }, expect: Code.FailedPrecondition },
  { name: "Delete", method: kv.delete, message: { key: "k2" }, expect: "ok" },
  { name: "Delete: not found", method: kv.delete, message: { key: "k2" }, expect: Code.NotFound },
  { name: "Pop", method: kv.pop, message: { key: "k1" }, expect: "ok" },
  { name: "Pop: not found", method: kv.pop, message: { key: "k1" }, expect: Code.NotFound },
  { name: "ClearHistory", method: kv.clearHistory, message: {}, expect: "ok" },
  { name: "Clear", method: kv.clear, message: { force: true }, expect: "ok" },
  { name: "SetReadOnly: not privileged", method: kv.setReadOnly, message: { enable: true }, expect: Code.PermissionDenied },
  { name: "SetReadOnly", method: kv.setReadOnly, clientId: "admin", message: { enable: true }, expect: "ok" },
  { name: "Set: read-only", method: kv.set, message: { key: "k4" }, expect: Code.FailedPrecondition },
  { name: "SetReadOnly off", method: kv.setReadOnly, clientId: "admin", message: { enable: false }, expect: "ok" },
  { name: "Get: missing client id", method: kv.get, clientId: null, message: { key: "k1" }, expect: Code.InvalidArgument },
  { name: "Get: empty client id", method: kv.get, clientId: "", message: { key: "k1" }, expect: Code.InvalidArgument },
  { name: "Get: reserved client id", method: kv.get, clientId: "keyquarry", message: { key: "k1" }, expect: Code.InvalidArgument },
  { name: "Get: client id too long", method: kv.get, clientId: "a".repeat(17), message: { key: "k1" }, expect: Code.InvalidArgument },
  {
    name: "Exists: client id as client-id",
    method: kv.exists,
    clientId: null,
    headers: () => ({ "client-id": "carol" }),
    message: { key: "k1" },
    expect: "ok",
  },
  {
    name: "Stats: missing client id",
    method: kv.stats,
    clientId: null,
    message: {},
    expect: Code.InvalidArgument,
  },
  {
    name: "Get: timeout header too",
    method: kv.get,
    headers: (variant) => ({ [variant.timeoutHeader]: variant.timeout }),
    message: { key: "missing" },
    expect: Code.NotFound,
  },
  {
    name: "Get: malformed timeout header",
    method: kv.get,
    headers: (variant) => ({ [variant.timeoutHeader]: "soon" }),
    message: { key: "k1" },
    expect: Code.InvalidArgument,
  },
  {
    name: "Set: deadline passes while the body is read",
    method: kv.set,
    headers: (variant) => ({ [variant.timeoutHeader]: variant.timeout }),
    message: { key: "slow", value: Buffer.from("value") },
    hold: true,
    expect: Code.DeadlineExceeded,
  },
  {
    name: "Set: malformed message",
    method: kv.set,
    body: (variant) => raw(variant, grpcFrame(Buffer.from([0x0a, 0xff])), Buffer.from([0x0a, 0xff]), '{"key":'),
    // connect-es's codes: binary that does not decode is INTERNAL (as in the Go original), JSON INVALID_ARGUMENT.
    expect: (variant) => (isJson(variant) ? Code.InvalidArgument : Code.Internal),
  },
  {
    name: "Set: a field of the wrong type",
    method: kv.set,
    body: (variant) => raw(variant, grpcFrame(Buffer.from([0x08, 0x01])), Buffer.from([0x08, 0x01]), '{"key":1}'),
    expect: (variant) => (isJson(variant) ? Code.InvalidArgument : Code.Internal),
  },
  {
    name: "Lock: malformed duration",
    method: kv.lock,
    body: (variant) => (isJson(variant) ? Buffer.from('{"key":"k1","duration":"soon"}') : undefined),
    message: { key: "k1", duration: { seconds: 1n, nanos: 2_000_000_000 } },
    expect: (variant) => (isJson(variant) ? Code.InvalidArgument : Code.OutOfRange),
  },
  {
    name: "Set: bytes that are not base64 (JSON)",
    method: kv.set,
    body: (variant) => (isJson(variant) ? Buffer.from('{"key":"k5","value":"!!!"}') : undefined),
    message: { key: "k5", value: Buffer.from("ok") },
    expect: (variant) => (isJson(variant) ? Code.InvalidArgument : "ok"),
  },
  {
    name: "Get: empty body",
    method: kv.get,
    body: () => Buffer.alloc(0),
    // gRPC: no message at all; Connect binary: an empty Key (key ""); Connect JSON: no JSON.
    expect: (variant) => (isGrpc(variant) ? Code.Unimplemented : isJson(variant) ? Code.InvalidArgument : Code.NotFound),
  },
  { name: "Prune: not privileged", method: admin.prune, message: { pruneTo: 1n }, expect: Code.PermissionDenied },
  { name: "Prune", method: admin.prune, clientId: "admin", message: { pruneTo: 0n, ignoreKeys: ["k5"] }, expect: "ok" },
  { name: "Shutdown: not privileged", method: admin.shutdown, message: {}, expect: Code.PermissionDenied },
  { name: "Shutdown", method: admin.shutdown, clientId: "admin", message: {}, expect: "ok" },
];

/** The raw request of a case in a protocol. */
function requestOf(variant: Variant, call: Case): RawRequest {
  const clientId = call.clientId === undefined ? "alice" : call.clientId;
  return {
    transport: variant.transport,
    path: `/${call.method.parent.typeName}/${call.method.name}`,
    headers: {
      ...variant.headers,
      ...(clientId === null ? {} : { client_id: clientId }),
      ...call.headers?.(variant),
    },
    body: call.body?.(variant) ?? variant.encode(call.method.input, call.message ?? {}),
    hold: call.hold,
  };
}

describe.each(variants)("$name: the fast path answers as connect-es does", (variant) => {
  let fast: Counted;
  let general: Counted;
  beforeAll(async () => {
    [fast, general] = await Promise.all([start(true), start(false)]);
  });
  afterAll(async () => {
    await Promise.all([fast?.server.close(), general?.server.close()]);
  });

  it.each(cases)("$name", async (call) => {
    const request = requestOf(variant, call);
    const before = [fast.viaFastify, general.viaFastify];
    const fastAnswer = await rawExchange(fast.url, request);
    const generalAnswer = await rawExchange(general.url, request);
    // Each server took the path it stands for.
    expect([fast.viaFastify - before[0]!, general.viaFastify - before[1]!]).toEqual([0, 1]);
    expect(variant.outcome(generalAnswer)).toBe(typeof call.expect === "function" ? call.expect(variant) : call.expect);
    expect(asHeadersAndTrailers(fastAnswer)).toEqual(asHeadersAndTrailers(generalAnswer));
  });
});

/** A trailers-only gRPC answer in the form of headers, no body, then trailers (the same status in other frames). */
function asHeadersAndTrailers(response: RawResponse): RawResponse {
  const { "grpc-status": status, "grpc-message": message, ...headers } = response.headers;
  if (status === undefined || response.trailers !== undefined || response.body !== "") {
    return response;
  }
  return { ...response, headers, trailers: { "grpc-status": status, ...(message === undefined ? {} : { "grpc-message": message }) } };
}
