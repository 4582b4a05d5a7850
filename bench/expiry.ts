// Lifespan expiry of N keys, driven by the server's real expiry timer
// (startExpiryTimer) and the system clock, on a bare KeyValueStore.
//
// Every key gets a lifespan such that the N deadlines are spread evenly over
// a window of W seconds (default 2) that starts after the load has finished,
// i.e. as if the N keys had been set within W seconds with the same lifespan.
// (Setting them all with one fixed lifespan would spread the deadlines over
// however long this machine takes to load N keys, which would make the test
// depend on the load speed; loading is synchronous, so no timer can fire
// during it.) Then the process idles while the timer expires them.
//
// Reports the CPU (process.cpuUsage, user+system) spent from the end of the
// load until the last EXPIRED event plus the first Stats call after it (which
// finishes the store's deferred bookkeeping of removed keys; its duration is
// reported as firstWalkMs; the idle wait before the first deadline costs
// ~nothing), and the lateness of each EXPIRED event: clock.now() when
// the listener sees it minus the event's time, which is the deadline. The
// listener itself (one clock read per event) is included in the CPU.
// Usage: node --import tsx --expose-gc bench/expiry.ts N WINDOW_S [ESTIMATED_LOAD_S]   (prints one JSON line)
import { StoreEventKind } from "../server/src/store/store-event-kind.js";
import { defaultConfig } from "../server/src/config/default-config.js";
import { startExpiryTimer } from "../server/src/host/expiry-timer.js";
import { createSystemClock } from "../server/src/store/clock.js";
import { KeyValueStore } from "../server/src/store/key-value-store.js";
import { summarize } from "./lib/stats.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  throw new Error("run with --expose-gc");
}

const n = Number(process.argv[2] ?? 1_000_000);
const windowS = Number(process.argv[3] ?? 2);
const minLifespan = 1_000_000n; // 1 ms (the default minimum is 5 s)
const options = { ...defaultConfig({}), minLifespan };
const keyOf = (i: number) => `key-${String(i).padStart(6, "0")}`;
const value = new Uint8Array(100).fill(0x76);

let estimatedLoadS = Number(process.argv[4] ?? NaN);
if (!Number.isFinite(estimatedLoadS) || estimatedLoadS <= 0) {
  // Calibrate on a throwaway store; loading slows down as the heap grows, hence x2.
  const count = Math.min(n, 100_000);
  const throwaway = new KeyValueStore(options, createSystemClock());
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    throwaway.set("bench", { key: keyOf(i), value, contentType: "", lifespan: 3_600_000_000_000n });
  }
  estimatedLoadS = ((Number(process.hrtime.bigint() - start) / 1e9) * n * 2) / count;
  gc();
}

const clock = createSystemClock();
const store = new KeyValueStore(options, clock);
const lateness = new Float64Array(n);
let expired = 0;
let firstDeadline: bigint | undefined;
let lastDeadline: bigint | undefined;
let lastAt: bigint | undefined;
let resolveAll = () => {};
const allExpired = new Promise<void>((resolve) => (resolveAll = resolve));
store.subscribe((event) => {
  if (event.event !== StoreEventKind.EXPIRED) return;
  const now = clock.now();
  if (expired < n) lateness[expired] = Number(now - event.time) / 1e6;
  expired++;
  if (firstDeadline === undefined || event.time < firstDeadline) firstDeadline = event.time;
  if (lastDeadline === undefined || event.time > lastDeadline) lastDeadline = event.time;
  lastAt = now;
  if (expired === n) resolveAll();
});
const stopTimer = startExpiryTimer(store, clock);

const loadStart = clock.now();
// The window starts 1.5x the estimated load time (+1 s) after the load starts.
const windowStart = loadStart + BigInt(Math.round((estimatedLoadS * 1.5 + 1) * 1e9));
const windowNs = BigInt(Math.round(windowS * 1e9));
let deadlinesMoved = 0;
for (let i = 0; i < n; i++) {
  const deadline = windowStart + (windowNs * BigInt(i)) / BigInt(n);
  let lifespan = deadline - clock.now();
  if (lifespan < minLifespan) {
    // The load overran the estimate: this key's deadline is already past.
    lifespan = minLifespan;
    deadlinesMoved++;
  }
  store.set("bench", { key: keyOf(i), value, contentType: "", lifespan });
}
const loadEnd = clock.now();
const expiredDuringLoad = expired;
gc();
const cpuStart = process.cpuUsage();
const cpuStartAt = clock.now();
// Bounded wait: until every key expired, or 60 s past the window's end.
const waitMs = Number(windowStart + windowNs - clock.now()) / 1e6 + 60_000;
let timer: NodeJS.Timeout | undefined;
const finished = await Promise.race([
  allExpired.then(() => true),
  new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs))),
]);
clearTimeout(timer);
const cpuExpiring = process.cpuUsage(cpuStart);
// The store leaves some bookkeeping of removed keys to the next operation that walks
// every key (here Stats): it is part of what expiring costs, so it is inside the CPU
// window, and its duration is reported, as the one call that pays it waits that long.
const walkStart = process.hrtime.bigint();
const keysLeft = Number(store.stats().keys);
const firstWalkMs = Number(process.hrtime.bigint() - walkStart) / 1e6;
const cpu = process.cpuUsage(cpuStart);
stopTimer();
const s = summarize(lateness.subarray(0, Math.min(expired, n)));
process.stdout.write(
  `${JSON.stringify({
    keys: n,
    windowS,
    loadS: Number(loadEnd - loadStart) / 1e9,
    estimatedLoadS,
    idleBeforeFirstDeadlineS: Number(windowStart - loadEnd) / 1e9,
    deadlinesMoved,
    expiredDuringLoad,
    expired,
    finished,
    keysLeft,
    firstWalkMs,
    cpuExpiringS: (cpuExpiring.user + cpuExpiring.system) / 1e6,
    deadlinesSpreadS: firstDeadline !== undefined && lastDeadline !== undefined ? Number(lastDeadline - firstDeadline) / 1e9 : null,
    cpuWindowStartedBeforeFirstDeadlineMs: firstDeadline !== undefined ? Number(firstDeadline - cpuStartAt) / 1e6 : null,
    expiryWallS: firstDeadline !== undefined && lastAt !== undefined ? Number(lastAt - firstDeadline) / 1e9 : null,
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    cpuTotalS: (cpu.user + cpu.system) / 1e6,
    latenessMs: { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean },
  })}\n`,
);
