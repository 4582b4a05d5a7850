import { InvalidArgumentError, Option } from "commander";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { parseDuration } from "../duration/parse-duration.js";
import { durationFromNanos } from "../rpc/duration.js";

// Commander argument/option parsers. Throwing InvalidArgumentError makes
// commander report a usage error (exit status 2) naming the argument.

/** Parses a count such as `--limit 10`; bigint because the proto field is uint64. */
export function parseCount(text: string): bigint {
  if (!/^\d+$/.test(text)) {
    throw new InvalidArgumentError("must be a non-negative integer");
  }
  return BigInt(text);
}

/** `--indent <n>`, for the commands that print JSON. */
export function indentOption(): Option {
  return new Option("--indent <n>", "indent JSON output by n spaces").argParser(parseIndent).default(0);
}

/** Parses `--indent <n>`. */
function parseIndent(text: string): number {
  const count = parseCount(text);
  if (count > 10n) {
    throw new InvalidArgumentError("must be at most 10");
  }
  return Number(count);
}

/** Parses a signed integer such as a version (`3`, `-1`); bigint because the proto fields are 64-bit. */
export function parseInteger(text: string): bigint {
  if (!/^-?\d+$/.test(text)) {
    throw new InvalidArgumentError("must be an integer");
  }
  return BigInt(text);
}

/** Parses a positive Go duration (`500ms`, `30s`, `5m`, `1h`) into a google.protobuf.Duration. */
export function parseDurationMessage(text: string): Duration {
  return durationFromNanos(parsePositiveDuration(text));
}

/** Shortest `--progress` interval; the server refuses shorter ones. */
const minProgressNanos = 100_000_000n;

/** Parses `--progress <duration>`: as {@link parseDurationMessage}, at least 100ms. */
export function parseProgressInterval(text: string): Duration {
  const nanos = parsePositiveDuration(text);
  if (nanos < minProgressNanos) {
    throw new InvalidArgumentError(`${text} is below the minimum of 100ms`);
  }
  return durationFromNanos(nanos);
}

/** Parses a positive Go duration (`500ms`, `5s`, `1m30s`) into milliseconds. */
export function parseTimeout(text: string): number {
  // Round up so that sub-millisecond timeouts do not become "no timeout".
  return Number((parsePositiveDuration(text) + 999_999n) / 1_000_000n);
}

function parsePositiveDuration(text: string): bigint {
  // parseDuration reads a bare number as nanoseconds (config files of the
  // original do so); on a command line `5` surely means something else.
  if (/^\s*[+-]?[0-9]+(\.[0-9]*)?\s*$/.test(text)) {
    throw new InvalidArgumentError(
      `invalid duration ${JSON.stringify(text)}: missing unit (did you mean ${text.trim()}s?)`,
    );
  }
  let nanos: bigint;
  try {
    nanos = parseDuration(text);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  if (nanos <= 0n) {
    throw new InvalidArgumentError("must be positive");
  }
  return nanos;
}

/** Parses `on`/`off` in any letter case. */
export function parseOnOff(text: string): "on" | "off" {
  const state = text.toLowerCase();
  if (state !== "on" && state !== "off") {
    throw new InvalidArgumentError("invalid choice (must be: on or off)");
  }
  return state;
}

/** Parses a comma-separated list (`a,b`), dropping empty items. */
export function parseList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** Parses event names (`created,updated`), in any letter case. */
export function parseEvents(text: string): KeyEvent[] {
  return parseList(text).map((name) => {
    const event = KeyEvent[name.toUpperCase() as keyof typeof KeyEvent];
    if (event === undefined || event === KeyEvent.NO_EVENT) {
      const names = Object.keys(KeyEvent).filter((key) => Number.isNaN(Number(key)) && key !== "NO_EVENT");
      throw new InvalidArgumentError(`unknown event '${name}' (one of: ${names.join(", ").toLowerCase()})`);
    }
    return event;
  });
}
