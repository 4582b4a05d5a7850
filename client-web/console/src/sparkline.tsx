/** A small line chart of `values` (oldest first), scaled to its own maximum, with its latest value as text. */
export function Sparkline({ label, values, format = String }: { label: string; values: readonly number[]; format?: (n: number) => string }) {
  const width = 96;
  const height = 36;
  const max = Math.max(1, ...values);
  const y = (v: number) => (height - (v / max) * (height - 2) - 1).toFixed(1);
  // One sample is a level line until the next one comes.
  const points =
    values.length === 1
      ? `0,${y(values[0]!)} ${width},${y(values[0]!)}`
      : values.map((v, i) => `${((i * width) / (values.length - 1)).toFixed(1)},${y(v)}`).join(" ");
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
