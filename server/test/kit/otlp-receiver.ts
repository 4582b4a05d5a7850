import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** An OTLP attribute value as the JSON encoding writes it. */
type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

/** A span as an OTLP/HTTP JSON export carries it, with its attributes read into a plain object. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** 2 = SERVER, 1 = INTERNAL. */
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  /** 0 = unset, 1 = OK, 2 = ERROR. */
  status: number;
  /** The `service.name` of its resource. */
  serviceName: string | undefined;
  /** The name of the tracer that made it. */
  scope: string;
}

/** A real OTLP/HTTP trace receiver (JSON encoding) on a loopback port. */
export interface OtlpReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT is set to: `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Every span received so far. */
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

/** Starts an OTLP/HTTP receiver taking `POST /v1/traces` in JSON; other requests get 404, other encodings 415. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      if (request.headers["content-type"] !== "application/json") {
        response.writeHead(415).end();
        return;
      }
      spans.push(...decode(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface ExportRequest {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: AnyValue }> };
    scopeSpans: Array<{
      scope: { name: string };
      spans: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: Array<{ key: string; value: AnyValue }>; status?: { code?: number } }>;
    }>;
  }>;
}

function decode(body: ExportRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const { resource, scopeSpans } of body.resourceSpans) {
    const serviceName = valueOf(resource.attributes.find((attribute) => attribute.key === "service.name")?.value);
    for (const { scope, spans: scoped } of scopeSpans) {
      for (const span of scoped) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId === "" ? undefined : span.parentSpanId,
          name: span.name,
          kind: span.kind,
          attributes: Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, valueOf(value)])),
          status: span.status?.code ?? 0,
          serviceName: typeof serviceName === "string" ? serviceName : undefined,
          scope: scope.name,
        });
      }
    }
  }
  return spans;
}

function valueOf(value: AnyValue | undefined): string | number | boolean | undefined {
  if (value === undefined) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}
