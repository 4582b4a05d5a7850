import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseOriginalDocument } from "./original-document.js";
import { OriginalSnapshotError } from "./original-snapshot-error.js";

/** A document as the original wrote it: uint64 beyond 2^53, nil slices as null, a +02:00 zone. */
const written = `{"keys":[{"key":"a","value":"YmFy","content_type":"text/plain","hash":16101355973854746,
  "created":"2023-11-15T00:13:20.123456789+02:00","updated":"0001-01-01T00:00:00Z","version":18446744073709551615,"created_by":"x"}],
  "clients":null,"locks":[{"key":"a","duration":30000000000,"client_id":"x","created":"2023-11-14T22:13:20Z","id":"u"}],
  "reapers":null,"version":"unknown","metrics":null,
  "history":{"a":[{"key":"a","value":"YmFy","size":3,"hash":16101355973854746,"version":1,"timestamp":"2023-11-14T22:13:20Z"}]}}`;

function problem(document: string | Uint8Array): string {
  try {
    parseOriginalDocument(document);
  } catch (error) {
    expect(error).toBeInstanceOf(OriginalSnapshotError);
    return (error as Error).message;
  }
  throw new Error("expected the document to be refused");
}

describe("parseOriginalDocument", () => {
  it("reads what the original wrote: exact uint64, times in ns, bytes, Go's zero time as 0n and null slices as empty", () => {
    const document = parseOriginalDocument(written);
    expect(document.keys).toEqual([
      {
        key: "a",
        value: new TextEncoder().encode("bar"),
        content_type: "text/plain",
        hash: 16101355973854746n,
        created: 1_700_000_000_123_456_789n,
        updated: 0n,
        version: 18446744073709551615n,
        created_by: "x",
      },
    ]);
    expect(document.clients).toEqual([]);
    expect(document.reapers).toEqual([]);
    expect(document.locks).toEqual([{ key: "a", duration: 30_000_000_000n, client_id: "x", created: 1_700_000_000_000_000_000n }]);
    expect(document.history?.["a"]?.[0]).toMatchObject({ version: 1n, timestamp: 1_700_000_000_000_000_000n });
  });

  it("reads the same document gzip-compressed, and as bytes", () => {
    const plain = parseOriginalDocument(written);
    expect(parseOriginalDocument(gzipSync(written))).toEqual(plain);
    expect(parseOriginalDocument(new TextEncoder().encode(written))).toEqual(plain);
  });

  it("accepts the minimal shape of the original's restore.json: only key, value and version, unknown fields ignored", () => {
    const document = parseOriginalDocument(`{"keys":[{"key":"k","value":"dg==","version":2},{"key":"j","value":null,"client_id":"ignored"}],
      "reapers":[{"key":"k","lifespan":3600000000000,"lifespan_set":"2020-01-01T00:00:00Z"}]}`);
    expect(document.keys.map(({ key, value, version, created }) => ({ key, size: value.length, version, created }))).toEqual([
      { key: "k", size: 1, version: 2n, created: 0n },
      { key: "j", size: 0, version: 0n, created: 0n },
    ]);
    expect(document.reapers).toHaveLength(1);
  });

  it.each([
    ["not JSON", "{", "not JSON"],
    ["not an object", "[]", "(document): must be a JSON object"],
    ["a key without a name", `{"keys":[{"value":"dg=="}]}`, "keys[0].key: is missing"],
    ["a fractional version", `{"keys":[{"key":"k","version":1.5}]}`, "keys[0].version: must be an integer"],
    ["a negative hash", `{"keys":[{"key":"k","hash":-1}]}`, "keys[0].hash: must not be negative"],
    ["a version beyond uint64", `{"keys":[{"key":"k","version":18446744073709551616}]}`, "keys[0].version: must fit in 64 bits"],
    ["unpadded base64", `{"keys":[{"key":"k","value":"YmFyCg"}]}`, "keys[0].value: must be padded standard base64"],
    ["a time that is no time", `{"keys":[{"key":"k","created":"yesterday"}]}`, 'keys[0].created: invalid time "yesterday"'],
    ["a duration as text", `{"locks":[{"key":"k","duration":"10s","client_id":"c","created":"2020-01-01T00:00:00Z"}]}`, "locks[0].duration: must be an integer number of nanoseconds"],
    ["a zero lifespan", `{"reapers":[{"key":"k","lifespan":0,"lifespan_set":"2020-01-01T00:00:00Z"}]}`, "reapers[0].lifespan: must be positive"],
    ["keys that are not a list", `{"keys":{}}`, "keys: must be an array or null"],
    ["a duplicate key", `{"keys":[{"key":"k"},{"key":"k"}]}`, 'keys[1].key: duplicate key "k"'],
    ["a reserved key", `{"keys":[{"key":"KeyQuarry_x"}]}`, 'keys[0].key: reserved key "KeyQuarry_x"'],
    ["history that is not a map", `{"history":[]}`, "history: must be an object or null"],
    ["a revision without version", `{"history":{"k":[{"value":"dg==","timestamp":"2020-01-01T00:00:00Z"}]}}`, "history.k[0].version: is missing"],
    ["damaged gzip", Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3), "damaged gzip data"],
    ["bytes that are not UTF-8", Uint8Array.of(0x7b, 0xff, 0x7d), "not UTF-8"],
  ])("refuses %s, naming the problem and where", (_, document, message) => {
    expect(problem(document)).toContain(message);
  });

  it("names at most five problems, and counts the others", () => {
    const keys = Array.from({ length: 7 }, (_, index) => `{"key":"k${index}","version":"one"}`).join(",");
    const message = problem(`{"keys":[${keys}]}`);
    expect(message.match(/must be an integer/g)).toHaveLength(5);
    expect(message).toContain("and 2 more");
  });
});
