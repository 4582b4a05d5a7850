import { describe, expect, it } from "vitest";
import { parseDumpedKey, parseDumpHeader } from "./dump-format.js";

describe("dump format", () => {
  it("reads a key line: base64 values, history oldest first, lifespan left in ns", () => {
    const line = '{"key":"k","value":"AP8=","contentType":"x/y","version":3,"lifespanLeft":"1m0.5s","locked":true,"history":[{"version":2,"value":"YQ=="}]}';
    expect(parseDumpedKey(line)).toEqual({
      key: "k",
      value: Buffer.from([0, 255]),
      contentType: "x/y",
      lifespanLeft: 60_500_000_000n,
      history: [Buffer.from("a")],
    });
  });

  it.each([
    ['{"value":"","contentType":""}', '"key" is not a string'],
    ['{"key":"k","value":"a*==","contentType":""}', '"value" is not base64'],
    ['{"key":"k","value":"","contentType":"","history":{}}', '"history" is not an array'],
    ['{"key":"k","value":"","contentType":"","lifespanLeft":"soon"}', "soon"],
    ["[1]", "not a JSON object"],
    ["{", "not JSON"],
  ])("refuses %s", (line, problem) => {
    expect(() => parseDumpedKey(line)).toThrow(problem);
  });

  it("reads a header of its format version and refuses others", () => {
    const header = { format: "keyquarry-dump", formatVersion: 1, serverVersion: "", dumpedAt: "2026-01-02T03:04:05.678Z" };
    expect(parseDumpHeader(JSON.stringify(header))).toEqual(header);
    expect(() => parseDumpHeader(JSON.stringify({ ...header, formatVersion: 2 }))).toThrow("format version 2");
    expect(() => parseDumpHeader(JSON.stringify({ ...header, dumpedAt: "yesterday" }))).toThrow("dumpedAt");
    expect(() => parseDumpHeader('{"key":"k"}')).toThrow("not a keyquarry dump");
  });
});
