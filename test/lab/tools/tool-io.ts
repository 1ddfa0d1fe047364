// What the lab's command-line tools share: JSON lines out, numeric options checked, wall-clock time,
// one way to be told to stop (a signal, or the parent closing our stdin pipe), and two sockets joined.
import { fstatSync } from 'node:fs';
import type { Socket } from 'node:net';
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

/**
 * Joins two sockets both ways; either one closing closes the other. Each is in `open` while it lives
 * (so a stopping forward can end them); their errors end them too, with nothing to report.
 */
export function splice(a: Socket, b: Socket, open: Set<Socket>): void {
  for (const socket of [a, b]) {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  }
  a.pipe(b).pipe(a);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/**
 * The frame tools' loop (arp-send, nd-send): `send` `count` times, `intervalMs` apart, the first at once;
 * then one line {sent, mac, at} — `at` read right after the last send, which some tests time from — and `done`.
 */
export function sendRepeatedly(count: number, intervalMs: number, mac: string, send: () => void, done: () => void): void {
  let sent = 0;
  const sendOne = (): void => {
    send();
    sent++;
    if (sent < count) {
      setTimeout(sendOne, intervalMs);
      return;
    }
    process.stdout.write(`${JSON.stringify({ sent, mac, at: Date.now() })}\n`);
    done();
  };
  sendOne();
}
