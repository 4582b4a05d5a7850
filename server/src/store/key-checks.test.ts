import { describe, expect, it } from "vitest";
import { checkKeyLength, checkNotReserved, checkValueSize, checkVersion, checkWritableKey } from "./key-checks.js";
import { KeyEntry } from "./key-entry.js";

const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return [(error as { code?: string }).code, (error as Error).message];
  }
  return undefined;
};

describe("key checks", () => {
  it("refuse empty and reserved keys", () => {
    expect(refusal(() => checkWritableKey(""))?.[0]).toBe("EMPTY_KEY");
    expect(refusal(() => checkWritableKey("KeyQuarry/x"))?.[0]).toBe("RESERVED");
    expect(refusal(() => checkNotReserved("keyquarr"))).toBeUndefined();
  });

  it("count key length in UTF-8 bytes and value size in bytes; 0 is no limit", () => {
    expect(refusal(() => checkKeyLength("éé", 3))?.[0]).toBe("KEY_TOO_LONG");
    expect(refusal(() => checkKeyLength("éé", 4))).toBeUndefined();
    expect(refusal(() => checkKeyLength("x".repeat(5000), 0))).toBeUndefined();
    expect(refusal(() => checkValueSize(new Uint8Array(3), 2))?.[0]).toBe("VALUE_TOO_LARGE");
    expect(refusal(() => checkValueSize(new Uint8Array(3), 0))).toBeUndefined();
  });

  it("compare versions, naming the current one", () => {
    const entry = new KeyEntry("k", "", "", false, 0, 0, 0n, 3n, "alice");
    expect(refusal(() => checkVersion(entry, 2n))).toEqual(["VERSION_MISMATCH", "version mismatch: the current version is 3"]);
    expect(refusal(() => checkVersion(undefined, 1n))).toEqual(["VERSION_MISMATCH", "version mismatch: the key does not exist"]);
    expect([refusal(() => checkVersion(entry, 3n)), refusal(() => checkVersion(undefined, 0n)), refusal(() => checkVersion(entry, undefined))]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});
