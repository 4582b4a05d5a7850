/**
 * A source of wall-clock time in nanoseconds since the Unix epoch.
 *
 * Everything time-dependent in the store reads time from a Clock, so tests
 * inject a {@link ManualClock} and stay exact and fast.
 */
export interface Clock {
  /** Current time, nanoseconds since the Unix epoch. */
  now(): bigint;
}

/**
 * The real clock: wall-clock time at start plus a monotonic offset, so that
 * timestamps have nanosecond resolution and never go backwards.
 */
export function createSystemClock(): Clock {
  const startWall = BigInt(Date.now()) * 1_000_000n;
  const startMono = process.hrtime.bigint();
  return {
    now: () => startWall + (process.hrtime.bigint() - startMono),
  };
}

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private current: bigint = 1_700_000_000_000_000_000n) {}

  now(): bigint {
    return this.current;
  }

  /** Moves the clock forward by `ns` nanoseconds. */
  advance(ns: bigint): void {
    this.current += ns;
  }
}
