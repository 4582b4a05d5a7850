import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { protocolOf, type RpcCall, type RpcObserver } from "./rpc-observer.js";

/**
 * Reports the calls connect-es serves (every protocol and request the fast
 * paths decline) to `observer`; the outermost interceptor, so that it sees
 * the client id check's errors as the fast paths' observers do.
 */
export function rpcObserverInterceptor(observer: RpcObserver): Interceptor {
  return (next) => async (request) => {
    const call = observer.start(request.method, protocolOf(request.header.get("content-type")), request.header);
    call.received();
    try {
      const response = await next(request);
      if (!response.stream) {
        call.sent();
        call.end(0);
        return response;
      }
      return { ...response, message: observedMessages(response.message, call, request.signal) };
    } catch (error) {
      call.end(ConnectError.from(error).code);
      throw error;
    }
  };
}

/**
 * A response stream whose messages and end are reported to `call`. A watch
 * ends cleanly when its call is aborted (the client went away, or its
 * deadline passed): it ends with the abort's code then.
 */
async function* observedMessages<T>(messages: AsyncIterable<T>, call: RpcCall, signal: AbortSignal): AsyncIterable<T> {
  try {
    for await (const message of messages) {
      call.sent();
      yield message;
    }
    call.end(signal.aborted ? ConnectError.from(signal.reason).code : 0);
  } catch (error) {
    call.end(ConnectError.from(error).code);
    throw error;
  } finally {
    // Left early: the client went away (after an end above, this one does not count).
    call.end(1);
  }
}
