/**
 * The console's event feed outlives a server restart: its watch (the SDK's
 * resumableWatch) reconnects to the same port and resumes after the last
 * revision it received, which the restarted server still counts from (its
 * snapshot holds the revision). Every revision then shows once, in order,
 * with none missing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, defaultConfig, type KeyquarryServer } from "@keyquarry/server";
import type { Browser, Page } from "playwright-core";
import { afterEach, expect, it } from "vitest";
import { launchChromium } from "../../test/kit/launch-chromium.js";
import { freePort } from "../../server/test/kit/free-port.js";
import { createKeyquarryWebClient, textValue } from "../src/index.js";
import { openConsole, requireBuiltConsole, screenshot } from "./console-page.js";

let dir: string | undefined;
let server: KeyquarryServer | undefined;
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await server?.close();
  server = undefined;
  if (dir !== undefined) {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The feed's events, oldest first, as "revision KIND key". */
async function feedEvents(page: Page): Promise<Array<{ revision: number; line: string }>> {
  const rows = await page.locator(".events li").evaluateAll((items) =>
    items.map((item) => ({ revision: Number(item.getAttribute("data-revision")), line: `${item.getAttribute("data-event")} ${item.getAttribute("data-key")}` })),
  );
  return rows.reverse();
}

it("resumes the event feed after a server restart with no gap and no duplicate", async () => {
  requireBuiltConsole();
  dir = await mkdtemp(join(tmpdir(), "keyquarry-console-restart-"));
  // The page keeps its address across the restart: a fixed port, taken again by the restarted server.
  const address = `127.0.0.1:${await freePort()}`;
  const start = async () => {
    server = await build(
      {
        ...defaultConfig(),
        listenAddress: address,
        name: "console-restart",
        snapshot: { enabled: true, interval: 0n, journal: "sync", journalInterval: 1_000_000_000n, database: `sqlite://${join(dir!, "snapshots.db")}`, retain: 2 },
      },
      { logger: false },
    );
    return server.listen();
  };
  const url = await start();
  const writer = createKeyquarryWebClient(url, { clientId: "writer", protocol: "connect" });
  const set = (key: string) => writer.set({ key, value: textValue.encode(key) });

  browser = await launchChromium();
  const { page } = await openConsole(browser, url);
  await set("before-1");
  await set("before-2");
  await page.locator('.events li[data-key="before-2"]').waitFor();

  await server!.close(); // the final snapshot holds the revision
  server = undefined;
  await page.getByTestId("feed-status").getByText(/^reconnecting in/).waitFor();
  await start();
  // Perhaps before the page is back: replayed to it when it is.
  await set("during-1");
  await page.getByTestId("feed-status").getByText(/resumed 1×/).waitFor();
  await set("after-1");
  await page.locator('.events li[data-key="after-1"]').waitFor();

  const events = await feedEvents(page);
  const created = events.filter(({ line }) => line.startsWith("CREATED ") && !line.startsWith("CREATED keyquarry")).map(({ line }) => line);
  expect(created).toEqual(["CREATED before-1", "CREATED before-2", "CREATED during-1", "CREATED after-1"]);
  // Every revision from the first shown to the last, each once: nothing missed, nothing repeated.
  const revisions = events.map(({ revision }) => revision);
  const first = revisions[0]!;
  expect(revisions).toEqual(revisions.map((_, i) => first + i));
  await screenshot(page, "event-feed-resumed-after-restart");
}, 60_000);
