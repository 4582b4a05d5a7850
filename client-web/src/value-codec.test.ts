import { describe, expect, it } from "vitest";
import { jsonValue, textValue } from "./value-codec.js";

describe("textValue", () => {
  it("round-trips UTF-8 text under text/plain", () => {
    expect(textValue.contentType).toBe("text/plain; charset=utf-8");
    expect(Array.from(textValue.encode("né"))).toEqual([0x6e, 0xc3, 0xa9]);
    expect(textValue.decode(textValue.encode("né ✓"))).toBe("né ✓");
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(() => textValue.decode(new Uint8Array([0xff, 0xfe]))).toThrow(TypeError);
  });
});

describe("jsonValue", () => {
  it("round-trips JSON values under application/json", () => {
    const codec = jsonValue<{ n: number; tags: string[] }>();
    expect(codec.contentType).toBe("application/json");
    expect(textValue.decode(codec.encode({ n: 1, tags: ["a"] }))).toBe('{"n":1,"tags":["a"]}');
    expect(codec.decode(textValue.encode('{"n":2,"tags":[]}'))).toEqual({ n: 2, tags: [] });
  });

  it("refuses bytes that are not JSON", () => {
    expect(() => jsonValue().decode(textValue.encode("{nope"))).toThrow(SyntaxError);
  });
});
