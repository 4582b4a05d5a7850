/**
 * OpenTelemetry tracing; imported (dynamically) only when `trace` is on, so
 * that a server without tracing loads nothing of OpenTelemetry.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { RpcCall, RpcHeaders, RpcObserver, RpcProtocol } from "./rpc-observer.js";
import type { SpanRunner } from "./span-runner.js";

/** Tracing as the server uses it: RPC spans, spans around other work, and the flush at shutdown. */
export interface Tracing {
  rpc: RpcObserver;
  span: SpanRunner;
  /** Exports the spans still buffered and stops. */
  close(): Promise<void>;
}

/**
 * Starts exporting spans over OTLP/HTTP (JSON) to where the standard
 * variables say (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; http://localhost:4318 by default),
 * as `OTEL_SERVICE_NAME` or else `serviceName`, from the tracer `tracerName`.
 * Nothing is registered globally: several servers may run in one process.
 */
export function startTracing(serviceName: string, tracerName: string): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": process.env["OTEL_SERVICE_NAME"] || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  const tracer = provider.getTracer(tracerName);
  return {
    rpc: rpcTracing(tracer),
    span: (name, work, attributes) => {
      const span = tracer.startSpan(name, attributes === undefined ? undefined : { attributes });
      return work().then(
        (result) => {
          span.end();
          return result;
        },
        (error: unknown) => {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          span.end();
          throw error;
        },
      );
    },
    close: () => provider.shutdown(),
  };
}

const propagator = new W3CTraceContextPropagator();

/** Reads Node's and fetch's request headers alike. */
const headerGetter: TextMapGetter<RpcHeaders> = {
  keys: (headers) => {
    if (!(headers instanceof Headers)) {
      return Object.keys(headers);
    }
    const names: string[] = [];
    headers.forEach((_value, name) => names.push(name));
    return names;
  },
  get: (headers, key) => (headers instanceof Headers ? (headers.get(key) ?? undefined) : headers[key]),
};

// The codes the RPC semantic conventions count as a server's error (the others are the caller's).
const serverErrors = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/** A server span per call, named `keyquarry.KeyQuarry/Get`, the child of the request's `traceparent` when it has one. */
function rpcTracing(tracer: Tracer): RpcObserver {
  return {
    enabled: true,
    start(method, protocol, headers) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      const service = method.parent.typeName;
      const span = tracer.startSpan(
        `${service}/${method.name}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            "rpc.system": protocol === "connect" ? "connect_rpc" : "grpc",
            "rpc.service": service,
            "rpc.method": method.name,
            "keyquarry.rpc.protocol": protocol,
          },
        },
        parent,
      );
      return new SpanCall(span, protocol);
    },
  };
}

/** One call's span, ended with its status. */
class SpanCall implements RpcCall {
  private ended = false;

  constructor(
    private readonly span: Span,
    private readonly protocol: RpcProtocol,
  ) {}

  received(): void {}

  sent(): void {}

  end(code: number): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    const { span } = this;
    if (this.protocol !== "connect") {
      span.setAttribute("rpc.grpc.status_code", code);
    } else if (code !== 0) {
      span.setAttribute("rpc.connect_rpc.error_code", codeToString(code));
    }
    if (serverErrors.has(code)) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: codeToString(code) });
    }
    span.end();
  }
}
