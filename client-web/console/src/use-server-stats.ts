import type { KeyquarryWebClient, ServerMetrics } from "@keyquarry/client-web";
import { useEffect, useState } from "react";
import { describeError } from "./describe-error.js";

/** Time between Stats calls. */
const pollMs = 2_000;
/** Points kept per chart (a minute). */
const historyLength = 30;

/** One Stats answer as the charts plot it. */
export interface StatsSample {
  keys: number;
  eventsPerSecond: number;
  watchers: number;
}

/** The latest Stats answer (undefined until the first) and the samples of the last minute. */
export interface ServerStats {
  latest: ServerMetrics | undefined;
  samples: StatsSample[];
}

/**
 * The server's Stats, polled every 2 s: the stats panel's figures and the
 * read-only flag (a read, so it costs a readonly identity nothing and
 * changes no write metrics). A failure is reported once per outage.
 */
export function useServerStats(client: KeyquarryWebClient, onError: (message: string) => void): ServerStats {
  const [latest, setLatest] = useState<ServerMetrics>();
  const [samples, setSamples] = useState<StatsSample[]>([]);

  useEffect(() => {
    let previous: { at: number; events: number } | undefined;
    let failing = false;
    const poll = async () => {
      try {
        const stats = await client.stats({});
        failing = false;
        const at = performance.now();
        const events = totalEvents(stats);
        const eventsPerSecond = previous === undefined ? 0 : Math.max(0, (events - previous.events) / ((at - previous.at) / 1000));
        previous = { at, events };
        setLatest(stats);
        setSamples((s) => [...s, { keys: Number(stats.keys ?? 0n), eventsPerSecond, watchers: Number(stats.eventSubscribers ?? 0n) }].slice(-historyLength));
      } catch (error) {
        if (!failing) {
          onError(describeError("Stats", error));
        }
        failing = true;
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), pollMs);
    return () => clearInterval(timer);
  }, [client, onError]);

  return { latest, samples };
}

function totalEvents(stats: ServerMetrics): number {
  const e = stats.events;
  if (e === undefined) {
    return 0;
  }
  return [e.new, e.updated, e.deleted, e.locked, e.unlocked, e.expired, e.expunged, e.accessed, e.lifespanSet, e.lifespanRenewed]
    .map((n) => Number(n ?? 0n))
    .reduce((a, b) => a + b, 0);
}
