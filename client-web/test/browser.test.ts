/**
 * End-to-end test of the browser SDK in a real Chromium: the page is served
 * from one loopback port and calls the keyquarry server on another, so every
 * call is cross-origin and goes through the server's CORS handling.
 */
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import type { KeyquarryServer } from "@keyquarry/server";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleForBrowser } from "../../test/kit/bundle-for-browser.js";
import { launchChromium } from "../../test/kit/launch-chromium.js";
import { openPage } from "../../test/kit/open-page.js";
import { startTestServer } from "../../server/test/kit/start-test-server.js";
import { servePage, type ServedPage } from "../../test/kit/serve-page.js";
import type { PageTransport } from "./browser-entry.js";

/** Every protocol and format the SDK offers. */
const transports = [
  { protocol: "grpc-web", useBinaryFormat: true },
  { protocol: "grpc-web", useBinaryFormat: false },
  { protocol: "connect", useBinaryFormat: true },
  { protocol: "connect", useBinaryFormat: false },
] as const;

let server: KeyquarryServer;
let serverUrl: string;
let pageServer: ServedPage | undefined;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  ({ server, url: serverUrl } = await startTestServer({ corsOrigins: "*" }));
  // Bundles browser-entry.ts, and the SDK's sources with it.
  const entry = fileURLToPath(new URL("browser-entry.ts", import.meta.url));
  pageServer = await servePage((await bundleForBrowser(entry, process.cwd())).text, "keyquarry browser SDK");
  browser = await launchChromium();
  page = await openPage(browser, pageServer.url);
});

afterAll(async () => {
  await browser?.close();
  await pageServer?.close();
  await server?.close();
});

describe.each(transports)("browser SDK over $protocol (binary: $useBinaryFormat)", (transport) => {
  const pageTransport = (): PageTransport => ({ baseUrl: serverUrl, ...transport });

  it("sets, gets, inspects, lists and deletes a key, then reports it as not found", async () => {
    const key = `browser-${transport.protocol}-${transport.useBinaryFormat ? "binary" : "json"}`;
    const results = await page.evaluate(
      ([target, key]) => window.keyquarry.keyLifecycle(target, key),
      [pageTransport(), key] as const,
    );
    expect(results).toEqual({
      Set: "success=true isNew=true",
      Get: 'value="bar"',
      Inspect: "hash=16101355973854746n matches=true size=3n",
      ListKeys: `keys=${JSON.stringify([key])}`,
      Delete: "deleted=true",
      "Get (deleted)": `ConnectError code=${Code.NotFound} (NotFound) rawMessage="Key not found"`,
    });
  });

  it("is refused without a client id", async () => {
    const results = await page.evaluate((target) => window.keyquarry.clientIdRefusals(target), pageTransport());
    expect(results).toEqual({
      "Get (empty client id)": `ConnectError code=${Code.InvalidArgument} (InvalidArgument) rawMessage="empty client_id"`,
      "Get (no client id)": expect.stringMatching(
        new RegExp(`^ConnectError code=${Code.InvalidArgument} \\(InvalidArgument\\) rawMessage="missing client_id`),
      ),
    });
  });
});
