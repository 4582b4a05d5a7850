/**
 * Durations are carried as bigint nanoseconds everywhere in keyquarry, so
 * that request durations (google.protobuf.Duration) compare exactly.
 */
export type Nanoseconds = bigint;

const nanosecond = 1n;
const microsecond = 1_000n * nanosecond;
const millisecond = 1_000n * microsecond;
const second = 1_000n * millisecond;
const minute = 60n * second;
const hour = 60n * minute;

// Same unit set as Go's time.ParseDuration, including both spellings of
// "micro" (U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU), because
// config files written for the original server may contain either.
const units = new Map<string, bigint>([
  ["ns", nanosecond],
  ["us", microsecond],
  ["\u00b5s", microsecond],
  ["\u03bcs", microsecond],
  ["ms", millisecond],
  ["s", second],
  ["m", minute],
  ["h", hour],
]);

const validUnits = `valid units: ${[...units.keys()].join(", ")}`;

// Go durations are int64 nanoseconds; staying inside that range keeps values
// representable as google.protobuf.Duration and in the original's snapshots.
const maxInt64 = (1n << 63n) - 1n;
const minInt64 = -(1n << 63n);

/**
 * Parses a Go-style duration (`500ms`, `5s`, `1h30m`, `1.5h`, `300us`,
 * `300µs`, `10ns`, `0`) into nanoseconds. A plain integer such as `1000`
 * means nanoseconds, as the original server accepted. A leading `-` or `+`
 * is allowed; rejecting negative values is up to the caller. Surrounding
 * whitespace is ignored. Throws an Error naming the input when it is invalid
 * or outside the int64 nanosecond range (about ±292 years).
 */
export function parseDuration(text: string): Nanoseconds {
  function fail(why: string): never {
    throw new Error(`invalid duration ${JSON.stringify(text)}: ${why}`);
  }
  let rest = text.trim();
  if (rest === "") fail("empty string");

  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "") fail("expected a number after the sign");

  let total = 0n;
  if (/^[0-9]+$/.test(rest)) {
    // Unit-less integer: nanoseconds (this also covers Go's special "0").
    total = BigInt(rest);
  } else {
    while (rest !== "") {
      const number = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
      const whole = number?.[1] ?? "";
      const fraction = number?.[2] ?? "";
      if (whole === "" && fraction === "") fail("expected a number");
      rest = rest.slice(number?.[0].length ?? 0);

      const unitText = /^[^0-9.]*/.exec(rest)?.[0] ?? "";
      if (unitText === "") fail(`missing unit (${validUnits})`);
      const unit = units.get(unitText);
      if (unit === undefined) {
        fail(`unknown unit ${JSON.stringify(unitText)} (${validUnits})`);
      }
      rest = rest.slice(unitText.length);

      total += BigInt(whole === "" ? "0" : whole) * unit;
      if (fraction !== "") {
        // Exact integer arithmetic, truncating below one nanosecond like Go.
        total += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
      }
    }
  }

  const result = negative ? -total : total;
  if (result > maxInt64 || result < minInt64) fail("out of range (more than about 292 years)");
  return result;
}

/**
 * Formats nanoseconds the way Go's `time.Duration.String` does, e.g.
 * `1h30m0s`, `1m0.5s`, `1.5s`, `500ms`, `300µs`, `10ns`, `0s`. Go's full form
 * (zero minutes/seconds included) is used rather than a compact one so that
 * output matches what users of the original server know; every result is
 * accepted back by {@link parseDuration}.
 */
export function formatDuration(ns: Nanoseconds): string {
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  const abs = ns < 0n ? -ns : ns;

  if (abs < second) {
    // Sub-second values use the largest unit that keeps an integer part.
    if (abs < microsecond) return `${sign}${abs}ns`;
    if (abs < millisecond) return `${sign}${withFraction(abs, 3)}\u00b5s`;
    return `${sign}${withFraction(abs, 6)}ms`;
  }

  let out = `${withFraction(abs % minute, 9)}s`;
  const minutes = abs / minute;
  if (minutes > 0n) {
    out = `${minutes % 60n}m${out}`;
    const hours = minutes / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return sign + out;
}

/** `value / 10^digits` as a decimal without trailing zeros, e.g. (1500, 3) → "1.5". */
function withFraction(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const whole = value / scale;
  const fraction = value % scale;
  if (fraction === 0n) return `${whole}`;
  return `${whole}.${fraction.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}
