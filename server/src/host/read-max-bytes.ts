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
