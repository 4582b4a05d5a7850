import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients } from "./kit/create-clients.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./kit/otlp-receiver.js";
import { killServeProcesses, spawnServe } from "./kit/spawn-serve.js";

let receiver: OtlpReceiver | undefined;
let dir: string | undefined;

afterEach(async () => {
  await killServeProcesses();
  await receiver?.close();
  receiver = undefined;
  if (dir !== undefined) {
    await rm(dir, { recursive: true, force: true });
    dir = undefined;
  }
});

/** Sends a W3C `traceparent` naming `traceId` and `spanId` as the caller's span. */
function withTraceparent(traceId: string, spanId: string): Interceptor {
  return (next) => (request) => {
    request.header.set("traceparent", `00-${traceId}-${spanId}-01`);
    return next(request);
  };
}

async function expectCode(call: Promise<unknown>, code: Code): Promise<void> {
  await expect(call).rejects.toSatisfy((error) => ConnectError.from(error).code === code);
}

function only(spans: ReceivedSpan[], filter: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(filter);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe("OpenTelemetry tracing", () => {
  it("exports a server span per RPC on every path, children of the request's traceparent, and a span per snapshot save, over OTLP/HTTP", async () => {
    receiver = await startOtlpReceiver();
    dir = await mkdtemp(join(tmpdir(), "keyquarry-tracing-"));
    const serve = await spawnServe({
      args: ["--trace", "--prometheus", "--monitor-address", "127.0.0.1:0"],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: "kq-traced",
        KEYQUARRY_SNAPSHOT_ENABLED: "true",
        KEYQUARRY_SNAPSHOT_DATABASE: `sqlite://${join(dir, "kq.db")}`,
      },
    });
    // The monitor's address is on the log's listening line.
    const listening = /NOTICE: keyquarry listening (\{.*\})\n/.exec(serve.stdout());
    const { monitorAddress } = JSON.parse(listening![1]!) as { monitorAddress: string };
    expect((await fetch(`${monitorAddress}/readyz`)).status).toBe(200);

    const grpcTrace = "0af7651916cd43dd8448eb211c80319c";
    const connectTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const grpc = createClients("grpc", serve.url, "tracer", { interceptors: [withTraceparent(grpcTrace, "b7ad6b7169203331")] }).kv;
    await expectCode(grpc.get({ key: "missing" }), Code.NotFound);
    const connect = createClients("connect", serve.url, "tracer", { interceptors: [withTraceparent(connectTrace, "00f067aa0ba902b7")] }).kv;
    await expectCode(connect.get({ key: "missing" }), Code.NotFound);
    await createClients("grpc-web", serve.url, "tracer").kv.set({ key: "traced", value: bytes("v") });

    // A graceful stop writes the final snapshot and then exports what is buffered.
    serve.child.kill("SIGTERM");
    expect((await serve.exited).code).toBe(0);
    const { spans } = receiver;

    const grpcGet = only(spans, (span) => span.traceId === grpcTrace);
    expect(grpcGet).toMatchObject({
      name: "keyquarry.KeyQuarry/Get",
      parentSpanId: "b7ad6b7169203331",
      kind: 2,
      status: 0,
      serviceName: "kq-traced",
      scope: "keyquarry_server",
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": "keyquarry.KeyQuarry",
        "rpc.method": "Get",
        "rpc.grpc.status_code": Code.NotFound,
        "keyquarry.rpc.protocol": "grpc",
      },
    });
    const connectGet = only(spans, (span) => span.traceId === connectTrace);
    expect(connectGet).toMatchObject({
      name: "keyquarry.KeyQuarry/Get",
      parentSpanId: "00f067aa0ba902b7",
      attributes: { "rpc.system": "connect_rpc", "rpc.connect_rpc.error_code": "not_found", "keyquarry.rpc.protocol": "connect" },
    });
    expect(connectGet.attributes["rpc.grpc.status_code"]).toBeUndefined();
    const set = only(spans, (span) => span.name === "keyquarry.KeyQuarry/Set");
    expect(set.parentSpanId).toBeUndefined();
    expect(set.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.grpc.status_code": 0, "keyquarry.rpc.protocol": "grpc-web" });
    const snapshot = only(spans, (span) => span.name === "keyquarry.snapshot.save");
    expect(snapshot.status).toBe(0);
    expect(snapshot.attributes["keyquarry.snapshot.keys"]).toBeGreaterThanOrEqual(1);
  });
});
