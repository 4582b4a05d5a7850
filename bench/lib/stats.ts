/** Median of finite numbers (undefined for none). */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : ((xs[mid - 1] ?? 0) + (xs[mid] ?? 0)) / 2;
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** p50, p90, p99, max of a Float64Array (sorted in place). */
export function summarize(values: Float64Array): { p50?: number; p90?: number; p99?: number; max?: number; mean?: number } {
  values.sort();
  let sum = 0;
  for (const v of values) sum += v;
  return {
    p50: percentileSorted(values, 50),
    p90: percentileSorted(values, 90),
    p99: percentileSorted(values, 99),
    max: values.length > 0 ? values[values.length - 1] : undefined,
    mean: values.length > 0 ? sum / values.length : undefined,
  };
}

/** a / b, or undefined when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return a / b;
}

/** Rounds for JSON output. */
export function round(value: number | undefined, digits = 2): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
