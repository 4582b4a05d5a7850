import { configOptions } from "./config-options.js";

/**
 * The known option name (or alias) closest to `name`, if `name` is
 * plausibly a typo of it; used for "did you mean" hints on unknown options.
 */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of configOptions) {
    for (const candidate of [option.name, ...option.aliases]) {
      const d = editDistance(name, candidate);
      if (d < bestDistance) [best, bestDistance] = [candidate, d];
    }
  }
  // Short names get a tighter budget, or "foo" would "mean" "pprof".
  return bestDistance <= Math.min(3, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance, with a swap of adjacent characters counting as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    rows.push(row);
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
