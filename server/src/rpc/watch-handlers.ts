import type { DescMethodServerStreaming, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { Watcher } from "../watch/watch-hub.js";
import { callerKey } from "./client-id.js";
import { toConnectError } from "./to-connect-error.js";
import { watchSinkKey } from "./watch-sink-key.js";
import type { WatchMethod, WatchMethods } from "./watch-session.js";

/**
 * Adapts the watch RPCs to Connect handlers (every protocol but the gRPC
 * watch fast path's): each event's message is made per stream, and
 * connect-es serializes it for each.
 */
export function watchHandlers(methods: WatchMethods): Pick<ServiceImpl<typeof KeyQuarry>, keyof WatchMethods> {
  return { watchStream: handlerOf(methods.watchStream), watchKeyValue: handlerOf(methods.watchKeyValue) };
}

function handlerOf<M extends DescMethodServerStreaming>(method: WatchMethod<M>) {
  return async function* (request: MessageShape<M["input"]>, context: HandlerContext) {
    let session;
    try {
      session = method.open(request, context.values.get(callerKey), watcherOf(context));
    } catch (error) {
      throw toConnectError(error);
    }
    // At the deadline the stream ends with DEADLINE_EXCEEDED, not as if complete (clients would reconnect as after a shutdown).
    const end = () => session.end(deadlineOf(context.signal.reason));
    context.signal.addEventListener("abort", end);
    try {
      for await (const output of session) {
        yield "event" in output ? method.eventMessage(output.event) : output.message;
      }
    } finally {
      context.signal.removeEventListener("abort", end);
    }
  };
}

/** The abort reason when it is a deadline. */
function deadlineOf(reason: unknown): ConnectError | undefined {
  return reason instanceof ConnectError && reason.code === Code.DeadlineExceeded ? reason : undefined;
}

/** The caller and transport of a watch call, for the hub's limits. */
function watcherOf(context: HandlerContext): Watcher {
  return { clientId: context.values.get(callerKey).id, sink: context.values.get(watchSinkKey) };
}
