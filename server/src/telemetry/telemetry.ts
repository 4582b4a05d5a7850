import type { Registry } from "prom-client";
import type { Config } from "../config/config.js";
import { composeRpcObservers, type RpcObserver } from "./rpc-observer.js";
import { untracedSpan, type SpanRunner } from "./span-runner.js";
import type { StoreMetricSources } from "./store-metrics.js";

/** The server's metrics and tracing, each there only when its option is on. */
export interface Telemetry {
  /** What every RPC path reports its calls to (the no-op observer when neither metrics nor tracing is on). */
  readonly rpc: RpcObserver;
  /**
   * The Prometheus registry `/metrics` serves, when `prometheus` is on: more
   * metrics are registered into it with prom-client's `registers: [registry]`.
   */
  readonly registry: Registry | undefined;
  /** Runs work in a span (e.g. `span("keyquarry.journal.commit", () => commit())`); just runs it when tracing is off. */
  readonly span: SpanRunner;
  /** Exports the buffered spans and stops tracing. */
  close(): Promise<void>;
}

/**
 * Starts what `config` asks for: Prometheus metrics (`prometheus`) and
 * OpenTelemetry tracing (`trace`). Each is imported only when on.
 */
export async function startTelemetry(config: Config, sources: StoreMetricSources): Promise<Telemetry> {
  const metrics = config.prometheus ? (await import("./prometheus.js")).startPrometheus(sources) : undefined;
  const tracing = config.trace ? (await import("./tracing.js")).startTracing(config.serviceName, config.tracerName) : undefined;
  const observers = [metrics?.rpc, tracing?.rpc].filter((observer) => observer !== undefined);
  return {
    rpc: composeRpcObservers(observers),
    registry: metrics?.registry,
    span: tracing?.span ?? untracedSpan,
    close: async () => {
      await tracing?.close();
    },
  };
}
