import { Code } from "@connectrpc/connect";

/** A gRPC status code's name as grpc-go spells it (`OK`, `NotFound`, ...), the `grpc_code` label of go-grpc-prometheus. */
export function grpcCodeName(code: number): string {
  // Connect's Code enum has grpc-go's names for 1-16 and no member for OK.
  return code === 0 ? "OK" : (Code[code] ?? `Code(${code})`);
}
