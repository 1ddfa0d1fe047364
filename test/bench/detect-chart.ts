// bench:detect's chart as an SVG document (pure: points in, text out; svg-png.ts makes the PNG):
// the failover frontier, client gap median (log scale) against false failovers, one curve per
// product, each point labelled with its setting. Points without a gap figure are left out.

export interface ChartPoint {
  /** Client gap median, ms. */
  x: number;
  /** False failovers. */
  y: number;
  label: string;
}

export interface ChartSeries {
  name: string;
  color: string;
  points: readonly ChartPoint[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
}

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 560;
const MARGIN = { left: 80, right: 40, top: 60, bottom: 70 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function usable(p: ChartPoint): boolean {
  return Number.isFinite(p.x) && p.x > 0 && Number.isFinite(p.y) && p.y >= 0;
}

/** Powers of ten around [min, max], at least one decade wide. */
export function logDecades(min: number, max: number): number[] {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  return Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
}

/** The smallest of 1, 2, 5, 10, 20, 50, ... that cuts 0..top into at most six steps. */
function niceStep(top: number): number {
  for (let power = 1; ; power *= 10) {
    for (const m of [1, 2, 5]) if (top / (m * power) <= 6) return m * power;
  }
}

/** Whole ticks from 0 to at least `max` (at least 0..1: zero false failovers is the usual case). */
export function linearTicks(max: number): number[] {
  const top = Math.max(1, Math.ceil(max));
  const step = niceStep(top);
  return Array.from({ length: Math.ceil(top / step) + 1 }, (_, i) => i * step);
}

/** Rough width of a label in the chart's 12 px sans-serif (no font metrics in a pure function). */
const CHAR_WIDTH_PX = 7;
const LABEL_LINE_PX = 15;

export interface PlacedLabel {
  /** Where the point is, px. */
  x: number;
  y: number;
  text: string;
}

/**
 * Lines above its point for each label (0: just above it), so that no two labels overlap:
 * points of equal false failovers sit on one line of the chart and close gaps would print
 * their labels over each other. Greedy from the left, each label on the lowest free line.
 */
export function labelLevels(labels: readonly PlacedLabel[]): number[] {
  const order = labels.map((_, i) => i).sort((a, b) => labels[a]!.x - labels[b]!.x);
  const taken: Array<{ level: number; from: number; to: number; top: number; bottom: number }> = [];
  const levels = new Array<number>(labels.length).fill(0);
  for (const i of order) {
    const { x, y, text } = labels[i]!;
    const [from, to] = [x + 6, x + 6 + text.length * CHAR_WIDTH_PX];
    for (let level = 0; ; level++) {
      const bottom = y - 6 - level * LABEL_LINE_PX;
      const top = bottom - LABEL_LINE_PX + 3;
      const clash = taken.some((t) => from < t.to && t.from < to && top < t.bottom && t.top < bottom);
      if (!clash) {
        levels[i] = level;
        taken.push({ level, from, to, top, bottom });
        break;
      }
    }
  }
  return levels;
}

function tickText(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

export function renderChartSvg(spec: ChartSpec): string {
  const points = spec.series.flatMap((s) => s.points.filter(usable));
  const xs = points.map((p) => p.x);
  const decades = logDecades(xs.length === 0 ? 1 : Math.min(...xs), xs.length === 0 ? 10 : Math.max(...xs));
  const yTicks = linearTicks(points.length === 0 ? 1 : Math.max(...points.map((p) => p.y)));
  const plotW = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const [lx, hx] = [Math.log10(decades[0]!), Math.log10(decades.at(-1)!)];
  const yTop = yTicks.at(-1)!;
  const px = (x: number): number => MARGIN.left + ((Math.log10(x) - lx) / (hx - lx)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yTop) * plotH;
  const f = (n: number): string => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="white"/>`,
    `<text x="${CHART_WIDTH / 2}" y="30" text-anchor="middle" font-size="16">${escapeXml(spec.title)}</text>`,
  ];
  for (const d of decades) {
    out.push(`<line x1="${f(px(d))}" y1="${MARGIN.top}" x2="${f(px(d))}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`);
    out.push(`<text x="${f(px(d))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${tickText(d)}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${f(py(t))}" x2="${MARGIN.left + plotW}" y2="${f(py(t))}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${f(py(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${CHART_HEIGHT - 20}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(22 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  const sortedSeries = spec.series.map((series) => series.points.filter(usable).sort((a, b) => a.x - b.x));
  const levels = labelLevels(sortedSeries.flat().map((p) => ({ x: px(p.x), y: py(p.y), text: p.label })));
  let labelIndex = 0;
  spec.series.forEach((series, i) => {
    const sorted = sortedSeries[i]!;
    if (sorted.length > 1) out.push(`<polyline fill="none" stroke="${escapeXml(series.color)}" stroke-width="2" points="${sorted.map((p) => `${f(px(p.x))},${f(py(p.y))}`).join(' ')}"/>`);
    for (const p of sorted) {
      const level = levels[labelIndex++]!;
      const labelY = py(p.y) - 6 - level * LABEL_LINE_PX;
      out.push(`<circle cx="${f(px(p.x))}" cy="${f(py(p.y))}" r="4" fill="${escapeXml(series.color)}"/>`);
      if (level > 0) out.push(`<line x1="${f(px(p.x))}" y1="${f(py(p.y) - 4)}" x2="${f(px(p.x))}" y2="${f(labelY + 2)}" stroke="${escapeXml(series.color)}" stroke-width="0.5"/>`);
      out.push(`<text x="${f(px(p.x) + 6)}" y="${f(labelY)}" fill="${escapeXml(series.color)}">${escapeXml(p.label)}</text>`);
    }
    const ly = MARGIN.top + 16 + i * 18;
    out.push(`<rect x="${MARGIN.left + plotW - 150}" y="${ly - 9}" width="12" height="12" fill="${escapeXml(series.color)}"/>`);
    out.push(`<text x="${MARGIN.left + plotW - 132}" y="${ly + 2}">${escapeXml(series.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
