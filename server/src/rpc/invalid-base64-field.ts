import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";

/**
 * Whether `text` is base64 as the protobuf JSON mapping accepts it: the
 * standard or URL-safe alphabet, with or without padding, and with zero pad
 * bits (RFC 4648 §3.5). @bufbuild/protobuf decodes leniently, so text that
 * only looks like base64 ("bar") would be stored as other bytes instead of
 * being refused.
 */
export function isBase64(text: string): boolean {
  const match = /^([A-Za-z0-9+/_-]*)(={0,2})$/.exec(text);
  if (match === null) {
    return false;
  }
  const digits = match[1]!;
  const padding = match[2]!.length;
  const rest = digits.length % 4;
  if (rest === 1 || (padding > 0 && (digits.length + padding) % 4 !== 0)) {
    return false;
  }
  if (rest === 0) {
    return true;
  }
  // The last digit's bits beyond the final byte must be zero: 4 of them after 2 digits, 2 after 3.
  const last = alphabet.indexOf(digits[digits.length - 1]!.replace("-", "+").replace("_", "/"));
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * The path of the first `bytes` field of a message in protobuf JSON form
 * (`json`, as parsed) whose value is not {@link isBase64} (e.g.
 * `"value"`, `"items[2].value"`), or undefined when there is none. Fields of
 * the wrong JSON type are left to the JSON reader to refuse.
 */
export function invalidBase64Field(schema: DescMessage, json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json) || schema.typeName.startsWith("google.protobuf.")) {
    return undefined;
  }
  const object = json as Record<string, unknown>;
  for (const field of schema.fields) {
    const name = field.jsonName in object ? field.jsonName : field.name;
    const value = object[name];
    if (value === undefined || value === null) {
      continue;
    }
    const invalid = invalidIn(field, value);
    if (invalid !== undefined) {
      return `${name}${invalid}`;
    }
  }
  return undefined;
}

/** The path (relative to the field) of an invalid value in one field, or undefined. */
function invalidIn(field: DescField, value: unknown): string | undefined {
  // The type of the field's values (of a list's items, of a map's values): a message or a scalar.
  const { message, scalar } = field as { message?: DescMessage; scalar?: ScalarType };
  const check = (item: unknown): string | undefined => {
    if (message !== undefined) {
      const nested = invalidBase64Field(message, item);
      return nested === undefined ? undefined : `.${nested}`;
    }
    return scalar === ScalarType.BYTES && typeof item === "string" && !isBase64(item) ? "" : undefined;
  };
  if (field.fieldKind === "list" && Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const invalid = check(item);
      if (invalid !== undefined) {
        return `[${index}]${invalid}`;
      }
    }
    return undefined;
  }
  if (field.fieldKind === "map" && typeof value === "object") {
    for (const [key, item] of Object.entries(value as object)) {
      const invalid = check(item);
      if (invalid !== undefined) {
        return `[${JSON.stringify(key)}]${invalid}`;
      }
    }
    return undefined;
  }
  return check(value);
}
