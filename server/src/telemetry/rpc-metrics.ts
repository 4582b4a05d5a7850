import type { DescMethod } from "@bufbuild/protobuf";
import { Counter, Histogram, type Registry } from "prom-client";
import { grpcCodeName } from "./grpc-code-name.js";
import type { RpcCall, RpcObserver, RpcProtocol } from "./rpc-observer.js";

const protocols: readonly RpcProtocol[] = ["grpc", "grpc-web", "connect"];

/** go-grpc-prometheus's `grpc_type` of each method kind. */
const grpcTypes: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
};

/**
 * The counts of one method over one protocol. Plain numbers, read into the
 * counters when scraped: prom-client hashes the labels of every inc(), which
 * would cost each call more than the rest of its metrics.
 */
interface MethodCounts {
  readonly labels: Readonly<Record<string, string>>;
  started: number;
  received: number;
  sent: number;
  /** Calls ended, by code. */
  readonly handled: number[];
  readonly seconds: Histogram.Internal<string>;
}

/**
 * An {@link RpcObserver} counting calls in `registry` under go-grpc-prometheus's
 * names and labels (`grpc_type`, `grpc_service`, `grpc_method`, `grpc_code`),
 * plus `protocol` (grpc, grpc-web or connect), so that dashboards made for Go
 * gRPC servers work as they are.
 */
export function rpcMetrics(registry: Registry): RpcObserver {
  const all: MethodCounts[] = [];
  const byMethod = new Map<DescMethod, MethodCounts[]>();
  const labelNames = ["grpc_type", "grpc_service", "grpc_method", "protocol"] as const;
  const registers = [registry];
  const counter = (name: string, help: string, read: (counts: MethodCounts) => number) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const counts of all) {
          // Only what was called: no series for a protocol nobody used.
          if (counts.started > 0) {
            this.inc(counts.labels, read(counts));
          }
        }
      },
    });
  counter("grpc_server_started_total", "Total number of RPCs started on the server.", (counts) => counts.started);
  counter("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", (counts) => counts.received);
  counter("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", (counts) => counts.sent);
  new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: [...labelNames, "grpc_code"],
    registers,
    collect() {
      this.reset();
      for (const counts of all) {
        counts.handled.forEach((count, code) => this.inc({ ...counts.labels, grpc_code: grpcCodeName(code) }, count));
      }
    },
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames,
    registers,
  });

  const countsOf = (method: DescMethod, protocol: RpcProtocol): MethodCounts => {
    let counts = byMethod.get(method);
    if (counts === undefined) {
      counts = protocols.map((protocol) => {
        const labels = { grpc_type: grpcTypes[method.methodKind], grpc_service: method.parent.typeName, grpc_method: method.name, protocol };
        return { labels, started: 0, received: 0, sent: 0, handled: [], seconds: seconds.labels(labels) };
      });
      byMethod.set(method, counts);
      all.push(...counts);
    }
    return counts[protocols.indexOf(protocol)]!;
  };

  return {
    enabled: true,
    start(method, protocol) {
      const counts = countsOf(method, protocol);
      counts.started++;
      return new MetricsCall(counts);
    },
  };
}

/** One call's metrics: its start time and its method's counts. */
class MetricsCall implements RpcCall {
  private readonly startedAt = performance.now();
  private ended = false;

  constructor(private readonly counts: MethodCounts) {}

  received(): void {
    this.counts.received++;
  }

  sent(): void {
    this.counts.sent++;
  }

  end(code: number): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    const { handled } = this.counts;
    handled[code] = (handled[code] ?? 0) + 1;
    this.counts.seconds.observe((performance.now() - this.startedAt) / 1000);
  }
}
