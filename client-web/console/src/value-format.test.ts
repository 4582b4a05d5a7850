import { describe, expect, it } from "vitest";
import { formatBytes, hexDump, prettyJson, secondsLeft, valueKind } from "./value-format.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("valueKind", () => {
  it("shows images by content type, JSON by type or content, other UTF-8 as text and the rest as binary", () => {
    expect(valueKind("image/png", new Uint8Array([0x89, 0x50]))).toBe("image");
    expect(valueKind("application/json", utf8('{"a":1}'))).toBe("json");
    expect(valueKind("text/plain; charset=utf-8", utf8("[1, 2]"))).toBe("json");
    expect(valueKind("application/json", utf8("{not json"))).toBe("text");
    expect(valueKind("text/plain; charset=utf-8", utf8("hello"))).toBe("text");
    expect(valueKind("application/octet-stream", new Uint8Array([0xff, 0x00, 0xfe]))).toBe("binary");
  });
});

describe("formats", () => {
  it("pretty-prints JSON and refuses what is not", () => {
    expect(prettyJson('{"a":[1]}')).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyJson("nope")).toBeUndefined();
  });

  it("dumps bytes as offset, hex and printable ASCII", () => {
    expect(hexDump(utf8("keyquarry\x00\x01"))).toBe("00000000  6b 65 79 71 75 61 72 72 79 00 01                 keyquarry..");
    expect(hexDump(new Uint8Array(20), 16).split("\n")).toEqual([
      "00000000  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................",
      "… 4 more bytes",
    ]);
  });

  it("sizes bytes and counts time down, never below zero", () => {
    expect([formatBytes(512n), formatBytes(1536), formatBytes(3 * 1024 * 1024)]).toEqual(["512 B", "1.5 KiB", "3.0 MiB"]);
    expect(secondsLeft(12_345, 0)).toBe("12.3 s");
    expect(secondsLeft(0, 5_000)).toBe("0.0 s");
    expect(secondsLeft(245_000, 0)).toBe("4m 05s");
    expect(secondsLeft(7_380_000, 0)).toBe("2h 03m");
  });
});
