/** Go's zero time.Time as encoding/json writes it: "never" in the original's documents. */
const goZeroTime = "0001-01-01T00:00:00Z";

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses a time as Go's encoding/json writes it (RFC 3339, up to 9
 * fractional digits, `Z` or a `±hh:mm` offset) into ns since the epoch,
 * exactly; Go's zero time is 0n (our "never"). Throws a RangeError naming
 * the text for anything else, including impossible dates such as Feb 30.
 */
export function parseGoTime(text: string): bigint {
  if (text === goZeroTime) {
    return 0n;
  }
  const match = rfc3339.exec(text);
  if (match === null) {
    throw new RangeError(`invalid time ${JSON.stringify(text)} (expected RFC 3339, e.g. 2024-01-02T15:04:05.999999999Z)`);
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = match[7] ?? "";
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second);
  // Feb 30 rolls over to March: a date that does not come back unchanged does not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new RangeError(`invalid time ${JSON.stringify(text)} (no such date or time of day)`);
  }
  let offsetMinutes = 0;
  if (match[8] !== "Z") {
    offsetMinutes = (match[9] === "-" ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  }
  const seconds = BigInt(date.getTime() / 1000 - offsetMinutes * 60);
  return seconds * 1_000_000_000n + BigInt(fraction.padEnd(9, "0"));
}
