import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeError } from "./describe-error.js";

describe("describeError", () => {
  it("names the status code in snake_case and keeps the raw message", () => {
    expect(describeError(new ConnectError("Key is locked", Code.PermissionDenied))).toBe(
      "permission_denied: Key is locked",
    );
    expect(describeError(new ConnectError("Key not found", Code.NotFound))).toBe("not_found: Key not found");
  });

  it("prints other errors as their message on one line", () => {
    expect(describeError(new Error("socket file 'x' not found"))).toBe("socket file 'x' not found");
    expect(describeError(new Error("first\n  second"))).toBe("first second");
    expect(describeError("plain")).toBe("plain");
  });
});
