import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";

describe("ConfigError", () => {
  it("keeps a message that already names the option", () => {
    const e = new ConfigError("max_keys", "option 'max_keys' is set twice");
    expect(e.message).toBe("option 'max_keys' is set twice");
    expect(e.option).toBe("max_keys");
    expect(e.name).toBe("ConfigError");
    expect(e).toBeInstanceOf(Error);
  });

  it("prefixes a message that does not name the option", () => {
    expect(new ConfigError("snapshot.retain", "must be at least 1").message).toBe(
      "option 'snapshot.retain': must be at least 1",
    );
  });

  it("builds invalid-value messages", () => {
    expect(ConfigError.invalidValue("max_keys", 'expected a non-negative integer, got "abc"').message).toBe(
      `invalid value for option 'max_keys': expected a non-negative integer, got "abc"`,
    );
    const cause = new Error("boom");
    const e = ConfigError.invalidValue("max_keys", "bad", "from flags", { cause });
    expect(e.message).toBe("invalid value for option 'max_keys': bad (from flags)");
    expect(e.cause).toBe(cause);
  });

  it("builds unknown-option messages", () => {
    expect(ConfigError.unknownOption("max_kyes", "in /path/file.yaml").message).toBe(
      "unknown option 'max_kyes' (in /path/file.yaml)",
    );
    expect(ConfigError.unknownOption("max_kyes", "from flags", "max_keys").message).toBe(
      "unknown option 'max_kyes' (from flags); did you mean 'max_keys'?",
    );
  });
});
