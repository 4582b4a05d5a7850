/**
 * What the web console's end-to-end tests share: the built console (checked
 * to exist), pages that record console errors, screenshots into
 * test-results/console/, and the axe-core accessibility check.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { Browser, Page, Request } from "playwright-core";
import { consoleDir } from "../../server/src/host/console-plugin.js";

/** Where every console test saves its screenshot (git-ignored), for a person to look at. */
export const screenshotDir = fileURLToPath(new URL("../../test-results/console/", import.meta.url));

/** Fails with what to run when the console has not been built: the server serves server/dist/console. */
export function requireBuiltConsole(): void {
  if (!existsSync(join(consoleDir, "index.html"))) {
    throw new Error(`the web console is not built (${consoleDir} has no index.html): run 'npm run build' first`);
  }
}

/** A console page, what went wrong in it (console errors and uncaught exceptions) and the calls it made, in order. */
export interface ConsolePage {
  page: Page;
  problems: string[];
  calls: RpcCall[];
}

/** A keyquarry RPC the page sent: its method name ("Stats", "Delete"...) and request. */
export interface RpcCall {
  method: string;
  request: Request;
}

/**
 * Opens the console of the server at `serverUrl` in a new page of `browser`,
 * wide enough for its three columns; with `token`, enters it in the header
 * first (a server with auth on answers nothing without one).
 */
export async function openConsole(browser: Browser, serverUrl: string, token?: string): Promise<ConsolePage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${String(error)}`));
  const calls: RpcCall[] = [];
  page.on("request", (request) => {
    const method = /^\/keyquarry\.\w+\/(\w+)$/.exec(new URL(request.url()).pathname)?.[1];
    if (method !== undefined) {
      calls.push({ method, request });
    }
  });
  await page.goto(`${serverUrl}/ui/`);
  if (token !== undefined) {
    await enterToken(page, token);
  }
  // Up when the first progress mark arrived.
  await page.getByTestId("feed-status").getByText("live").waitFor();
  return { page, problems, calls };
}

/** Enters `token` in the console's header and uses it. */
export async function enterToken(page: Page, token: string): Promise<void> {
  await page.getByLabel("Token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Use" }).click();
}

/** The row of `key` in the key browser. */
export function keyRow(page: Page, key: string) {
  return page.locator(`.key-list [data-key="${key}"]`);
}

/** Saves a full-page screenshot as test-results/console/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** axe-core's violations of impact serious or critical on the page, as "rule: help (n nodes)". */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: unknown[] }> }> } }).axe;
    const { violations } = await axe.run();
    return violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes)`);
  });
}
