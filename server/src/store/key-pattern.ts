/**
 * ListKeys filter patterns. They arrive from untrusted clients and are Go
 * RE2 regular expressions, matched unanchored and case-sensitively (Go's
 * `regexp.MatchString`). JavaScript's RegExp backtracks, so a pattern like
 * `(a+)+$` could freeze the event loop; re2js gives RE2 syntax with
 * linear-time matching instead.
 */
import { RE2JS } from "re2js";
import { StoreError } from "./store-error.js";

/**
 * Largest compiled program (re2js instructions) a ListKeys pattern may have,
 * as RE2's max_mem bounds a program's size: matching costs up to about
 * program size × key length (when the lazy DFA gives up, re2js falls back to
 * an NFA), and `(?:k?){1000}k{1000}`, 3,002 instructions, took 300 ms per
 * 1,000-byte key. At 500, the worst we measured on 1,024-byte keys was a
 * few ms per key, while everyday patterns (`^user/[0-9]+/(profile|settings)$`
 * is 30, an alternation of a dozen words about 70) stay far below.
 */
export const maxPatternProgramSize = 500;

/** A compiled ListKeys pattern. */
export interface KeyPattern {
  /** True if the pattern matches anywhere in `key` (unanchored search). */
  test(key: string): boolean;
  /** Instructions in the compiled program (see {@link maxPatternProgramSize}). */
  readonly programSize: number;
}

/**
 * Thrown by {@link compileKeyPattern} when the pattern is not valid RE2
 * syntax (including Perl-only constructs such as look-ahead and
 * backreferences, which RE2 deliberately rejects).
 */
export class InvalidKeyPatternError extends Error {
  /** The pattern as the client sent it. */
  readonly pattern: string;
  /** The parser's reason, worded like Go's (`error parsing regexp: ...`). */
  readonly reason: string;

  constructor(pattern: string, reason: string, options?: ErrorOptions) {
    super(`invalid key pattern ${JSON.stringify(pattern)}: ${reason}`, options);
    this.name = "InvalidKeyPatternError";
    this.pattern = pattern;
    this.reason = reason;
  }
}

/**
 * Compiles a client-supplied RE2 pattern for key filtering.
 *
 * @throws {InvalidKeyPatternError} if the pattern does not compile.
 */
export function compileKeyPattern(pattern: string): KeyPattern {
  let re: RE2JS;
  try {
    // No flags: Go defaults (case-sensitive, `.` excludes `\n`, `^`/`$`
    // anchor the whole text) and no re2js-only extensions like lookbehinds.
    re = RE2JS.compile(pattern);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidKeyPatternError(pattern, reason, { cause: err });
  }
  // `test` is re2js's unanchored search (not `matches`, which is a full match).
  return { test: (key) => re.test(key), programSize: re.programSize() };
}

/**
 * A ListKeys pattern, compiled (undefined for "", which matches every key);
 * throws PATTERN_TOO_LONG over `maxLength` bytes, BAD_PATTERN if it is not
 * RE2 syntax, PATTERN_TOO_COMPLEX if its program is too large.
 */
export function parseKeyPattern(pattern: string, maxLength: number): KeyPattern | undefined {
  if (pattern === "") {
    return undefined;
  }
  const length = Buffer.byteLength(pattern, "utf8");
  if (length > maxLength) {
    throw new StoreError("PATTERN_TOO_LONG", `${length} bytes, the limit is ${maxLength} (max_pattern_length)`);
  }
  let compiled: KeyPattern;
  try {
    compiled = compileKeyPattern(pattern);
  } catch (error) {
    if (error instanceof InvalidKeyPatternError) {
      throw new StoreError("BAD_PATTERN", error.reason);
    }
    throw error;
  }
  if (compiled.programSize > maxPatternProgramSize) {
    throw new StoreError(
      "PATTERN_TOO_COMPLEX",
      `it compiles to ${compiled.programSize} instructions, the limit is ${maxPatternProgramSize} (use fewer or smaller repetitions)`,
    );
  }
  return compiled;
}
