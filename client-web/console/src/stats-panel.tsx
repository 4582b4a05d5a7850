import type { KeyquarryWebClient, ServerMetrics } from "@keyquarry/client-web";
import { useEffect, useState } from "react";
import { describeError } from "./describe-error.js";
import { Sparkline } from "./sparkline.js";
import { formatBytes } from "./value-format.js";

/** Time between Stats calls. */
const pollMs = 2_000;
/** Points kept per chart (a minute). */
const historyLength = 30;

interface Sample {
  keys: number;
  eventsPerSecond: number;
  watchers: number;
}

/** Server stats polled every 2 s, with small live charts of keys, events per second and watchers. */
export function StatsPanel({ client, onError }: { client: KeyquarryWebClient; onError(message: string): void }) {
  const [latest, setLatest] = useState<ServerMetrics>();
  const [samples, setSamples] = useState<Sample[]>([]);

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
        // Once per outage, not every 2 s.
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

  return (
    <section className="panel" aria-labelledby="stats-heading">
      <h2 id="stats-heading">Server</h2>
      <div className="charts">
        <Sparkline label="Keys" values={samples.map((s) => s.keys)} />
        <Sparkline label="Events/s" values={samples.map((s) => s.eventsPerSecond)} format={(n) => n.toFixed(1)} />
        <Sparkline label="Watchers" values={samples.map((s) => s.watchers)} />
      </div>
      {latest !== undefined && (
        <dl className="facts">
          <dt>Version</dt>
          <dd>{latest.serverVersion}</dd>
          <dt>Total size</dt>
          <dd>{formatBytes(latest.totalSize ?? 0n)}</dd>
          <dt>Locks</dt>
          <dd>{String(latest.currentLocks ?? 0n)}</dd>
          <dt>Lifespans</dt>
          <dd>{String(latest.reapers ?? 0n)}</dd>
          <dt>Revision</dt>
          <dd>{String(latest.revision ?? 0n)}</dd>
        </dl>
      )}
    </section>
  );
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
