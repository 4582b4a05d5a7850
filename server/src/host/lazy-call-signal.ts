import { Code, ConnectError } from "@connectrpc/connect";
import type { CallContext } from "../rpc/unary-operations.js";

/** The reason a fast-path call is aborted when its client goes away (one shared instance: it carries no detail). */
export const clientGone = new ConnectError("the client went away", Code.Canceled);

/**
 * A fast-path call's {@link CallContext}: the AbortSignal is made only when
 * an operation asks for it (only ListKeys does), so Get and Set pay nothing
 * for it. An abort before that is remembered and applied when it is made.
 */
export class LazyCallSignal implements CallContext {
  private controller: AbortController | undefined;
  private reason: ConnectError | undefined;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) {
        this.controller.abort(this.reason);
      }
    }
    return this.controller.signal;
  }

  /** Aborts the call (the first reason stays). */
  abort(reason: ConnectError): void {
    if (this.reason === undefined) {
      this.reason = reason;
      this.controller?.abort(reason);
    }
  }
}
