import { storeStateFormat, type KeyState, type StoreState } from "../store/store-state.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Largest uint64: a hash above 2^63 must survive the round trip. */
export const maxUint64 = (1n << 64n) - 1n;

/** A nanosecond time with every digit significant (beyond 2^53). */
export const t0 = 1_732_000_000_123_456_789n;

/**
 * A StoreState exercising every field: uint64 values above 2^63,
 * nanosecond times, an empty value, a binary value with zero bytes, a key
 * with U+0000, locks, lifespans, history (with an empty list), metrics with
 * absent timestamps, clients (one with an empty id), readonly, revision and
 * fencing token.
 */
export function richState(): StoreState {
  return {
    format: storeStateFormat,
    takenAt: t0 + 999n,
    revision: 9_007_199_254_740_993n,
    // Beyond 2^53 (exact as bigint), within the journal's signed 64-bit seq column.
    commandSeq: (1n << 62n) + 3n,
    fencingToken: (1n << 63n) + 7n,
    readonly: true,
    keys: [
      {
        key: "plain",
        value: utf8("hello"),
        contentType: "text/plain; charset=utf-8",
        contentTypeSniffed: true,
        hash: maxUint64,
        created: t0,
        updated: t0 + 1n,
        version: 3n,
        createdBy: "client-a",
      },
      {
        key: "empty",
        value: new Uint8Array(0),
        contentType: "",
        contentTypeSniffed: false,
        hash: 0n,
        created: t0 + 2n,
        updated: 0n,
        version: 1n,
        createdBy: "",
      },
      {
        key: "bin\u0000ary",
        value: Uint8Array.of(0, 1, 0, 255, 0, 0),
        contentType: "application/octet-stream",
        contentTypeSniffed: false,
        hash: (1n << 63n) + 1n,
        created: t0 + 3n,
        updated: t0 + 4n,
        version: maxUint64 - 1n,
        createdBy: "client-b",
        lock: { owner: "client-b", duration: 30_000_000_000n, created: t0 + 5n, deadline: t0 + 30_000_000_005n, fencingToken: (1n << 63n) + 7n },
        lifespan: { duration: 3_600_000_000_000n, set: t0 + 6n, deadline: t0 + 3_600_000_000_006n },
      },
      {
        key: "ünïcødé 🔑",
        value: utf8("{\"json\":true}"),
        contentType: "application/json",
        contentTypeSniffed: false,
        hash: 42n,
        created: t0 + 7n,
        updated: 0n,
        version: 1n,
        createdBy: "client-a",
        lifespan: { duration: 1n, set: t0 + 8n, deadline: t0 + 9n },
      },
      {
        key: "locked",
        value: utf8("x"),
        contentType: "text/plain; charset=utf-8",
        contentTypeSniffed: true,
        hash: 1n,
        created: t0 + 10n,
        updated: 0n,
        version: 1n,
        createdBy: "client-c",
        lock: { owner: "client-c", duration: 5_000_000_000n, created: t0 + 11n, deadline: t0 + 5_000_000_011n, fencingToken: 1n },
      },
    ],
    history: [
      {
        key: "plain",
        revisions: [
          { value: utf8("hel"), contentType: "text/plain; charset=utf-8", hash: maxUint64 - 5n, version: 1n, timestamp: t0 },
          { value: new Uint8Array(0), contentType: "", hash: 0n, version: 2n, timestamp: t0 + 1n },
          { value: utf8("hello"), contentType: "text/plain; charset=utf-8", hash: maxUint64, version: 3n, timestamp: t0 + 1n },
        ],
      },
      { key: "gone", revisions: [] },
      {
        key: "bin\u0000ary",
        revisions: [{ value: Uint8Array.of(0, 0), contentType: "application/octet-stream", hash: 7n, version: 1n, timestamp: t0 + 3n }],
      },
    ],
    metrics: [
      {
        key: "plain",
        metrics: {
          accessCount: 12,
          firstAccessed: t0 + 100n,
          lastAccessed: t0 + 200n,
          setCount: 3,
          firstSet: t0,
          lastSet: t0 + 1n,
          lockCount: 2,
          firstLocked: t0 + 300n,
          lastLocked: t0 + 400n,
        },
      },
      { key: "gone", metrics: { accessCount: 0, setCount: 1, firstSet: t0 - 50n, lastSet: t0 - 50n, lockCount: 0 } },
      { key: "never", metrics: { accessCount: 0, setCount: 0, lockCount: 0 } },
    ],
    clients: [
      { clientId: "client-a", firstSeen: t0 - 1_000n },
      { clientId: "", firstSeen: t0 - 999n },
      { clientId: "client-c", firstSeen: 0n },
    ],
  };
}

/** A state of `count` keys with `size`-byte values (distinct contents), nothing else. */
export function largeState(count: number, size: number, revision = 1n): StoreState {
  const keys: KeyState[] = [];
  for (let i = 0; i < count; i++) {
    const value = new Uint8Array(size);
    value.fill(i % 251);
    value[0] = i & 0xff;
    keys.push({
      key: `key-${i.toString().padStart(6, "0")}`,
      value,
      contentType: "application/octet-stream",
      contentTypeSniffed: true,
      hash: BigInt(i) * 1_000_003n,
      created: t0 + BigInt(i),
      updated: 0n,
      version: 1n,
      createdBy: "bulk",
    });
  }
  return { format: storeStateFormat, takenAt: t0, revision, commandSeq: 0n, fencingToken: 0n, readonly: false, keys, history: [], metrics: [], clients: [] };
}

/**
 * A state of `count` keys, each with a history of 3 revisions, metrics and a
 * client: with more rows than a page in every table, pages of revisions
 * split a history list (unless the page size is a multiple of 3).
 */
export function manyRowsState(count: number): StoreState {
  const state = largeState(count, 8, 5n);
  state.history = state.keys.map(({ key }, i) => ({
    key,
    revisions: [0, 1, 2].map((seq) => ({
      value: Uint8Array.of(i & 0xff, seq),
      contentType: "application/octet-stream",
      hash: BigInt(i * 3 + seq),
      version: BigInt(seq + 1),
      timestamp: t0 + BigInt(seq),
    })),
  }));
  state.metrics = state.keys.map(({ key }, i) => ({ key, metrics: { accessCount: i, setCount: 1, firstSet: t0, lastSet: t0, lockCount: 0 } }));
  state.clients = state.keys.map((_, i) => ({ clientId: `client-${i}`, firstSeen: t0 + BigInt(i) }));
  return state;
}
