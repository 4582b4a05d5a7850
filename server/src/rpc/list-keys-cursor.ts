import { StoreError } from "../store/store-error.js";

// "c" and the creation sequence number in base 36: short, and clearly not a key name or a count.
const cursorFormat = /^c([0-9a-z]{1,11})$/;

/** The ListKeys cursor that continues after the entry of creation sequence number `after`. */
export function encodeListKeysCursor(after: number): string {
  return `c${after.toString(36)}`;
}

/** The creation sequence number a ListKeys cursor continues after (0 for "", the start); BAD_CURSOR if malformed. */
export function decodeListKeysCursor(cursor: string): number {
  if (cursor === "") {
    return 0;
  }
  const match = cursorFormat.exec(cursor);
  if (match === null) {
    throw new StoreError("BAD_CURSOR", "pass the next_cursor of a previous ListKeys response, or none to start");
  }
  return parseInt(match[1]!, 36);
}
