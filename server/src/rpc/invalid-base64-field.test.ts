import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { KeyValueSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { describe, expect, it } from "vitest";
import { invalidBase64Field, isBase64 } from "./invalid-base64-field.js";

describe("isBase64", () => {
  it.each(["", "YmFy", "YmE", "YmE=", "Yg", "Yg==", "+/8=", "-_8", "-_8=", "AAAA"])("accepts %j", (text) => {
    expect(isBase64(text)).toBe(true);
  });

  it.each([
    ["bar", "pad bits set"],
    ["Yh", "pad bits set"],
    ["!!!!", "not the alphabet"],
    ["a", "one digit left over"],
    ["YmE==", "too much padding"],
    ["Yg=", "too little padding"],
    ["Ym Fy", "white space"],
    ["=YmFy", "padding first"],
  ])("refuses %j (%s)", (text) => {
    expect(isBase64(text)).toBe(false);
  });
});

const optional = FieldDescriptorProto_Label.OPTIONAL;
const repeated = FieldDescriptorProto_Label.REPEATED;

describe("invalidBase64Field", () => {
  it("names the bytes field that is not base64", () => {
    expect(invalidBase64Field(KeyValueSchema, { key: "k", value: "bar" })).toBe("value");
    expect(invalidBase64Field(KeyValueSchema, { key: "k", value: "YmFy" })).toBeUndefined();
  });

  it("leaves values of the wrong JSON type and other fields to the JSON reader", () => {
    expect(invalidBase64Field(KeyValueSchema, { key: "!!!!", value: 123 })).toBeUndefined();
    expect(invalidBase64Field(KeyValueSchema, "not an object")).toBeUndefined();
  });

  it("looks into nested messages, lists and maps", () => {
    // message Outer { Inner one = 1; repeated Inner many = 2; map<string, bytes> blobs = 3; repeated bytes list = 4; }
    // message Inner { bytes data = 1; }
    const file = create(FileDescriptorProtoSchema, {
      name: "nested.proto",
      package: "t",
      syntax: "proto3",
      messageType: [
        {
          name: "Outer",
          field: [
            { name: "one", number: 1, label: optional, type: FieldDescriptorProto_Type.MESSAGE, typeName: ".t.Inner", jsonName: "one" },
            { name: "many", number: 2, label: repeated, type: FieldDescriptorProto_Type.MESSAGE, typeName: ".t.Inner", jsonName: "many" },
            { name: "blobs", number: 3, label: repeated, type: FieldDescriptorProto_Type.MESSAGE, typeName: ".t.Outer.BlobsEntry", jsonName: "blobs" },
            { name: "list", number: 4, label: repeated, type: FieldDescriptorProto_Type.BYTES, jsonName: "list" },
          ],
          nestedType: [
            {
              name: "BlobsEntry",
              options: { mapEntry: true },
              field: [
                { name: "key", number: 1, label: optional, type: FieldDescriptorProto_Type.STRING, jsonName: "key" },
                { name: "value", number: 2, label: optional, type: FieldDescriptorProto_Type.BYTES, jsonName: "value" },
              ],
            },
          ],
        },
        { name: "Inner", field: [{ name: "data", number: 1, label: optional, type: FieldDescriptorProto_Type.BYTES, jsonName: "data" }] },
      ],
    });
    const outer = createFileRegistry(file, () => undefined).getMessage("t.Outer")!;
    expect(invalidBase64Field(outer, { one: { data: "YmFy" }, many: [{ data: "" }], blobs: { a: "Yg==" }, list: ["YmE"] })).toBeUndefined();
    expect(invalidBase64Field(outer, { one: { data: "bar" } })).toBe("one.data");
    expect(invalidBase64Field(outer, { many: [{ data: "YmFy" }, { data: "!!" }] })).toBe("many[1].data");
    expect(invalidBase64Field(outer, { blobs: { ok: "YmFy", bad: "bar" } })).toBe('blobs["bad"]');
    expect(invalidBase64Field(outer, { list: ["YmFy", "a"] })).toBe("list[1]");
  });
});
