import { describe, expect, it } from "vitest";
import { encodeGrpcMessage } from "./grpc-message.js";

describe("encodeGrpcMessage", () => {
  it.each([
    ["Key not found", "Key not found"],
    ["unknown method POST /a.B/C: x", "unknown method POST /a.B/C: x"],
    ["100% sure", "100%25 sure"],
    ["line\nbreak", "line%0Abreak"],
    ["clé", "cl%C3%A9"],
  ])("encodes %j as %j", (message, encoded) => {
    expect(encodeGrpcMessage(message)).toBe(encoded);
    expect(decodeURIComponent(encoded)).toBe(message);
  });
});
