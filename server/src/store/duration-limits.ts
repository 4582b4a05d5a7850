import { formatDuration } from "../duration/parse-duration.js";

/**
 * Why a requested duration (a lifespan, a lock) is too short, in the terms
 * of the configuration option that sets the minimum, e.g. `1ms is below the
 * minimum of 1s (min_lifespan)`; undefined when it is long enough. Zero and
 * negative durations are always too short.
 */
export function tooShort(duration: bigint, minimum: bigint, option: string): string | undefined {
  if (duration < minimum) {
    return `${formatDuration(duration)} is below the minimum of ${formatDuration(minimum)} (${option})`;
  }
  return duration <= 0n ? `${formatDuration(duration)} is not a positive duration` : undefined;
}

/** Why a requested duration is too long, e.g. `2h0m0s is above the maximum of 1h0m0s (max_lock_duration)`; undefined when it is not. */
export function tooLong(duration: bigint, maximum: bigint, option: string): string | undefined {
  return duration > maximum
    ? `${formatDuration(duration)} is above the maximum of ${formatDuration(maximum)} (${option})`
    : undefined;
}

/** The detail of a lock request without a duration. */
export const noLockDuration = "no duration given";
