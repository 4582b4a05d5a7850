import type { CallOptions } from "@connectrpc/connect";

/**
 * Wraps a server-streaming method so that leaving a `for await` loop over
 * its responses early (`break`, `return`, a throw) cancels the call.
 * connect-es keeps the stream open until the server ends it, which for a
 * watch is never: the connection stays busy and, in Node, keeps the process
 * alive. The caller's own `signal` still cancels the call as before.
 */
export function cancelOnReturn<Request, Response>(
  method: (request: Request, options?: CallOptions) => AsyncIterable<Response>,
): (request: Request, options?: CallOptions) => AsyncGenerator<Response, void, undefined> {
  return async function* (request, options = {}) {
    const controller = new AbortController();
    const { signal } = options;
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) {
      forward();
    }
    signal?.addEventListener("abort", forward, { once: true });
    const responses = method(request, { ...options, signal: controller.signal })[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await responses.next();
        if (next.done) {
          return;
        }
        yield next.value;
      }
    } finally {
      signal?.removeEventListener("abort", forward);
      // Abort before anything else: the stream's own return() may wait for
      // the network, which is what a cancelled call must not do.
      controller.abort();
    }
  };
}
