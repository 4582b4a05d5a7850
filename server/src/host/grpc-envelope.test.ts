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
    [Buffer.alloc(0), Code.InvalidArgument, "protocol error: missing input message for server_streaming method"],
    [Buffer.from([1, 0, 0, 0, 0]), Code.Internal, "protocol error: received compressed message without grpc-encoding"],
    [Buffer.concat([grpcFrame(new Uint8Array([1])), grpcFrame(new Uint8Array([2]))]), Code.InvalidArgument, "protocol error: expected exactly one input message for server_streaming method"],
    [Buffer.from([0, 0, 0, 0, 9, 1]), Code.InvalidArgument, "protocol error: expected exactly one input message for server_streaming method"],
  ])("refuse a body that is not exactly one uncompressed message (%#)", (body, code, message) => {
    expect(() => singleGrpcMessage(body, "server_streaming")).toThrow(expect.objectContaining({ code, rawMessage: message }));
  });
});
