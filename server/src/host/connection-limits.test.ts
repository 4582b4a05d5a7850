import { describe, expect, it } from "vitest";
import { headerListSize } from "./connection-limits.js";

describe("headerListSize", () => {
  it("counts each field's name and value octets plus 32, as RFC 9113 does", () => {
    expect(headerListSize([])).toBe(0);
    expect(headerListSize([":path", "/x", "te", "trailers"])).toBe(5 + 2 + 32 + 2 + 8 + 32);
  });
});
