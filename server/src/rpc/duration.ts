import { create } from "@bufbuild/protobuf";
import { DurationSchema, type Duration } from "@bufbuild/protobuf/wkt";

/** Converts a google.protobuf.Duration to nanoseconds, exactly (negative ones stay negative). */
export function nanosFromDuration(duration: Duration): bigint {
  return duration.seconds * 1_000_000_000n + BigInt(duration.nanos);
}

/** Converts nanoseconds to a google.protobuf.Duration. */
export function durationFromNanos(ns: bigint): Duration {
  return create(DurationSchema, {
    seconds: ns / 1_000_000_000n,
    nanos: Number(ns % 1_000_000_000n),
  });
}
