import type { Clock } from "../store/clock.js";
import type { KeyValueStore } from "../store/key-value-store.js";

/** Expirations applied (or entries swept) per timer callback; the rest follow after pending I/O. */
export const expiryBatchSize = 10_000;

/** After a failed `expire` (a cluster node that cannot reach the log), the next attempt waits this long. */
const retryDelayMs = 1000;

// setTimeout takes at most a signed 32-bit number of milliseconds.
const maxDelayMs = 2 ** 31 - 1;

/**
 * Drives every lock and lifespan expiration of `store` with ONE timer, armed
 * for the store's earliest deadline and re-armed whenever an earlier one
 * appears. Requests never see an expired lock or key anyway (the store
 * applies due expirations first); this timer makes the UNLOCKED and EXPIRED
 * events of idle keys happen on time. `expire` applies them (a cluster node
 * proposes them to the cluster's log instead, and the timer waits for it).
 * Returns a function that stops it.
 */
export function startExpiryTimer(
  store: KeyValueStore,
  clock: Clock,
  expire: (limit: number) => number | Promise<number> = (limit) => store.expireDue(limit),
): () => void {
  let timeout: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let armedFor: bigint | undefined;
  let stopped = false;
  /** An `expire` that returned a promise has not settled yet: nothing is armed meanwhile. */
  let waiting = false;

  const cancel = () => {
    clearTimeout(timeout);
    clearImmediate(immediate);
    armedFor = undefined;
  };
  const arm = (deadline: bigint | undefined) => {
    if (stopped || waiting || deadline === undefined || (armedFor !== undefined && armedFor <= deadline)) {
      return;
    }
    cancel();
    armedFor = deadline;
    // Round up: firing before the deadline would find nothing due.
    const delayMs = Number((deadline - clock.now() + 999_999n) / 1_000_000n);
    timeout = setTimeout(fire, Math.min(Math.max(delayMs, 0), maxDelayMs)).unref();
  };
  const fire = () => {
    armedFor = undefined;
    const applied = expire(expiryBatchSize);
    if (applied instanceof Promise) {
      // Armed again once applied; a failure (the cluster away) retries a second later, not in a loop.
      waiting = true;
      applied.then(continueAfter, () => {
        timeout = setTimeout(() => continueAfter(0), retryDelayMs).unref();
      });
      return;
    }
    continueAfter(applied);
  };
  const continueAfter = (applied: number) => {
    waiting = false;
    // More due, or removed keys' entries still to move aside (so that the next
    // ListKeys or Stats does not do it all at once): continue after pending I/O.
    if (applied === expiryBatchSize || store.sweepRemovedSlice(expiryBatchSize)) {
      immediate = setImmediate(fire);
      return;
    }
    arm(store.nextDeadline());
  };

  store.onEarliestDeadline(arm);
  arm(store.nextDeadline());
  return () => {
    stopped = true;
    cancel();
  };
}
