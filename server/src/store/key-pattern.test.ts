import { describe, expect, it } from "vitest";
import { compileKeyPattern, InvalidKeyPatternError } from "./key-pattern.js";

describe("compileKeyPattern", () => {
  it.each([
    ["Some*", "SomeKeyHere", true],
    [".+other.+", "AnotherKeyHere", true],
    ["ba*", "bar", true],
    ["ba*", "baz", true],
    ["ba*", "abc", true], // unanchored: any "b" matches
    ["ba*", "xyz", false],
    [".+wat.+", "foo", false],
    ["^foo$", "foo", true],
    ["^foo$", "foobar", false],
    ["key", "KEY", false], // case-sensitive
    ["(?i)key", "KEY", true], // unless the pattern opts out itself
    ["(?P<name>x)", "axb", true], // RE2-only named-group syntax
    ["[[:digit:]]+", "key42", true],
    ["\\pL", "é", true],
  ])("%s on %s → %s", (pattern, key, want) => {
    expect(compileKeyPattern(pattern).test(key)).toBe(want);
  });

  it("can be reused across many keys", () => {
    const p = compileKeyPattern("^user:\\d+$");
    expect(["user:1", "user:x", "user:22", "admin:1"].filter((k) => p.test(k))).toEqual([
      "user:1",
      "user:22",
    ]);
  });

  it.each([
    ["look-ahead", "(?=x)"],
    ["negative look-ahead", "a(?!b)"],
    ["look-behind (re2js extension, not RE2)", "(?<=x)y"],
    ["backreference", "(a)\\1"],
    ["unclosed group", "("],
    ["bad repeat", "*a"],
    ["repeat count too large", "a{1001}"],
  ])("rejects %s", (_desc, pattern) => {
    expect(() => compileKeyPattern(pattern)).toThrow(InvalidKeyPatternError);
  });

  it("reports the pattern and the underlying reason", () => {
    let caught: unknown;
    try {
      compileKeyPattern("(");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidKeyPatternError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as InvalidKeyPatternError;
    expect(err.name).toBe("InvalidKeyPatternError");
    expect(err.pattern).toBe("(");
    expect(err.reason).toContain("missing closing )");
    expect(err.message).toContain(err.reason);
    expect(err.cause).toBeDefined();
  });

  it("runs a pathological pattern in linear time", () => {
    // A backtracking engine would hang here (and vitest's timeout would
    // fail the test); RE2 answers immediately. No timing assertion on purpose.
    const evil = "a".repeat(50_000) + "!";
    expect(compileKeyPattern("(a+)+$").test(evil)).toBe(false);
    expect(compileKeyPattern("^(a+)+$").test(evil)).toBe(false);
    expect(compileKeyPattern("(a+)+!$").test(evil)).toBe(true);
  });
});
