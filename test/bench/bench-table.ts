// The side-by-side table of `npm run bench` (pure: rows in, text out): one row per scenario, our
// median / p99 next to keepalived's (defaults and tuned) and the ratio keepalived / ours.
import type { Summary } from './stats';

export interface PeerFigure {
  summary: Summary | null;
  /** Why there is no figure, or what it stands for (a footnote mark is added). */
  note?: string;
}

export interface TableRow {
  label: string;
  ours: Summary | null;
  oursNote?: string;
  peerDefault: PeerFigure;
  peerTuned: PeerFigure;
}

const COLUMNS = [
  { title: 'scenario', width: 42 },
  { title: 'n', width: 4 },
  { title: 'ours median', width: 12 },
  { title: 'ours p99', width: 10 },
  { title: 'kad default med', width: 16 },
  { title: 'kad default p99', width: 16 },
  { title: 'ratio med/p99', width: 14 },
  { title: 'kad tuned med', width: 14 },
  { title: 'kad tuned p99', width: 14 },
  { title: 'ratio med/p99', width: 14 },
] as const;

/** A figure in ms, or s from a second on; '-' for none. */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

function ratio(peer: number | undefined, ours: number | undefined): string {
  if (peer === undefined || ours === undefined || !Number.isFinite(peer) || !Number.isFinite(ours) || ours <= 0) return '-';
  const r = peer / ours;
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;
}

function cells(row: TableRow): string[] {
  const { ours, peerDefault: d, peerTuned: t } = row;
  return [
    row.label,
    String(ours?.n ?? d.summary?.n ?? t.summary?.n ?? 0),
    ms(ours?.median),
    ms(ours?.p99),
    ms(d.summary?.median),
    ms(d.summary?.p99),
    `${ratio(d.summary?.median, ours?.median)} / ${ratio(d.summary?.p99, ours?.p99)}`,
    ms(t.summary?.median),
    ms(t.summary?.p99),
    `${ratio(t.summary?.median, ours?.median)} / ${ratio(t.summary?.p99, ours?.p99)}`,
  ];
}

function line(values: readonly string[]): string {
  return COLUMNS.map((column, i) => {
    const value = values[i] ?? '';
    return i === 0 ? value.padEnd(column.width) : value.padStart(column.width);
  }).join(' ').trimEnd();
}

/** The table, then one footnote per row note (ours and keepalived's). */
export function formatTable(rows: readonly TableRow[]): string {
  const header = line(COLUMNS.map((c) => c.title));
  const notes: string[] = [];
  const body = rows.map((row) => {
    const marks: string[] = [];
    for (const [who, note] of [['ours', row.oursNote], ['keepalived', row.peerDefault.note ?? row.peerTuned.note]] as const) {
      if (note === undefined) continue;
      notes.push(`[${notes.length + 1}] ${row.label}, ${who}: ${note}`);
      marks.push(`[${notes.length}]`);
    }
    const values = cells(row);
    values[0] = `${row.label}${marks.length > 0 ? ` ${marks.join('')}` : ''}`;
    return line(values);
  });
  return [header, '-'.repeat(header.length), ...body, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}
