// The Conflicts view: table order and the timeline's geometry (lanes and bars as fractions of the
// time window, so the SVG only scales them).
import type { ConflictRecord } from '../../../preload/contract/domain';

/** Newest activity first, then by address and MAC. */
export function sortConflicts(conflicts: Iterable<ConflictRecord>): ConflictRecord[] {
  return [...conflicts].sort(
    (a, b) => b.lastSeen - a.lastSeen || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) || (a.theirMac < b.theirMac ? -1 : 1),
  );
}

export interface TimelineBar {
  key: string;
  label: string;
  /** 0..1 within the window; a bar of an instant gets a minimum width where it is drawn. */
  start: number;
  end: number;
  count: number;
  defended: boolean;
  /** Seen within the last `liveMs`. */
  live: boolean;
}

export interface Timeline {
  from: number;
  to: number;
  bars: TimelineBar[];
  /** Tick marks: wall-clock times inside the window. */
  ticks: number[];
}

const TICK_STEPS_MS = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000];

/**
 * A window ending at `now` that holds every conflict (at least `minWindowMs` wide), one bar per
 * conflict, at most `maxBars` (the most recently active).
 */
export function buildTimeline(conflicts: readonly ConflictRecord[], now: number, options: { minWindowMs?: number; maxBars?: number; liveMs?: number } = {}): Timeline {
  const minWindowMs = options.minWindowMs ?? 5 * 60_000;
  const maxBars = options.maxBars ?? 12;
  const liveMs = options.liveMs ?? 5_000;
  const shown = sortConflicts(conflicts).slice(0, maxBars);
  const earliest = Math.min(now - minWindowMs, ...shown.map((c) => c.firstSeen));
  const to = Math.max(now, ...shown.map((c) => c.lastSeen));
  const from = earliest;
  const span = Math.max(1, to - from);
  const bars = shown.map((conflict) => ({
    key: `${conflict.node}|${conflict.address}|${conflict.theirMac}`,
    label: `${conflict.address} ← ${conflict.theirMac}`,
    start: (conflict.firstSeen - from) / span,
    end: (conflict.lastSeen - from) / span,
    count: conflict.count,
    defended: conflict.defended,
    live: now - conflict.lastSeen <= liveMs,
  }));
  const step = TICK_STEPS_MS.find((candidate) => span / candidate <= 8) ?? 86_400_000;
  const ticks: number[] = [];
  for (let tick = Math.ceil(from / step) * step; tick <= to; tick += step) ticks.push(tick);
  return { from, to, bars, ticks };
}
