/**
 * The format of `keyquarry client dump` (read back by `restore`): JSON
 * lines, a header first, then one line per key. 64-bit integers are bare
 * JSON numbers and times RFC 3339, as elsewhere in the CLI's output.
 */
import { parseDuration } from "../duration/parse-duration.js";

/** `format` of the header line. */
export const dumpFormatName = "keyquarry-dump";
/** The format version this CLI writes and reads; restore refuses others. */
export const dumpFormatVersion = 1;

/** The first line of a dump. */
export interface DumpHeader {
  format: typeof dumpFormatName;
  formatVersion: number;
  /** The dumped server's version ("" if it does not tell). */
  serverVersion: string;
  /** When the dump started (RFC 3339); `lifespanLeft` counts from here. */
  dumpedAt: string;
}

/** A retained earlier version of a dumped key. */
export interface DumpedRevision {
  version: bigint;
  /** Base64. */
  value: string;
  /** When it was written on the dumped server (RFC 3339); not restored. */
  timestamp?: string;
}

/** A key as dumped. */
export interface DumpedKey {
  key: string;
  /** Base64. */
  value: string;
  contentType: string;
  /** Informational: a restore makes its own version numbers. */
  version: bigint;
  /** Time the key had left at `dumpedAt` (Go duration, e.g. `1m29.5s`); absent when it has no lifespan. */
  lifespanLeft?: string;
  /** Informational: a lock's ownership cannot be carried over, so restore leaves the key unlocked. */
  locked: boolean;
  /** With `dump --history`: earlier retained versions, oldest first (the current one is `value`). */
  history?: DumpedRevision[];
}

/** A key line as read back, its lifespan in nanoseconds. */
export interface RestorableKey {
  key: string;
  value: Uint8Array;
  contentType: string;
  lifespanLeft?: bigint;
  /** Earlier values, oldest first. */
  history: Uint8Array[];
}

/** The header line's text, checked: throws unless it is a dump header of this CLI's format version. */
export function parseDumpHeader(line: string): DumpHeader {
  const header = parseObject(line);
  if (header.format !== dumpFormatName) {
    throw new Error(`not a keyquarry dump: the first line has no "format":"${dumpFormatName}"`);
  }
  if (header.formatVersion !== dumpFormatVersion) {
    throw new Error(`dump format version ${String(header.formatVersion)} is not ${dumpFormatVersion}, the one this CLI reads`);
  }
  if (typeof header.dumpedAt !== "string" || Number.isNaN(Date.parse(header.dumpedAt))) {
    throw new Error(`the header's "dumpedAt" is not an RFC 3339 time`);
  }
  return header as unknown as DumpHeader;
}

/** A key line's text, checked and decoded; throws saying what is wrong. */
export function parseDumpedKey(line: string): RestorableKey {
  const entry = parseObject(line);
  const key = stringField(entry, "key");
  const history = entry.history ?? [];
  if (!Array.isArray(history)) {
    throw new Error(`"history" is not an array`);
  }
  return {
    key,
    value: base64Field(entry, "value"),
    contentType: stringField(entry, "contentType"),
    lifespanLeft: entry.lifespanLeft === undefined ? undefined : parseDuration(stringField(entry, "lifespanLeft")),
    history: history.map((revision: unknown) => base64Field(asObject(revision), "value")),
  };
}

function parseObject(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error("not JSON");
  }
  return asObject(value);
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("not a JSON object");
  }
  return value as Record<string, unknown>;
}

function stringField(object: Record<string, unknown>, name: string): string {
  const value = object[name];
  if (typeof value !== "string") {
    throw new Error(`"${name}" is not a string`);
  }
  return value;
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Field(object: Record<string, unknown>, name: string): Uint8Array {
  const text = stringField(object, name);
  if (text.length % 4 !== 0 || !base64.test(text)) {
    throw new Error(`"${name}" is not base64`);
  }
  return Buffer.from(text, "base64");
}
