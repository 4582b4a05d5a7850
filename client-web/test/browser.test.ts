/**
 * End-to-end test of the browser SDK in a real Chromium: the page is served
 * from one loopback port and calls the keyquarry server on another, so every
 * call is cross-origin and goes through the server's CORS handling.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { build as bundle } from "esbuild";
import { build, defaultConfig, type KeyquarryServer } from "@keyquarry/server";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageTransport } from "./browser-entry.js";

/** Debian's Chromium; the test never downloads a browser. */
const chromiumPath = "/usr/bin/chromium";

/** Every protocol and format the SDK offers. */
const transports = [
  { protocol: "grpc-web", useBinaryFormat: true },
  { protocol: "grpc-web", useBinaryFormat: false },
  { protocol: "connect", useBinaryFormat: true },
  { protocol: "connect", useBinaryFormat: false },
] as const;

let server: KeyquarryServer;
let serverUrl: string;
let pageServer: Server | undefined;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: install Debian's Chromium with 'apt-get install -y chromium'`);
  }
  server = await build({ ...defaultConfig(), listenAddress: "127.0.0.1:0", corsOrigins: "*" }, { logger: false });
  serverUrl = await server.listen();
  pageServer = await servePage(await bundleEntry());
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage();
  const pageErrors: Error[] = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  await page.goto(urlOf(pageServer));
  expect(pageErrors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
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

/** Bundles browser-entry.ts, and the SDK with it, into one script for the page. */
async function bundleEntry(): Promise<string> {
  const { outputFiles } = await bundle({
    entryPoints: [fileURLToPath(new URL("browser-entry.ts", import.meta.url))],
    bundle: true,
    format: "iife",
    // Also proves the SDK needs no Node built-ins: they do not resolve here.
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  const [output] = outputFiles;
  if (output === undefined) {
    throw new Error("esbuild produced no output");
  }
  return output.text;
}

/** Serves a page that runs `script` on a free loopback port. */
async function servePage(script: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><title>keyquarry browser SDK</title><body><script src="/entry.js"></script>';
  const pages = new Map([
    ["/", { type: "text/html; charset=utf-8", body: html }],
    ["/entry.js", { type: "text/javascript; charset=utf-8", body: script }],
  ]);
  const httpServer = createServer((req, res) => {
    const found = pages.get(req.url ?? "");
    res.writeHead(found === undefined ? 404 : 200, { "content-type": found?.type ?? "text/plain" });
    res.end(found?.body ?? "not found");
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  return httpServer;
}

function urlOf(httpServer: Server): string {
  const { address, port } = httpServer.address() as AddressInfo;
  return `http://${address}:${port}/`;
}
