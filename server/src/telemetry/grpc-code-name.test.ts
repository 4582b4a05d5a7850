import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { grpcCodeName } from "./grpc-code-name.js";

describe("grpcCodeName", () => {
  it("names codes as grpc-go (and go-grpc-prometheus's grpc_code label) does", () => {
    expect(grpcCodeName(0)).toBe("OK");
    expect(grpcCodeName(Code.Canceled)).toBe("Canceled");
    expect(grpcCodeName(Code.NotFound)).toBe("NotFound");
    expect(grpcCodeName(Code.ResourceExhausted)).toBe("ResourceExhausted");
    expect(grpcCodeName(Code.Unauthenticated)).toBe("Unauthenticated");
    expect(grpcCodeName(99)).toBe("Code(99)");
  });
});
