/**
 * The web console on the main port: /ui/ serves the built console next to
 * the RPCs, `ui: false` turns it off, and a server without a built console
 * says so on a page instead of serving nothing.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { consoleDir, consolePlugin } from "../src/host/console-plugin.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";

let server: TestServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir !== undefined) {
    await rm(dir, { recursive: true, force: true });
    dir = undefined;
  }
});

describe("web console serving", () => {
  it("serves the built console at /ui/, its assets, and redirects /ui there", async () => {
    expect(existsSync(join(consoleDir, "index.html")), `${consoleDir}: run 'npm run build' first`).toBe(true);
    server = await startTestServer();
    const page = await fetch(`${server.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain("<title>keyquarry console</title>");
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
    const bare = await fetch(`${server.url}/ui`, { redirect: "manual" });
    expect(bare.status).toBe(302);
    expect(bare.headers.get("location")).toBe("/ui/");
  });

  it("serves no console with ui: false", async () => {
    server = await startTestServer({ ui: false });
    const response = await fetch(`${server.url}/ui/`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).not.toMatch(/^text\/html/);
  });

  it("answers /ui/ with a page that says how to build the console when it was not built", async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-no-console-"));
    const app = fastify();
    await app.register(consolePlugin, { dir });
    const address = await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const response = await fetch(`${address}/ui/`);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await response.text()).toContain("Run <code>npm run build</code>");
    } finally {
      await app.close();
    }
  });
});
