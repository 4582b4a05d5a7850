/** The value of a Node request header; a repeated header arrives as an array and its first value counts. */
export function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
