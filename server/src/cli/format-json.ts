import {
  ScalarType,
  toJson,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";

/**
 * Renders a message as proto3 JSON (camelCase names, zero values omitted),
 * except that 64-bit integers are printed as bare JSON numbers instead of
 * strings, as the original CLI does (`"hash":16101355973854746`). The digits
 * are spliced in as text, so values beyond 2^53 keep every digit.
 *
 * `indent` > 0 pretty-prints like `JSON.stringify(value, null, indent)`.
 */
export function formatJson<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  indent = 0,
): string {
  return print(markMessage(schema, toJson(schema, message)), indent, 0);
}

/**
 * Renders a plain value (not a message) as JSON the same way: bigints as bare
 * exact numbers, bytes as base64, undefined members left out.
 */
export function formatValue(value: unknown, indent = 0): string {
  return print(toPrintable(value), indent, 0);
}

function toPrintable(value: unknown): Printable {
  if (typeof value === "bigint") {
    return new Digits(value.toString());
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(value).toString("base64");
  }
  if (Array.isArray(value)) {
    return value.map(toPrintable);
  }
  if (typeof value === "object" && value !== null) {
    const members: { [name: string]: Printable } = {};
    for (const [name, member] of Object.entries(value)) {
      if (member !== undefined) {
        members[name] = toPrintable(member);
      }
    }
    return members;
  }
  return value as JsonValue;
}

/** The decimal digits of a 64-bit integer, to be printed without quotes. */
class Digits {
  constructor(readonly text: string) {}
}

type Printable = JsonValue | Digits | Printable[] | { [name: string]: Printable };

const int64Types: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/** Well-known types whose JSON is not an object of fields, e.g. Timestamp → RFC 3339. */
const customJsonTypes: ReadonlySet<string> = new Set(
  [
    "Any", "Duration", "FieldMask", "ListValue", "Struct", "Timestamp", "Value",
    "BoolValue", "BytesValue", "DoubleValue", "FloatValue", "Int32Value", "Int64Value",
    "StringValue", "UInt32Value", "UInt64Value",
  ].map((name) => `google.protobuf.${name}`),
);

function markMessage(schema: DescMessage, json: JsonValue): Printable {
  if (!isJsonObject(json) || customJsonTypes.has(schema.typeName)) {
    return json;
  }
  const marked: { [name: string]: Printable } = {};
  for (const [name, value] of Object.entries(json)) {
    const field = schema.fields.find((f) => f.jsonName === name);
    marked[name] = field ? markField(field, value) : value;
  }
  return marked;
}

function markField(field: DescField, value: JsonValue): Printable {
  const markElement = (element: JsonValue): Printable => {
    if (field.message) {
      return markMessage(field.message, element);
    }
    if (field.scalar !== undefined && int64Types.has(field.scalar)) {
      return typeof element === "string" && /^-?\d+$/.test(element) ? new Digits(element) : element;
    }
    return element;
  };
  switch (field.fieldKind) {
    case "list":
      return Array.isArray(value) ? value.map(markElement) : value;
    case "map":
      return isJsonObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markElement(v)]))
        : value;
    default:
      return markElement(value);
  }
}

function isJsonObject(value: JsonValue): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function print(value: Printable, indent: number, depth: number): string {
  if (value instanceof Digits) {
    return value.text;
  }
  if (Array.isArray(value)) {
    return wrap("[", value.map((item) => print(item, indent, depth + 1)), "]", indent, depth);
  }
  if (typeof value === "object" && value !== null) {
    const separator = indent > 0 ? ": " : ":";
    const members = Object.entries(value).map(
      ([name, member]) => JSON.stringify(name) + separator + print(member, indent, depth + 1),
    );
    return wrap("{", members, "}", indent, depth);
  }
  return JSON.stringify(value);
}

function wrap(open: string, items: string[], close: string, indent: number, depth: number): string {
  if (items.length === 0) {
    return open + close;
  }
  if (indent === 0) {
    return open + items.join(",") + close;
  }
  const inner = "\n" + " ".repeat(indent * (depth + 1));
  return open + inner + items.join("," + inner) + "\n" + " ".repeat(indent * depth) + close;
}
