/**
 * `keyquarry client load` (bulk-set) against a real server: items from
 * arguments and from piped stdin, per-item JSON lines in input order,
 * failures next to successes (exit status 1), --lock and --lifespan, a
 * large streamed stdin (over one SetMany stream), refused streams sent
 * again and a server without SetMany (one Set call per item), and the
 * progress line on a terminal. The built CLI as a child process.
 */
import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { KeyQuarry } from "@keyquarry/gen/keyquarry/keyquarry_pb.js";
import { once } from "node:events";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKeyquarryClient, type KeyquarryClient } from "@keyquarry/client-node";
import { bin, cleanEnv, keyquarry, spawnKeyquarry, type CliProcess } from "./kit/cli-process.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { textValueOf } from "./kit/text-value-of.js";

const second = 1_000_000_000n;
const lines = (stdout: string) => stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);

describe("keyquarry client load", () => {
  let server: TestServer;
  let address: string;
  let sdk: KeyquarryClient;
  const spawned: CliProcess[] = [];
  const client = (args: string[], input = "") => keyquarry(["client", "--address", address, "--client-id", "loader", ...args], input);

  beforeAll(async () => {
    server = await startTestServer({ minLifespan: second, minLockDuration: second });
    address = new URL(server.url).host;
    sdk = createKeyquarryClient(address, { clientId: "loader" });
  });

  afterEach(() => {
    for (const process of spawned.splice(0)) {
      process.child.kill();
    }
  });

  afterAll(async () => {
    await server.close();
  });

  it("sets k=v arguments: only the first = splits, no = is an empty value", async () => {
    const result = await client(["load", "args-a=1", "args-b", "args-c=x=y"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(lines(result.stdout)).toEqual([
      { key: "args-a", success: true, isNew: true },
      { key: "args-b", success: true, isNew: true },
      { key: "args-c", success: true, isNew: true },
    ]);
    expect(await textValueOf(sdk, "args-a")).toBe("1");
    expect(await textValueOf(sdk, "args-b")).toBe("");
    expect(await textValueOf(sdk, "args-c")).toBe("x=y");
  });

  it("the alias bulk-set reads k=v lines from stdin (LF or CRLF, empty lines skipped); a key's items apply in order", async () => {
    const input = "pipe-a=1\r\npipe-dup=first\n\npipe-b\npipe-dup=second\r\npipe-dup=third";
    const result = await client(["bulk-set"], input);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(lines(result.stdout)).toEqual([
      { key: "pipe-a", success: true, isNew: true },
      { key: "pipe-dup", success: true, isNew: true },
      { key: "pipe-b", success: true, isNew: true },
      { key: "pipe-dup", success: true, isNew: false },
      { key: "pipe-dup", success: true, isNew: false },
    ]);
    expect(await textValueOf(sdk, "pipe-a")).toBe("1");
    expect(await textValueOf(sdk, "pipe-b")).toBe("");
    expect(await textValueOf(sdk, "pipe-dup")).toBe("third");
    expect((await sdk.inspect({ key: "pipe-dup" })).version).toBe(3n);
  });

  it("prints an error line for each failed item, sets the others and exits 1", async () => {
    const other = createKeyquarryClient(address, { clientId: "someone-else" });
    await other.lock({ key: "fail-locked", duration: { seconds: 60n, nanos: 0 }, createIfMissing: true });
    const result = await client(["load"], "fail-before=1\nfail-locked=mine\n=no-key\nfail-after=2\n");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    expect(lines(result.stdout)).toEqual([
      { key: "fail-before", success: true, isNew: true },
      { key: "fail-locked", error: { code: "permission_denied", message: expect.any(String) as string } },
      { key: "", error: { code: "invalid_argument", message: expect.any(String) as string } },
      { key: "fail-after", success: true, isNew: true },
    ]);
    expect(await textValueOf(other, "fail-locked")).toBe("");
    expect(await textValueOf(sdk, "fail-after")).toBe("2");
  });

  it("--lock locks every key for this client and --lifespan gives each a lifespan", async () => {
    const result = await client(["load", "--lock", "1m", "--lifespan", "1h", "--content-type", "text/x-loaded", "opt-a=1", "opt-b=2"]);
    expect(result.code).toBe(0);
    for (const key of ["opt-a", "opt-b"]) {
      expect(await sdk.inspect({ key })).toMatchObject({ locked: true, lifespan: { seconds: 3600n }, contentType: "text/x-loaded" });
    }
    const intruder = await keyquarry(["client", "--address", address, "--client-id", "intruder", "set", "opt-a", "x"]);
    expect(intruder.stderr).toMatch(/^keyquarry: permission_denied: /);
  });

  it("no items at all is a usage error (exit 2)", async () => {
    const result = await client(["load"], "\n\n");
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain("no values provided");
  });

  it("speaks gRPC only: another --protocol is a usage error (exit 2)", async () => {
    const result = await keyquarry(["client", "--address", address, "--protocol", "connect", "load", "proto-k=v"]);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain("load speaks gRPC only");
    expect(await textValueOf(sdk, "proto-k")).toBeUndefined();
  });

  it("with no server there, stops with exit status 3", async () => {
    const result = await keyquarry(["client", "--address", "127.0.0.1:1", "load", "k=v"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^keyquarry: unavailable: .*ECONNREFUSED/);
  });

  it("streams a large stdin through: 20,000 lines, every key set, output in input order", async () => {
    const count = 20_000;
    const cli = spawnKeyquarry(["client", "--address", address, "load", "--concurrency", "32"]);
    spawned.push(cli);
    const input = Readable.from(
      (function* () {
        for (let i = 0; i < count; i++) yield `bulk-${i}=value-${i}\n`;
      })(),
    );
    await pipeline(input, cli.child.stdin);
    expect(await cli.exited).toBe(0);
    const output = lines(cli.stdout()) as { key: string; isNew: boolean }[];
    expect(output.map(({ key }) => key)).toEqual(Array.from({ length: count }, (_, i) => `bulk-${i}`));
    expect(output.every(({ isNew }) => isNew)).toBe(true);
    const keys: string[] = [];
    for await (const key of sdk.listAllKeys({ pattern: "^bulk-" })) keys.push(key);
    expect(keys).toHaveLength(count);
    expect(await textValueOf(sdk, `bulk-${count - 1}`)).toBe(`value-${count - 1}`);
  });

  it("writes a progress line on stderr when it is a terminal", async () => {
    // script(1) runs the CLI on a pseudo-terminal (stdin, stdout and stderr).
    const command = [process.execPath, bin, "client", "--address", address, "load", "tty-a=1", "tty-b=2"].map((arg) => `'${arg}'`).join(" ");
    const child = execFile("script", ["-qec", command, "/dev/null"], { env: cleanEnv() });
    let output = "";
    child.stdout?.on("data", (chunk: string) => (output += chunk));
    const [code] = (await once(child, "close")) as [number];
    expect(code).toBe(0);
    expect(output).toContain('{"key":"tty-b","success":true,"isNew":true}');
    expect(output).toMatch(/keyquarry: 2 items, \d+\/s\r?\n/);
  });
});

describe("keyquarry client load against a server with a small stream limit", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ maxConcurrentStreams: 4 });
  });

  afterAll(async () => {
    await server.close();
  });

  it("needs one stream of a server limited to a few per connection: every item is set", async () => {
    const address = new URL(server.url).host;
    const input = Array.from({ length: 200 }, (_, i) => `limited-${i}=${i}\n`).join("");
    const result = await keyquarry(["client", "--address", address, "load", "--concurrency", "32"], input);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(lines(result.stdout)).toEqual(Array.from({ length: 200 }, (_, i) => ({ key: `limited-${i}`, success: true, isNew: true })));
    const sdk = createKeyquarryClient(address);
    expect(await textValueOf(sdk, "limited-199")).toBe("199");
  });
});

describe("keyquarry client load against a server without SetMany (the Go original, an older keyquarry)", () => {
  it("sets each item with a Set call of its own, a key's items in order, sending again the streams the server refused", async () => {
    // A gRPC server with Set only, as a server without the extension answers: SetMany is UNIMPLEMENTED.
    const stored = new Map<string, string>();
    // At most 4 streams: the first calls, sent before that limit is known, are refused (REFUSED_STREAM).
    const server = http2.createServer(
      { settings: { maxConcurrentStreams: 4 } },
      connectNodeAdapter({
        routes: (router) =>
          router.service(KeyQuarry, {
            set(request) {
              const isNew = !stored.has(request.key);
              stored.set(request.key, new TextDecoder().decode(request.value));
              return { success: true, isNew };
            },
          }),
      }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const input = "a=1\na=2\n" + Array.from({ length: 200 }, (_, i) => `limited-${i}=${i}\n`).join("");
      const result = await keyquarry(["client", "--address", `127.0.0.1:${port}`, "load", "--concurrency", "32"], input);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(lines(result.stdout)).toEqual([
        { key: "a", success: true, isNew: true },
        { key: "a", success: true, isNew: false },
        ...Array.from({ length: 200 }, (_, i) => ({ key: `limited-${i}`, success: true, isNew: true })),
      ]);
      expect(stored.get("a")).toBe("2");
      expect(stored.size).toBe(201);
    } finally {
      server.close();
    }
  });
});
