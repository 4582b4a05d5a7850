import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { fnv1a64 } from "./fnv1a64.js";
import {
  ADMIN,
  ALICE,
  BOB,
  baseOptions,
  bytes,
  event,
  eventCounts,
  expectError,
  HASH_EMPTY,
  info,
  observe,
  put,
  record,
  RESERVED,
  SECOND,
  SERVER,
  setup,
  T0,
  T1,
  text,
  TEXT,
  thrownBy,
  type RecordedEvent,
  listKeys,
} from "./key-value-store.fixture.js";
import { KeyValueStore } from "./key-value-store.js";
import { StoreError } from "./store-error.js";

// ---------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------

const HTML = "text/html; charset=utf-8";
const PNG = "image/png";
const OCTETS = "application/octet-stream";

/** FNV-1a 64 of "bar" and "baz" (BEHAVIOR §5.1). */
const HASH_BAR = 16101355973854746n;
const HASH_BAZ = 16092559880829058n;

const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);

const RESERVED_KEYS = RESERVED.map(([key]) => key);
const RESERVED_SIZE = RESERVED.reduce((sum, [, value]) => sum + Buffer.byteLength(value, "utf8"), 0);

function list(
  store: KeyValueStore,
  { pattern = "", limit = 0n, includeReserved = false }: { pattern?: string; limit?: bigint; includeReserved?: boolean } = {},
): string[] {
  return listKeys(store, { pattern, limit, includeReserved });
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe("KeyValueStore", () => {
  describe("reserved keys", () => {
    it("writes the 16 keys as the server, each emitting CREATED", () => {
      const clock = new ManualClock(T0);
      const store = new KeyValueStore(baseOptions, clock);
      const events: RecordedEvent[] = [];
      store.subscribe((e) => events.push(record(e)));
      store.writeReservedKeys(RESERVED);

      expect(RESERVED_KEYS).toHaveLength(16);
      expect(events).toEqual(RESERVED_KEYS.map((key) => event(key, StoreEventKind.CREATED, T0, SERVER)));
      expect(list(store, { includeReserved: true })).toEqual(RESERVED_KEYS);
    });

    it("stores them as version-1 text values without history", () => {
      const { store } = setup();
      for (const [key, value] of RESERVED) {
        expect(store.inspect(ALICE, key, { value: true })).toStrictEqual({
          key,
          hash: fnv1a64(bytes(value)),
          created: T0,
          version: 1n,
          size: BigInt(Buffer.byteLength(value)),
          locked: false,
          contentType: TEXT,
          value: bytes(value),
        });
      }
      expect(text(store.get(ALICE, "keyquarry/Started"))).toBe("2024-05-06T07:08:09.123Z");
      expect(text(store.get(ALICE, "keyquarry/MaxKeyLength"))).toBe("1024");
      expect(store.stats().historyKeys).toBe(0n);
    });

    it("are written even when the store starts read-only", () => {
      const { store } = setup({ readonly: true });
      expect(store.stats().keys).toBe(16n);
      expect(store.readonly).toBe(true);
    });
  });

  describe("set", () => {
    describe("creating and updating", () => {
      it("creates a new key at version 1 with no `updated`", () => {
        const { store, events } = setup();
        expect(put(store, "foo", "bar")).toEqual({ isNew: true });
        expect(info(store, "foo")).toStrictEqual({
          key: "foo",
          hash: HASH_BAR,
          created: T1,
          version: 1n,
          size: 3n,
          locked: false,
          contentType: TEXT,
        });
        expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1)]);
      });

      it("updates an existing key: version+1, updated = now, created unchanged", () => {
        const { store, clock, events } = setup();
        put(store, "foo", "bar");
        clock.advance(5n * SECOND);
        expect(put(store, "foo", "bazz", { clientId: BOB })).toEqual({ isNew: false });
        expect(info(store, "foo")).toStrictEqual({
          key: "foo",
          hash: fnv1a64(bytes("bazz")),
          created: T1,
          updated: T1 + 5n * SECOND,
          version: 2n,
          size: 4n,
          locked: false,
          contentType: TEXT,
        });
        expect(text(store.get(ALICE, "foo"))).toBe("bazz");
        expect(events).toEqual([
          event("foo", StoreEventKind.CREATED, T1),
          event("foo", StoreEventKind.UPDATED, T1 + 5n * SECOND, BOB),
          event("foo", StoreEventKind.ACCESSED, T1 + 5n * SECOND),
        ]);
      });

      it("bumps the version by exactly one per value change", () => {
        const { store, clock } = setup({ revisionLimit: -1 });
        put(store, "foo", "v0");
        for (let i = 1; i <= 6; i++) {
          clock.advance(SECOND);
          put(store, "foo", `v${i}`);
          expect(info(store, "foo").version).toBe(BigInt(i + 1));
          expect(info(store, "foo").updated).toBe(T1 + BigInt(i) * SECOND);
        }
      });

      it("changes nothing when the value is the same (no version, updated, event or revision)", () => {
        const { store, clock, events } = setup();
        put(store, "foo", "bar");
        const before = observe(store);
        clock.advance(SECOND);
        expect(put(store, "foo", "bar", { clientId: BOB })).toEqual({ isNew: false });
        expect(observe(store)).toStrictEqual(before);
        expect(info(store, "foo").updated).toBeUndefined();
        expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1)]);
        expect(store.stats().historyRevisions).toBe(1n);
      });

      it("keeps the earlier `updated` when a later Set repeats the value", () => {
        const { store, clock } = setup();
        put(store, "foo", "bar");
        clock.advance(SECOND);
        put(store, "foo", "baz");
        clock.advance(SECOND);
        put(store, "foo", "baz");
        expect(info(store, "foo")).toMatchObject({ version: 2n, updated: T1 + SECOND, hash: HASH_BAZ });
        expect(store.stats().events[StoreEventKind.UPDATED]).toBe(1n);
      });

      it("hashes the value with FNV-1a 64", () => {
        const { store } = setup();
        put(store, "a", "bar");
        put(store, "b", "baz");
        put(store, "c", "");
        expect([info(store, "a").hash, info(store, "b").hash, info(store, "c").hash]).toEqual([
          HASH_BAR,
          HASH_BAZ,
          HASH_EMPTY,
        ]);
        put(store, "a", "baz");
        expect(info(store, "a").hash).toBe(HASH_BAZ);
      });

      it("adjusts total size on create, growth and shrink", () => {
        const { store } = setup();
        const size = () => store.stats().totalSize;
        expect(size()).toBe(BigInt(RESERVED_SIZE));
        put(store, "foo", "bar");
        expect(size()).toBe(BigInt(RESERVED_SIZE + 3));
        put(store, "foo", "a much longer value");
        expect(size()).toBe(BigInt(RESERVED_SIZE + 19));
        put(store, "foo", "x");
        expect(size()).toBe(BigInt(RESERVED_SIZE + 1));
        put(store, "other", "12345");
        expect(size()).toBe(BigInt(RESERVED_SIZE + 6));
        put(store, "foo", "");
        expect(size()).toBe(BigInt(RESERVED_SIZE + 5));
      });
    });

    describe("value ownership", () => {
      it("stores a copy: changing the caller's buffer after a create does not change the value", () => {
        const { store } = setup();
        const value = bytes("bar");
        put(store, "foo", value);
        value.set(bytes("zzz"));
        expect(text(store.get(ALICE, "foo"))).toBe("bar");
        expect(info(store, "foo").hash).toBe(HASH_BAR);
      });

      it("stores a copy on update too", () => {
        const { store } = setup();
        put(store, "foo", "bar");
        const value = bytes("baz");
        put(store, "foo", value);
        value.fill(0);
        expect(text(store.get(ALICE, "foo"))).toBe("baz");
      });

      it("stores only the bytes of a view into a larger buffer", () => {
        const { store } = setup();
        const pool = bytes("xxbarxx");
        put(store, "foo", pool.subarray(2, 5));
        pool.fill(0x41);
        const value = store.get(ALICE, "foo");
        expect(text(value)).toBe("bar");
        expect(value.byteLength).toBe(3);
        expect(info(store, "foo").size).toBe(3n);
      });
    });

    describe("check order and errors", () => {
      it("rejects an empty key with EMPTY_KEY before everything else", () => {
        const { store } = setup({ readonly: true, maxValueSize: 1 });
        expectError(() => put(store, "", "too large"), "EMPTY_KEY");
      });

      it.each(["keyquarry", "KeyQuarryX", "keyquarry/Started", "KEYQUARRY/new", "keyquarryfoo", "kEyQuArRy"])(
        "rejects reserved key %j with RESERVED (case-insensitive prefix)",
        (key) => {
          const { store } = setup();
          expectError(() => put(store, key, "v"), "RESERVED");
        },
      );

      it("treats the Kelvin sign as 'k' like Go's strings.ToLower", () => {
        const { store } = setup();
        expectError(() => put(store, "\u212Aeyquarry/x", "v"), "RESERVED");
      });

      it.each(["keyquarr", "my-keyquarry", " keyquarry", "key quarry", "keyqu4rry"])(
        "accepts the look-alike key %j",
        (key) => {
          const { store } = setup();
          expect(put(store, key, "v")).toEqual({ isNew: true });
        },
      );

      it("checks RESERVED before READONLY and before size limits", () => {
        const { store } = setup({ readonly: true, maxKeyLength: 5, maxValueSize: 1 });
        expectError(() => put(store, "KeyQuarryX-too-long", "too large"), "RESERVED");
      });

      it("checks READONLY before the key length and value size", () => {
        const { store } = setup({ readonly: true, maxKeyLength: 3, maxValueSize: 1 });
        expectError(() => put(store, "too-long", "too large"), "READONLY");
      });

      it("checks KEY_TOO_LONG before VALUE_TOO_LARGE", () => {
        const { store } = setup({ maxKeyLength: 3, maxValueSize: 1 });
        expectError(() => put(store, "abcd", "too large"), "KEY_TOO_LONG", "4 bytes, the limit is 3 (max_key_length)");
      });

      it("a refused Set changes nothing and emits nothing", () => {
        const { store, events } = setup({ maxKeyLength: 3, maxValueSize: 3 });
        put(store, "foo", "bar");
        const before = observe(store);
        events.length = 0;
        expectError(() => put(store, "", "x"), "EMPTY_KEY");
        expectError(() => put(store, "keyquarry/Started", "x"), "RESERVED");
        expectError(() => put(store, "long", "x"), "KEY_TOO_LONG", "4 bytes, the limit is 3 (max_key_length)");
        expectError(() => put(store, "foo", "toolarge"), "VALUE_TOO_LARGE", "8 bytes, the limit is 3 (max_value_size)");
        expectError(() => put(store, "new", "toolarge"), "VALUE_TOO_LARGE", "8 bytes, the limit is 3 (max_value_size)");
        expect(observe(store)).toStrictEqual(before);
        expect(text(store.get(ALICE, "foo"))).toBe("bar");
        expect(events).toEqual([event("foo", StoreEventKind.ACCESSED, T1)]);
      });
    });

    describe("key length (UTF-8 bytes)", () => {
      it("accepts an ASCII key of exactly max_key_length bytes and refuses one more", () => {
        const { store } = setup();
        expect(put(store, "k".repeat(1024), "v")).toEqual({ isNew: true });
        expectError(() => put(store, "k".repeat(1025), "v"), "KEY_TOO_LONG", "1025 bytes, the limit is 1024 (max_key_length)");
      });

      it("refuses a 2048-byte key (original TestMaxKeyLength)", () => {
        const { store } = setup();
        expectError(() => put(store, "x".repeat(2048), "v"), "KEY_TOO_LONG", "2048 bytes, the limit is 1024 (max_key_length)");
      });

      it("counts a 2-byte character as two: 512 × 'é' fits, one more byte does not", () => {
        const { store } = setup();
        const key = "é".repeat(512); // 512 UTF-16 units, 1024 UTF-8 bytes
        expect(put(store, key, "v")).toEqual({ isNew: true });
        expect(store.exists(key)).toBe(true);
        expectError(() => put(store, `${key}a`, "v"), "KEY_TOO_LONG", "1025 bytes, the limit is 1024 (max_key_length)");
      });

      it("refuses a key that is short in UTF-16 units but too long in UTF-8 bytes", () => {
        const { store } = setup();
        const key = "é".repeat(600); // 600 units < 1024, 1200 bytes > 1024
        expect(key.length).toBeLessThan(1024);
        expectError(() => put(store, key, "v"), "KEY_TOO_LONG", "1200 bytes, the limit is 1024 (max_key_length)");
      });

      it("counts a 4-byte character (surrogate pair) as four bytes", () => {
        const { store } = setup({ maxKeyLength: 8 });
        expect(put(store, "😀😀", "v")).toEqual({ isNew: true }); // 8 bytes
        expectError(() => put(store, "😀😀a", "v"), "KEY_TOO_LONG", "9 bytes, the limit is 8 (max_key_length)"); // 9 bytes, 5 units
        expectError(() => put(store, "a😀😀", "v"), "KEY_TOO_LONG", "9 bytes, the limit is 8 (max_key_length)");
      });

      it("has no limit when max_key_length is 0", () => {
        const { store } = setup({ maxKeyLength: 0 });
        const key = "k".repeat(5000);
        expect(put(store, key, "v")).toEqual({ isNew: true });
        expect(list(store)).toEqual([key]);
      });
    });

    describe("value size", () => {
      it("accepts a value of exactly max_value_size bytes and refuses one more", () => {
        const { store } = setup();
        expect(put(store, "foo", new Uint8Array(1000))).toEqual({ isNew: true });
        expectError(() => put(store, "bar", new Uint8Array(1001)), "VALUE_TOO_LARGE", "1001 bytes, the limit is 1000 (max_value_size)");
        expect(store.exists("bar")).toBe(false);
      });

      it("refuses an oversized update and keeps the old value", () => {
        const { store } = setup({ maxValueSize: 5 });
        put(store, "foo", "12345");
        expectError(() => put(store, "foo", "123456"), "VALUE_TOO_LARGE", "6 bytes, the limit is 5 (max_value_size)");
        expect(text(store.get(ALICE, "foo"))).toBe("12345");
        expect(info(store, "foo").version).toBe(1n);
      });

      it("counts UTF-8 bytes of the value, not characters", () => {
        const { store } = setup({ maxValueSize: 4 });
        expect(put(store, "ok", "éé")).toEqual({ isNew: true }); // 4 bytes
        expectError(() => put(store, "no", "ééa"), "VALUE_TOO_LARGE", "5 bytes, the limit is 4 (max_value_size)"); // 5 bytes
      });

      it("has no limit when max_value_size is 0", () => {
        const { store } = setup({ maxValueSize: 0 });
        expect(put(store, "big", new Uint8Array(2_000_000))).toEqual({ isNew: true });
        expect(info(store, "big").size).toBe(2_000_000n);
      });
    });
  });

  describe("content type", () => {
    it.each([
      ["text", bytes("bar"), TEXT],
      ["HTML", bytes("<html><body>hi</body></html>"), HTML],
      ["PNG", PNG_BYTES, PNG],
      ["binary", new Uint8Array([0, 1, 2, 3]), OCTETS],
    ])("is sniffed at creation (%s)", (_name, value, contentType) => {
      const { store } = setup();
      put(store, "foo", value);
      expect(info(store, "foo").contentType).toBe(contentType);
    });

    it("uses an explicit content type at creation instead of sniffing", () => {
      const { store } = setup();
      put(store, "foo", "bar", { contentType: "application/json" });
      expect(info(store, "foo").contentType).toBe("application/json");
    });

    it("is empty for an empty value with no explicit type", () => {
      const { store } = setup();
      put(store, "foo", "");
      expect(info(store, "foo")).toMatchObject({ contentType: "", size: 0n, hash: HASH_EMPTY });
    });

    it("keeps an explicit type given with an empty value", () => {
      const { store } = setup();
      put(store, "foo", "", { contentType: "application/json" });
      expect(info(store, "foo").contentType).toBe("application/json");
    });

    it("is replaced by an explicit type on a value-changing update (sniffed before)", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", "baz", { contentType: "application/x-custom" });
      expect(info(store, "foo").contentType).toBe("application/x-custom");
    });

    it("is replaced by an explicit type on a value-changing update (explicit before)", () => {
      const { store } = setup();
      put(store, "foo", "bar", { contentType: "application/json" });
      put(store, "foo", "baz", { contentType: "text/csv" });
      expect(info(store, "foo").contentType).toBe("text/csv");
    });

    it("is re-sniffed when the value of a sniffed key changes", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe(PNG);
      put(store, "foo", "<!DOCTYPE html><p>x</p>");
      expect(info(store, "foo").contentType).toBe(HTML);
    });

    it("becomes empty when a sniffed key's value becomes empty, and is sniffed again afterwards", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", "");
      expect(info(store, "foo").contentType).toBe("");
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe(PNG);
    });

    it("is sniffed on the first non-empty update of a key created empty", () => {
      const { store } = setup();
      put(store, "foo", "");
      put(store, "foo", "bar");
      expect(info(store, "foo").contentType).toBe(TEXT);
    });

    it("keeps an explicit type when a value-changing update gives none", () => {
      const { store } = setup();
      put(store, "foo", "bar", { contentType: "application/json" });
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe("application/json");
      put(store, "foo", "baz");
      expect(info(store, "foo").contentType).toBe("application/json");
    });

    it("keeps a type given explicitly on an update when later updates give none", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      put(store, "foo", "baz", { contentType: "application/json" });
      put(store, "foo", PNG_BYTES);
      expect(info(store, "foo").contentType).toBe("application/json");
    });
  });

  describe("get", () => {
    it("returns the value and emits ACCESSED with the caller's id", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      clock.advance(SECOND);
      expect(text(store.get(BOB, "foo"))).toBe("bar");
      expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1), event("foo", StoreEventKind.ACCESSED, T1 + SECOND, BOB)]);
    });

    it("throws NOT_FOUND for a missing or empty key, without an event", () => {
      const { store, events } = setup();
      expectError(() => store.get(ALICE, "nope"), "NOT_FOUND");
      expectError(() => store.get(ALICE, ""), "NOT_FOUND");
      expect(events).toEqual([]);
    });

    it("reads reserved keys", () => {
      const { store, events } = setup();
      expect(text(store.get(ALICE, "keyquarry/RevisionLimit"))).toBe("5");
      expect(events).toEqual([event("keyquarry/RevisionLimit", StoreEventKind.ACCESSED, T1)]);
    });

    it("is case-sensitive on key names", () => {
      const { store } = setup();
      put(store, "Foo", "bar");
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");
    });
  });

  describe("inspect", () => {
    it("without include_value: no value and no event", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      const result = store.inspect(BOB, "foo", {});
      expect(result).not.toHaveProperty("value");
      expect(result).not.toHaveProperty("updated");
      expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1)]);
    });

    it("with include_value: the value and an ACCESSED event", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      clock.advance(SECOND);
      expect(store.inspect(BOB, "foo", { value: true })).toStrictEqual({
        key: "foo",
        hash: HASH_BAR,
        created: T1,
        version: 1n,
        size: 3n,
        locked: false,
        contentType: TEXT,
        value: bytes("bar"),
      });
      expect(events.at(-1)).toEqual(event("foo", StoreEventKind.ACCESSED, T1 + SECOND, BOB));
      expect(events).toHaveLength(2);
    });

    it("reports `updated` only after the first value change", () => {
      const { store, clock } = setup();
      put(store, "foo", "bar");
      expect(info(store, "foo").updated).toBeUndefined();
      clock.advance(7n * SECOND);
      put(store, "foo", "baz");
      expect(info(store, "foo")).toStrictEqual({
        key: "foo",
        hash: HASH_BAZ,
        created: T1,
        updated: T1 + 7n * SECOND,
        version: 2n,
        size: 3n,
        locked: false,
        contentType: TEXT,
      });
    });

    it("throws NOT_FOUND for a missing key, with or without value, and emits nothing", () => {
      const { store, events } = setup();
      expectError(() => store.inspect(ALICE, "nope", {}), "NOT_FOUND");
      expectError(() => store.inspect(ALICE, "nope", { value: true }), "NOT_FOUND");
      expect(events).toEqual([]);
    });

    it("reports the size of an empty value as 0", () => {
      const { store } = setup();
      put(store, "foo", "");
      expect(store.inspect(ALICE, "foo", { value: true })).toMatchObject({ size: 0n, value: new Uint8Array(0) });
    });
  });

  describe("exists", () => {
    it("tells whether a key exists, reserved keys included, without events", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      events.length = 0;
      expect(store.exists("foo")).toBe(true);
      expect(store.exists("nope")).toBe(false);
      expect(store.exists("")).toBe(false);
      expect(store.exists("FOO")).toBe(false);
      expect(store.exists("keyquarry/Started")).toBe(true);
      expect(events).toEqual([]);
    });

    it("is false after a delete", () => {
      const { store } = setup();
      put(store, "foo", "bar");
      store.delete(ALICE, "foo");
      expect(store.exists("foo")).toBe(false);
    });
  });

  describe("delete", () => {
    it("removes the key, adjusts counters and emits DELETED with the caller's id", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      put(store, "other", "12345");
      clock.advance(SECOND);
      expect(store.delete(BOB, "foo")).toBeUndefined();
      expect(store.exists("foo")).toBe(false);
      expect(list(store)).toEqual(["other"]);
      expect(store.stats()).toMatchObject({
        keys: 17n,
        userKeys: 1n,
        totalSize: BigInt(RESERVED_SIZE + 5),
      });
      expect(events.at(-1)).toEqual(event("foo", StoreEventKind.DELETED, T1 + SECOND, BOB));
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");
    });

    it("throws NOT_FOUND for a missing or empty key", () => {
      const { store, events } = setup();
      expectError(() => store.delete(ALICE, "nope"), "NOT_FOUND");
      expectError(() => store.delete(ALICE, ""), "NOT_FOUND");
      expect(events).toEqual([]);
    });

    it("throws RESERVED for reserved keys, existing or not", () => {
      const { store } = setup();
      expectError(() => store.delete(ALICE, "keyquarry/Started"), "RESERVED");
      expectError(() => store.delete(ALICE, "KeyQuarryX"), "RESERVED");
      expect(store.exists("keyquarry/Started")).toBe(true);
    });

    it("checks RESERVED before READONLY before NOT_FOUND", () => {
      const { store } = setup({ readonly: true });
      expectError(() => store.delete(ALICE, "KeyQuarryMissing"), "RESERVED");
      expectError(() => store.delete(ALICE, "missing"), "READONLY");
    });

    it("drops the key's history, so a re-created key starts again at version 1", () => {
      const { store } = setup();
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      store.delete(ALICE, "foo");
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expect(put(store, "foo", "again")).toEqual({ isNew: true });
      expect(info(store, "foo").version).toBe(1n);
    });

    it("keeps history with keep_deleted_key_history; a re-created key continues the numbering", () => {
      const { store, clock } = setup({ keepDeletedKeyHistory: true });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      store.delete(ALICE, "foo");
      expect(store.stats()).toMatchObject({ keys: 16n, historyKeys: 1n, historyRevisions: 2n });
      clock.advance(SECOND);
      expect(put(store, "foo", "v3")).toEqual({ isNew: true });
      expect(info(store, "foo")).toStrictEqual({
        key: "foo",
        hash: fnv1a64(bytes("v3")),
        created: T1 + SECOND,
        version: 3n,
        size: 2n,
        locked: false,
        contentType: TEXT,
      });
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 3n });
    });

    it("starts at version 1 again with keep_deleted_key_history but revision_limit 0", () => {
      const { store } = setup({ keepDeletedKeyHistory: true, revisionLimit: 0 });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      store.delete(ALICE, "foo");
      put(store, "foo", "v3");
      expect(info(store, "foo").version).toBe(1n);
    });
  });

  describe("pop", () => {
    it("returns the value, removes the key and emits ACCESSED then DELETED", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar");
      clock.advance(SECOND);
      expect(text(store.pop(BOB, "foo"))).toBe("bar");
      expect(store.exists("foo")).toBe(false);
      expect(store.stats()).toMatchObject({ keys: 16n, userKeys: 0n, totalSize: BigInt(RESERVED_SIZE) });
      expect(events).toEqual([
        event("foo", StoreEventKind.CREATED, T1),
        event("foo", StoreEventKind.ACCESSED, T1 + SECOND, BOB),
        event("foo", StoreEventKind.DELETED, T1 + SECOND, BOB),
      ]);
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");
    });

    it("checks RESERVED before READONLY before NOT_FOUND", () => {
      const { store } = setup();
      expectError(() => store.pop(ALICE, "keyquarry/Started"), "RESERVED");
      expectError(() => store.pop(ALICE, "missing"), "NOT_FOUND");
      store.setReadOnly(ADMIN, true);
      expectError(() => store.pop(ALICE, "KEYQUARRY-missing"), "RESERVED");
      expectError(() => store.pop(ALICE, "missing"), "READONLY");
    });

    it("drops history unless keep_deleted_key_history", () => {
      const dropped = setup();
      put(dropped.store, "foo", "v1");
      put(dropped.store, "foo", "v2");
      dropped.store.pop(ALICE, "foo");
      expect(dropped.store.stats().historyKeys).toBe(0n);
      put(dropped.store, "foo", "v3");
      expect(info(dropped.store, "foo").version).toBe(1n);

      const kept = setup({ keepDeletedKeyHistory: true });
      put(kept.store, "foo", "v1");
      put(kept.store, "foo", "v2");
      kept.store.pop(ALICE, "foo");
      expect(kept.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      put(kept.store, "foo", "v3");
      expect(info(kept.store, "foo").version).toBe(3n);
    });
  });

  describe("clear", () => {
    it("removes only user keys and returns how many", () => {
      const { store } = setup();
      put(store, "a", "1");
      put(store, "b", "22");
      put(store, "c", "333");
      expect(store.clear(BOB, false)).toBe(3n);
      expect(list(store)).toEqual([]);
      expect(list(store, { includeReserved: true })).toEqual(RESERVED_KEYS);
      expect(store.stats()).toMatchObject({ keys: 16n, userKeys: 0n });
    });

    it("emits one DELETED per removed key with the caller's id and one time", () => {
      const { store, clock, events } = setup();
      put(store, "a", "1");
      put(store, "b", "2");
      clock.advance(SECOND);
      events.length = 0;
      store.clear(BOB, false);
      expect(events).toEqual([
        event("a", StoreEventKind.DELETED, T1 + SECOND, BOB),
        event("b", StoreEventKind.DELETED, T1 + SECOND, BOB),
      ]);
      expect(store.stats().events[StoreEventKind.DELETED]).toBe(2n);
    });

    it("keeps total_size equal to the reserved keys' values (the original reset it to 0)", () => {
      const { store } = setup();
      put(store, "a", "12345");
      put(store, "b", "123");
      store.clear(ALICE, false);
      expect(store.stats().totalSize).toBe(BigInt(RESERVED_SIZE));
      put(store, "c", "12");
      expect(store.stats().totalSize).toBe(BigInt(RESERVED_SIZE + 2));
    });

    it("returns 0 and emits nothing on a store without user keys", () => {
      const { store, events } = setup();
      expect(store.clear(ALICE, false)).toBe(0n);
      expect(events).toEqual([]);
      expect(store.stats().totalSize).toBe(BigInt(RESERVED_SIZE));
    });

    it("works without reserved keys (total size back to 0)", () => {
      const { store } = setup({}, { reserved: false });
      put(store, "a", "1");
      expect(store.clear(ALICE, false)).toBe(1n);
      expect(store.stats()).toMatchObject({ keys: 0n, userKeys: 0n, totalSize: 0n });
    });

    it("drops the removed keys' history like Delete does: unless keep_deleted_key_history", () => {
      const dropped = setup();
      put(dropped.store, "foo", "v1");
      put(dropped.store, "foo", "v2");
      dropped.store.clear(ALICE, false);
      expect(dropped.store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      put(dropped.store, "foo", "v3");
      expect(info(dropped.store, "foo").version).toBe(1n);

      const kept = setup({ keepDeletedKeyHistory: true });
      put(kept.store, "foo", "v1");
      put(kept.store, "foo", "v2");
      kept.store.clear(ALICE, false);
      expect(kept.store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 2n });
      put(kept.store, "foo", "v3");
      expect(info(kept.store, "foo").version).toBe(3n);
    });

    it("throws READONLY in read-only mode and removes nothing", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      store.setReadOnly(ADMIN, true);
      const before = observe(store);
      events.length = 0;
      expectError(() => store.clear(ALICE, false), "READONLY");
      expect(observe(store)).toStrictEqual(before);
      expect(events).toEqual([]);
    });

    it("lets the store be refilled afterwards", () => {
      const { store } = setup({ maxKeys: 2 });
      put(store, "a", "1");
      put(store, "b", "2");
      store.clear(ALICE, false);
      put(store, "c", "3");
      put(store, "d", "4");
      expect(list(store)).toEqual(["c", "d"]);
    });
  });

  describe("listKeys", () => {
    it("hides reserved keys unless include_reserved", () => {
      const { store } = setup();
      put(store, "foo", "1");
      put(store, "bar", "2");
      expect(list(store)).toEqual(["foo", "bar"]);
      expect(list(store, { includeReserved: true })).toEqual([...RESERVED_KEYS, "foo", "bar"]);
    });

    it("returns keys in creation order; updates keep the position, re-creation moves to the end", () => {
      const { store } = setup();
      for (const key of ["zeta", "alpha", "mid", "beta"]) {
        put(store, key, "v");
      }
      expect(list(store)).toEqual(["zeta", "alpha", "mid", "beta"]);
      put(store, "zeta", "changed");
      expect(list(store)).toEqual(["zeta", "alpha", "mid", "beta"]);
      store.delete(ALICE, "alpha");
      put(store, "alpha", "again");
      expect(list(store)).toEqual(["zeta", "mid", "beta", "alpha"]);
    });

    it("applies the limit to the listed candidates (0 = no limit)", () => {
      const { store } = setup();
      put(store, "a", "1");
      put(store, "b", "2");
      put(store, "c", "3");
      expect(list(store, { limit: 1n })).toEqual(["a"]);
      expect(list(store, { limit: 2n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 0n })).toEqual(["a", "b", "c"]);
      expect(list(store, { limit: 2n, includeReserved: true })).toEqual(RESERVED_KEYS.slice(0, 2));
    });

    it("returns everything for a limit larger than the store (the original crashed)", () => {
      const { store } = setup();
      put(store, "a", "1");
      put(store, "b", "2");
      expect(list(store, { limit: 3n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 1000n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 18_446_744_073_709_551_615n })).toEqual(["a", "b"]);
      expect(list(store, { limit: 1000n, includeReserved: true })).toEqual([...RESERVED_KEYS, "a", "b"]);
    });

    it("returns [] on an empty store, with or without a limit", () => {
      const { store } = setup({}, { reserved: false });
      expect(list(store)).toEqual([]);
      expect(list(store, { limit: 5n, includeReserved: true })).toEqual([]);
    });

    it("matches the original TestListKeys patterns (unanchored RE2 search)", () => {
      const { store } = setup();
      put(store, "SomeKeyHere", "1");
      put(store, "AnotherKeyHere", "2");
      expect(list(store)).toEqual(["SomeKeyHere", "AnotherKeyHere"]);
      expect(list(store, { limit: 1n })).toHaveLength(1);
      expect(list(store, { pattern: "Some*" })).toEqual(["SomeKeyHere"]);
      expect(list(store, { pattern: ".+other.+" })).toEqual(["AnotherKeyHere"]);
      expect(list(store, { pattern: ".+" })).toEqual(["SomeKeyHere", "AnotherKeyHere"]);
      expect(list(store, { pattern: ".+", limit: 1n })).toEqual(["SomeKeyHere"]);
      expect(list(store, { pattern: ".+wat.+" })).toEqual([]);
    });

    it("searches unanchored and case-sensitively (`ba*` matches anything containing b)", () => {
      const { store } = setup();
      for (const key of ["bar", "foo", "baz", "abc", "xyz", "BAR"]) {
        put(store, key, "v");
      }
      expect(list(store, { pattern: "ba*" })).toEqual(["bar", "baz", "abc"]);
      expect(list(store, { pattern: "^ba" })).toEqual(["bar", "baz"]);
      expect(list(store, { pattern: "bar" })).toEqual(["bar"]);
      expect(list(store, { pattern: "(?i)bar" })).toEqual(["bar", "BAR"]);
    });

    it("counts the limit over matching keys only", () => {
      const { store } = setup();
      for (const key of ["x1", "y1", "x2", "y2", "x3"]) {
        put(store, key, "v");
      }
      expect(list(store, { pattern: "^x", limit: 2n })).toEqual(["x1", "x2"]);
      expect(list(store, { pattern: "^x", limit: 10n })).toEqual(["x1", "x2", "x3"]);
    });

    it("applies patterns to reserved keys only with include_reserved", () => {
      const { store } = setup();
      put(store, "Started", "v");
      expect(list(store, { pattern: "Started" })).toEqual(["Started"]);
      expect(list(store, { pattern: "Started", includeReserved: true })).toEqual(["keyquarry/Started", "Started"]);
      expect(list(store, { pattern: "^keyquarry/snapshot/", includeReserved: true })).toEqual([
        "keyquarry/snapshot/Enabled",
        "keyquarry/snapshot/Interval",
      ]);
    });

    it("throws BAD_PATTERN (INVALID_ARGUMENT) with the parser's reason for an invalid pattern", () => {
      const { store } = setup();
      put(store, "foo", "v");
      const error = thrownBy(() => list(store, { pattern: "(" }));
      expect({ code: error.code, message: error.message }).toEqual({
        code: "BAD_PATTERN",
        message: "invalid key pattern: error parsing regexp: missing closing ): `(`",
      });
    });

    it.each(["*a", "(?=x)", "(a)\\1", "a{1001}"])("rejects the non-RE2 pattern %j with BAD_PATTERN", (pattern) => {
      const { store } = setup();
      const error = thrownBy(() => list(store, { pattern }));
      expect(error.code).toBe("BAD_PATTERN");
      expect(error.message).toMatch(/^invalid key pattern: error parsing regexp: .+/);
    });

    it("emits no events and works in read-only mode", () => {
      const { store, events } = setup({ readonly: true });
      expect(list(store, { includeReserved: true, pattern: "Max" })).toEqual([
        "keyquarry/MaxLockDuration",
        "keyquarry/MaxKeys",
        "keyquarry/MaxValueSize",
        "keyquarry/MaxKeyLength",
      ]);
      expect(events).toEqual([]);
    });
  });

  describe("stats", () => {
    it("reports the reserved keys right after start", () => {
      const { store } = setup();
      expect(store.stats()).toStrictEqual({
        keys: 16n,
        userKeys: 0n,
        totalSize: BigInt(RESERVED_SIZE),
        currentLocks: 0n,
        lifespans: 0n,
        clientIds: 0n,
        maxKeys: 0n,
        events: eventCounts({ [StoreEventKind.CREATED]: 16n }),
        pruneCompleted: 0n,
        eagerPruneTriggered: 0n,
        historyKeys: 0n,
        historyRevisions: 0n,
      });
    });

    it("is all zeros on a store without reserved keys", () => {
      const { store } = setup({}, { reserved: false });
      expect(store.stats()).toStrictEqual({
        keys: 0n,
        userKeys: 0n,
        totalSize: 0n,
        currentLocks: 0n,
        lifespans: 0n,
        clientIds: 0n,
        maxKeys: 0n,
        events: eventCounts({}),
        pruneCompleted: 0n,
        eagerPruneTriggered: 0n,
        historyKeys: 0n,
        historyRevisions: 0n,
      });
    });

    it("counts every kind of event", () => {
      const { store } = setup();
      put(store, "a", "1"); // CREATED
      put(store, "b", "2"); // CREATED
      put(store, "c", "3"); // CREATED
      put(store, "a", "11"); // UPDATED
      put(store, "a", "11"); // same value: nothing
      store.get(ALICE, "a"); // ACCESSED
      store.inspect(ALICE, "a", { value: true }); // ACCESSED
      store.inspect(ALICE, "a", {}); // nothing
      store.exists("a"); // nothing
      store.delete(ALICE, "b"); // DELETED
      store.pop(ALICE, "c"); // ACCESSED + DELETED
      put(store, "d", "4"); // CREATED
      put(store, "e", "5"); // CREATED
      store.clear(ALICE, false); // DELETED × 3 (a, d, e)
      expect(() => store.get(ALICE, "a")).toThrow(StoreError); // failed: nothing
      list(store);
      store.stats();
      expect(store.stats().events).toEqual(
        eventCounts({
          [StoreEventKind.CREATED]: 21n,
          [StoreEventKind.UPDATED]: 1n,
          [StoreEventKind.DELETED]: 5n,
          [StoreEventKind.ACCESSED]: 3n,
        }),
      );
    });

    it("reports max_keys, registered clients and history", () => {
      const { store } = setup({ maxKeys: 10 });
      store.register("c1");
      store.register("c2");
      put(store, "a", "1");
      put(store, "a", "2");
      put(store, "b", "1");
      expect(store.stats()).toStrictEqual({
        keys: 18n,
        userKeys: 2n,
        totalSize: BigInt(RESERVED_SIZE + 2),
        currentLocks: 0n,
        lifespans: 0n,
        clientIds: 2n,
        maxKeys: 10n,
        events: eventCounts({ [StoreEventKind.CREATED]: 18n, [StoreEventKind.UPDATED]: 1n }),
        pruneCompleted: 0n,
        eagerPruneTriggered: 0n,
        historyKeys: 2n,
        historyRevisions: 3n,
      });
    });

    it("returns a snapshot, not live counters", () => {
      const { store } = setup();
      const before = store.stats();
      put(store, "a", "1");
      expect(before.keys).toBe(16n);
      expect(before.events[StoreEventKind.CREATED]).toBe(16n);
      expect(store.stats().events[StoreEventKind.CREATED]).toBe(17n);
    });
  });

  describe("max_keys", () => {
    it("counts user keys only: the (max+1)-th user key fails with MAX_KEYS", () => {
      const { store, events } = setup({ maxKeys: 3 });
      put(store, "a", "1");
      put(store, "b", "2");
      put(store, "c", "3");
      const before = observe(store);
      events.length = 0;
      expectError(() => put(store, "d", "4"), "MAX_KEYS", "the limit is 3 (max_keys)");
      expect(store.exists("d")).toBe(false);
      expect(observe(store)).toStrictEqual(before);
      expect(events).toEqual([]);
      expect(store.stats()).toMatchObject({ keys: 19n, userKeys: 3n, maxKeys: 3n });
    });

    it("allows all user keys even when there are more reserved keys than max_keys", () => {
      const { store } = setup({ maxKeys: 2 });
      expect(store.stats().keys).toBe(16n);
      put(store, "a", "1");
      put(store, "b", "2");
      expectError(() => put(store, "c", "3"), "MAX_KEYS", "the limit is 2 (max_keys)");
      expect(list(store)).toEqual(["a", "b"]);
    });

    it("still updates existing keys at the limit", () => {
      const { store } = setup({ maxKeys: 1 });
      put(store, "a", "1");
      expect(put(store, "a", "2")).toEqual({ isNew: false });
      expect(put(store, "a", "2")).toEqual({ isNew: false });
      expect(text(store.get(ALICE, "a"))).toBe("2");
      expect(info(store, "a").version).toBe(2n);
    });

    it("frees a slot when a key is deleted or popped", () => {
      const { store } = setup({ maxKeys: 1 });
      put(store, "a", "1");
      store.delete(ALICE, "a");
      expect(put(store, "b", "2")).toEqual({ isNew: true });
      store.pop(ALICE, "b");
      expect(put(store, "c", "3")).toEqual({ isNew: true });
      expectError(() => put(store, "d", "4"), "MAX_KEYS", "the limit is 1 (max_keys)");
    });

    it("checks key length and value size before capacity", () => {
      const { store } = setup({ maxKeys: 1, maxKeyLength: 3, maxValueSize: 3 });
      put(store, "a", "1");
      expectError(() => put(store, "long", "1"), "KEY_TOO_LONG", "4 bytes, the limit is 3 (max_key_length)");
      expectError(() => put(store, "b", "1234"), "VALUE_TOO_LARGE", "4 bytes, the limit is 3 (max_value_size)");
      expectError(() => put(store, "b", "1"), "MAX_KEYS", "the limit is 1 (max_keys)");
    });

    it("checks READONLY before capacity", () => {
      const { store } = setup({ maxKeys: 1 });
      put(store, "a", "1");
      store.setReadOnly(ADMIN, true);
      expectError(() => put(store, "b", "1"), "READONLY");
    });

    it("means no limit when 0", () => {
      const { store } = setup({ maxKeys: 0 });
      for (let i = 0; i < 100; i++) {
        put(store, `k${i}`, "v");
      }
      expect(store.stats()).toMatchObject({ keys: 116n, userKeys: 100n, maxKeys: 0n });
    });
  });

  describe("revision history", () => {
    it("with revision_limit 3 keeps the current version plus two older ones", () => {
      const { store } = setup({ revisionLimit: 3 });
      const history = () => {
        const { historyKeys, historyRevisions } = store.stats();
        return { historyKeys, historyRevisions };
      };
      put(store, "foo", "v1");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 1n });
      put(store, "foo", "v2");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 2n });
      put(store, "foo", "v3");
      put(store, "foo", "v4");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 3n });
      put(store, "foo", "v5");
      expect(history()).toEqual({ historyKeys: 1n, historyRevisions: 3n });
      put(store, "bar", "v1");
      expect(history()).toEqual({ historyKeys: 2n, historyRevisions: 4n });
      expect(info(store, "foo").version).toBe(5n);
    });

    it("retains the newest versions (a re-created key continues after the latest one)", () => {
      const { store } = setup({ revisionLimit: 3, keepDeletedKeyHistory: true });
      for (const value of ["v1", "v2", "v3", "v4"]) {
        put(store, "foo", value);
      }
      store.delete(ALICE, "foo");
      put(store, "foo", "v5");
      expect(info(store, "foo").version).toBe(5n);
      expect(store.stats().historyRevisions).toBe(3n);
    });

    it("does not add a revision for a same-value Set", () => {
      const { store } = setup({ revisionLimit: -1 });
      put(store, "foo", "bar");
      put(store, "foo", "bar");
      put(store, "foo", "bar");
      expect(store.stats().historyRevisions).toBe(1n);
    });

    it("keeps no history with revision_limit 0, while versions still count", () => {
      const { store } = setup({ revisionLimit: 0 });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      put(store, "bar", "v1");
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
      expect(info(store, "foo").version).toBe(2n);
    });

    it("keeps every revision with revision_limit -1", () => {
      const { store } = setup({ revisionLimit: -1 });
      for (let i = 1; i <= 11; i++) {
        put(store, "foo", `v${i}`);
      }
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 11n });
      expect(info(store, "foo").version).toBe(11n);
    });

    it("keeps only the current version with revision_limit 1", () => {
      const { store } = setup({ revisionLimit: 1 });
      put(store, "foo", "v1");
      put(store, "foo", "v2");
      put(store, "foo", "v3");
      expect(store.stats()).toMatchObject({ historyKeys: 1n, historyRevisions: 1n });
    });

    it("keeps no history for reserved keys", () => {
      const { store } = setup({ revisionLimit: -1 });
      expect(store.stats()).toMatchObject({ historyKeys: 0n, historyRevisions: 0n });
    });
  });

  describe("register", () => {
    it("records a client id and counts it", () => {
      const { store, events } = setup();
      expect(store.register(ALICE)).toBeUndefined();
      expect(store.register(BOB)).toBeUndefined();
      expect(store.stats().clientIds).toBe(2n);
      expect(events).toEqual([]);
    });

    it("throws ALREADY_REGISTERED for a second Register of the same id", () => {
      const { store } = setup();
      store.register(ALICE);
      expectError(() => store.register(ALICE), "ALREADY_REGISTERED");
      expect(store.stats().clientIds).toBe(1n);
      expect(store.register("Alice")).toBeUndefined(); // ids are case-sensitive
      expect(store.stats().clientIds).toBe(2n);
    });

    it("is not required by other operations", () => {
      const { store } = setup();
      expect(put(store, "foo", "bar", { clientId: "never-registered" })).toEqual({ isNew: true });
      expect(store.stats().clientIds).toBe(0n);
    });
  });

  describe("read-only mode", () => {
    it("SetReadOnly throws NO_PRIVILEGED when no privileged id is configured", () => {
      const { store } = setup({ privilegedClientId: "" });
      expectError(() => store.setReadOnly(ADMIN, true), "NO_PRIVILEGED");
      expectError(() => store.setReadOnly("", true), "NO_PRIVILEGED");
      expect(store.readonly).toBe(false);
    });

    it.each([ALICE, "Admin", "admin ", ""])("SetReadOnly throws NOT_AUTHORIZED for %j", (clientId) => {
      const { store } = setup();
      expectError(() => store.setReadOnly(clientId, true), "NOT_AUTHORIZED");
      expect(store.readonly).toBe(false);
    });

    it("the privileged client turns it on and off, without events", () => {
      const { store, events } = setup();
      expect(store.readonly).toBe(false);
      expect(store.setReadOnly(ADMIN, true)).toBeUndefined();
      expect(store.readonly).toBe(true);
      store.setReadOnly(ADMIN, true);
      expect(store.readonly).toBe(true);
      store.setReadOnly(ADMIN, false);
      expect(store.readonly).toBe(false);
      expect(put(store, "foo", "bar")).toEqual({ isNew: true });
      expect(events).toEqual([event("foo", StoreEventKind.CREATED, T1)]);
    });

    it("starts read-only when configured so, and can be turned off", () => {
      const { store } = setup({ readonly: true });
      expect(store.readonly).toBe(true);
      expectError(() => put(store, "foo", "bar"), "READONLY");
      store.setReadOnly(ADMIN, false);
      expect(put(store, "foo", "bar")).toEqual({ isNew: true });
    });

    it("refuses Set, Delete, Pop and Clear without changing anything", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      store.setReadOnly(ADMIN, true);
      const before = observe(store);
      events.length = 0;
      expectError(() => put(store, "foo", "changed"), "READONLY");
      expectError(() => put(store, "foo", "bar"), "READONLY"); // even an unchanged value
      expectError(() => put(store, "new", "v"), "READONLY");
      expectError(() => put(store, "new", "v", { clientId: ADMIN }), "READONLY");
      expectError(() => store.delete(ALICE, "foo"), "READONLY");
      expectError(() => store.pop(ALICE, "foo"), "READONLY");
      expectError(() => store.clear(ALICE, false), "READONLY");
      expect(observe(store)).toStrictEqual(before);
      expect(events).toEqual([]);
    });

    it("allows Get, Inspect, Exists, ListKeys, Stats, Register and SetReadOnly", () => {
      const { store, events } = setup();
      put(store, "foo", "bar");
      store.setReadOnly(ADMIN, true);
      events.length = 0;
      expect(text(store.get(ALICE, "foo"))).toBe("bar");
      expect(store.inspect(ALICE, "foo", { value: true }).value).toEqual(bytes("bar"));
      expect(store.exists("foo")).toBe(true);
      expect(list(store)).toEqual(["foo"]);
      expect(store.stats().userKeys).toBe(1n);
      expect(store.register(BOB)).toBeUndefined();
      expect(store.stats().clientIds).toBe(1n);
      expect(events).toEqual([event("foo", StoreEventKind.ACCESSED, T1), event("foo", StoreEventKind.ACCESSED, T1)]);
      store.setReadOnly(ADMIN, false);
      expect(store.readonly).toBe(false);
    });
  });

  describe("subscribe", () => {
    it("delivers events in order with key, event, time and client id", () => {
      const { store, clock, events } = setup();
      put(store, "foo", "bar", { clientId: ALICE });
      clock.advance(SECOND);
      put(store, "foo", "baz", { clientId: BOB });
      clock.advance(SECOND);
      store.get("carol", "foo");
      clock.advance(SECOND);
      store.inspect(ALICE, "foo", { value: true });
      put(store, "tmp", "x", { clientId: BOB });
      clock.advance(SECOND);
      store.pop(BOB, "tmp");
      clock.advance(SECOND);
      store.delete(ALICE, "foo");
      put(store, "c1", "1");
      clock.advance(SECOND);
      store.clear("carol", false);
      expect(events).toEqual([
        { key: "foo", event: StoreEventKind.CREATED, time: T1, clientId: ALICE },
        { key: "foo", event: StoreEventKind.UPDATED, time: T1 + SECOND, clientId: BOB },
        { key: "foo", event: StoreEventKind.ACCESSED, time: T1 + 2n * SECOND, clientId: "carol" },
        { key: "foo", event: StoreEventKind.ACCESSED, time: T1 + 3n * SECOND, clientId: ALICE },
        { key: "tmp", event: StoreEventKind.CREATED, time: T1 + 3n * SECOND, clientId: BOB },
        { key: "tmp", event: StoreEventKind.ACCESSED, time: T1 + 4n * SECOND, clientId: BOB },
        { key: "tmp", event: StoreEventKind.DELETED, time: T1 + 4n * SECOND, clientId: BOB },
        { key: "foo", event: StoreEventKind.DELETED, time: T1 + 5n * SECOND, clientId: ALICE },
        { key: "c1", event: StoreEventKind.CREATED, time: T1 + 5n * SECOND, clientId: ALICE },
        { key: "c1", event: StoreEventKind.DELETED, time: T1 + 6n * SECOND, clientId: "carol" },
      ]);
    });

    it("delivers synchronously, before the operation returns", () => {
      const { store } = setup();
      const seen: string[] = [];
      store.subscribe((e) => seen.push(`${e.key}:${StoreEventKind[e.event]}`));
      put(store, "foo", "bar");
      expect(seen).toEqual(["foo:CREATED"]);
    });

    it("delivers to every listener; an unsubscribed one receives nothing more", () => {
      const { store } = setup();
      const first: RecordedEvent[] = [];
      const second: RecordedEvent[] = [];
      const unsubscribeFirst = store.subscribe((e) => first.push(record(e)));
      store.subscribe((e) => second.push(record(e)));
      put(store, "a", "1");
      unsubscribeFirst();
      put(store, "b", "2");
      store.get(ALICE, "b");
      expect(first).toEqual([event("a", StoreEventKind.CREATED, T1)]);
      expect(second).toEqual([
        event("a", StoreEventKind.CREATED, T1),
        event("b", StoreEventKind.CREATED, T1),
        event("b", StoreEventKind.ACCESSED, T1),
      ]);
      unsubscribeFirst(); // a second call is harmless
      put(store, "c", "3");
      expect(first).toHaveLength(1);
      expect(second).toHaveLength(4);
    });

    it("lets a listener unsubscribe itself while an event is delivered", () => {
      const { store, events } = setup();
      const once: RecordedEvent[] = [];
      const unsubscribe = store.subscribe((e) => {
        once.push(record(e));
        unsubscribe();
      });
      put(store, "a", "1");
      put(store, "b", "2");
      expect(once).toEqual([event("a", StoreEventKind.CREATED, T1)]);
      expect(events).toHaveLength(2);
    });

    it("counts events even with no listener", () => {
      const clock = new ManualClock(T0);
      const store = new KeyValueStore(baseOptions, clock);
      store.set(ALICE, { key: "a", value: bytes("1"), contentType: "" });
      store.get(ALICE, "a");
      expect(store.stats().events).toEqual(eventCounts({ [StoreEventKind.CREATED]: 1n, [StoreEventKind.ACCESSED]: 1n }));
    });
  });

  describe("end to end (original TestKeyValueStore)", () => {
    it("runs the original scenario", () => {
      const { store, clock } = setup();
      expect(store.stats().keys).toBe(16n);

      expect(put(store, "foo", "bar")).toEqual({ isNew: true });
      expect(text(store.get(ALICE, "foo"))).toBe("bar");
      const created = info(store, "foo");
      expect(created).toMatchObject({ version: 1n, size: 3n, hash: HASH_BAR, created: T1 });
      expect(created.updated).toBeUndefined();

      clock.advance(SECOND);
      expect(put(store, "foo", "bazz")).toEqual({ isNew: false });
      const updated = info(store, "foo");
      expect(updated).toMatchObject({ version: 2n, size: 4n, created: T1, updated: T1 + SECOND });
      expect(updated.hash).not.toBe(HASH_BAR);

      put(store, "other", "x");
      store.delete(ALICE, "other");
      expect(text(store.pop(ALICE, "foo"))).toBe("bazz");
      expectError(() => store.get(ALICE, "foo"), "NOT_FOUND");

      put(store, "foo", "bar");
      expect(store.clear(ALICE, false)).toBe(1n);
      expect(store.stats()).toMatchObject({ keys: 16n, userKeys: 0n, totalSize: BigInt(RESERVED_SIZE) });
    });
  });
});
