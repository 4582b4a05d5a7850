import { Code, ConnectError } from "@connectrpc/connect";
import type { Config } from "../config/config.js";

/** Largest request message accepted when max_value_size is 0 (no per-value limit). */
export const unlimitedReadMaxBytes = 64 * 1024 * 1024;

/**
 * The largest request message the handlers read, so that an oversized body
 * is refused (RESOURCE_EXHAUSTED) instead of buffered. It leaves room for a
 * value of exactly max_value_size in any encoding (JSON base64 is 4/3 larger,
 * a JSON-escaped key up to 6 bytes per byte), so that a value just over the
 * limit still gets the store's own clear error.
 */
export function readMaxBytesFor(config: Pick<Config, "maxValueSize" | "maxKeyLength">): number {
  if (config.maxValueSize === 0) {
    return unlimitedReadMaxBytes;
  }
  return Math.ceil((config.maxValueSize * 4) / 3) + config.maxKeyLength * 6 + 64 * 1024;
}

/** The largest request message accepted, with what it is made of, in the terms of the options. */
export interface RequestSizeLimit {
  readonly bytes: number;
  /** Why the limit is what it is, for error messages. */
  readonly reason: string;
}

/** {@link readMaxBytesFor} with its reason. */
export function requestSizeLimitFor(config: Pick<Config, "maxValueSize" | "maxKeyLength">): RequestSizeLimit {
  return {
    bytes: readMaxBytesFor(config),
    reason:
      config.maxValueSize === 0
        ? "the fixed limit when max_value_size is 0"
        : `max_value_size ${config.maxValueSize} plus key and encoding`,
  };
}

/**
 * RESOURCE_EXHAUSTED for a request message over the limit: its size (or, when
 * it was refused before all of it arrived, how much at least) and the limit.
 */
export function requestTooLarge(limit: RequestSizeLimit, size: number, complete: boolean): ConnectError {
  return new ConnectError(
    `request is ${complete ? "" : "at least "}${size} bytes; the limit is ${limit.bytes} bytes (${limit.reason})`,
    Code.ResourceExhausted,
  );
}
