import type { KeyEntry } from "./key-entry.js";
import { overLimit } from "./over-limit.js";
import { isReservedKey } from "./reserved-keys.js";
import { StoreError } from "./store-error.js";

/** Refuses a key user requests may not write: empty (EMPTY_KEY) or reserved (RESERVED). */
export function checkWritableKey(key: string): void {
  if (key === "") {
    throw new StoreError("EMPTY_KEY");
  }
  checkNotReserved(key);
}

/** Refuses a reserved key (RESERVED). */
export function checkNotReserved(key: string): void {
  if (isReservedKey(key)) {
    throw new StoreError("RESERVED");
  }
}

/** Refuses a key over `maxKeyLength` UTF-8 bytes (KEY_TOO_LONG); 0 = no limit. */
export function checkKeyLength(key: string, maxKeyLength: number): void {
  if (maxKeyLength <= 0) {
    return;
  }
  const length = Buffer.byteLength(key, "utf8");
  if (length > maxKeyLength) {
    throw new StoreError("KEY_TOO_LONG", overLimit(length, maxKeyLength, "max_key_length"));
  }
}

/** Refuses a value over `maxValueSize` bytes (VALUE_TOO_LARGE); 0 = no limit. */
export function checkValueSize(value: Uint8Array, maxValueSize: number): void {
  if (maxValueSize > 0 && value.length > maxValueSize) {
    throw new StoreError("VALUE_TOO_LARGE", overLimit(value.length, maxValueSize, "max_value_size"));
  }
}

/** Compare-and-set: refuses (VERSION_MISMATCH) unless the key has version `ifVersion` (0n: does not exist). */
export function checkVersion(entry: KeyEntry | undefined, ifVersion: bigint | undefined): void {
  const current = entry?.version ?? 0n;
  if (ifVersion !== undefined && ifVersion !== current) {
    throw new StoreError("VERSION_MISMATCH", entry === undefined ? "the key does not exist" : `the current version is ${current}`);
  }
}
