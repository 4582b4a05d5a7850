/**
 * The web console at /ui/ against a real server with auth on, in a real
 * Chromium: the header's token (kept for the tab only, sent instead of a
 * client id), what an identity's key_prefixes and role let it do, and how a
 * refusal by auth reads. Also the read-only banner, read from Stats with no
 * write probe. Each test saves a screenshot into test-results/console/.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../server/src/config/config.js";
import { writeIdentitiesFile } from "../../server/test/kit/identities.js";
import { startTestServer, type TestServer } from "../../server/test/kit/start-test-server.js";
import { launchChromium } from "../../test/kit/launch-chromium.js";
import { createKeyquarryWebClient, textValue, type KeyquarryWebClient } from "../src/index.js";
import { enterToken, keyRow, openConsole, requireBuiltConsole, screenshot, type ConsolePage } from "./console-page.js";

let browser: Browser;
let dir: string;
let identitiesFile: string;
let server: TestServer | undefined;
const pages: Page[] = [];

beforeAll(async () => {
  requireBuiltConsole();
  dir = await mkdtemp(join(tmpdir(), "keyquarry-console-auth-"));
  identitiesFile = join(dir, "identities.yaml");
  await writeIdentitiesFile(identitiesFile, [
    { id: "boss", role: "admin", tokens: ["boss-token"] },
    { id: "team-editor", role: "readwrite", tokens: ["editor-token"], keyPrefixes: ["team/"] },
    { id: "viewer", role: "readonly", tokens: ["viewer-token"] },
  ]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const page of pages.splice(0)) {
    await page.close();
  }
  await server?.close();
  server = undefined;
});

/** Starts this test's server and a Connect client of it. */
async function start(config: Partial<Config>, caller: { token: string } | { clientId: string }): Promise<{ url: string; client: KeyquarryWebClient }> {
  server = await startTestServer(config);
  return { url: server.url, client: createKeyquarryWebClient(server.url, { ...caller, protocol: "connect" }) };
}

async function open(url: string, token?: string): Promise<ConsolePage> {
  const opened = await openConsole(browser, url, token);
  pages.push(opened.page);
  return opened;
}

describe("web console with auth on", () => {
  let boss: KeyquarryWebClient;
  let url: string;

  beforeEach(async () => {
    ({ url, client: boss } = await start({ auth: { enabled: true, file: identitiesFile } }, { token: "boss-token" }));
    for (const key of ["team/a", "team/b", "other/x"]) {
      await boss.set({ key, value: textValue.encode(`${key} v1`) });
    }
  });

  it("with the tab's token, lists and edits the keys within its prefix and says what it may not do", async () => {
    const { page, problems, calls } = await open(url, "editor-token");
    await expect.poll(() => page.getByTestId("current-client-id").textContent()).toBe("calls as the token's identity");
    expect(await page.getByLabel("Client id").isDisabled()).toBe(true);

    // Only the keys its key_prefixes cover.
    await expect.poll(() => page.getByTestId("key-count").textContent()).toBe("2 keys");
    await keyRow(page, "team/b").waitFor();
    expect(await keyRow(page, "other/x").count()).toBe(0);

    await keyRow(page, "team/a").click();
    await page.getByLabel(/^Edit value/).fill("team/a v2");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByTestId("version").textContent()).toBe("2");
    expect(textValue.decode((await boss.get({ key: "team/a" })).value)).toBe("team/a v2");
    // The server ran the write as the token's identity.
    await page.locator('.events li[data-event="UPDATED"][data-key="team/a"]').getByText("by team-editor").waitFor();

    // Outside its prefix: refused, and the message says so.
    await page.getByLabel("Key", { exact: true }).fill("other/new");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("alert").getByText('Create other/new failed: this token may not write key "other/new" (PermissionDenied —').waitFor();
    expect((await boss.exists({ key: "other/new" })).exists).toBe(false);
    // The only error shown: those of the calls made before the token was entered went with the change of caller.
    await expect.poll(() => page.getByRole("alert").locator(".error").count()).toBe(1);

    // From the moment the token was entered, every call carried it and no client id (the server would refuse one other than the identity).
    const headers = calls.map(({ request }) => request.headers());
    const fromToken = headers.findIndex((h) => h["authorization"] !== undefined);
    expect(fromToken).toBeGreaterThanOrEqual(0);
    for (const h of headers.slice(fromToken)) {
      expect(h).toMatchObject({ authorization: "Bearer editor-token" });
      expect(h).not.toHaveProperty("client_id");
    }
    // A bearer secret: kept for this tab (sessionStorage, so a reload keeps it), never in localStorage.
    expect(await page.evaluate(() => sessionStorage.getItem("keyquarry.console.token"))).toBe("editor-token");
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain("editor-token");
    await page.reload();
    await page.getByTestId("feed-status").getByText("live").waitFor();
    await expect.poll(() => page.getByTestId("key-count").textContent()).toBe("2 keys");
    await screenshot(page, "auth-token-prefix");
    expect(problems).toEqual([]);
  });

  it("says a readonly token may not write when it saves, and an unknown token is not accepted", async () => {
    const { page, problems } = await open(url, "viewer-token");
    await expect.poll(() => page.getByTestId("key-count").textContent()).toBe("3 keys");
    await keyRow(page, "other/x").click();
    await expect.poll(() => page.locator(".value-view pre").textContent()).toBe("other/x v1");
    await page.getByLabel(/^Edit value/).fill("changed");
    await page.getByRole("button", { name: "Save" }).click();
    await page
      .getByRole("alert")
      .getByText('Save failed: this token may not write (PermissionDenied — Set needs the write permission, which identity "viewer" (role readonly) lacks)')
      .waitFor();
    expect(textValue.decode((await boss.get({ key: "other/x" })).value)).toBe("other/x v1");
    await screenshot(page, "auth-readonly-token");
    await enterToken(page, "not-a-token");
    await page
      .getByRole("alert")
      .getByText("Stats failed: the server did not accept the token (Unauthenticated — unknown token); set a valid token above")
      .waitFor();
    expect(problems).toEqual([]);
  });
});

describe("web console read-only banner", () => {
  it("follows read-only mode from Stats and never probes with a write", async () => {
    const { url, client: admin } = await start({ privilegedClientId: "admin" }, { clientId: "admin" });
    const { page, problems, calls } = await open(url);

    await admin.setReadOnly({ enable: true });
    await page.getByTestId("read-only-banner").waitFor();
    await screenshot(page, "read-only-from-stats");
    await admin.setReadOnly({ enable: false });
    await page.getByTestId("read-only-banner").waitFor({ state: "detached" });
    // At least three polls (start, on, off): the page ran long enough for any periodic probe to show.
    const methods = calls.map(({ method }) => method);
    expect(methods.filter((method) => method === "Stats").length).toBeGreaterThanOrEqual(3);
    // Reads only: no Delete (the old probe) nor any other write.
    expect(methods.filter((method) => !["Stats", "ListKeys", "WatchStream"].includes(method))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
