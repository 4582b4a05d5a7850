/** Prometheus metrics; imported (dynamically) only when `prometheus` is on. */
import { collectDefaultMetrics, Registry } from "prom-client";
import { rpcMetrics } from "./rpc-metrics.js";
import type { RpcObserver } from "./rpc-observer.js";
import { registerStoreMetrics, type StoreMetricSources } from "./store-metrics.js";

/** A registry with the RPC, store and Node runtime metrics, and the RPC observer that counts into it. */
export function startPrometheus(sources: StoreMetricSources): { registry: Registry; rpc: RpcObserver } {
  const registry = new Registry();
  // Process and runtime: CPU, memory, heap spaces, event-loop lag, GC.
  collectDefaultMetrics({ register: registry });
  registerStoreMetrics(registry, sources);
  return { registry, rpc: rpcMetrics(registry) };
}
