import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { build, defaultConfig, type KeyquarryServer } from "@keyquarry/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestServer } from "../../server/test/kit/start-test-server.js";
import { createKeyquarryClient, type KeyquarryClientOptions } from "../src/index.js";

const protocols = ["grpc", "grpc-web", "connect"] as const;

function startServer(overrides: Partial<ReturnType<typeof defaultConfig>>): Promise<KeyquarryServer> {
  return build({ ...defaultConfig(), logLevel: "ERROR", ...overrides });
}

/** Sets and reads back a key unique to the options used. */
async function roundTrip(address: string, options: KeyquarryClientOptions): Promise<void> {
  const client = createKeyquarryClient(address, { clientId: "a", ...options });
  const key = `round-trip-${JSON.stringify(options)}`;
  const value = new TextEncoder().encode(key);
  expect(await client.set({ key, value })).toMatchObject({ success: true, isNew: true });
  expect((await client.get({ key })).value).toEqual(value);
}

describe("createKeyquarryClient over TCP", () => {
  let server: KeyquarryServer;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await startTestServer());
  });

  afterAll(async () => {
    await server.close();
  });

  it.each(protocols)("round-trips with %s", (protocol) => roundTrip(url, { protocol }));

  it.each(["grpc-web", "connect"] as const)("round-trips with %s over HTTP/2", (protocol) =>
    roundTrip(url, { protocol, httpVersion: "2" }),
  );

  it("round-trips with connect and JSON", () => roundTrip(url, { protocol: "connect", useBinaryFormat: false }));

  it("accepts host:port addresses", () => roundTrip(new URL(url).host, {}));

  it("sends the client id with every call", async () => {
    const client = createKeyquarryClient(url, { clientId: "keyquarry" });
    const error = await client.get({ key: "foo" }).catch((err: unknown) => err);
    expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
  });

  it("reaches the Admin service under admin", async () => {
    const client = createKeyquarryClient(url, { clientId: "a" });
    const error = await client.admin.prune({ pruneTo: 0n }).catch((err: unknown) => err);
    // Without a privileged client id configured, every Admin call is refused.
    expect(ConnectError.from(error).code).toBe(Code.PermissionDenied);
  });

  it.each(protocols)("ends a watch on the server when the loop over it is left (%s)", async (protocol) => {
    const client = createKeyquarryClient(url, { clientId: "a", protocol });
    const watchers = server.hub.size;
    await client.set({ key: `left-${protocol}`, value: new Uint8Array([1]) });
    // The first message of WatchKeyValue is the key's current state.
    for await (const message of client.watchKeyValue({ key: `left-${protocol}` })) {
      expect(message.key).toBe(`left-${protocol}`);
      expect(server.hub.size).toBe(watchers + 1);
      break;
    }
    await vi.waitFor(() => expect(server.hub.size).toBe(watchers));
  });

  it("rejects an https address with TLS disabled", () => {
    expect(() => createKeyquarryClient("https://localhost:1", { tls: false })).toThrow("requires TLS");
  });
});

describe("createKeyquarryClient over a unix socket", () => {
  let server: KeyquarryServer;
  let dir: string;
  let address: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-sdk-"));
    server = await startServer({ listenAddress: `unix://${join(dir, "kq.sock")}` });
    address = await server.listen();
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(protocols)("round-trips with %s", (protocol) => roundTrip(address, { protocol }));

  it("fails early when the socket file is missing", () => {
    const missing = join(dir, "missing.sock");
    expect(() => createKeyquarryClient(`unix://${missing}`)).toThrow(`socket file '${missing}' not found`);
  });
});

// Certificates are made with the openssl command (Debian's openssl package); without it these fail.
describe("createKeyquarryClient over TLS", () => {
  let server: KeyquarryServer;
  let dir: string;
  let url: string;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-tls-"));
    caFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    // A self-signed certificate for localhost acts as its own CA.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
      "-keyout", keyFile, "-out", caFile,
    ], { stdio: "ignore" });
    ({ server, url } = await startTestServer({ sslCertfile: caFile, sslKeyfile: keyFile }));
    url = url.replace("127.0.0.1", "localhost");
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(protocols)("round-trips with %s and a CA file", (protocol) =>
    roundTrip(url, { protocol, tls: { caFile } }),
  );

  it("round-trips without verification when insecure", () =>
    roundTrip(new URL(url).host, { tls: { insecure: true } }),
  );

  it("refuses an unknown certificate by default", async () => {
    const client = createKeyquarryClient(url, { clientId: "a" });
    await expect(client.exists({ key: "foo" })).rejects.toThrow(ConnectError);
  });
});
