import type { Clock } from "../store/clock.js";
import type { KeyValueStore } from "../store/key-value-store.js";

/** Expirations applied (or entries swept) per timer callback; the rest follow after pending I/O. */
export const expiryBatchSize = 10_000;

// setTimeout takes at most a signed 32-bit number of milliseconds.
const maxDelayMs = 2 ** 31 - 1;

/**
 * Drives every lock and lifespan expiration of `store` with ONE timer, armed
 * for the store's earliest deadline and re-armed whenever an earlier one
 * appears. Requests never see an expired lock or key anyway (the store
 * applies due expirations first); this timer makes the UNLOCKED and EXPIRED
 * events of idle keys happen on time. Returns a function that stops it.
 */
export function startExpiryTimer(store: KeyValueStore, clock: Clock): () => void {
  let timeout: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let armedFor: bigint | undefined;
  let stopped = false;

  const cancel = () => {
    clearTimeout(timeout);
    clearImmediate(immediate);
    armedFor = undefined;
  };
  const arm = (deadline: bigint | undefined) => {
    if (stopped || deadline === undefined || (armedFor !== undefined && armedFor <= deadline)) {
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
    // More due, or removed keys' entries still to move aside (so that the next
    // ListKeys or Stats does not do it all at once): continue after pending I/O.
    if (store.expireDue(expiryBatchSize) === expiryBatchSize || store.sweepRemovedSlice(expiryBatchSize)) {
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
