/**
 * `keyquarry client inspect` and `list --long` tell when a key expires and
 * when its lock ends, against a server whose clock stands still (so the
 * times are exact), and reveal a lock's holder only to itself.
 */
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { createKeyquarryClient } from "@keyquarry/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/store/clock.js";
import { bytes } from "./kit/bytes.js";
import { keyquarry } from "./kit/cli-process.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

const seconds = (n: number) => create(DurationSchema, { seconds: BigInt(n) });
// 2023-11-14T22:13:20Z and a quarter second.
const now = 1_700_000_000_250_000_000n;

describe("keyquarry client inspect and list --long show times", () => {
  let test: TestServer;
  const cli = async (clientId: string, args: string[]) => {
    const result = await keyquarry(["client", "--address", new URL(test.url).host, "--client-id", clientId, ...args]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    return result.stdout;
  };

  beforeEach(async () => {
    test = await startTestServer({}, { clock: new ManualClock(now) });
    const alice = createKeyquarryClient(new URL(test.url).host, { clientId: "alice" });
    await alice.set({ key: "expiring", value: bytes("soon"), lifespan: seconds(90) });
    await alice.set({ key: "locked", value: bytes("mine!"), lockDuration: seconds(60) });
    await alice.set({ key: "plain", value: bytes("") });
  });

  afterEach(async () => {
    await test.close();
  });

  it("inspect: `expires` is lifespanSet + lifespan", async () => {
    expect(JSON.parse(await cli("bob", ["inspect", "expiring"]))).toMatchObject({
      lifespan: "90s",
      lifespanSet: "2023-11-14T22:13:20.250Z",
      expires: "2023-11-14T22:14:50.250Z",
    });
  });

  it("inspect: `lockExpires` for anyone, `lockedByYou` true only for the holder, whose id is never shown", async () => {
    const holder = JSON.parse(await cli("alice", ["inspect", "locked"]));
    expect(holder).toMatchObject({ locked: true, lockExpires: "2023-11-14T22:14:20.250Z", lockedByYou: true });
    const other = await cli("bob", ["inspect", "locked"]);
    expect(JSON.parse(other)).toMatchObject({ locked: true, lockExpires: "2023-11-14T22:14:20.250Z", lockedByYou: false });
    expect(other).not.toContain("alice");
  });

  it("inspect: neither expiry nor lock fields for a key without lifespan or lock", async () => {
    const plain = JSON.parse(await cli("bob", ["inspect", "plain"]));
    expect(plain.locked).toBe(false);
    expect(["expires", "lockExpires", "lockedByYou"].filter((name) => name in plain)).toEqual([]);
  });

  it("list --long: one JSON line per key with size, version, lock and expiry, in listing order", async () => {
    expect(await cli("bob", ["list", "--long"])).toBe(
      [
        '{"key":"expiring","size":4,"version":1,"locked":false,"expires":"2023-11-14T22:14:50.250Z"}',
        '{"key":"locked","size":5,"version":1,"locked":true,"lockExpires":"2023-11-14T22:14:20.250Z","lockedByYou":false}',
        '{"key":"plain","size":0,"version":1,"locked":false}',
        "",
      ].join("\n"),
    );
  });
});
