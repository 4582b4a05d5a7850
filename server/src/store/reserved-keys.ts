/** Keys starting with this prefix (case-insensitively) belong to the server. */
export const reservedKeyPrefix = "keyquarry";

/** Whether user requests may not write `key` (it starts with "keyquarry", any case). */
export function isReservedKey(key: string): boolean {
  return key.length >= 9 && key.slice(0, 9).toLowerCase() === reservedKeyPrefix;
}
