// SetMany (keyquarry extension): many Sets over one gRPC stream, answered in order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { defaultConfig } from "../src/config/default-config.js";
import { afterEach, describe, expect, it } from "vitest";
import { createClients } from "./kit/create-clients.js";
import { withToken, writeIdentitiesFile } from "./kit/identities.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { textValueOf } from "./kit/text-value-of.js";

let test: TestServer | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await test?.close();
  test = undefined;
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

const text = (value: string) => new TextEncoder().encode(value);

async function* items(entries: Array<[string, string]>) {
  for (const [key, value] of entries) {
    yield { key, value: text(value) };
  }
}

describe("SetMany", () => {
  it("sets each item as Set would, in order, and answers each in the same order, errors included", async () => {
    test = await startTestServer();
    const { kv } = createClients("grpc", test.url, "loader");
    const other = createClients("grpc", test.url, "someone-else").kv;
    await other.lock({ key: "taken", duration: { seconds: 60n, nanos: 0 }, createIfMissing: true });
    const answers = [];
    for await (const answer of kv.setMany(items([["a", "1"], ["a", "2"], ["taken", "x"], ["", "empty key"], ["b", "3"]]))) {
      answers.push(answer);
    }
    expect(answers.map(({ key, code, response }) => [key, code, response?.isNew])).toEqual([
      ["a", 0, true],
      ["a", 0, false],
      ["taken", Code.PermissionDenied, undefined],
      ["", Code.InvalidArgument, undefined],
      ["b", 0, true],
    ]);
    expect(answers[2]!.message).not.toBe("");
    expect(await textValueOf(kv, "a")).toBe("2");
    expect((await kv.inspect({ key: "a" })).version).toBe(2n);
  });

  it("keeps up with a stream larger than its window of unanswered items and than one request's size limit, with a journal that acknowledges after commits", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "kq-set-many-"));
    // A request may hold about 1 KiB here; the stream holds 60 times that, each message well within it.
    test = await startTestServer({ dataDir, maxValueSize: 64, maxKeyLength: 64, snapshot: { ...defaultConfig().snapshot, enabled: true, journal: "sync" } });
    const { kv } = createClients("grpc", test.url, "loader");
    const entries = Array.from({ length: 5000 }, (_, i): [string, string] => [`k${i % 1500}`, String(i)]);
    let answered = 0;
    for await (const answer of kv.setMany(items(entries))) {
      expect(answer.code).toBe(0);
      expect(answer.key).toBe(entries[answered]![0]);
      answered++;
    }
    expect(answered).toBe(5000);
    expect(await textValueOf(kv, "k0")).toBe("4500");
  });

  it("checks each item against the caller's identity: a key outside its prefixes is refused, the others set", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "kq-set-many-"));
    const file = join(dataDir, "identities.yaml");
    await writeIdentitiesFile(file, [{ id: "billing", role: "readwrite", tokens: ["billing-token-0123456789"], keyPrefixes: ["billing/"] }]);
    test = await startTestServer({ auth: { enabled: true, file } });
    const { kv } = createClients("grpc", test.url, undefined, { interceptors: [withToken("billing-token-0123456789")] });
    const answers = [];
    for await (const answer of kv.setMany(items([["billing/1", "a"], ["payroll/1", "b"], ["billing/2", "c"]]))) {
      answers.push([answer.key, answer.code]);
    }
    expect(answers).toEqual([
      ["billing/1", 0],
      ["payroll/1", Code.PermissionDenied],
      ["billing/2", 0],
    ]);
  });
});

describe("SetMany over HTTP/1.1", () => {
  it("answers UNIMPLEMENTED in each protocol's form (it needs HTTP/2), not a bare HTTP 505", async () => {
    test = await startTestServer();
    for (const kind of ["connect", "grpc-web"] as const) {
      const { kv } = createClients(kind, test.url, "loader");
      const error = await (async () => {
        for await (const _ of kv.setMany(items([["a", "1"]]))) {
          // nothing answers
        }
      })().then(
        () => undefined,
        (reason: unknown) => reason as ConnectError,
      );
      expect(error, kind).toBeInstanceOf(ConnectError);
      expect(error!.code, kind).toBe(Code.Unimplemented);
      // Connect's streaming client takes the code from the HTTP status and does not read the body.
      if (kind === "grpc-web") expect(error!.rawMessage).toContain("needs HTTP/2");
    }
  });
});
