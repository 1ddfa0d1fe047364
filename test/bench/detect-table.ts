// bench:detect's table (pure: rows in, text out): one row per setting of either product, the client
// gap's median / p99 for each scenario run, and the false failovers of the quiet run.
import { ms } from './bench-table';
import type { Summary } from './stats';

export interface DetectRow {
  product: 'ours' | 'keepalived';
  /** "fast@25", "advert 0.05 s". */
  setting: string;
  /** Per scenario, in the table's column order; null: not measured (failed, or skipped). */
  gaps: ReadonlyArray<Summary | null>;
  /** null: the quiet run did not complete. */
  falseFailovers: number | null;
  /** Failures and remarks, printed as footnotes. */
  note?: string;
}

function gapCell(summary: Summary | null): string {
  return summary === null ? '-' : `${ms(summary.median)} / ${ms(summary.p99)}`;
}

export function formatDetectTable(scenarioTitles: readonly string[], rows: readonly DetectRow[]): string {
  const notes: string[] = [];
  const header = ['product', 'setting', ...scenarioTitles.map((t) => `${t} med / p99`), 'false failovers'];
  const body = rows.map((row) => {
    let setting = row.setting;
    if (row.note !== undefined) {
      notes.push(`[${notes.length + 1}] ${row.product} ${row.setting}: ${row.note}`);
      setting += ` [${notes.length}]`;
    }
    return [row.product, setting, ...scenarioTitles.map((_, i) => gapCell(row.gaps[i] ?? null)), row.falseFailovers === null ? '-' : String(row.falseFailovers)];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i]!.length)));
  // Text columns left, figures right.
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const top = line(header);
  return [top, '-'.repeat(top.length), ...body.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}
