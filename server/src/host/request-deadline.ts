import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders } from "node:http2";
import { firstHeaderValue } from "../rpc/first-header-value.js";

/**
 * The longest delay Node's timers hold (2^31-1 ms, about 24.8 days): a longer
 * one fires at once (with a TimeoutOverflowWarning), so a later deadline is
 * treated as none — no call outlives it by any measure that matters.
 */
export const maxTimerMs = 2 ** 31 - 1;

// grpc-timeout units (gRPC over HTTP/2 spec), in milliseconds.
const grpcTimeoutUnits: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * The deadline in milliseconds of a `grpc-timeout` header value (gRPC and
 * gRPC-Web), undefined when it is beyond {@link maxTimerMs}; throws
 * INVALID_ARGUMENT for a malformed value.
 */
export function grpcTimeoutMs(value: string): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) {
    // connect-es's words, so that both paths refuse alike.
    throw new ConnectError(`protocol error: invalid grpc timeout value: ${value}`, Code.InvalidArgument);
  }
  return holdable(Number(match[1]) * grpcTimeoutUnits[match[2]!]!);
}

/**
 * The deadline in milliseconds of a `connect-timeout-ms` header value,
 * undefined when it is beyond {@link maxTimerMs}; throws INVALID_ARGUMENT
 * for a malformed value.
 */
export function connectTimeoutMs(value: string): number | undefined {
  if (!/^\d{1,10}$/.test(value)) {
    throw new ConnectError(`protocol error: invalid connect timeout value: ${value}`, Code.InvalidArgument);
  }
  return holdable(Number(value));
}

function holdable(ms: number): number | undefined {
  return ms > maxTimerMs ? undefined : ms;
}

/** The error of a call whose deadline passed. */
export function deadlineExceeded(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/**
 * The deadline of a call from its `grpc-timeout` (gRPC, gRPC-Web) or
 * `connect-timeout-ms` (Connect) header, in milliseconds. A deadline beyond
 * {@link maxTimerMs} is removed from `header`, so that no timer is set for
 * it; a malformed one is left for the protocol handler to refuse.
 */
export function holdableDeadlineMs(header: Headers): number | undefined {
  for (const [name, parse] of [
    ["grpc-timeout", grpcTimeoutMs],
    ["connect-timeout-ms", connectTimeoutMs],
  ] as const) {
    const value = header.get(name);
    if (value === null) {
      continue;
    }
    let ms;
    try {
      ms = parse(value);
    } catch {
      return undefined;
    }
    if (ms === undefined) {
      header.delete(name);
    }
    return ms;
  }
  return undefined;
}

/**
 * Arms the deadline of a gRPC call on a fast path from its `grpc-timeout`
 * header: `expire` runs when it passes. Returns the timer to clear (undefined
 * without a deadline, or one beyond what Node's timers hold); throws
 * INVALID_ARGUMENT for a malformed value.
 */
export function armGrpcDeadline(headers: IncomingHttpHeaders, expire: () => void): NodeJS.Timeout | undefined {
  const timeout = firstHeaderValue(headers["grpc-timeout"]);
  const ms = timeout === undefined ? undefined : grpcTimeoutMs(timeout);
  return ms === undefined ? undefined : setTimeout(expire, ms);
}
