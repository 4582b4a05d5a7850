import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { rpcMetrics } from "./rpc-metrics.js";

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((sample) => Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))?.value;
}

describe("rpcMetrics", () => {
  it("counts a call's end once, under its code's name, and labels streams server_stream", async () => {
    const registry = new Registry();
    const observer = rpcMetrics(registry);
    const call = observer.start(KeyQuarry.method.watchKeyValue, "grpc", {});
    call.received();
    call.sent();
    call.sent();
    call.end(1);
    call.end(0);
    const labels = { grpc_type: "server_stream", grpc_service: "keyquarry.KeyQuarry", grpc_method: "WatchKeyValue", protocol: "grpc" };
    expect(await value(registry, "grpc_server_started_total", labels)).toBe(1);
    expect(await value(registry, "grpc_server_msg_received_total", labels)).toBe(1);
    expect(await value(registry, "grpc_server_msg_sent_total", labels)).toBe(2);
    expect(await value(registry, "grpc_server_handled_total", { ...labels, grpc_code: "Canceled" })).toBe(1);
    expect(await value(registry, "grpc_server_handled_total", { ...labels, grpc_code: "OK" })).toBeUndefined();
  });
});
