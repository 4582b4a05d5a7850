import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultConfig, defaultListenPort, defaultMonitorPort } from "./default-config.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("defaultConfig", () => {
  it("has the documented defaults", () => {
    vi.spyOn(os, "userInfo").mockReturnValue({ username: "ada", uid: 1, gid: 1, shell: null, homedir: "/home/ada" });
    vi.spyOn(os, "hostname").mockReturnValue("box");
    expect(defaultConfig({ XDG_DATA_HOME: "/xdg" })).toEqual({
      listenAddress: "localhost:33969",
      corsOrigins: "",
      ui: true,
      name: "ada@box",
      sslCertfile: "",
      sslKeyfile: "",
      sslClientCa: "",
      gracefulShutdownTimeout: 30_000_000_000n,
      logLevel: "NOTICE",
      logJson: false,
      logEvents: false,
      eventStreamBufferSize: 1000,
      eventStreamSendTimeout: 1_000_000_000n,
      eventStreamSubscriberLimit: 10_000,
      eventStreamClientLimit: 100,
      eventStreamMaxBytes: 16 * 1024 * 1024,
      eventStreamTotalMaxBytes: 64 * 1024 * 1024,
      eventLogSize: 10000,
      monitorAddress: "localhost:33970",
      prometheus: false,
      expvar: false,
      pprof: false,
      trace: false,
      tracerName: "keyquarry_server",
      serviceName: "keyquarry",
      readonly: false,
      privilegedClientId: "",
      revisionLimit: 5,
      persistentRevisions: false,
      keepDeletedKeyHistory: false,
      deletedKeyHistoryMaxAge: 0n,
      maxKeyLength: 1024,
      maxValueSize: 1_000_000,
      maxKeys: 0,
      maxPatternLength: 1024,
      maxScanDuration: 1_000_000_000n,
      maxListKeysResponseSize: 4_194_304,
      maxClientIdLength: 256,
      maxClients: 100_000,
      maxRemovedKeyMetrics: 10_000,
      minLockDuration: 5_000_000_000n,
      maxLockDuration: 900_000_000_000n,
      minLifespan: 5_000_000_000n,
      pruneInterval: 0n,
      pruneAt: 0,
      pruneTo: 0,
      eagerPruneAt: 0,
      eagerPruneTo: 0,
      startFresh: false,
      dataDir: "/xdg/keyquarry",
      maxConcurrentStreams: 1000,
      maxHeaderListSize: 16_384,
      maxConnections: 10_000,
      handshakeTimeout: 10_000_000_000n,
      idleTimeout: 300_000_000_000n,
      keepaliveInterval: 60_000_000_000n,
      keepaliveTimeout: 20_000_000_000n,
      snapshot: { enabled: false, interval: 300n * 1_000_000_000n, journal: "sync", journalInterval: 1_000_000_000n, database: "", retain: 10 },
      cluster: {
        natsUrls: "",
        name: "keyquarry",
        replicas: 3,
        readConsistency: "linearizable",
        streamMaxMessages: 1_000_000,
        snapshotInterval: 60_000_000_000n,
        natsToken: "",
        natsUser: "",
        natsPassword: "",
        natsCreds: "",
        natsTlsCa: "",
        natsTlsCert: "",
        natsTlsKey: "",
      },
      auth: { enabled: false, file: "" },
    });
    expect(defaultListenPort).toBe(33969);
    expect(defaultMonitorPort).toBe(33970);
  });

  it("returns a fresh object every time", () => {
    const a = defaultConfig({});
    const b = defaultConfig({});
    expect(a).not.toBe(b);
    expect(a.snapshot).not.toBe(b.snapshot);
    a.snapshot.retain = 99;
    expect(b.snapshot.retain).toBe(10);
  });

  it("falls back to ~/.local/share without (or with a relative) XDG_DATA_HOME", () => {
    vi.spyOn(os, "homedir").mockReturnValue("/home/ada");
    const expected = path.join("/home/ada", ".local", "share", "keyquarry");
    expect(defaultConfig({}).dataDir).toBe(expected);
    expect(defaultConfig({ XDG_DATA_HOME: "relative/dir" }).dataDir).toBe(expected);
    expect(defaultConfig({ XDG_DATA_HOME: "" }).dataDir).toBe(expected);
  });

  it("uses only the part of user@host that is available", () => {
    vi.spyOn(os, "hostname").mockReturnValue("box");
    vi.spyOn(os, "userInfo").mockImplementation(() => {
      throw new Error("no passwd entry");
    });
    expect(defaultConfig({}).name).toBe("box");

    vi.spyOn(os, "hostname").mockReturnValue("");
    vi.spyOn(os, "userInfo").mockReturnValue({ username: "ada", uid: 1, gid: 1, shell: null, homedir: "/home/ada" });
    expect(defaultConfig({}).name).toBe("ada");

    vi.spyOn(os, "userInfo").mockReturnValue({ username: "", uid: 1, gid: 1, shell: null, homedir: "/" });
    expect(defaultConfig({}).name).toBe("keyquarry");
  });
});
