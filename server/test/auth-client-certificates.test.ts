import { Code } from "@connectrpc/connect";
import { createKeyquarryClient, type KeyquarryClientOptions } from "@keyquarry/client-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../src/config/config.js";
import { bytes } from "./kit/bytes.js";
import { keyquarry } from "./kit/cli-process.js";
import { writeIdentitiesFile } from "./kit/identities.js";
import { rejection } from "./kit/rejection.js";
import { startTestServer, type TestServer } from "./kit/start-test-server.js";
import { createCa, issueCertificate, type CertificateFiles } from "./kit/test-certificates.js";
import { WatchScope } from "./kit/watch-helpers.js";

// The Node SDK over each protocol: gRPC and Connect JSON take the fast paths, gRPC-Web connect-es.
const clientKinds: Array<{ name: string; options: KeyquarryClientOptions }> = [
  { name: "grpc", options: { protocol: "grpc" } },
  { name: "connect-json", options: { protocol: "connect", useBinaryFormat: false } },
  { name: "grpc-web", options: { protocol: "grpc-web" } },
];

describe("auth with client certificates (ssl_client_ca)", () => {
  let dir: string;
  let server: TestServer;
  let ca: CertificateFiles;
  let config: Partial<Config>;
  const certificates: Record<string, CertificateFiles> = {};
  const scope = new WatchScope();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keyquarry-mtls-"));
    ca = createCa(dir, "test-ca");
    const rogueCa = createCa(dir, "rogue-ca");
    const serverCertificate = issueCertificate(dir, ca, "server", { cn: "localhost", altNames: ["DNS:localhost", "IP:127.0.0.1"], usage: "serverAuth" });
    certificates.billing = issueCertificate(dir, ca, "billing", { cn: "billing", usage: "clientAuth" });
    certificates.reader = issueCertificate(dir, ca, "reader", { cn: "not-an-identity", altNames: ["URI:spiffe://keyquarry.test/reader"], usage: "clientAuth" });
    certificates.stranger = issueCertificate(dir, ca, "stranger", { cn: "stranger", usage: "clientAuth" });
    certificates.rogue = issueCertificate(dir, rogueCa, "rogue", { cn: "boss", usage: "clientAuth" });
    const file = join(dir, "identities.yaml");
    await writeIdentitiesFile(file, [
      { id: "boss", role: "admin", tokens: ["boss-token"] },
      { id: "billing", role: "readwrite", keyPrefixes: ["billing/"] },
      { id: "spiffe://keyquarry.test/reader", role: "readonly" },
    ]);
    config = { sslCertfile: serverCertificate.cert, sslKeyfile: serverCertificate.key, sslClientCa: ca.cert, auth: { enabled: true, file } };
  });
  beforeEach(async () => {
    server = await startTestServer(config);
  });
  afterEach(async () => {
    scope.cancelAll();
    await server.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe.each(clientKinds)("$name", ({ options }) => {
    const withCertificate = (name: string) =>
      createKeyquarryClient(server.url, { ...options, tls: { caFile: ca.cert, certFile: certificates[name]!.cert, keyFile: certificates[name]!.key } });

    it("takes a verified certificate's CN as the identity", async () => {
      const billing = withCertificate("billing");
      expect(await billing.register({})).toMatchObject({ clientId: "billing" });
      expect(await billing.set({ key: `billing/${options.protocol}`, value: bytes("1") })).toMatchObject({ success: true });
      expect((await rejection(billing.set({ key: "payroll", value: bytes("1") }))).code).toBe(Code.PermissionDenied);
      const watch = await scope.open((signal) => billing.watchKeyValue({ key: "payroll" }, { signal })).ended;
      expect(watch?.code).toBe(Code.PermissionDenied);
    });

    it("takes a URI SAN as the identity when the CN names none", async () => {
      const reader = withCertificate("reader");
      expect(await reader.exists({ key: "billing/x" })).toMatchObject({ exists: false });
      const refused = await rejection(reader.set({ key: "a", value: bytes("1") }));
      expect([refused.code, refused.rawMessage]).toEqual([
        Code.PermissionDenied,
        'Set needs the write permission, which identity "spiffe://keyquarry.test/reader" (role readonly) lacks',
      ]);
    });

    it("refuses a certificate that names no identity, one from another CA, and no credentials (UNAUTHENTICATED)", async () => {
      const stranger = await rejection(withCertificate("stranger").stats({}));
      expect([stranger.code, stranger.rawMessage]).toEqual([Code.Unauthenticated, "the client certificate (stranger) names no identity"]);
      // Not verified against ssl_client_ca: as if none were sent, although its CN is an identity's.
      const rogue = await rejection(withCertificate("rogue").stats({}));
      expect([rogue.code, rogue.rawMessage]).toEqual([Code.Unauthenticated, expect.stringContaining("credentials required")]);
      const anonymous = await rejection(createKeyquarryClient(server.url, { ...options, tls: { caFile: ca.cert } }).stats({}));
      expect(anonymous.code).toBe(Code.Unauthenticated);
      const watch = await scope.open((signal) => withCertificate("rogue").watchStream({}, { signal })).ended;
      expect(watch?.code).toBe(Code.Unauthenticated);
    });

    it("still takes a token from a client without a certificate", async () => {
      const boss = createKeyquarryClient(server.url, { ...options, token: "boss-token", tls: { caFile: ca.cert } });
      expect(await boss.register({})).toMatchObject({ clientId: "boss" });
    });
  });

  it("lets the CLI authenticate with --cert and --key (and refuses one without the other)", async () => {
    const address = server.url;
    const { cert, key } = certificates.billing!;
    const registered = await keyquarry(["client", "--address", address, "--ca-certfile", ca.cert, "--cert", cert, "--key", key, "register"]);
    expect(registered).toMatchObject({ code: 0, stdout: '{"success":true,"clientId":"billing"}\n', stderr: "" });
    const anonymous = await keyquarry(["client", "--address", address, "--ca-certfile", ca.cert, "stats"]);
    expect(anonymous.stderr).toContain("keyquarry: unauthenticated: credentials required");
    const half = await keyquarry(["client", "--address", address, "--ca-certfile", ca.cert, "--key", key, "stats"]);
    expect(half).toMatchObject({ code: 2, stderr: "keyquarry: --key needs --cert\n" });
  });
});
