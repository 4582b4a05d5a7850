// Memory per key: loads N keys (key-000000…) with 100-byte values into a
// bare KeyValueStore (server defaults) and reports the load time and the
// RSS / heap deltas after full GCs.
// Usage: node --import tsx --expose-gc bench/memory.ts [N]   (prints one JSON line)
import { defaultConfig } from "../server/src/config/default-config.js";
import { createSystemClock } from "../server/src/store/clock.js";
import { KeyValueStore } from "../server/src/store/key-value-store.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  throw new Error("run with --expose-gc");
}
const fullGc = () => {
  for (let i = 0; i < 3; i++) gc();
};

const n = Number(process.argv[2] ?? 1_000_000);
const valueSize = 100;
const keyOf = (i: number) => `key-${String(i).padStart(6, "0")}`;
const keyLength = keyOf(0).length;

const store = new KeyValueStore(defaultConfig({}), createSystemClock());
fullGc();
const before = process.memoryUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  // A fresh value per key, as a decoded request would give (the store copies it anyway).
  const value = new Uint8Array(valueSize).fill(0x76);
  value[0] = 0x30 + (i % 10);
  value[1] = 0x30 + (Math.floor(i / 10) % 10);
  store.set("bench", { key: keyOf(i), value, contentType: "" });
}
const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
fullGc();
const after = process.memoryUsage();
const stats = store.stats();

const delta = (field: keyof NodeJS.MemoryUsage) => after[field] - before[field];
const rss = delta("rss");
const heapUsed = delta("heapUsed");
const arrayBuffers = delta("arrayBuffers");
const external = delta("external");
const live = heapUsed + external;
process.stdout.write(
  `${JSON.stringify({
    keys: n,
    keyLength,
    valueSize,
    storeKeys: Number(stats.keys),
    loadMs,
    keysPerSecond: n / (loadMs / 1000),
    rssDeltaBytes: rss,
    heapUsedDeltaBytes: heapUsed,
    externalDeltaBytes: external,
    arrayBuffersDeltaBytes: arrayBuffers,
    bytesPerKeyRss: rss / n,
    bytesPerKeyLive: live / n,
    overheadPerKeyRss: rss / n - keyLength - valueSize,
    overheadPerKeyLive: live / n - keyLength - valueSize,
    rssAfterBytes: after.rss,
  })}\n`,
);
