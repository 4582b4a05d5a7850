import { describe, expect, it } from "vitest";
import { defaultConfig } from "../config/default-config.js";
import { redactedConfig, redactedUrl } from "./debug-vars.js";

describe("redactedUrl", () => {
  it("replaces a URL's password, in its user info or a password parameter", () => {
    expect(redactedUrl("postgres://kq:s3cret@db:5432/kq")).toBe("postgres://kq:xxxxx@db:5432/kq");
    expect(redactedUrl("postgresql://kq@db/kq?password=s3cret&sslmode=require")).toBe("postgresql://kq@db/kq?password=xxxxx&sslmode=require");
  });

  it("leaves text without a password as it is", () => {
    expect(redactedUrl("")).toBe("");
    expect(redactedUrl("sqlite:///var/lib/kq.db")).toBe("sqlite:///var/lib/kq.db");
    expect(redactedUrl("postgres://kq@db/kq")).toBe("postgres://kq@db/kq");
  });
});

describe("redactedConfig", () => {
  it("lists every option by name, durations as text, secrets redacted", () => {
    const config = defaultConfig();
    config.privilegedClientId = "boss";
    config.snapshot.database = "postgres://kq:s3cret@db/kq";
    const redacted = redactedConfig(config);
    expect(redacted["privileged_client_id"]).toBe("xxxxx");
    expect(redacted["snapshot.database"]).toBe("postgres://kq:xxxxx@db/kq");
    expect(redacted["listen_address"]).toBe(config.listenAddress);
    expect(typeof redacted["graceful_shutdown_timeout"]).toBe("string");
    expect(JSON.stringify(redacted)).not.toContain("s3cret");
  });

  it("shows an unset privileged client id as unset", () => {
    expect(redactedConfig(defaultConfig())["privileged_client_id"]).toBe("");
  });
});
