/**
 * Proof from outside: the SDK tarballs, as `npm pack` makes them for
 * publishing, installed with npm into fresh projects outside the repository,
 * work there. The Node SDK from a plain `node` program and from TypeScript;
 * the browser SDK bundled by esbuild from the installed copy, in Chromium.
 * Both talk to a real keyquarry server over each protocol they offer.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { KeyEvent } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import type { KeyquarryServer } from "@keyquarry/server";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../../server/test/kit/start-test-server.js";
import { bundleForBrowser } from "../kit/bundle-for-browser.js";
import { launchChromium } from "../kit/launch-chromium.js";
import { openPage } from "../kit/open-page.js";
import { createOutsideProject, type OutsideProject } from "../kit/outside-project.js";
import { packWorkspaces } from "../kit/pack-workspace.js";
import { runCommand } from "../kit/run-command.js";
import { servePage, type ServedPage } from "../kit/serve-page.js";
import { typeCheck } from "../kit/type-check.js";

/** The most packages an SDK may pull into a project, itself included. */
const maxPackages = 15;

/** Packages an SDK user must never get: the server's, our private ones, dev tools, native builds. */
const forbidden = ["@keyquarry/server", "@keyquarry/gen", "tsx", "fastify", "better-sqlite3", "drizzle-orm", "postgres"];

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

/** The SDKs, the fixtures their project gets, and what the project must not install. */
const sdks = [
  {
    name: "@keyquarry/client-node",
    workspace: "client-node",
    files: ["round-trip.mjs", "node-consumer.mjs", "typed-node-consumer.ts"],
    typed: { file: "typed-node-consumer.ts", types: ["node"] },
    // Only the browser SDK's factory uses connect-web; the Node build leaves it out.
    alsoForbidden: ["@connectrpc/connect-web"],
  },
  {
    name: "@keyquarry/client-web",
    workspace: "client-web",
    files: ["round-trip.mjs", "web-entry.mjs", "typed-web-consumer.ts"],
    typed: { file: "typed-web-consumer.ts", types: [] },
    alsoForbidden: ["@connectrpc/connect-node"],
  },
] as const;

let work: string;
const projects = new Map<string, OutsideProject>();

function projectOf(name: string): OutsideProject {
  const project = projects.get(name);
  if (project === undefined) {
    throw new Error(`no project with ${name} installed (the install in beforeAll failed)`);
  }
  return project;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keyquarry-outside-"));
  const packed = await packWorkspaces(sdks.map(({ workspace }) => workspace), work);
  await Promise.all(
    sdks.map(async ({ name, workspace, files }) => {
      const tarball = packed.get(name)?.tarball;
      if (tarball === undefined) {
        throw new Error(`npm pack made no ${name}`);
      }
      projects.set(name, await createOutsideProject(join(work, workspace), tarball, files.map(fixture)));
    }),
  );
}, 240_000);

afterAll(async () => {
  if (work !== undefined) {
    await rm(work, { recursive: true, force: true });
  }
});

/** What roundTrip (fixtures/round-trip.mjs) reports when the SDK works. */
function roundTripResult(key: string, clientId: string) {
  return {
    set: { success: true, isNew: true },
    got: { type: "Uint8Array", bytes: [0, 1, 127, 128, 254, 255] },
    progress: { progress: true, revision: "bigint" },
    event: { key, event: KeyEvent.UPDATED, clientId, progress: false, revision: "bigint", afterProgress: true },
  };
}

describe.each(sdks)("$name installed outside the repository", ({ name, typed, alsoForbidden }) => {
  it(`installs at most ${maxPackages} packages, none of the server's or ours but itself`, () => {
    const { packages, installedBytes } = projectOf(name);
    const names = packages.map((found) => found.name).sort();
    const size = `${(installedBytes / 1024).toFixed(0)} KiB`;
    console.log(`${name}: ${packages.length} packages, ${size} in node_modules: ${names.join(", ")}`);
    expect(names).toContain(name);
    expect(packages.length).toBeLessThanOrEqual(maxPackages);
    expect(names.filter((found) => [...forbidden, ...alsoForbidden].includes(found))).toEqual([]);
  });

  it("runs no install script and builds nothing native", async () => {
    const { dir, packages } = projectOf(name);
    const installHooks = ["preinstall", "install", "postinstall"];
    const withScripts = packages.filter(({ scripts }) => installHooks.some((hook) => hook in scripts));
    expect(withScripts.map((found) => found.name)).toEqual([]);
    // npm runs `node-gyp rebuild` for a binding.gyp even without an install script.
    const files = (await readdir(join(dir, "node_modules"), { recursive: true })).filter(
      (path) => path.endsWith("binding.gyp") || path.endsWith(".node") || path.includes("build/Release"),
    );
    expect(files).toEqual([]);
  });

  it("ships a build that imports neither our private packages nor the other SDK's transport", async () => {
    const dist = join(projectOf(name).dir, "node_modules", name, "dist");
    for (const file of ["index.js", "index.d.ts"]) {
      const lines = (await readFile(join(dist, file), "utf8")).split("\n");
      const mentions = lines.filter((line) => ["@keyquarry/", ...alsoForbidden].some((text) => line.includes(text)));
      expect(mentions, file).toEqual([]);
    }
  });

  it("type-checks a TypeScript consumer against the installed declarations", async () => {
    await typeCheck(projectOf(name).dir, typed.file, [...typed.types]);
  });
});

describe("the Node SDK from a plain node program", () => {
  let server: KeyquarryServer;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await startTestServer());
  });

  afterAll(async () => {
    await server?.close();
  });

  it("sets, gets and watches over gRPC and Connect", async () => {
    const { dir } = projectOf("@keyquarry/client-node");
    // No tsx, no loader: the program runs as a user's would (runCommand drops NODE_OPTIONS).
    const stdout = await runCommand(process.execPath, ["node-consumer.mjs", url], dir, 30_000);
    const results = JSON.parse(stdout) as Record<string, unknown>;
    expect(results).toEqual({
      resolved: pathToFileURL(join(dir, "node_modules/@keyquarry/client-node/dist/index.js")).href,
      grpc: roundTripResult("node-grpc", "outside-node"),
      connect: roundTripResult("node-connect", "outside-node"),
    });
  }, 40_000);
});

/** What web-entry.mjs adds to the page's window. */
interface PageWindow {
  outside: { roundTrip(baseUrl: string, protocol: string): Promise<unknown> };
}

describe("the browser SDK bundled from its installed copy, in Chromium", () => {
  let server: KeyquarryServer;
  let serverUrl: string;
  let inputs: string[];
  let pageServer: ServedPage | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    const { dir } = projectOf("@keyquarry/client-web");
    const bundle = await bundleForBrowser(join(dir, "web-entry.mjs"), dir);
    inputs = bundle.inputs;
    pageServer = await servePage(bundle.text, "keyquarry browser SDK from outside");
    // Every call is cross-origin: the server allows exactly the page's origin.
    ({ server, url: serverUrl } = await startTestServer({ corsOrigins: pageServer.origin }));
    browser = await launchChromium();
    page = await openPage(browser, pageServer.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await server?.close();
  });

  it("bundles the installed package, nothing of the repository", () => {
    // Paths are relative to the project: anything from the repository would start with "../".
    expect(inputs).toContain("node_modules/@keyquarry/client-web/dist/index.js");
    const fixtures = ["web-entry.mjs", "round-trip.mjs"];
    expect(inputs.filter((input) => !input.startsWith("node_modules/") && !fixtures.includes(input))).toEqual([]);
  });

  it.each(["grpc-web", "connect"] as const)("sets, gets and watches over %s", async (protocol) => {
    const result = await page.evaluate(
      ([baseUrl, protocol]) => (window as unknown as PageWindow).outside.roundTrip(baseUrl, protocol),
      [serverUrl, protocol] as const,
    );
    expect(result).toEqual(roundTripResult(`web-${protocol}`, "outside-web"));
  });
});
