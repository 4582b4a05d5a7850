import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@keyquarry/gen/grpc/health/v1/health_pb.js";
import * as v1 from "@keyquarry/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "@keyquarry/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createClients } from "./kit/create-clients.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

/** The buf CLI of the repository's devDependencies (real `buf curl`, no proto files given). */
const buf = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));

function bufCurl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

let running: TestServer | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(): Promise<TestServer> {
  running = await startTestServer();
  return running;
}

/** Sends each request on one reflection stream and collects the answers. */
async function reflect<R>(
  call: (requests: AsyncIterable<R>) => AsyncIterable<{ messageResponse: { case: string | undefined; value?: unknown } }>,
  requests: R[],
) {
  const answers = [];
  for await (const answer of call(
    (async function* () {
      yield* requests;
    })(),
  )) {
    answers.push(answer.messageResponse);
  }
  return answers;
}

describe("gRPC server reflection", () => {
  it("buf curl lists the keyquarry, health and reflection services with no proto files", async () => {
    const { url } = await start();
    const result = await bufCurl(["--list-services", url]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout.trim().split("\n").sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "keyquarry.Admin",
      "keyquarry.KeyQuarry",
    ]);
  });

  it("buf curl calls keyquarry.KeyQuarry/Get through reflection, over v1 and v1alpha", async () => {
    const { url } = await start();
    await createClients("grpc", url, "writer").kv.set({ key: "greeting", value: new TextEncoder().encode("hello") });
    for (const reflectProtocol of ["grpc-v1", "grpc-v1alpha"]) {
      const result = await bufCurl([
        "--reflect-protocol",
        reflectProtocol,
        "-H",
        "client_id: reader",
        "-d",
        '{"key":"greeting"}',
        `${url}/keyquarry.KeyQuarry/Get`,
      ]);
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toMatchObject({ value: Buffer.from("hello").toString("base64") });
    }
  });

  it("answers file_containing_symbol and file_by_filename with the file and its dependencies", async () => {
    const { url } = await start();
    const client = createClient(v1.ServerReflection, createGrpcTransport({ baseUrl: url }));
    const answers = await reflect(client.serverReflectionInfo, [
      create(v1.ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "keyquarry.KeyQuarry.Get" } }),
      create(v1.ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "keyquarry.KeyValue" } }),
      create(v1.ServerReflectionRequestSchema, { messageRequest: { case: "fileByFilename", value: "keyquarry/admin.proto" } }),
    ]);
    const fileNames = answers.map((answer) => {
      expect(answer.case).toBe("fileDescriptorResponse");
      const { fileDescriptorProto } = answer.value as v1.FileDescriptorResponse;
      return fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
    });
    expect(fileNames[0]).toEqual(["keyquarry/keyquarry.proto", ...fileNames[0]!.slice(1)]);
    expect(fileNames[0]).toContain("google/protobuf/timestamp.proto");
    expect(fileNames[1]).toEqual(fileNames[0]);
    expect(fileNames[2]![0]).toBe("keyquarry/admin.proto");
  });

  it("answers unknown symbols, files and every extension with a NOT_FOUND error response, and keeps the stream open", async () => {
    const { url } = await start();
    const client = createClient(v1alpha.ServerReflection, createGrpcTransport({ baseUrl: url }));
    const answers = await reflect(client.serverReflectionInfo, [
      create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "keyquarry.Nope" } }),
      create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "fileByFilename", value: "nope.proto" } }),
      create(v1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingExtension", value: { containingType: "keyquarry.KeyValue", extensionNumber: 100 } },
      }),
      create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }),
    ]);
    expect(answers.slice(0, 3).map((answer) => [answer.case, (answer.value as v1alpha.ErrorResponse).errorCode])).toEqual([
      ["errorResponse", Code.NotFound],
      ["errorResponse", Code.NotFound],
      ["errorResponse", Code.NotFound],
    ]);
    expect(answers[3]!.case).toBe("listServicesResponse");
  });
});

describe("gRPC health", () => {
  it("Check says SERVING for the server and both keyquarry services, NOT_FOUND for others, with no client id", async () => {
    const { url } = await start();
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
    for (const service of ["", "keyquarry.KeyQuarry", "keyquarry.Admin"]) {
      expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
    }
    const error = await health.check({ service: "keyquarry.Nope" }).catch((caught: unknown) => caught);
    expect(ConnectError.from(error).code).toBe(Code.NotFound);
  });

  it("buf curl checks health through reflection", async () => {
    const { url } = await start();
    const result = await bufCurl(["-d", '{"service":"keyquarry.KeyQuarry"}', `${url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(result.stdout)).toEqual({ status: "SERVING" });
  });

  it("Watch streams SERVING, then NOT_SERVING once shutdown starts, then end (shutdown does not wait for them)", async () => {
    const server = await start();
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const seen: ServingStatus[] = [];
    const watching = (async () => {
      for await (const response of health.watch({ service: "" })) {
        seen.push(response.status);
        if (seen.length === 1) void server.close();
      }
    })();
    await watching;
    await server.close();
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("Watch of an unknown service says SERVICE_UNKNOWN (the caller ends it)", async () => {
    const { url } = await start();
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    await expect(
      (async () => {
        for await (const response of health.watch({ service: "keyquarry.Nope" }, { signal: abort.signal })) {
          seen.push(response.status);
          abort.abort();
        }
      })(),
    ).rejects.toThrow(/aborted/);
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN]);
  });
});
