import type { DescMethod } from "@bufbuild/protobuf";
import type { IncomingHttpHeaders } from "node:http";

/** The wire protocol of a call, as the metrics' `protocol` label and the spans tell them apart. */
export type RpcProtocol = "grpc" | "grpc-web" | "connect";

/** A call's request headers, as Node (fast paths) or fetch (connect-es) hold them. */
export type RpcHeaders = IncomingHttpHeaders | Headers;

/** One observed call; {@link RpcObserver.start} begins it. */
export interface RpcCall {
  /** A request message was received. */
  received(): void;
  /** A response message was sent. */
  sent(): void;
  /** The call ended with a gRPC status code (0 = OK). Only the first call counts: paths may report an end twice. */
  end(code: number): void;
}

/**
 * The seam every RPC path calls (the gRPC, Connect and watch fast paths and
 * connect-es): once per call, after its request message is decoded (as
 * go-grpc-prometheus's interceptors see calls), then messages and the end.
 */
export interface RpcObserver {
  /** Whether anything observes: paths skip what only the observer needs when not. */
  readonly enabled: boolean;
  start(method: DescMethod, protocol: RpcProtocol, headers: RpcHeaders): RpcCall;
}

const noopCall: RpcCall = { received() {}, sent() {}, end() {} };

/** Observes nothing and allocates nothing per call: metrics and tracing are both off. */
export const noopRpcObserver: RpcObserver = { enabled: false, start: () => noopCall };

/** One observer that tells each of `observers` (none: the no-op one; one: itself). */
export function composeRpcObservers(observers: readonly RpcObserver[]): RpcObserver {
  if (observers.length <= 1) {
    return observers[0] ?? noopRpcObserver;
  }
  return {
    enabled: true,
    start(method, protocol, headers) {
      const calls = observers.map((observer) => observer.start(method, protocol, headers));
      return {
        received: () => calls.forEach((call) => call.received()),
        sent: () => calls.forEach((call) => call.sent()),
        end: (code) => calls.forEach((call) => call.end(code)),
      };
    },
  };
}

/** The protocol of a call by its content type (Connect GET requests have none). */
export function protocolOf(contentType: string | null | undefined): RpcProtocol {
  if (contentType?.startsWith("application/grpc-web") === true) {
    return "grpc-web";
  }
  return contentType?.startsWith("application/grpc") === true ? "grpc" : "connect";
}
