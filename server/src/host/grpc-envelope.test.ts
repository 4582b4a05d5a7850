import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { grpcFrame, singleGrpcMessage } from "./grpc-envelope.js";

describe("grpcFrame and singleGrpcMessage", () => {
  it("frame a message with its 5-byte prefix and read it back", () => {
    const frame = grpcFrame(new Uint8Array([7, 8, 9]));
    expect([...frame]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
    expect([...singleGrpcMessage(frame, "server_streaming")]).toEqual([7, 8, 9]);
    expect([...singleGrpcMessage(grpcFrame(new Uint8Array()), "unary")]).toEqual([]);
  });

  it.each([
    [Buffer.alloc(0), Code.Unimplemented, "protocol error: missing input message for server_streaming method"],
    [Buffer.from([0, 0, 0]), Code.InvalidArgument, "protocol error: incomplete envelope"],
    [Buffer.from([1, 0, 0, 0, 0]), Code.Internal, "received compressed envelope, but do not know how to decompress"],
    [Buffer.concat([grpcFrame(new Uint8Array([1])), grpcFrame(new Uint8Array([2]))]), Code.Unimplemented, "protocol error: received extra input message for server_streaming method"],
    [Buffer.from([0, 0, 0, 0, 9, 1]), Code.InvalidArgument, "protocol error: incomplete envelope"],
  ])("refuse a body that is not exactly one uncompressed message (%#)", (body, code, message) => {
    expect(() => singleGrpcMessage(body, "server_streaming")).toThrow(expect.objectContaining({ code, rawMessage: message }));
  });
});
