import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fuzzCaseArb, runFuzzCase } from "./protocol-fuzz-cases.js";
import { bytes, text } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

// Seeded and replayable: a failure prints its seed and path; replay it with
// KEYQUARRY_FC_SEED=<seed> KEYQUARRY_FC_PATH=<path>, and run longer with KEYQUARRY_FC_RUNS.
const seed = process.env["KEYQUARRY_FC_SEED"] === undefined ? undefined : Number(process.env["KEYQUARRY_FC_SEED"]);
const replayPath = process.env["KEYQUARRY_FC_PATH"];
const runs = Number(process.env["KEYQUARRY_FC_RUNS"] ?? 300);
const batchSize = 20;

let test: TestServer;
let port: number;
const survivorKey = `survivor-${crypto.randomUUID()}`;
// Anything thrown outside a request's own error handling, in the server or the clients, fails the test.
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => void uncaught.push(error);

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  test = await startTestServer();
  port = Number(new URL(test.url).port);
  await createClients("grpc", test.url, "fuzz-survivor").kv.set({ key: survivorKey, value: bytes("still here") });
});
afterAll(async () => {
  await test.close();
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
});
afterEach(() => expect(uncaught).toEqual([]));

describe("protocol fuzzing", () => {
  it(
    "answers random and mutated gRPC, gRPC-Web and Connect requests and HTTP/2 misuse well-formed, and keeps serving",
    async () => {
      const { kv } = createClients("grpc", test.url, "fuzz-checker");
      await fc.assert(
        fc.asyncProperty(fc.array(fuzzCaseArb, { minLength: 1, maxLength: batchSize }), async (cases) => {
          const outcomes = await Promise.all(cases.map((c) => runFuzzCase(port, c)));
          const problems = outcomes.flatMap((o, i) => (o.problem === undefined ? [] : [`case ${i}: ${o.problem}`]));
          expect(problems).toEqual([]);
          expect(uncaught).toEqual([]);
          // After each batch a normal call still works and nothing stored before was touched.
          expect(text((await kv.get({ key: survivorKey })).value)).toBe("still here");
        }),
        { numRuns: runs, ...(seed === undefined ? {} : { seed }), ...(replayPath === undefined ? {} : { path: replayPath }), endOnFailure: true },
      );
    },
    180_000,
  );

  it("answers invalid JSON to an unknown path with a Connect error, not Fastify's own body", async () => {
    const response = await fetch(`${test.url}/keyquarry.KeyQuarry/Nope`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe("unimplemented");
  });
});
