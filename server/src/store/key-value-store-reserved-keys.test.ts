import { StoreEventKind } from "./store-event-kind.js";
import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { fnv1a64 } from "./fnv1a64.js";
import {
  ALICE,
  baseOptions,
  bytes,
  event,
  record,
  RESERVED,
  SERVER,
  setup,
  T0,
  text,
  TEXT,
  type RecordedEvent,
  RESERVED_KEYS,
  list,
} from "./key-value-store.fixture.js";
import { KeyValueStore } from "./key-value-store.js";

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
});
