/**
 * Shared fixtures and helpers of the KeyValueStore test files
 * (key-value-store*.test.ts). Not a test file itself.
 */
import { StoreEventKind, storeEventKinds } from "./store-event-kind.js";
import { expect } from "vitest";
import { defaultConfig } from "../config/default-config.js";
import { ManualClock } from "./clock.js";
import { noLockDuration, tooLong, tooShort } from "./duration-limits.js";
import { KeyValueStore, type SetResult, type StoreOptions } from "./key-value-store.js";
import { reservedKeyValues } from "../host/reserved-key-values.js";
import { StoreError } from "./store-error.js";
import type { StoreEvent } from "./store-event.js";

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

export const MS = 1_000_000n;
export const SECOND = 1_000_000_000n;
export const MINUTE = 60n * SECOND;
export const HOUR = 60n * MINUTE;

/** Clock time at which the reserved keys are written. */
export const T0 = 1_700_000_000_000_000_000n;
/** Clock time of the first user operation (setup advances the clock by 1s). */
export const T1 = T0 + SECOND;

/** Moves a ManualClock forward to exactly `time` (never backwards). */
export function advanceTo(clock: ManualClock, time: bigint): void {
  const delta = time - clock.now();
  if (delta < 0n) {
    throw new Error(`advanceTo: ${time} is before the clock's ${clock.now()}`);
  }
  clock.advance(delta);
}

// ---------------------------------------------------------------------------
// Clients, options, values
// ---------------------------------------------------------------------------

export const ALICE = "alice";
export const BOB = "bob";
export const CAROL = "carol";
export const ADMIN = "admin";
/** Client id of changes the store makes itself (expirations). */
export const SERVER = "keyquarry";

/** FNV-1a 64 of the empty value (BEHAVIOR §5.1). */
export const HASH_EMPTY = 14695981039346656037n;
export const TEXT = "text/plain; charset=utf-8";

export const MIN_LOCK = 1_000_000_000n;
export const MAX_LOCK = 3_600_000_000_000n;
export const MIN_LIFESPAN = 1_000_000_000n;

/** The options the brief prescribes for these tests. */
export const baseOptions: StoreOptions = {
  maxKeyLength: 1024,
  maxValueSize: 1000,
  maxKeys: 0,
  maxPatternLength: 1024,
  maxClients: 0,
  maxRemovedKeyMetrics: -1,
  revisionLimit: 3,
  keepDeletedKeyHistory: false,
  privilegedClientId: ADMIN,
  readonly: false,
  minLockDuration: MIN_LOCK,
  maxLockDuration: MAX_LOCK,
  minLifespan: MIN_LIFESPAN,
  pruneAt: 0,
  pruneTo: 0,
  eagerPruneAt: 0,
  eagerPruneTo: 0,
};

/** The reserved keys setup() writes. */
export const RESERVED = reservedKeyValues(defaultConfig(), new Date("2024-05-06T07:08:09.123Z"));

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (value: string): Uint8Array => encoder.encode(value);
export const text = (value: Uint8Array): string => decoder.decode(value);

// ---------------------------------------------------------------------------
// Store fixture
// ---------------------------------------------------------------------------

/** What these tests compare of an event: key, kind, time and client id. */
export type RecordedEvent = Pick<StoreEvent, "key" | "event" | "time" | "clientId">;

/** The part of an event these tests compare (revisions and values are covered by the watch tests). */
export const record = ({ key, event, time, clientId }: StoreEvent): RecordedEvent => ({ key, event, time, clientId });

export interface Fixture {
  store: KeyValueStore;
  clock: ManualClock;
  /** Every event emitted after the reserved keys were written (key, kind, time, client id only). */
  events: RecordedEvent[];
  /** Every deadline reported to the onEarliestDeadline listener. */
  earliestDeadlines: bigint[];
}

/**
 * A store with the 16 reserved keys written at T0 (unless `reserved: false`),
 * a recording subscriber and deadline listener, and the clock at T1.
 */
export function setup(overrides: Partial<StoreOptions> = {}, { reserved = true } = {}): Fixture {
  const clock = new ManualClock(T0);
  const store = new KeyValueStore({ ...baseOptions, ...overrides }, clock);
  if (reserved) {
    store.writeReservedKeys(RESERVED);
  }
  const events: RecordedEvent[] = [];
  store.subscribe((event) => events.push(record(event)));
  const earliestDeadlines: bigint[] = [];
  store.onEarliestDeadline((deadline) => earliestDeadlines.push(deadline));
  clock.advance(SECOND);
  return { store, clock, events, earliestDeadlines };
}

export interface PutOptions {
  clientId?: string;
  contentType?: string;
  lockDuration?: bigint;
  lifespan?: bigint;
  ifVersion?: bigint;
}

/** Set as `clientId` (default alice); a string value is UTF-8 encoded; "" content type = sniff. */
export function put(
  store: KeyValueStore,
  key: string,
  value: string | Uint8Array,
  { clientId = ALICE, contentType = "", lockDuration, lifespan, ifVersion }: PutOptions = {},
): SetResult {
  return store.set(clientId, {
    key,
    value: typeof value === "string" ? bytes(value) : value,
    contentType,
    ...(lockDuration === undefined ? {} : { lockDuration }),
    ...(lifespan === undefined ? {} : { lifespan }),
    ...(ifVersion === undefined ? {} : { ifVersion }),
  });
}

/** Inspect without value (allowed to anyone, emits nothing). */
export const info = (store: KeyValueStore, key: string, clientId = ALICE) => store.inspect(clientId, key, {});

/** ListKeys in one scan step, without a size or time budget: `limit` 0n = every matching key. */
export function listKeys(store: KeyValueStore, request: { pattern: string; limit: bigint; includeReserved: boolean }): string[] {
  const { pattern, limit, includeReserved } = request;
  const budget = { maxKeys: limit === 0n ? Infinity : Number(limit), maxBytes: Infinity, pageEmpty: true, expired: () => false };
  return store.scanKeys({ pattern: store.keyPattern(pattern), includeReserved, after: 0 }, budget).keys;
}

/** Lists every key, reserved ones included. */
export const allKeys = (store: KeyValueStore): string[] => listKeys(store, { pattern: "", limit: 0n, includeReserved: true });

export function event(key: string, kind: StoreEventKind, time: bigint, clientId = ALICE): RecordedEvent {
  return { key, event: kind, time, clientId };
}

/** The events emitted since `mark` (an earlier `events.length`). */
export const since = (events: readonly RecordedEvent[], mark: number): RecordedEvent[] => events.slice(mark);

/** Events as (key, kind, client, time) sorted, to compare the events of one call whose order is not specified. */
export function unordered(events: readonly RecordedEvent[]): RecordedEvent[] {
  const rank = (e: RecordedEvent) => `${e.time}|${e.key}|${String(e.event).padStart(2, "0")}|${e.clientId}`;
  return [...events].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** A full `stats().events` array: zeros except the given counts. */
export function eventCounts(counts: Partial<Record<StoreEventKind, bigint>>): bigint[] {
  const all = storeEventKinds.map(() => 0n);
  for (const [kind, count] of Object.entries(counts)) {
    all[Number(kind)] = count;
  }
  return all;
}

/** Everything observable about the store without emitting events. */
export function observe(store: KeyValueStore) {
  const keys = allKeys(store);
  return {
    stats: store.stats(),
    keys,
    infos: keys.map((key) => info(store, key)),
    nextDeadline: store.nextDeadline(),
  };
}

/**
 * Runs `refused` (which must throw) and asserts that the store looks exactly
 * as before and that no event was emitted.
 */
export function expectNoChange(fixture: Fixture, refused: () => void): void {
  const before = observe(fixture.store);
  const mark = fixture.events.length;
  refused();
  expect(observe(fixture.store)).toStrictEqual(before);
  expect(since(fixture.events, mark)).toEqual([]);
}

// ---------------------------------------------------------------------------
// Helpers shared by several test files
// ---------------------------------------------------------------------------

/** FNV-1a 64 of "bar" and "baz" (BEHAVIOR §5.1). */
export const HASH_BAR = 16101355973854746n;
export const HASH_BAZ = 16092559880829058n;

/** The reserved keys' names, and the UTF-8 size of their values. */
export const RESERVED_KEYS = RESERVED.map(([key]) => key);
export const RESERVED_SIZE = RESERVED.reduce((sum, [, value]) => sum + Buffer.byteLength(value, "utf8"), 0);

/** ListKeys of user keys by default, every key matching and no limit unless given. */
export function list(
  store: KeyValueStore,
  { pattern = "", limit = 0n, includeReserved = false }: { pattern?: string; limit?: bigint; includeReserved?: boolean } = {},
): string[] {
  return listKeys(store, { pattern, limit, includeReserved });
}

/** Reserved keys written by setup(); they never count toward any pruning threshold. */
export const RESERVED_COUNT = 16;

/** User key names, in creation order. */
export const userKeys = (store: KeyValueStore): string[] => listKeys(store, { pattern: "", limit: 0n, includeReserved: false });

/** Keys `k0`, `k1`, … (or with `prefix`), each created one `step` after the previous (so k0 is the stalest). */
export function fill({ store, clock }: Fixture, count: number, { prefix = "k", step = MINUTE, from = 0 } = {}): string[] {
  const keys: string[] = [];
  for (let i = from; i < from + count; i++) {
    const key = `${prefix}${i}`;
    put(store, key, `value ${i}`);
    keys.push(key);
    clock.advance(step);
  }
  return keys;
}

/** A small clock step for loops that must not let 1h locks expire. */
export const MS_STEP = 1_000_000n;

/** The EXPUNGED events of `keys` by the server at `time`. */
export const expunged = (keys: readonly string[], time: bigint) => keys.map((key) => event(key, StoreEventKind.EXPUNGED, time, SERVER));

/** The values of a key's retained revisions, oldest first, read by version number. */
export function retained(f: Fixture, key: string, versions: bigint[], clientId = ALICE): Array<[bigint, string]> {
  const found: Array<[bigint, string]> = [];
  for (const version of versions) {
    try {
      found.push([version, text(f.store.getRevision(clientId, key, version).value)]);
    } catch (error) {
      if (!(error instanceof StoreError && error.code === "REVISION_NOT_FOUND")) {
        throw error;
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Exact message of each error code (BEHAVIOR §1.6, plus our VERSION_MISMATCH), written out independently of store-error.ts; rpc/to-connect-error.test.ts checks their statuses. */
export const expectedErrors = {
  EMPTY_KEY: "Empty key",
  RESERVED: "Key cannot begin with 'keyquarry'",
  READONLY: "server in readonly mode",
  KEY_TOO_LONG: "Key length greater than maximum",
  VALUE_TOO_LARGE: "value size is greater than maximum",
  LOCK_TOO_LONG: "lock Duration too long",
  LOCK_INVALID: "invalid lock Duration",
  LIFESPAN_INVALID: "invalid lifespan",
  WRONG_OWNER: "client_id provided does not match key",
  LOCKED: "Key is locked",
  LOCKED_OTHER: "locked by another client",
  NOT_FOUND: "Key not found",
  METRIC_NOT_FOUND: "key not found",
  MAX_KEYS: "maximum number of keys reached",
  NO_VERSIONING: "versioning is not enabled",
  REVISION_ZERO: "revision must be greater or less than zero",
  REVISION_NOT_FOUND: "revision not found",
  VERSION_MISMATCH: "version mismatch",
  ALREADY_REGISTERED: "already registered",
  NO_PRIVILEGED: "privileged client ID not set",
  NOT_AUTHORIZED: "not authorized",
  MAX_CLIENTS: "maximum number of registered clients reached",
} as const;

export type ExpectedErrorCode = keyof typeof expectedErrors;

/** The StoreError `fn` throws (fails the test if it throws something else or nothing). */
export function thrownBy(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error("expected a StoreError, but nothing was thrown");
}

/** Asserts that `fn` throws the StoreError `code` with its exact message (`detail` appended after ": "). */
export function expectError(fn: () => unknown, code: ExpectedErrorCode, detail?: string): void {
  const error = thrownBy(fn);
  const message = detail === undefined ? expectedErrors[code] : `${expectedErrors[code]}: ${detail}`;
  expect({ code: error.code, message: error.message }).toEqual({ code, message });
}

/** The detail of LOCK_INVALID for a lock duration below the fixture's minimum (or not positive). */
export const lockTooShort = (duration: bigint) => tooShort(duration, MIN_LOCK, "min_lock_duration")!;
/** The detail of LOCK_TOO_LONG for a lock duration above the fixture's maximum. */
export const lockTooLong = (duration: bigint) => tooLong(duration, MAX_LOCK, "max_lock_duration")!;
/** The detail of LIFESPAN_INVALID for a lifespan below the fixture's minimum (or not positive). */
export const lifespanTooShort = (lifespan: bigint) => tooShort(lifespan, MIN_LIFESPAN, "min_lifespan")!;
export { noLockDuration };

/**
 * Asserts a compare-and-set refusal: VERSION_MISMATCH (FAILED_PRECONDITION)
 * naming the current version, or saying the key does not exist (`undefined`).
 */
export function expectVersionMismatch(fn: () => unknown, current: bigint | undefined): void {
  expectError(fn, "VERSION_MISMATCH", current === undefined ? "the key does not exist" : `the current version is ${current}`);
}

// ---------------------------------------------------------------------------
// Expiry probes (they move the clock)
// ---------------------------------------------------------------------------

/**
 * Asserts that `key`'s lock is still there 1 ns before `deadline` and released
 * at `deadline` exactly, with one UNLOCKED by the server at that time. Leaves
 * the clock at `deadline`.
 */
export function expectLockExpiresAt({ store, clock, events }: Fixture, key: string, deadline: bigint): void {
  advanceTo(clock, deadline - 1n);
  expect(info(store, key).locked, "locked 1 ns before the deadline").toBe(true);
  const mark = events.length;
  advanceTo(clock, deadline);
  expect(info(store, key).locked, "unlocked at the deadline").toBe(false);
  expect(since(events, mark)).toEqual([event(key, StoreEventKind.UNLOCKED, deadline, SERVER)]);
}

/**
 * Asserts that `key` still exists 1 ns before `deadline` and is removed at
 * `deadline` exactly: UNLOCKED first if it was locked, then EXPIRED, both by
 * the server at that time. Leaves the clock at `deadline`.
 */
export function expectKeyExpiresAt({ store, clock, events }: Fixture, key: string, deadline: bigint): void {
  advanceTo(clock, deadline - 1n);
  expect(store.exists(key), "exists 1 ns before the deadline").toBe(true);
  const wasLocked = info(store, key).locked;
  const mark = events.length;
  advanceTo(clock, deadline);
  expect(store.exists(key), "gone at the deadline").toBe(false);
  expect(since(events, mark)).toEqual([
    ...(wasLocked ? [event(key, StoreEventKind.UNLOCKED, deadline, SERVER)] : []),
    event(key, StoreEventKind.EXPIRED, deadline, SERVER),
  ]);
}
