import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusal } from "./config-refusal.fixture.js";
import { loadConfig } from "./load-config.js";

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keyquarry-auth-config-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("auth.* and ssl_client_ca options", () => {
  it("reads auth.enabled and auth.file from a YAML group, the environment and flags", () => {
    const file = path.join(dir, "config.yaml");
    fs.writeFileSync(file, "auth:\n  enabled: true\n  file: /etc/keyquarry/identities.yaml\n");
    expect(loadConfig({ file }).auth).toEqual({ enabled: true, file: "/etc/keyquarry/identities.yaml" });
    const env = { KEYQUARRY_AUTH_ENABLED: "true", KEYQUARRY_AUTH_FILE: "/ids.yaml" };
    expect(loadConfig({ env }).auth).toEqual({ enabled: true, file: "/ids.yaml" });
    expect(loadConfig({ flags: { "auth.enabled": true, "auth.file": "/f.yaml" } }).auth).toEqual({ enabled: true, file: "/f.yaml" });
    const tls = { ssl_certfile: "/c.pem", ssl_keyfile: "/k.pem", ssl_client_ca: "/ca.pem", "auth.enabled": true, "auth.file": "/f.yaml" };
    expect(loadConfig({ flags: tls }).sslClientCa).toBe("/ca.pem");
  });

  it("refuses auth.enabled without auth.file, auth.file without auth.enabled, and ssl_client_ca without TLS or auth", () => {
    expect(refusal({ env: { KEYQUARRY_AUTH_ENABLED: "true" } })).toContain("auth.enabled");
    expect(refusal({ env: { KEYQUARRY_AUTH_ENABLED: "true" } })).toContain("needs auth.file (KEYQUARRY_AUTH_FILE)");
    expect(refusal({ env: { KEYQUARRY_AUTH_FILE: "/ids.yaml" } })).toContain("has no effect while auth is off: set auth.enabled");
    expect(refusal({ env: { KEYQUARRY_SSL_CLIENT_CA: "/ca.pem" } })).toContain("ssl_client_ca");
    expect(refusal({ env: { KEYQUARRY_SSL_CLIENT_CA: "/ca.pem" } })).toContain("needs TLS: set ssl_certfile and ssl_keyfile too");
    const tls = { KEYQUARRY_SSL_CERTFILE: "/c.pem", KEYQUARRY_SSL_KEYFILE: "/k.pem", KEYQUARRY_SSL_CLIENT_CA: "/ca.pem" };
    expect(refusal({ env: tls })).toContain("ssl_client_ca': has no effect while auth is off");
  });

  it("refuses privileged_client_id while auth is on (admin rights come from roles)", () => {
    const env = { KEYQUARRY_AUTH_ENABLED: "true", KEYQUARRY_AUTH_FILE: "/ids.yaml", KEYQUARRY_PRIVILEGED_CLIENT_ID: "boss" };
    expect(refusal({ env })).toContain("privileged_client_id': has no effect while auth is on: give the identity the admin role in auth.file instead");
  });

  it("refuses an auth group that is not a mapping, naming its options", () => {
    const file = path.join(dir, "scalar.yaml");
    fs.writeFileSync(file, "auth: on\n");
    expect(refusal({ file })).toContain("expected a mapping (enabled, file), got");
  });

  it("suggests the auth option an unknown KEYQUARRY_AUTH_* variable meant", () => {
    expect(refusal({ env: { KEYQUARRY_AUTH_FIEL: "/ids.yaml" } })).toContain("did you mean 'KEYQUARRY_AUTH_FILE'?");
  });
});
