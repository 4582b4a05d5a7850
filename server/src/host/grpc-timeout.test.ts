import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { grpcTimeoutMs, setDeadline } from "./grpc-timeout.js";

describe("grpcTimeoutMs", () => {
  it.each([
    [undefined, undefined],
    ["1S", 1000],
    ["250m", 250],
    ["2592000S", 2_592_000_000],
    ["99999999H", 99_999_999 * 3_600_000],
    ["1500u", 1.5],
    ["0n", 0],
  ])("reads %j as %j ms", (value, ms) => {
    expect(grpcTimeoutMs(value)).toBe(ms);
  });

  it.each(["soon", "1", "S", "123456789S", "1.5S", "-1S", "1 S"])("refuses %j with INVALID_ARGUMENT", (value) => {
    const error = (() => {
      try {
        grpcTimeoutMs(value);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: `protocol error: invalid grpc-timeout value: ${value}` });
  });
});

describe("setDeadline", () => {
  it("fires after a short delay", async () => {
    const fired = await new Promise<boolean>((resolve) => setDeadline(20, () => resolve(true)));
    expect(fired).toBe(true);
  });

  it("does not fire once cancelled, while a later deadline does", async () => {
    let cancelledFired = false;
    const cancel = setDeadline(10, () => (cancelledFired = true));
    cancel();
    // A deadline armed after it and due later: once it fires, the cancelled one would have.
    await new Promise<void>((resolve) => setDeadline(50, resolve));
    expect(cancelledFired).toBe(false);
  });
});
