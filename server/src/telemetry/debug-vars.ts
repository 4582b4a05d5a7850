import { getHeapStatistics } from "node:v8";
import type { Config } from "../config/config.js";
import { configOptions } from "../config/config-options.js";
import { formatDuration } from "../duration/parse-duration.js";
import type { KeyValueStore } from "../store/key-value-store.js";
import { StoreEventKind } from "../store/store-event-kind.js";
import type { WatchHub } from "../watch/watch-hub.js";

/** What a secret is replaced with (Go's url.URL.Redacted writes the same). */
const redacted = "xxxxx";

/**
 * The `/debug/vars` document (as Go's expvar): the command line, process
 * memory and heap, the store's Stats, the watchers, and the effective
 * configuration by option name with its secrets redacted.
 */
export function debugVars(config: Config, store: KeyValueStore, hub: WatchHub): object {
  const stats = store.stats();
  return {
    cmdline: process.argv,
    memstats: { ...process.memoryUsage(), heap: getHeapStatistics() },
    stats: {
      ...Object.fromEntries(Object.entries(stats).filter(([, value]) => typeof value === "bigint").map(([name, value]) => [name, Number(value)])),
      events: Object.fromEntries(stats.events.map((count, kind) => [StoreEventKind[kind]!.toLowerCase(), Number(count)])),
      watchers: hub.size,
      eventLogEvents: hub.eventLogLength,
      watchersCut: hub.watchersCut,
    },
    config: redactedConfig(config),
  };
}

/** The configuration by option name, durations as text; the privileged client id and a database URL's password redacted. */
export function redactedConfig(config: Config): Record<string, string | number | boolean> {
  const options: Record<string, string | number | boolean> = {};
  for (const option of configOptions) {
    const value = option.get(config);
    options[option.name] = typeof value === "bigint" ? formatDuration(value) : value;
  }
  if (config.privilegedClientId !== "") {
    options["privileged_client_id"] = redacted;
  }
  options["snapshot.database"] = redactedUrl(config.snapshot.database);
  return options;
}

/** `text` with the passwords of its URL (user info, `password` parameters) replaced; other text as it is. */
export function redactedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.password !== "") {
    url.password = redacted;
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (/pass/i.test(name)) {
      url.searchParams.set(name, redacted);
      changed = true;
    }
  }
  return changed ? url.href : text;
}
