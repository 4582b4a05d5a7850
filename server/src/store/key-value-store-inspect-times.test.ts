import { describe, expect, it } from "vitest";
import { ALICE, BOB, MINUTE, SECOND, T1, info, put, setup } from "./key-value-store.fixture.js";

describe("KeyValueStore inspect: expiry and lock end", () => {
  it("tells when the lifespan runs out, moved by a renewal", () => {
    const f = setup();
    put(f.store, "foo", "bar", { lifespan: 10n * SECOND });
    expect(info(f.store, "foo").expires).toBe(T1 + 10n * SECOND);
    f.clock.advance(3n * SECOND);
    put(f.store, "foo", "baz");
    expect(info(f.store, "foo").expires).toBe(T1 + 13n * SECOND);
  });

  it("has no expiry and no lock for a plain key", () => {
    const f = setup();
    put(f.store, "foo", "bar");
    const plain = info(f.store, "foo");
    expect([plain.expires, plain.lock, plain.locked]).toEqual([undefined, undefined, false]);
  });

  it("tells when the lock ends, and only its holder that it holds it", () => {
    const f = setup();
    put(f.store, "foo", "bar", { clientId: BOB, lockDuration: MINUTE });
    expect(info(f.store, "foo", BOB).lock).toEqual({ deadline: T1 + MINUTE, heldByCaller: true });
    expect(info(f.store, "foo", ALICE).lock).toEqual({ deadline: T1 + MINUTE, heldByCaller: false });
    // Locking again extends the lock by the duration.
    f.clock.advance(SECOND);
    f.store.lock(BOB, "foo", 2n * MINUTE, false);
    expect(info(f.store, "foo", ALICE).lock?.deadline).toBe(T1 + 3n * MINUTE);
  });
});
