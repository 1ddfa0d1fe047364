// Summary statistics for benchmark repetitions.
export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

export function formatSummary(label: string, unit: string, s: Summary): string {
  const f = (v: number): string => v.toFixed(2);
  return `${label.padEnd(52)} n=${String(s.n).padStart(3)}  median ${f(s.median)} ${unit}  p99 ${f(s.p99)} ${unit}  min ${f(s.min)}  max ${f(s.max)}`;
}
