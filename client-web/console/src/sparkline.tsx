/** A small line chart of `values` (oldest first), scaled to its own maximum, with its latest value as text. */
export function Sparkline({ label, values, format = String }: { label: string; values: readonly number[]; format?: (n: number) => string }) {
  const width = 96;
  const height = 36;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`).join(" ");
  const latest = values.at(-1);
  return (
    <figure className="sparkline">
      <figcaption>
        {label}: <strong>{latest === undefined ? "…" : format(latest)}</strong>
      </figcaption>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label} over the last minute`}>
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
      </svg>
    </figure>
  );
}
