/**
 * `keyquarry client list` follows ListKeys' pages: every key comes out when
 * the server answers in small pages, and `--limit` bounds the total.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyquarryClient } from "@keyquarry/client-node";
import { keyquarry } from "./kit/cli-process.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

/** Runs the CLI and returns its stdout (rejects on a non-zero exit). */
async function keyquarryStdout(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await keyquarry(args);
  if (code !== 0) {
    throw new Error(stderr);
  }
  return stdout;
}

describe("keyquarry client list over pages", () => {
  let server: TestServer;
  let address: string;
  const keys = Array.from({ length: 100 }, (_, i) => `paged/key-${String(i).padStart(3, "0")}`);

  beforeAll(async () => {
    // About 10 keys per page.
    server = await startTestServer({ maxListKeysResponseSize: 256 });
    address = new URL(server.url).host;
    const client = createKeyquarryClient(address, { clientId: "filler" });
    for (const key of keys) {
      await client.set({ key, value: new TextEncoder().encode("v") });
    }
  });

  afterAll(async () => {
    await server.close();
  });

  it("prints every key, in creation order, though no page holds them all", async () => {
    const client = createKeyquarryClient(address, { clientId: "check" });
    expect((await client.listKeys({})).more).toBe(true);
    expect(await keyquarryStdout(["client", "--address", address, "list"])).toBe(keys.map((key) => `${key}\n`).join(""));
  });

  it("stops at --limit keys in total", async () => {
    expect(await keyquarryStdout(["client", "--address", address, "list", "--limit", "25"])).toBe(keys.slice(0, 25).map((key) => `${key}\n`).join(""));
  });

  it("pages through the SDK's listAllKeys too, with a pattern", async () => {
    const client = createKeyquarryClient(address, { clientId: "sdk" });
    const listed: string[] = [];
    for await (const key of client.listAllKeys({ pattern: "-0[0-4]" })) {
      listed.push(key);
    }
    expect(listed).toEqual(keys.slice(0, 50));
  });
});
