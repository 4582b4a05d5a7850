// Cross-check with @grpc/grpc-js and protobufjs (through @grpc/proto-loader):
// a gRPC stack that shares no code with Connect or protobuf-es, reading our
// .proto files the way any existing keyquarry gRPC client would.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

const protoDir = fileURLToPath(new URL("../../proto", import.meta.url));

type Callback = (error: grpc.ServiceError | null, response: Record<string, unknown>) => void;
type GenericClient = grpc.Client & Record<string, (request: object, metadata: grpc.Metadata, callback: Callback) => void>;

let test: TestServer;
let client: GenericClient;

function call(method: string, request: object, clientId = "grpc-js"): Promise<Record<string, unknown>> {
  const metadata = new grpc.Metadata();
  metadata.set("client_id", clientId);
  return new Promise((resolve, reject) => {
    client[method]!(request, metadata, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

beforeAll(async () => {
  test = await startTestServer();
  const definition = protoLoader.loadSync(["keyquarry/keyquarry.proto", "keyquarry/admin.proto"], {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    defaults: false,
  });
  const api = grpc.loadPackageDefinition(definition) as unknown as {
    keyquarry: { KeyQuarry: new (address: string, credentials: grpc.ChannelCredentials) => GenericClient };
  };
  client = new api.keyquarry.KeyQuarry(test.url.replace("http://", ""), grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await test.close();
});

describe("a @grpc/grpc-js client", () => {
  it("sets, gets and inspects keys, with uint64 values exact", async () => {
    expect(await call("Set", { key: "foo", value: Buffer.from("bar") })).toEqual({ success: true, is_new: true });
    expect(await call("Get", { key: "foo" })).toEqual({ value: Buffer.from("bar") });
    expect(await call("Inspect", { key: "foo", include_value: true })).toMatchObject({
      key: "foo",
      hash: "16101355973854746",
      version: "1",
      size: "3",
      locked: false,
      content_type: "text/plain; charset=utf-8",
      value: Buffer.from("bar"),
    });
    expect(await call("ListKeys", { pattern: "^fo" })).toEqual({ keys: ["foo"] });
  });

  it("receives status codes and exact messages", async () => {
    await expect(call("ListKeys", { pattern: "(" })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "invalid key pattern: error parsing regexp: missing closing ): `(`",
    });
    await expect(call("Get", { key: "missing" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: "Key not found",
    });
    await expect(call("Set", { key: "keyquarry/x", value: Buffer.from("") })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "Key cannot begin with 'keyquarry'",
    });
    await expect(call("Get", { key: "foo" }, "")).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "empty client_id",
    });
  });

  it("gets UNIMPLEMENTED for a method the server does not know", async () => {
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest(
        "/keyquarry.KeyQuarry/Nope",
        (value: Buffer) => value,
        (value: Buffer) => value,
        Buffer.alloc(0),
        new grpc.Metadata(),
        (err) => resolve(err!),
      );
    });
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(error.details).toBe("unknown method POST /keyquarry.KeyQuarry/Nope");
  });

  it("reads Stats with every optional counter present", async () => {
    const stats = await call("Stats", {});
    expect(stats).toMatchObject({ keys: "17", current_locks: "0", client_ids: "0" });
    expect(stats["events"]).toMatchObject({ new: "17" });
  });
});
