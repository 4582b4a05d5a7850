import type { Browser, Page } from "playwright-core";

/** Opens `url` in a new page of `browser` and fails if the page threw while loading. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  const pageErrors: Error[] = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  await page.goto(url);
  if (pageErrors.length > 0) {
    throw new Error(`the page at ${url} threw while loading: ${pageErrors.map(String).join("; ")}`);
  }
  return page;
}
