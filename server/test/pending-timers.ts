import { createHook } from "node:async_hooks";
import { setImmediate as nextTurn } from "node:timers/promises";

/** A timer (setTimeout, setInterval or setImmediate) that has neither fired nor been cleared. */
export interface PendingTimer {
  type: "Timeout" | "Immediate";
  /** The stack frame that called setTimeout/setInterval/setImmediate ("node:…" for Node's own). */
  createdBy: string;
}

/** Watches the timers created from now on, unref'd ones included (which process.getActiveResourcesInfo() omits). */
export interface TimerWatch {
  /** The watched timers still pending; waits one event loop turn first, for Node to report cleared ones. */
  pending(): Promise<PendingTimer[]>;
  /** Stops watching. */
  stop(): void;
}

/** Starts a {@link TimerWatch} (through async_hooks: the creation and destruction of each timer). */
export function watchTimers(): TimerWatch {
  const timers = new Map<number, PendingTimer>();
  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  /** True while pending() creates its own immediate, which is not watched. */
  let own = false;
  const hook = createHook({
    init(asyncId, type) {
      if (!own && (type === "Timeout" || type === "Immediate")) {
        timers.set(asyncId, { type, createdBy: callerOfTimerApi(new Error().stack ?? "") });
      }
    },
    destroy(asyncId) {
      timers.delete(asyncId);
    },
  }).enable();
  return {
    async pending() {
      // Node reports destroyed timers in its next check phase.
      for (let turn = 0; turn < 2; turn++) {
        own = true;
        const next = nextTurn();
        own = false;
        await next;
      }
      return [...timers.values()];
    },
    stop() {
      hook.disable();
      Error.stackTraceLimit = previousLimit;
    },
  };
}

/** The frame below `setTimeout`/`setInterval`/`setImmediate` in a stack. */
function callerOfTimerApi(stack: string): string {
  const frames = stack.split("\n").map((line) => line.trim());
  const api = frames.findIndex((frame) => /^at (setTimeout|setInterval|setImmediate) \(node:timers/.test(frame));
  return frames[api + 1] ?? frames.slice(1).join(" | ");
}
