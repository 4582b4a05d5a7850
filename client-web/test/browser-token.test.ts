/**
 * The browser SDK's token option in a real Chromium, against a server with
 * auth on: every call is cross-origin, so the server's CORS settings must
 * let the authorization header through.
 */
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../server/src/config/config.js";
import { bundleForBrowser } from "../../test/kit/bundle-for-browser.js";
import { launchChromium } from "../../test/kit/launch-chromium.js";
import { openPage } from "../../test/kit/open-page.js";
import { writeIdentitiesFile } from "../../server/test/kit/identities.js";
import { startTestServer, type TestServer } from "../../server/test/kit/start-test-server.js";
import { servePage, type ServedPage } from "../../test/kit/serve-page.js";
import type { PageTransport } from "./browser-entry.js";

let dir: string;
let config: Partial<Config>;
let server: TestServer | undefined;
let pageServer: ServedPage | undefined;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "keyquarry-web-token-"));
  const file = join(dir, "identities.yaml");
  await writeIdentitiesFile(file, [{ id: "web-user", role: "readwrite", tokens: ["web-token"], keyPrefixes: ["web/"] }]);
  config = { corsOrigins: "*", auth: { enabled: true, file } };
  const entry = fileURLToPath(new URL("browser-entry.ts", import.meta.url));
  pageServer = await servePage((await bundleForBrowser(entry, process.cwd())).text, "keyquarry browser SDK with a token");
  browser = await launchChromium();
  page = await openPage(browser, pageServer.url);
});

beforeEach(async () => {
  server = await startTestServer(config);
});

afterEach(async () => {
  await server?.close();
});

afterAll(async () => {
  await browser?.close();
  await pageServer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(["grpc-web", "connect"] as const)("browser SDK with a token over %s", (protocol) => {
  it("runs calls as the token's identity, and an unknown token gets UNAUTHENTICATED", async () => {
    const transport: PageTransport = { baseUrl: server!.url, protocol, useBinaryFormat: protocol === "grpc-web" };
    const results = await page.evaluate(([target, token]) => window.keyquarry.tokenCalls(target, token), [transport, "web-token"] as const);
    expect(results).toEqual({
      Register: "clientId=web-user",
      Set: "success=true",
      Get: 'value="bar"',
      "Get (unknown token)": `ConnectError code=${Code.Unauthenticated} (Unauthenticated) rawMessage="unknown token"`,
    });
  });
});
