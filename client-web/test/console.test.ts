/**
 * The web console at /ui/ in a real Chromium against a real server: what it
 * lists, how it follows changes made elsewhere, version conflicts, lock
 * countdowns, image previews and accessibility. Each test saves a screenshot
 * into test-results/console/.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Config } from "../../server/src/config/config.js";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../test/kit/launch-chromium.js";
import { startTestServer, type TestServer } from "../../server/test/kit/start-test-server.js";
import { createKeyquarryWebClient, textValue, type KeyquarryWebClient } from "../src/index.js";
import { keyRow, openConsole, requireBuiltConsole, screenshot, seriousAccessibilityViolations, type ConsolePage } from "./console-page.js";

/** A 2×1 PNG (one red, one blue pixel). */
const png = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR4nGP4z8DAwMDAAAAd9AL+5HPGnwAAAABJRU5ErkJggg==",
  "base64",
);

let browser: Browser;
let server: TestServer | undefined;
const pages: Page[] = [];

beforeAll(async () => {
  requireBuiltConsole();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const page of pages.splice(0)) {
    await page.close();
  }
  await server?.close();
  server = undefined;
});

/** Starts this test's server, and a Connect client of it writing as "writer". */
async function start(overrides: Partial<Config> = {}): Promise<{ url: string; writer: KeyquarryWebClient }> {
  server = await startTestServer(overrides);
  return { url: server.url, writer: createKeyquarryWebClient(server.url, { clientId: "writer", protocol: "connect" }) };
}

async function open(url: string): Promise<ConsolePage> {
  const opened = await openConsole(browser, url);
  pages.push(opened.page);
  return opened;
}

const set = (writer: KeyquarryWebClient, key: string, text: string) => writer.set({ key, value: textValue.encode(text) });

describe("web console", () => {
  it("lists the existing keys with their size, type and version, and shows a value", async () => {
    const { url, writer } = await start();
    await set(writer, "alpha", "first value");
    await writer.set({ key: "beta", value: textValue.encode('{"n":1,"list":[1,2]}'), contentType: "application/json" });
    await set(writer, "gamma", "third");
    const { page, problems } = await open(url);

    for (const key of ["alpha", "beta", "gamma"]) {
      await keyRow(page, key).waitFor();
    }
    await expect.poll(() => keyRow(page, "beta").textContent()).toMatch(/^beta20 Bapplication\/json1—/);
    await expect.poll(() => page.getByTestId("key-count").textContent()).toBe("3 keys");
    await keyRow(page, "beta").click();
    // JSON pretty-printed.
    await expect.poll(() => page.locator(".value-view pre").textContent()).toBe('{\n  "n": 1,\n  "list": [\n    1,\n    2\n  ]\n}');
    // Showing the value read it: an ACCESSED event, which the feed can hide.
    await page.locator('.events li[data-event="ACCESSED"][data-key="beta"]').waitFor();
    await page.getByLabel("Hide reads (ACCESSED)").check();
    await expect.poll(() => page.locator('.events li[data-event="ACCESSED"]').count()).toBe(0);
    await screenshot(page, "lists-existing-keys");
    expect(problems).toEqual([]);
  });

  it("shows a key created elsewhere (curl, Connect JSON) without a reload", async () => {
    const { url } = await start();
    const { page, problems } = await open(url);
    await expect.poll(() => page.getByTestId("key-count").textContent()).toBe("0 keys");
    await promisify(execFile)("curl", [
      "--silent",
      "--fail-with-body",
      "-X",
      "POST",
      `${url}/keyquarry.KeyQuarry/Set`,
      "-H",
      "content-type: application/json",
      "-H",
      "client_id: curl",
      "-d",
      JSON.stringify({ key: "from-curl", value: Buffer.from("made by curl").toString("base64") }),
    ]);
    await keyRow(page, "from-curl").waitFor();
    await page.locator('.events li[data-event="CREATED"][data-key="from-curl"]').getByText("by curl").waitFor();
    await screenshot(page, "key-created-by-curl");
    expect(problems).toEqual([]);
  });

  it("shows a change made in one page live in another", async () => {
    const { url, writer } = await start();
    await set(writer, "shared", "before");
    const first = await open(url);
    const second = await open(url);
    await keyRow(second.page, "shared").click();
    await expect.poll(() => second.page.locator(".value-view pre").textContent()).toBe("before");

    // Created in the first page: listed in the second.
    await first.page.getByLabel("Key", { exact: true }).fill("made-in-first");
    await first.page.getByLabel("Value", { exact: true }).fill("hello");
    await first.page.getByRole("button", { name: "Create" }).click();
    await keyRow(second.page, "made-in-first").waitFor();

    // Edited in the first page: the value open in the second follows.
    await keyRow(first.page, "shared").click();
    await first.page.getByLabel(/^Edit value/).fill("after");
    await first.page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => second.page.locator(".value-view pre").textContent()).toBe("after");
    await expect.poll(() => second.page.getByTestId("version").textContent()).toBe("2");
    await screenshot(second.page, "change-in-other-page");
    expect([...first.problems, ...second.problems]).toEqual([]);
  });

  it("refuses an edit based on a stale version and shows the conflict", async () => {
    const { url, writer } = await start();
    await set(writer, "contested", "v1");
    const { page, problems } = await open(url);
    await keyRow(page, "contested").click();
    await page.getByLabel(/^Edit value/).fill("mine");
    // Someone else writes while the edit is open: the page shows their version, the edit stays on v1.
    await set(writer, "contested", "theirs");
    await expect.poll(() => page.getByTestId("version").textContent()).toBe("2");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByTestId("conflict").textContent()).toMatch(
      /^Conflict: someone else changed this key since version 1 \(version mismatch: the current version is 2\)/,
    );
    expect(textValue.decode((await writer.get({ key: "contested" })).value)).toBe("theirs");
    await screenshot(page, "stale-version-conflict");
    expect(problems).toEqual([]);
  });

  it("counts a lock down and shows the UNLOCKED event when it ends", async () => {
    const { url, writer } = await start({ minLockDuration: 100_000_000n });
    await set(writer, "door", "closed");
    const { page, problems } = await open(url);
    await keyRow(page, "door").click();
    await page.getByLabel("Lock for (s)").fill("3");
    await page.getByRole("button", { name: "Lock", exact: true }).click();
    const lockState = page.getByTestId("lock-state");
    await expect.poll(() => lockState.textContent()).toMatch(/^Locked by you · fencing token \d+ · \d\.\d s left$/);
    const secondsShown = async () => Number(/(\d\.\d) s left/.exec((await lockState.textContent()) ?? "")?.[1]);
    const firstShown = await secondsShown();
    await screenshot(page, "lock-countdown");
    // The countdown runs: a smaller number comes, then the server's UNLOCKED event.
    await expect.poll(secondsShown).toBeLessThan(firstShown);
    await expect.poll(() => page.getByTestId("last-event").textContent(), { timeout: 10_000 }).toMatch(/^Last event: UNLOCKED by keyquarry/);
    await expect.poll(() => lockState.textContent()).toBe("Unlocked");
    await page.locator('.events li[data-event="UNLOCKED"][data-key="door"]').waitFor();
    await screenshot(page, "lock-ended-unlocked");
    expect(problems).toEqual([]);
  });

  it("previews an image value", async () => {
    const { url, writer } = await start();
    await writer.set({ key: "picture.png", value: png, contentType: "image/png" });
    const { page, problems } = await open(url);
    await keyRow(page, "picture.png").click();
    const image = page.getByRole("img", { name: "Value preview (image/png)" });
    await image.waitFor();
    // Decoded by the browser: the PNG's own size.
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => `${img.naturalWidth}x${img.naturalHeight}`)).toBe("2x1");
    await screenshot(page, "image-preview");
    expect(problems).toEqual([]);
  });

  it("pages through many keys in a virtual list", async () => {
    const { url } = await start();
    // Three ListKeys pages (1,000 keys each).
    const count = 2_500;
    for (let i = 0; i < count; i++) {
      server!.server.store.set("writer", { key: `bulk/${String(i).padStart(5, "0")}`, value: textValue.encode(String(i)), contentType: "" });
    }
    const { page, problems } = await open(url);
    await expect.poll(() => page.getByTestId("key-count").textContent()).toMatch(/^1000 keys loaded, more as you scroll/);
    const list = page.getByRole("list", { name: "Keys" });
    // Scrolled to the end again and again, the list loads every page; only the visible rows are rendered.
    await expect
      .poll(
        async () => {
          await list.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
          return page.getByTestId("key-count").textContent();
        },
        { timeout: 20_000 },
      )
      .toBe(`${count} keys`);
    // The last page may have come after the last scroll: once more to the very end.
    await list.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
    await keyRow(page, "bulk/02499").waitFor();
    expect(await list.locator("button").count()).toBeLessThan(60);
    await screenshot(page, "virtual-list");
    expect(problems).toEqual([]);
  }, 60_000);

  it("diffs an old version against the current one and restores it", async () => {
    const { url, writer } = await start();
    await set(writer, "notes", "line one\nline two\n");
    await set(writer, "notes", "line one\nline 2\nline three\n");
    const { page, problems } = await open(url);
    await keyRow(page, "notes").click();
    await page.getByRole("button", { name: "v1" }).click();
    await expect.poll(() => page.getByTestId("history-diff").locator("pre").textContent()).toBe(
      "  line one\n- line two\n+ line 2\n+ line three\n",
    );
    await screenshot(page, "history-diff");
    await page.getByRole("button", { name: "Restore v1" }).click();
    await expect.poll(() => page.getByTestId("version").textContent()).toBe("3");
    expect(textValue.decode((await writer.get({ key: "notes" })).value)).toBe("line one\nline two\n");
    expect(problems).toEqual([]);
  });

  it("counts a lifespan down", async () => {
    const { url, writer } = await start();
    await writer.set({ key: "ephemeral", value: textValue.encode("soon gone"), lifespan: { seconds: 30n } });
    const { page, problems } = await open(url);
    await keyRow(page, "ephemeral").click();
    const lifespan = page.getByTestId("lifespan");
    const shown = async () => Number(/^expires in (\d+\.\d) s$/.exec((await lifespan.textContent()) ?? "")?.[1]);
    await expect.poll(shown).toBeGreaterThan(20);
    const first = await shown();
    await expect.poll(shown).toBeLessThan(first);
    await screenshot(page, "lifespan-countdown");
    expect(problems).toEqual([]);
  });

  it("shows the read-only banner when the server refuses writes", async () => {
    const { url } = await start({ readonly: true });
    const { page, problems } = await open(url);
    await page.getByTestId("read-only-banner").waitFor();
    // A refused write says why.
    await page.getByLabel("Key", { exact: true }).fill("blocked");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("alert").getByText("Create blocked failed: FailedPrecondition — server in readonly mode").waitFor();
    await screenshot(page, "read-only-banner");
    expect(problems).toEqual([]);
  });

  it("shows the client id, calls with the one a person sets, and says why a call failed", async () => {
    const { url, writer } = await start();
    await set(writer, "taken", "already here");
    const { page, problems } = await open(url);
    await expect.poll(() => page.getByTestId("current-client-id").textContent()).toMatch(/^calls as console-[0-9a-f]{8}$/);
    await page.getByLabel("Client id").fill("ada");
    await page.getByRole("button", { name: "Use" }).click();
    await expect.poll(() => page.getByTestId("current-client-id").textContent()).toBe("calls as ada");
    await page.getByLabel("Key", { exact: true }).fill("by-ada");
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator('.events li[data-event="CREATED"][data-key="by-ada"]').getByText("by ada").waitFor();
    // Create refuses an existing key (if_version 0).
    await page.getByLabel("Key", { exact: true }).fill("taken");
    await page.getByRole("button", { name: "Create" }).click();
    await page
      .getByRole("alert")
      .getByText("Create taken failed: FailedPrecondition — version mismatch: the current version is 1")
      .waitFor();
    await screenshot(page, "client-id-and-error");
    expect(problems).toEqual([]);
  });

  it("moves through the key list with the arrow keys", async () => {
    const { url, writer } = await start();
    for (const key of ["k1", "k2", "k3"]) {
      await set(writer, key, key);
    }
    const { page, problems } = await open(url);
    await keyRow(page, "k1").click();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => page.getByRole("heading", { level: 2, name: "k3" }).count()).toBe(1);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-key"))).toBe("k3");
    await page.keyboard.press("ArrowUp");
    await expect.poll(() => page.getByRole("heading", { level: 2, name: "k2" }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("has no serious accessibility violations (axe-core), in the light and the dark theme", async () => {
    const { url, writer } = await start();
    await writer.set({ key: "doc", value: textValue.encode('{"a":1}'), contentType: "application/json" });
    await set(writer, "doc", '{"a":2}');
    const { page, problems } = await open(url);
    await keyRow(page, "doc").click();
    await page.getByRole("button", { name: "v1" }).click();
    await page.getByTestId("history-diff").waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, "accessibility-light");
    await page.getByRole("button", { name: /theme$/ }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset["theme"])).toBe("dark");
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, "accessibility-dark");
    expect(problems).toEqual([]);
  });
});
