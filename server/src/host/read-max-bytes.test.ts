import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RequestSizeMeter, requestSizeLimitFor, type RequestSizeLimit } from "./read-max-bytes.js";

const limit: RequestSizeLimit = { bytes: 100, reason: "a test limit" };

/** A 5-byte envelope header declaring a message of `size` bytes. */
function header(size: number): Uint8Array {
  const bytes = Buffer.alloc(5);
  bytes.writeUInt32BE(size, 1);
  return bytes;
}

describe("RequestSizeMeter", () => {
  it("refuses a declared length over the limit, counting the envelope header out", () => {
    expect(new RequestSizeMeter(limit, true).declared(105)).toBeUndefined();
    expect(new RequestSizeMeter(limit, true).declared(106)?.rawMessage).toBe("request is 101 bytes; the limit is 100 bytes (a test limit)");
    expect(new RequestSizeMeter(limit, false).declared(101)?.code).toBe(Code.ResourceExhausted);
    expect(new RequestSizeMeter(limit, false).declared(undefined)).toBeUndefined();
  });

  it("refuses an enveloped message by its header, before the message arrives, even when the header is split", () => {
    const meter = new RequestSizeMeter(limit, true);
    const head = header(5_000_000);
    expect(meter.add(head.subarray(0, 2))).toBeUndefined();
    expect(meter.add(head.subarray(2))?.rawMessage).toBe("request is 5000000 bytes; the limit is 100 bytes (a test limit)");
  });

  it("refuses by the bytes received once they pass the limit", () => {
    const meter = new RequestSizeMeter(limit, true);
    expect(meter.add(Buffer.concat([header(50), Buffer.alloc(60)]))).toBeUndefined();
    expect(meter.add(Buffer.alloc(41))?.rawMessage).toBe("request is at least 101 bytes; the limit is 100 bytes (a test limit)");
    const bare = new RequestSizeMeter(limit, false);
    expect(bare.add(Buffer.alloc(100))).toBeUndefined();
    expect(bare.add(Buffer.alloc(1))?.code).toBe(Code.ResourceExhausted);
  });

  it("names the options the limit comes from", () => {
    expect(requestSizeLimitFor({ maxValueSize: 0, maxKeyLength: 1024 }).reason).toBe("the fixed limit when max_value_size is 0");
  });
});
