import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { fnv1a64 } from "./fnv1a64.js";
import {
  ALICE,
  BOB,
  bytes,
  event,
  expectError,
  HASH_EMPTY,
  info,
  observe,
  put,
  RESERVED,
  SECOND,
  setup,
  T1,
  text,
  TEXT,
  HASH_BAR,
  HASH_BAZ,
  RESERVED_SIZE,
  list,
} from "./key-value-store.fixture.js";

describe("KeyValueStore", () => {
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
});
