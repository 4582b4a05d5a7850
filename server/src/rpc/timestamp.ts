import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Converts nanoseconds since the Unix epoch to a google.protobuf.Timestamp, exactly. */
export function timestampFromNanos(ns: bigint): Timestamp {
  return create(TimestampSchema, {
    seconds: ns / 1_000_000_000n,
    nanos: Number(ns % 1_000_000_000n),
  });
}

/** Converts a google.protobuf.Timestamp to nanoseconds since the Unix epoch, exactly. */
export function nanosFromTimestamp(timestamp: Timestamp): bigint {
  return timestamp.seconds * 1_000_000_000n + BigInt(timestamp.nanos);
}
