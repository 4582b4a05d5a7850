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

/**
 * Counts a request body's bytes as they arrive and tells as soon as its
 * message is known to be over the limit: from its declared length, from the
 * 5-byte envelope header of an enveloped body (gRPC, gRPC-Web, Connect
 * streaming: before the message itself arrives), or from the bytes received.
 * One piece of arithmetic for every path that reads a body.
 */
export class RequestSizeMeter {
  private received = 0;
  // The envelope header's bytes while it is split across chunks.
  private head: Uint8Array | undefined;

  constructor(
    private readonly limit: RequestSizeLimit,
    private readonly enveloped: boolean,
  ) {}

  /** RESOURCE_EXHAUSTED when the declared body length (content-length) is over the limit. */
  declared(length: number | undefined): ConnectError | undefined {
    const size = (length ?? 0) - (this.enveloped ? 5 : 0);
    return size > this.limit.bytes ? requestTooLarge(this.limit, size, true) : undefined;
  }

  /** Counts a chunk; RESOURCE_EXHAUSTED once the message is known to be over the limit. */
  add(chunk: Uint8Array): ConnectError | undefined {
    const { limit } = this;
    const before = this.received;
    this.received += chunk.byteLength;
    if (this.enveloped && before < 5) {
      // Read in place when the chunk holds the whole header (the usual case: no copy, no view on the hot path).
      const head = before === 0 ? chunk : (this.head = Buffer.concat([this.head!, chunk.subarray(0, 5 - before)]));
      if (head.byteLength >= 5) {
        this.head = undefined;
        const size = head[1]! * 2 ** 24 + (head[2]! << 16) + (head[3]! << 8) + head[4]!;
        if (size > limit.bytes) {
          return requestTooLarge(limit, size, true);
        }
      } else if (before === 0) {
        this.head = chunk;
      }
    }
    const size = this.received - (this.enveloped ? 5 : 0);
    return size > limit.bytes ? requestTooLarge(limit, size, false) : undefined;
  }
}
