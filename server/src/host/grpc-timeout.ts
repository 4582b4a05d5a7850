import { Code, ConnectError } from "@connectrpc/connect";

// grpc-timeout units (gRPC over HTTP/2 spec), in milliseconds.
const timeoutUnits: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * The deadline a `grpc-timeout` header value sets, in ms from now
 * (undefined without one); INVALID_ARGUMENT for a value the spec does not allow.
 */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) {
    throw new ConnectError(`protocol error: invalid grpc-timeout value: ${value}`, Code.InvalidArgument);
  }
  return Number(match[1]) * timeoutUnits[match[2]!]!;
}

// Node's timers hold at most 2^31-1 ms (~24.8 days); a longer delay fires at once.
const maxTimerMs = 2 ** 31 - 1;

/**
 * Calls `fire` after `ms`, however long (a grpc-timeout may be years):
 * re-arms past Node's timer limit instead of firing early. Returns a
 * function that cancels it. Hand-written: ten lines, no dependency.
 */
export function setDeadline(ms: number, fire: () => void): () => void {
  const due = performance.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = due - performance.now();
    timer = left > maxTimerMs ? setTimeout(arm, maxTimerMs) : setTimeout(fire, Math.max(left, 0));
  };
  arm();
  return () => clearTimeout(timer);
}
