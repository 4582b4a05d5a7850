/** How the value viewer shows a value. */
export type ValueKind = "text" | "json" | "image" | "binary";

/** Decides how to show `bytes` stored under `contentType`: by type first, by content when the type says little. */
export function valueKind(contentType: string, bytes: Uint8Array): ValueKind {
  const type = contentType.toLowerCase();
  if (type.startsWith("image/")) {
    return "image";
  }
  const text = decodeText(bytes);
  if (text === undefined) {
    return "binary";
  }
  if (type.includes("json") || looksLikeJson(text)) {
    return parseJson(text) === undefined ? "text" : "json";
  }
  return "text";
}

/** The bytes as UTF-8 text, or undefined when they are not valid UTF-8. */
export function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** JSON text pretty-printed, or undefined when it is not JSON. */
export function prettyJson(text: string): string | undefined {
  const parsed = parseJson(text);
  return parsed === undefined ? undefined : JSON.stringify(parsed.value, null, 2);
}

/** A classic hex dump: offset, 16 bytes in hex, the printable ones as ASCII. */
export function hexDump(bytes: Uint8Array, maxBytes = 4096): string {
  const lines: string[] = [];
  const shown = bytes.subarray(0, maxBytes);
  for (let offset = 0; offset < shown.length; offset += 16) {
    const row = shown.subarray(offset, offset + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > maxBytes) {
    lines.push(`… ${bytes.length - maxBytes} more bytes`);
  }
  return lines.join("\n");
}

/** A byte count for people: 512 B, 1.5 KiB, 2.0 MiB. */
export function formatBytes(size: bigint | number): string {
  const n = Number(size);
  if (n < 1024) {
    return `${n} B`;
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KiB`;
  }
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Time left until `deadlineMs`, never negative: "12.3 s" under a minute, then "4m 05s", then "2h 03m". */
export function secondsLeft(deadlineMs: number, nowMs: number): string {
  const seconds = Math.max(0, (deadlineMs - nowMs) / 1000);
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const whole = Math.floor(seconds);
  const [big, small] = whole < 3600 ? [Math.floor(whole / 60), whole % 60] : [Math.floor(whole / 3600), Math.floor(whole / 60) % 60];
  return `${big}${whole < 3600 ? "m" : "h"} ${String(small).padStart(2, "0")}${whole < 3600 ? "s" : "m"}`;
}

function looksLikeJson(text: string): boolean {
  const start = text.trimStart()[0];
  return start === "{" || start === "[";
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
