// What the lab's command-line tools share: JSON lines out, numeric options checked, wall-clock time,
// and one way to be told to stop (a signal, or the parent closing our stdin pipe).
import { fstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export const wallNow = (): number => performance.timeOrigin + performance.now();

export function writeLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} wants a positive number, got "${text}"`);
  return value;
}

/** Calls `stop` on SIGTERM, SIGINT, and when a parent that gave us a pipe as stdin closes it (it died). */
export function onStopRequest(stop: () => void): void {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('error', () => undefined);
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}
