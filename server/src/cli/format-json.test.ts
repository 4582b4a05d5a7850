import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  timestampFromMs,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  InspectResponseSchema,
  ListKeysResponseSchema,
  ServerMetricsSchema,
  SetResponseSchema,
} from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { formatJson } from "./format-json.js";

describe("formatJson", () => {
  it("omits zero values and uses camelCase names", () => {
    expect(formatJson(SetResponseSchema, create(SetResponseSchema, { success: true, isNew: true }))).toBe(
      '{"success":true,"isNew":true}',
    );
    expect(formatJson(SetResponseSchema, create(SetResponseSchema, { success: true }))).toBe('{"success":true}');
    expect(formatJson(SetResponseSchema, create(SetResponseSchema))).toBe("{}");
  });

  it("prints 64-bit integers as exact bare numbers", () => {
    const message = create(InspectResponseSchema, {
      key: "12345",
      hash: 18446744073709551615n,
      version: 9007199254740993n, // 2^53 + 1, not representable as a double
      size: 3n,
      contentType: "text/plain; charset=utf-8",
    });
    expect(formatJson(InspectResponseSchema, message)).toBe(
      '{"key":"12345","hash":18446744073709551615,"version":9007199254740993,"size":3,' +
        '"contentType":"text/plain; charset=utf-8"}',
    );
  });

  it("splices 64-bit integers in nested messages and keeps set optional zeros", () => {
    const message = create(ServerMetricsSchema, {
      keys: 16n,
      totalSize: 0n,
      events: { new: 16n, accessed: 9007199254740993n },
      pressure: { keys: 16n, used: 0.5 },
    });
    expect(formatJson(ServerMetricsSchema, message)).toBe(
      '{"keys":16,"totalSize":0,"events":{"new":16,"accessed":9007199254740993},' +
        '"pressure":{"keys":16,"used":0.5}}',
    );
  });

  it("keeps well-known types in their canonical JSON form", () => {
    const message = create(InspectResponseSchema, {
      key: "foo",
      hash: 16101355973854746n,
      created: timestampFromMs(Date.UTC(2024, 0, 1)),
    });
    expect(formatJson(InspectResponseSchema, message)).toBe(
      '{"key":"foo","hash":16101355973854746,"created":"2024-01-01T00:00:00Z"}',
    );
  });

  it("indents like JSON.stringify", () => {
    const message = create(ServerMetricsSchema, { keys: 1n, events: { new: 2n } });
    const expected = JSON.stringify({ keys: 1, events: { new: 2 } }, null, 2);
    expect(formatJson(ServerMetricsSchema, message, 2)).toBe(expected);
    const list = create(ListKeysResponseSchema, { keys: ["a", "b"] });
    expect(formatJson(ListKeysResponseSchema, list, 3)).toBe(JSON.stringify({ keys: ["a", "b"] }, null, 3));
    expect(formatJson(ListKeysResponseSchema, create(ListKeysResponseSchema), 2)).toBe("{}");
  });

  it("splices repeated and map 64-bit fields", () => {
    const schema = numbersSchema();
    const message = create(schema, {
      values: [1n, 18446744073709551615n],
      counts: { "7": -9223372036854775808n },
      labels: ["3"],
    });
    expect(formatJson(schema, message)).toBe(
      '{"values":[1,18446744073709551615],"counts":{"7":-9223372036854775808},"labels":["3"]}',
    );
  });
});

/**
 * message Numbers { repeated uint64 values = 1; map<string, int64> counts = 2; repeated string labels = 3; }
 * The keyquarry protos have no repeated or map 64-bit fields, so build one.
 */
function numbersSchema(): DescMessage {
  const { OPTIONAL: optional, REPEATED: repeated } = FieldDescriptorProto_Label;
  const { UINT64, INT64, STRING, MESSAGE } = FieldDescriptorProto_Type;
  const file = create(FileDescriptorProtoSchema, {
    name: "numbers.proto",
    package: "test",
    syntax: "proto3",
    messageType: [
      {
        name: "Numbers",
        field: [
          { name: "values", jsonName: "values", number: 1, label: repeated, type: UINT64 },
          {
            name: "counts",
            jsonName: "counts",
            number: 2,
            label: repeated,
            type: MESSAGE,
            typeName: ".test.Numbers.CountsEntry",
          },
          { name: "labels", jsonName: "labels", number: 3, label: repeated, type: STRING },
        ],
        nestedType: [
          {
            name: "CountsEntry",
            options: { mapEntry: true },
            field: [
              { name: "key", jsonName: "key", number: 1, label: optional, type: STRING },
              { name: "value", jsonName: "value", number: 2, label: optional, type: INT64 },
            ],
          },
        ],
      },
    ],
  });
  const schema = createFileRegistry(file, () => undefined).getMessage("test.Numbers");
  if (!schema) {
    throw new Error("test.Numbers not found");
  }
  return schema;
}
