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

/** The label children of one method over one protocol, looked up once and kept (labels() hashes its labels). */
interface MethodChildren {
  started: Counter.Internal;
  received: Counter.Internal;
  sent: Counter.Internal;
  seconds: Histogram.Internal<string>;
  /** By code, made on first use. */
  handled: Counter.Internal[];
  labels: Record<string, string>;
}

/**
 * An {@link RpcObserver} counting calls in `registry` under go-grpc-prometheus's
 * names and labels (`grpc_type`, `grpc_service`, `grpc_method`, `grpc_code`),
 * plus `protocol` (grpc, grpc-web or connect), so that dashboards made for Go
 * gRPC servers work as they are.
 */
export function rpcMetrics(registry: Registry): RpcObserver {
  const labelNames = ["grpc_type", "grpc_service", "grpc_method", "protocol"] as const;
  const registers = [registry];
  const started = new Counter({ name: "grpc_server_started_total", help: "Total number of RPCs started on the server.", labelNames, registers });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: [...labelNames, "grpc_code"],
    registers,
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames,
    registers,
  });
  const received = new Counter({ name: "grpc_server_msg_received_total", help: "Total number of RPC stream messages received on the server.", labelNames, registers });
  const sent = new Counter({ name: "grpc_server_msg_sent_total", help: "Total number of gRPC stream messages sent by the server.", labelNames, registers });

  const children = new Map<DescMethod, MethodChildren[]>();
  const childrenOf = (method: DescMethod, protocol: RpcProtocol): MethodChildren => {
    let byProtocol = children.get(method);
    if (byProtocol === undefined) {
      byProtocol = protocols.map((protocol) => {
        const labels = {
          grpc_type: grpcTypes[method.methodKind],
          grpc_service: method.parent.typeName,
          grpc_method: method.name,
          protocol,
        };
        return { started: started.labels(labels), received: received.labels(labels), sent: sent.labels(labels), seconds: seconds.labels(labels), handled: [], labels };
      });
      children.set(method, byProtocol);
    }
    return byProtocol[protocols.indexOf(protocol)]!;
  };
  const handledChild = (of: MethodChildren, code: number): Counter.Internal =>
    (of.handled[code] ??= handled.labels({ ...of.labels, grpc_code: grpcCodeName(code) }));

  return {
    enabled: true,
    start(method, protocol) {
      const of = childrenOf(method, protocol);
      of.started.inc();
      return new MetricsCall(of, handledChild);
    },
  };
}

/** One call's metrics: its start time and its method's children. */
class MetricsCall implements RpcCall {
  private readonly startedAt = performance.now();
  private ended = false;

  constructor(
    private readonly of: MethodChildren,
    private readonly handledChild: (of: MethodChildren, code: number) => Counter.Internal,
  ) {}

  received(): void {
    this.of.received.inc();
  }

  sent(): void {
    this.of.sent.inc();
  }

  end(code: number): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.handledChild(this.of, code).inc();
    this.of.seconds.observe((performance.now() - this.startedAt) / 1000);
  }
}
