import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { KeyQuarry, KeySchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bytes, text } from "./kit/bytes.js";
import { createClients, createTransport, protocols } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let test: TestServer;

beforeAll(async () => {
  test = await startTestServer({ maxKeyLength: 64, maxValueSize: 1024 });
});
afterAll(() => test.close());

describe.each(protocols)("bad input over %s", (protocol) => {
  let kv: ReturnType<typeof createClients>["kv"];
  beforeAll(async () => {
    kv = createClients(protocol, test.url, `bad-${protocol}`).kv;
    await kv.set({ key: `survivor-${protocol}`, value: bytes("still here") });
  });

  // After every refusal the server must keep serving, with nothing stored lost.
  afterEach(async () => {
    expect(text((await kv.get({ key: `survivor-${protocol}` })).value)).toBe("still here");
  });

  it.each([
    ["an empty key", "", 10, Code.InvalidArgument, "Empty key"],
    ["a key over max_key_length", "k".repeat(65), 10, Code.FailedPrecondition, "Key length greater than maximum: 65 bytes, the limit is 64 (max_key_length)"],
    ["a value over max_value_size", "big", 1025, Code.FailedPrecondition, "value size is greater than maximum: 1025 bytes, the limit is 1024 (max_value_size)"],
  ])("refuses %s", async (_name, key, size, code, message) => {
    const error = await rejection(kv.set({ key, value: new Uint8Array(size) }));
    expect(error.code).toBe(code);
    expect(error.rawMessage).toBe(message);
  });

  it("accepts a key and a value exactly at the limits", async () => {
    const key = "é".repeat(32); // 64 UTF-8 bytes
    expect((await kv.set({ key, value: new Uint8Array(1024) })).success).toBe(true);
    expect((await rejection(kv.set({ key: `${key}x`, value: bytes("") }))).code).toBe(Code.FailedPrecondition);
  });

  it("refuses an oversized request body without buffering it", async () => {
    const error = await rejection(kv.set({ key: "huge", value: new Uint8Array(4 * 1024 * 1024) }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect((await kv.exists({ key: "huge" })).exists).toBe(false);
  });

  it("refuses an invalid ListKeys pattern", async () => {
    const error = await rejection(kv.listKeys({ pattern: "(unclosed" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^invalid key pattern: .*missing closing \)/);
    expect((await rejection(kv.listKeys({ pattern: "(?=lookahead)" }))).code).toBe(Code.InvalidArgument);
  });

  it("matches a pathological pattern in linear time instead of freezing the server", async () => {
    await kv.set({ key: "a".repeat(60) + "!", value: bytes("x") });
    // (a+)+$ backtracks exponentially in JavaScript's RegExp on "aaa…!"; the
    // test timeout catches a regression, since one such search would never end.
    expect((await kv.listKeys({ pattern: "(a+)+$" })).keys).toEqual([]);
    expect((await kv.listKeys({ pattern: "^(a+)+!$" })).keys).toEqual(["a".repeat(60) + "!"]);
  });

  it.each([
    ["missing", undefined, /^missing client_id/],
    ["empty", "", /^empty client_id$/],
    ["reserved", "keyquarry", /^reserved client_id used$/],
  ])("refuses a %s client id", async (_name, clientId, message) => {
    const anonymous = createClients(protocol, test.url, clientId).kv;
    const error = await rejection(anonymous.get({ key: `survivor-${protocol}` }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(message);
  });

  it("accepts the client id as `client-id` too (proxies drop underscores)", async () => {
    const transport = createTransport(protocol, test.url, undefined);
    const response = await transport.unary(
      KeyQuarry.method.exists,
      undefined,
      undefined,
      { "client-id": "dashed" },
      create(KeySchema, { key: `survivor-${protocol}` }),
    );
    expect(response.message.exists).toBe(true);
  });

  it("answers UNIMPLEMENTED for an unknown method", async () => {
    const transport = createTransport(protocol, test.url, "someone");
    const unknown = { ...KeyQuarry.method.get, name: "Nope" };
    const error = await rejection(
      transport.unary(unknown, undefined, undefined, undefined, create(KeySchema, { key: "x" })),
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(Code.Unimplemented);
  });
});

describe("bad input over Connect JSON with plain fetch", () => {
  const post = (method: string, body: string, headers: Record<string, string> = { client_id: "curl" }) =>
    fetch(`${test.url}/keyquarry.KeyQuarry/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });

  it("refuses malformed JSON with 400 invalid_argument", async () => {
    const response = await post("Get", '{"key":');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("refuses a field of the wrong type", async () => {
    const response = await post("Set", '{"key":"typed","value":123}');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("refuses a missing client id with a message saying what to send", async () => {
    const response = await post("Get", '{"key":"x"}', {});
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: "invalid_argument",
      message: "missing client_id: send your client id as request metadata 'client_id' (or 'client-id')",
    });
  });

  it("answers 404 unimplemented for an unknown method", async () => {
    const response = await post("Nope", "{}");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "unimplemented" });
  });

  it("refuses an oversized body with resource_exhausted", async () => {
    const response = await post("Set", JSON.stringify({ key: "huge", value: Buffer.alloc(3 * 1024 * 1024).toString("base64") }));
    expect(await response.json()).toMatchObject({ code: "resource_exhausted" });
  });
});
