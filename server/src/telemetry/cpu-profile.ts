import { Session } from "node:inspector/promises";
import type { Profiler } from "node:inspector";

/**
 * Profiles this process's CPU for `seconds` with V8's sampling profiler
 * (through node:inspector): the profile, as a `.cpuprofile` file holds it
 * (Chrome DevTools and speedscope open it). `signal` stops it early.
 */
export async function cpuProfile(seconds: number, signal: AbortSignal): Promise<Profiler.Profile> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
    const { profile } = await session.post("Profiler.stop");
    return profile;
  } finally {
    session.disconnect();
  }
}
