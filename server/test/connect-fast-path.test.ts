import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let test: TestServer;
beforeAll(async () => {
  test = await startTestServer({ maxValueSize: 1024, maxKeyLength: 64 });
});
afterAll(() => test.close());

const post = (method: string, body: string | Blob, headers: Record<string, string> = {}) =>
  fetch(`${test.url}/keyquarry.KeyQuarry/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", client_id: "fast", ...headers },
    body,
  });

describe("the Connect unary fast path", () => {
  it("answers JSON with proto3 JSON, ignoring unknown fields; an empty body is no JSON (as connect-es reads it)", async () => {
    const created = await post("Set", '{"key":"fast","value":"YmFy","futureField":1}');
    expect([created.status, created.headers.get("content-type"), await created.json()]).toEqual([
      200,
      "application/json",
      { success: true, isNew: true },
    ]);
    expect(await (await post("Get", '{"key":"fast"}', { "connect-protocol-version": "1" })).json()).toEqual({ value: "YmFy" });
    const stats = await post("Stats", "{}");
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ keys: "17" });
    const empty = await post("Stats", "");
    expect([empty.status, await empty.json()]).toEqual([
      400,
      { code: "invalid_argument", message: "cannot decode message keyquarry.EmptyRequest from JSON: Unexpected end of JSON input" },
    ]);
  });

  it("answers errors with the Connect HTTP status and a {code, message} body", async () => {
    const missing = await post("Get", '{"key":"missing"}');
    expect([missing.status, await missing.json()]).toEqual([404, { code: "not_found", message: "Key not found" }]);
    const locked = await post("Set", '{"key":"keyquarry/x"}');
    expect(locked.status).toBe(400);
    const malformed = await post("Get", '{"key":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^cannot decode message keyquarry.Key from JSON/) });
    const anonymous = await post("Get", '{"key":"fast"}', { client_id: "" });
    expect(await anonymous.json()).toEqual({ code: "invalid_argument", message: "empty client_id" });
  });

  it("refuses an oversized body by content-length before reading it", async () => {
    const response = await post("Set", JSON.stringify({ key: "big", value: Buffer.alloc(200_000).toString("base64") }));
    expect([response.status, (await response.json()).code]).toEqual([429, "resource_exhausted"]);
  });

  it("leaves compressed requests and other protocol versions to Connect", async () => {
    const compressed = await post("Get", new Blob([gzipSync(JSON.stringify({ key: "fast" }))]), { "content-encoding": "gzip" });
    expect(await compressed.json()).toEqual({ value: "YmFy" });
    const version = await post("Get", '{"key":"fast"}', { "connect-protocol-version": "2" });
    expect(await version.json()).toEqual({ value: "YmFy" });
  });
});
