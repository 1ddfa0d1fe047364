// The side-by-side table of `npm run bench:watch` (pure: run results in, text out).
import type { RunResult } from './watch-measure';

export interface RateRow {
  /** Target rate of the rung (frames/s). */
  rate: number;
  ours: RunResult[];
  arpwatch: RunResult[];
}

export type Side = 'ours' | 'arpwatch';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A rung is lossless when no repetition lost a frame in the kernel. */
export function lossless(runs: readonly RunResult[]): boolean {
  return runs.length > 0 && runs.every((run) => run.kernelDrops === 0);
}

/** The flooder reached at least 95% of the target in the median run. */
export function reached(row: RateRow, side: Side): boolean {
  return median(row[side].map((r) => r.sentRate)) >= 0.95 * row.rate;
}

/**
 * The highest rung, climbing the ladder, where this side lost nothing in any repetition and the flooder
 * reached the target (a rung the flooder could not drive says nothing); stops at the first rung with a loss.
 * Returns the rung's target rate, 0 when none.
 */
export function highestLossless(rows: readonly RateRow[], side: Side): number {
  let best = 0;
  for (const row of [...rows].sort((a, b) => a.rate - b.rate)) {
    if (!lossless(row[side])) break;
    if (reached(row, side)) best = row.rate;
  }
  return best;
}

const k = (value: number): string => (Number.isFinite(value) ? (value >= 10_000 ? `${(value / 1000).toFixed(0)}k` : value.toFixed(0)) : '-');
const pct = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)}%` : '-');

function lossText(runs: readonly RunResult[]): string {
  if (runs.length === 0) return '-';
  const drops = median(runs.map((r) => r.kernelDrops));
  const delivered = median(runs.map((r) => r.delivered));
  const worst = Math.max(...runs.map((r) => r.kernelDrops));
  if (worst === 0) return '0';
  return `${k(drops)} (${((100 * drops) / delivered).toFixed(1)}%) max ${k(worst)}`;
}

const COLUMNS = [
  ['target', 7],
  ['ipfo sent/s', 11], ['ipfo seen', 10], ['ipfo drops', 22], ['ipfo cpu', 9], ['max', 7],
  ['arpw sent/s', 11], ['arpw seen', 10], ['arpw drops', 22], ['arpw cpu', 9], ['max', 7],
] as const;

function line(values: readonly string[]): string {
  return COLUMNS.map(([, width], i) => (values[i] ?? '').padStart(width)).join(' ');
}

function side(runs: readonly RunResult[]): string[] {
  return [
    k(median(runs.map((r) => r.sentRate))),
    k(median(runs.map((r) => r.seen))),
    lossText(runs),
    pct(median(runs.map((r) => r.cpuPercent))),
    pct(Math.max(...runs.map((r) => r.cpuPercent))),
  ];
}

/** ipfo's median cpu over arpwatch's at one rung: at the same frame rate, the ratio of cpu per frame. */
export function cpuRatio(row: RateRow): string {
  const ours = median(row.ours.map((r) => r.cpuPercent));
  const theirs = median(row.arpwatch.map((r) => r.cpuPercent));
  return theirs > 0 && Number.isFinite(ours) ? `${(ours / theirs).toFixed(2)}x` : '-';
}

/** Medians over repetitions, one row per rung; "drops" = kernel drops of the capture socket (share of delivered, worst rep). */
export function formatWatchTable(rows: readonly RateRow[]): string {
  const header = line(COLUMNS.map(([title]) => title));
  const body = rows.map((row) => line([k(row.rate), ...side(row.ours), ...side(row.arpwatch)]));
  const ours = highestLossless(rows, 'ours');
  const theirs = highestLossless(rows, 'arpwatch');
  const cpuAt = (who: Side, rate: number): string => {
    const row = rows.find((r) => r.rate === rate);
    return row ? pct(median(row[who].map((r) => r.cpuPercent))) : '-';
  };
  const top = rows.reduce((max, row) => Math.max(max, row.rate), 0);
  const short = rows.filter((row) => !reached(row, 'ours') || !reached(row, 'arpwatch')).map((row) => k(row.rate));
  const summary = [
    'highest rung with zero kernel drops in every repetition (and at every rung below), flooder at >= 95% of target:',
    `  ipfo watch: ${ours > 0 ? `${k(ours)} fps at ${cpuAt('ours', ours)} of one core` : 'none of the ladder'}`,
    `  arpwatch:   ${theirs > 0 ? `${k(theirs)} fps at ${cpuAt('arpwatch', theirs)} of one core` : 'none of the ladder'}`,
    `  ratio ipfo / arpwatch: ${theirs > 0 ? `${(ours / theirs).toFixed(2)}x` : '-'}${ours === top || theirs === top ? ' (lossless at the top of the ladder: a lower bound for that side)' : ''}`,
    `cpu per frame, ipfo watch / arpwatch (median cpu of each rung): ${rows.map((row) => `${k(row.rate)} ${cpuRatio(row)}`).join(', ')}`,
    ...(short.length > 0 ? [`  the flooder fell short of the target (< 95%) at: ${short.join(', ')} — those rungs do not count`] : []),
  ];
  return [header, '-'.repeat(header.length), ...body, '', ...summary].join('\n');
}
