import { describe, expect, it } from "vitest";
import { configOptions, findOption } from "./config-options.js";
import type { Config } from "./config.js";
import { defaultConfig } from "./default-config.js";

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe("configOptions", () => {
  it("lists every option under its snake_case name", () => {
    expect(configOptions.map((o) => `${o.name}:${o.kind}`)).toEqual([
      "listen_address:string",
      "cors_origins:string",
      "ui:boolean",
      "name:string",
      "ssl_certfile:string",
      "ssl_keyfile:string",
      "ssl_client_ca:string",
      "graceful_shutdown_timeout:duration",
      "log_level:logLevel",
      "log_json:boolean",
      "log_events:boolean",
      "event_stream_buffer_size:integer",
      "event_stream_send_timeout:duration",
      "event_stream_subscriber_limit:integer",
      "event_stream_client_limit:integer",
      "event_stream_max_bytes:integer",
      "event_stream_total_max_bytes:integer",
      "event_log_size:integer",
      "monitor_address:string",
      "prometheus:boolean",
      "expvar:boolean",
      "pprof:boolean",
      "trace:boolean",
      "tracer_name:string",
      "service_name:string",
      "readonly:boolean",
      "privileged_client_id:string",
      "revision_limit:integer",
      "persistent_revisions:boolean",
      "keep_deleted_key_history:boolean",
      "deleted_key_history_max_age:duration",
      "max_key_length:integer",
      "max_value_size:integer",
      "max_keys:integer",
      "max_pattern_length:integer",
      "max_scan_duration:duration",
      "max_list_keys_response_size:integer",
      "max_client_id_length:integer",
      "max_clients:integer",
      "max_removed_key_metrics:integer",
      "min_lock_duration:duration",
      "max_lock_duration:duration",
      "min_lifespan:duration",
      "prune_interval:duration",
      "prune_at:integer",
      "prune_to:integer",
      "eager_prune_at:integer",
      "eager_prune_to:integer",
      "start_fresh:boolean",
      "data_dir:string",
      "max_concurrent_streams:integer",
      "max_header_list_size:integer",
      "max_connections:integer",
      "handshake_timeout:duration",
      "idle_timeout:duration",
      "keepalive_interval:duration",
      "keepalive_timeout:duration",
      "snapshot.enabled:boolean",
      "snapshot.interval:duration",
      "snapshot.journal:journalMode",
      "snapshot.journal_interval:duration",
      "snapshot.database:string",
      "snapshot.retain:integer",
      "cluster.nats_urls:string",
      "cluster.name:string",
      "cluster.replicas:integer",
      "cluster.read_consistency:readConsistency",
      "cluster.stream_max_messages:integer",
      "cluster.snapshot_interval:duration",
      "cluster.nats_token:string",
      "cluster.nats_user:string",
      "cluster.nats_password:string",
      "cluster.nats_creds:string",
      "cluster.nats_tls_ca:string",
      "cluster.nats_tls_cert:string",
      "cluster.nats_tls_key:string",
      "auth.enabled:boolean",
      "auth.file:string",
    ]);
  });

  it("each option reads and writes exactly its own Config property", () => {
    const leaves = (c: Config): Map<string, unknown> => {
      const { snapshot, cluster, auth, ...top } = c;
      const out = new Map<string, unknown>();
      for (const [k, v] of Object.entries(top)) out.set(snake(k), v);
      for (const [k, v] of Object.entries(snapshot)) out.set(`snapshot.${snake(k)}`, v);
      for (const [k, v] of Object.entries(cluster)) out.set(`cluster.${snake(k)}`, v);
      for (const [k, v] of Object.entries(auth)) out.set(`auth.${snake(k)}`, v);
      return out;
    };
    const base = leaves(defaultConfig({}));
    expect(new Set(configOptions.map((o) => o.name))).toEqual(new Set(base.keys()));

    for (const option of configOptions) {
      const config = defaultConfig({});
      switch (option.kind) {
        case "boolean":
          option.set(config, !option.get(config));
          break;
        case "integer":
          option.set(config, 4242);
          break;
        case "duration":
          option.set(config, 4242n);
          break;
        case "string":
          option.set(config, "changed");
          break;
        case "logLevel":
          option.set(config, "EVENT");
          break;
        case "readConsistency":
          option.set(config, "serializable");
          break;
        case "journalMode":
          option.set(config, "batched");
          break;
      }
      const changed = [...leaves(config)].filter(([k, v]) => base.get(k) !== v).map(([k]) => k);
      expect(changed).toEqual([option.name]);
      expect(option.get(config)).toBe(leaves(config).get(option.name));
    }
  });

  it("get/set reach the right property, nested ones included", () => {
    const config = defaultConfig({});
    const retain = findOption("snapshot.retain");
    const listen = findOption("listen_address");
    if (retain?.kind !== "integer" || listen?.kind !== "string") throw new Error("wrong kinds");
    retain.set(config, 3);
    listen.set(config, ":1");
    expect(config.snapshot.retain).toBe(3);
    expect(config.listenAddress).toBe(":1");
    expect(retain.get(config)).toBe(3);
  });

  it("finds options by name and alias", () => {
    expect(findOption("graceful_stop_timeout")?.name).toBe("graceful_shutdown_timeout");
    expect(findOption("keep_key_history_after_delete")?.name).toBe("keep_deleted_key_history");
    expect(findOption("metrics")?.name).toBe("prometheus");
    expect(findOption("revision_limit")?.minimum).toBe(-1);
    expect(findOption("max_kyes")).toBeUndefined();
    expect(findOption("snapshot")).toBeUndefined();
  });
});
