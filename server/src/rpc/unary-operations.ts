import type { DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { callerKey, type Caller } from "./client-id.js";
import { toConnectError } from "./to-connect-error.js";

/** What an operation that runs across event-loop turns may ask of its call. */
export interface CallContext {
  /** Aborted at the call's deadline (reason: a DEADLINE_EXCEEDED ConnectError) or when the client goes away. */
  readonly signal: AbortSignal;
}

/**
 * One unary RPC as a plain function of the request and its caller (the
 * validated client id and, with auth on, the identity). Most answer synchronously (no promise, no microtask on
 * the hot path); one that works in slices (ListKeys) returns a promise.
 */
export type UnaryOperation<M extends DescMethodUnary> = (
  request: MessageShape<M["input"]>,
  caller: Caller,
  call: CallContext,
) => MessageInitShape<M["output"]> | Promise<MessageInitShape<M["output"]>>;

/** The unary RPCs of a service, by local name (`set`, `get`, ...). */
export type UnaryOperations<S extends DescService> = {
  [K in keyof S["method"] as S["method"][K] extends DescMethodUnary ? K : never]: S["method"][K] extends DescMethodUnary
    ? UnaryOperation<S["method"][K]>
    : never;
};

/**
 * Adapts operations to Connect handlers, which find the caller in the
 * context values the caller interceptor set. The gRPC fast path calls the
 * same operations directly: one implementation of every RPC. Store errors
 * leave as ConnectErrors (see toConnectError).
 */
export function connectHandlers<S extends DescService>(
  operations: UnaryOperations<S>,
): Record<string, (request: unknown, context: HandlerContext) => unknown> {
  const handlers: Record<string, (request: unknown, context: HandlerContext) => unknown> = {};
  for (const [name, operation] of Object.entries(operations as Record<string, (r: unknown, c: Caller, call: CallContext) => unknown>)) {
    handlers[name] = (request, context) => {
      try {
        const output = operation(request, context.values.get(callerKey), context);
        return output instanceof Promise ? output.catch(rethrowAsConnectError) : output;
      } catch (error) {
        throw toConnectError(error);
      }
    };
  }
  return handlers;
}

function rethrowAsConnectError(error: unknown): never {
  throw toConnectError(error);
}
