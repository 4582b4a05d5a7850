/**
 * The detail of an error for a size over a configured limit, in the terms of
 * the option that sets it, e.g. `1025 bytes, the limit is 1024 (max_key_length)`,
 * as the pattern limits say it.
 */
export function overLimit(bytes: number, limit: number, option: string): string {
  return `${bytes} bytes, the limit is ${limit} (${option})`;
}
