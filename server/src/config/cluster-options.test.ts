import { describe, expect, it } from "vitest";
import { refusal } from "./config-refusal.fixture.js";
import { loadConfig } from "./load-config.js";

const urls = "nats://127.0.0.1:4222,nats://127.0.0.1:4223";

describe("cluster.* options", () => {
  it("reads the cluster from the environment and flags, with its defaults", () => {
    const env = { KEYQUARRY_CLUSTER_NATS_URLS: urls, KEYQUARRY_CLUSTER_READ_CONSISTENCY: "Serializable" };
    const { cluster } = loadConfig({ env });
    expect(cluster).toMatchObject({ natsUrls: urls, name: "keyquarry", replicas: 3, readConsistency: "serializable" });
    expect(loadConfig({ flags: { "cluster.nats_urls": urls, "cluster.name": "orders", "cluster.replicas": "5" } }).cluster).toMatchObject({
      name: "orders",
      replicas: 5,
    });
  });

  it("refuses cluster options without cluster.nats_urls, naming the option", () => {
    expect(refusal({ env: { KEYQUARRY_CLUSTER_NAME: "orders" } })).toContain("cluster.name");
    expect(refusal({ env: { KEYQUARRY_CLUSTER_READ_CONSISTENCY: "serializable" } })).toContain("has no effect without cluster.nats_urls");
  });

  it("refuses bad values: URLs, replicas, stream names, read consistency, half of a pair", () => {
    const withUrls = (env: Record<string, string>) => refusal({ env: { KEYQUARRY_CLUSTER_NATS_URLS: urls, ...env } });
    expect(refusal({ env: { KEYQUARRY_CLUSTER_NATS_URLS: "http://x:1" } })).toContain("cluster.nats_urls");
    expect(withUrls({ KEYQUARRY_CLUSTER_REPLICAS: "2" })).toContain("must be 1, 3 or 5");
    expect(withUrls({ KEYQUARRY_CLUSTER_NAME: "a.b" })).toContain("cluster.name");
    expect(withUrls({ KEYQUARRY_CLUSTER_READ_CONSISTENCY: "eventual" })).toContain("one of linearizable, serializable");
    expect(withUrls({ KEYQUARRY_CLUSTER_NATS_TLS_CERT: "/c.pem" })).toContain("cluster.nats_tls_key");
    expect(withUrls({ KEYQUARRY_CLUSTER_NATS_USER: "kq" })).toContain("cluster.nats_password");
  });

  it("refuses a batched journal in a cluster (its log is the journal; writes wait for its replicas)", () => {
    const env = { KEYQUARRY_CLUSTER_NATS_URLS: urls, KEYQUARRY_SNAPSHOT_ENABLED: "true", KEYQUARRY_SNAPSHOT_JOURNAL: "batched" };
    expect(refusal({ env })).toContain("cannot be batched in a cluster");
  });
});
