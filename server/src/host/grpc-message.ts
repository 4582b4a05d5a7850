import type { OutgoingHttpHeaders } from "node:http";

/**
 * Percent-encodes a gRPC status message as the gRPC spec says: only bytes
 * outside printable ASCII (0x20–0x7E) and "%" itself. Connect encodes with
 * encodeURIComponent, which also escapes ":" or "/", and @grpc/grpc-js
 * decodes with decodeURI, which leaves those escaped ("%3A" in messages).
 */
export function encodeGrpcMessage(message: string): string {
  let encoded = "";
  for (const byte of Buffer.from(message, "utf8")) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

/** The headers (or trailers) that carry a gRPC status: its code and its percent-encoded message. */
export function grpcStatusHeaders(code: number, message: string): { "grpc-status": string; "grpc-message": string } {
  return { "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) };
}

/**
 * Makes a response re-encode the `grpc-message` trailer that Connect writes
 * (see {@link encodeGrpcMessage}); for gRPC (not gRPC-Web) responses.
 */
export function reencodeGrpcMessageTrailer(response: { addTrailers(headers: OutgoingHttpHeaders): void }): void {
  const addTrailers = response.addTrailers.bind(response);
  response.addTrailers = (headers) => {
    const message = headers["grpc-message"];
    if (typeof message === "string") {
      headers["grpc-message"] = encodeGrpcMessage(decodeURIComponent(message));
    }
    addTrailers(headers);
  };
}
