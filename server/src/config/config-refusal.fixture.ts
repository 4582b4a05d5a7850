import { expect } from "vitest";
import { ConfigError } from "./config-error.js";
import { loadConfig, type ConfigSources } from "./load-config.js";

/** The ConfigError message loadConfig(sources) throws; fails the test if none. */
export function refusal(sources: ConfigSources): string {
  try {
    loadConfig(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected loadConfig to throw a ConfigError");
}
