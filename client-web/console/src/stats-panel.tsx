import { Sparkline } from "./sparkline.js";
import type { ServerStats } from "./use-server-stats.js";
import { formatBytes } from "./value-format.js";

/** Server stats (see useServerStats), with small live charts of keys, events per second and watchers. */
export function StatsPanel({ stats: { latest, samples } }: { stats: ServerStats }) {
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
