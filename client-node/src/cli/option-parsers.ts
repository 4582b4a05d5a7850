import { InvalidArgumentError } from "commander";
import { parseDuration } from "@keyquarry/server/config";

// Commander argument/option parsers. Throwing InvalidArgumentError makes
// commander report a usage error (exit status 1) naming the argument.

/** Parses a count such as `--limit 10`; bigint because the proto field is uint64. */
export function parseCount(text: string): bigint {
  if (!/^\d+$/.test(text)) {
    throw new InvalidArgumentError("must be a non-negative integer");
  }
  return BigInt(text);
}

/** Parses `--indent <n>`. */
export function parseIndent(text: string): number {
  const count = parseCount(text);
  if (count > 10n) {
    throw new InvalidArgumentError("must be at most 10");
  }
  return Number(count);
}

/** Parses a positive Go duration (`500ms`, `5s`, `1m30s`) into milliseconds. */
export function parseTimeout(text: string): number {
  let nanos: bigint;
  try {
    nanos = parseDuration(text);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  if (nanos <= 0n) {
    throw new InvalidArgumentError("must be positive");
  }
  // Round up so that sub-millisecond timeouts do not become "no timeout".
  return Number((nanos + 999_999n) / 1_000_000n);
}

/** Parses `on`/`off` in any letter case. */
export function parseOnOff(text: string): "on" | "off" {
  const state = text.toLowerCase();
  if (state !== "on" && state !== "off") {
    throw new InvalidArgumentError("invalid choice (must be: on or off)");
  }
  return state;
}
