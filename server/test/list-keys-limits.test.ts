/**
 * ListKeys cannot freeze or flood the server: costly patterns are refused,
 * scans yield to other calls, stop at the caller's deadline and at
 * max_scan_duration with a cursor to continue, and pages stay under
 * max_list_keys_response_size. Over gRPC, gRPC-Web and Connect.
 */
import { toBinary } from "@bufbuild/protobuf";
import { Code, type Client, type Interceptor } from "@connectrpc/connect";
import { KeyQuarry, ListKeysResponseSchema } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytes } from "./kit/bytes.js";
import { createClients, protocols, type Protocol } from "./kit/create-clients.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

// Allowed (under 500 instructions), tens of µs per 1 KB key of a's and b's.
const costlyPattern = "(?:a|ab|b|ba){40}c";
// Allowed too, but its DFA thrashes: a few ms per such key (a scan of 2,000 keys takes seconds).
const thrashingPattern = "a[ab]{60}b[ab]{60}a[ab]{60}c";

/** A 1 KB key of pseudo-random a's and b's (seeded by `i`), ending in "c" (matching costlyPattern) for every tenth. */
function abKey(i: number): string {
  let state = i + 1;
  const chars: string[] = [];
  for (let n = 0; n < 1000; n++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    chars.push(state & 0x10000 ? "a" : "b");
  }
  return `${chars.join("")}${i % 10 === 0 ? "c" : "d"}${i}`;
}

/** Sets keys abKey(0..count-1) over gRPC, many calls at a time. */
async function fill(test: TestServer, count: number): Promise<string[]> {
  const { kv } = createClients("grpc", test.url, "filler");
  const keys = Array.from({ length: count }, (_, i) => abKey(i));
  for (let start = 0; start < count; start += 200) {
    await Promise.all(keys.slice(start, start + 200).map((key) => kv.set({ key, value: bytes("v") })));
  }
  return keys;
}

/** A client that sends a deadline header itself, so that only the server can enforce it (no client-side timer). */
function withServerDeadline(protocol: Protocol, baseUrl: string, ms: number): Client<typeof KeyQuarry> {
  const deadline: Interceptor = (next) => (request) => {
    request.header.set(protocol === "connect" ? "connect-timeout-ms" : "grpc-timeout", protocol === "connect" ? String(ms) : `${ms}m`);
    return next(request);
  };
  return createClients(protocol, baseUrl, "deadline", { interceptors: [deadline] }).kv;
}

const sorted = (keys: string[]) => [...keys].sort();

let slow: TestServer;
let slowKeys: string[];
let paged: TestServer;
let pagedKeys: string[];
const pageLimit = 64 * 1024;

beforeAll(async () => {
  // Scans long enough to watch (seconds over all keys), with a cap that does not get in the way.
  slow = await startTestServer({ maxScanDuration: 120_000_000_000n });
  slowKeys = await fill(slow, 2_000);
  // Short scans and small pages: every listing takes several pages.
  paged = await startTestServer({ maxScanDuration: 30_000_000n, maxListKeysResponseSize: pageLimit });
  pagedKeys = await fill(paged, 3_000);
}, 300_000);

afterAll(async () => {
  await Promise.all([slow?.close(), paged?.close()]);
});

describe.each(protocols)("ListKeys limits over %s", (protocol) => {
  it("refuses a pattern whose program is too large, and one over max_pattern_length", async () => {
    const { kv } = createClients(protocol, paged.url, "alice");
    const complex = await rejection(kv.listKeys({ pattern: "(?:k?){1000}k{1000}" }));
    expect(complex.code).toBe(Code.InvalidArgument);
    expect(complex.rawMessage).toMatch(/^pattern too complex: it compiles to 3002 instructions, the limit is 500/);
    const long = await rejection(kv.listKeys({ pattern: "a".repeat(1025) }));
    expect([long.code, long.rawMessage]).toEqual([Code.InvalidArgument, "pattern too long: 1025 bytes, the limit is 1024 (max_pattern_length)"]);
  });

  it("refuses a cursor it did not issue", async () => {
    const { kv } = createClients(protocol, paged.url, "alice");
    for (const cursor of ["bogus", "c1000000"]) {
      expect((await rejection(kv.listKeys({ cursor }))).code).toBe(Code.InvalidArgument);
    }
  });

  it("answers Gets sent after a long ListKeys before that ListKeys completes", async () => {
    const { kv } = createClients(protocol, slow.url, "alice");
    let listed = false;
    const listing = kv.listKeys({ pattern: thrashingPattern }).finally(() => (listed = true));
    // One Get after another while the scan runs: a server frozen by the scan would answer none of them until it ends.
    let answeredDuringScan = 0;
    while (!listed) {
      await kv.get({ key: slowKeys[0]! });
      if (!listed) {
        answeredDuringScan++;
      }
    }
    const page = await listing;
    // A frozen server answers the few Gets that arrive before the scan starts (0 to 3 seen); this one, dozens.
    expect(answeredDuringScan).toBeGreaterThanOrEqual(20);
    expect(page.more).toBe(false);
    // The pattern has no construct whose meaning differs between RE2 and JavaScript.
    expect(sorted(page.keys)).toEqual(sorted(slowKeys.filter((key) => new RegExp(thrashingPattern).test(key))));
  }, 120_000);

  it("ends a scan at the caller's deadline with DEADLINE_EXCEEDED", async () => {
    const error = await rejection(withServerDeadline(protocol, slow.url, 300).listKeys({ pattern: thrashingPattern }));
    expect(error.code).toBe(Code.DeadlineExceeded);
    const { kv } = createClients(protocol, slow.url, "alice");
    expect((await kv.exists({ key: slowKeys[1]! })).exists).toBe(true);
  }, 120_000);

  it("answers the keys found by max_scan_duration with more and a cursor that continues the scan", async () => {
    const { kv } = createClients(protocol, paged.url, "alice");
    const found: string[] = [];
    let pages = 0;
    let cursor = "";
    for (;;) {
      const page = await kv.listKeys({ pattern: costlyPattern, cursor });
      pages++;
      found.push(...page.keys);
      if (!page.more) {
        expect(page.nextCursor).toBe("");
        break;
      }
      expect(page.nextCursor).not.toBe("");
      cursor = page.nextCursor;
    }
    // 3,000 costly matches take longer than one 30 ms cap.
    expect(pages).toBeGreaterThan(1);
    // Each key once (keys were set many at a time, so their creation order is the server's).
    expect(sorted(found)).toEqual(sorted(pagedKeys.filter((_, i) => i % 10 === 0)));
  }, 120_000);

  it("pages out every key exactly once, no page over max_list_keys_response_size", async () => {
    const { kv } = createClients(protocol, paged.url, "alice");
    const found: string[] = [];
    const sizes: number[] = [];
    let cursor = "";
    for (let more = true; more; ) {
      const page = await kv.listKeys({ cursor });
      sizes.push(toBinary(ListKeysResponseSchema, page).length);
      found.push(...page.keys);
      ({ more, nextCursor: cursor } = page);
    }
    expect(sizes.length).toBeGreaterThanOrEqual(Math.ceil((3_000 * 1_000) / pageLimit));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(pageLimit);
    expect(sorted(found)).toEqual(sorted(pagedKeys));
  }, 120_000);

  it("keeps limit as the most keys of one page, with a cursor to the rest", async () => {
    const { kv } = createClients(protocol, paged.url, "alice");
    const five = await kv.listKeys({ limit: 5n });
    const first = await kv.listKeys({ limit: 2n });
    expect([first.keys, first.more]).toEqual([five.keys.slice(0, 2), true]);
    const next = await kv.listKeys({ limit: 3n, cursor: first.nextCursor });
    expect(next.keys).toEqual(five.keys.slice(2, 5));
  });
});
