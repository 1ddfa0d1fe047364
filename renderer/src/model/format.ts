// How times, durations and states read in the console. Pure: `now` is always passed in.
import type { NodeState } from '../../../preload/contract/domain';

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "—" for an unknown (0) time. */
export function formatRelative(at: number, now: number): string {
  if (at <= 0) return '—';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 2) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** Milliseconds as an operator reads them: "0.42 ms", "12.3 ms", "412 ms", "1.25 s", "2 min 5 s"; "—" for null. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${trim(ms.toFixed(2))} ms`;
  if (ms < 100) return `${trim(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trim((ms / 1000).toFixed(2))} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** Local wall-clock time "14:03:07" (with the date "2025-01-31 14:03:07" when not today). */
export function formatClock(at: number, now: number): string {
  const date = new Date(at);
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const today = new Date(now);
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  return sameDay ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

/** Full local timestamp with milliseconds, for tooltips. */
export function formatTimestamp(at: number): string {
  if (at <= 0) return 'unknown';
  const date = new Date(at);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export { RESOURCE_STATE_LABELS } from '../../../preload/contract/resource-order';

export const NODE_STATE_LABELS: Readonly<Record<NodeState, string>> = {
  up: 'Up',
  paused: 'Paused',
  down: 'Down',
};

// Counts and counted nouns are the contract's, shared with the CLI.
export { formatCount, plural } from '../../../preload/contract/plural';
