// UDP client stream for the lab: one datagram every --interval-ms toward
// --to ip:port, records every reply from udp-echo (which host, seq, rtt).
//
//   node build/test/lab/tools/udp-stream.js --to 10.213.7.101:7000   (or --to [2001:db8:d5:7::65]:7000)
//        [--interval-ms 1] [--duration-ms N] [--count N] [--wait-ms 100]
//        [--pacing spin|sleep]
//
// Runs until --duration-ms elapsed, --count datagrams sent, SIGTERM/SIGINT, or
// stdin closes (only watched when stdin is a pipe or socket, so a parent that
// dies stops the stream too); then waits --wait-ms for late replies (a --count
// run stops waiting as soon as every datagram has been answered).
// stdout, one JSON object per line:
//   {"type":"start",...}   once the socket is bound, just before the first send
//   {"type":"owner",...}   every time the answering host changes (first reply included)
//   {"type":"summary",...} on exit (see StreamSummary)
// Exit status: 0 if any reply arrived, 3 if none (handy as a reachability probe:
// --count 1 --wait-ms 300).
//
// Pacing: "spin" (default) busy-waits on setImmediate between sends: exact
// send times and reply timestamps, at the cost of one busy core. "sleep"
// blocks in Atomics.wait until the next send is due: nearly idle, but a reply
// arriving during the wait is timestamped up to one interval late. On a small
// machine where the spinning core starves the nodes, prefer "sleep"; the
// summary's longestSendGapMs shows whether the sender itself stalled.
import { createSocket } from 'node:dgram';
import { fstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeReply, encodeRequest, parseTarget } from './echo-protocol';
import { StreamStats } from './stream-stats';

type StopReason = 'duration' | 'count' | 'signal' | 'stdin';

/** After a short stall, send the missed datagrams back to back (at most this many per turn)... */
const MAX_CATCH_UP_BURST = 4;
/** ...but after a long one (GC, starved CPU) skip the backlog: the stall then shows as loss, not as a burst. */
const REBASE_AFTER_MS = 20;
/** Below this wait a timer is too coarse (setTimeout has ~1 ms granularity plus jitter): spin on setImmediate. */
const SPIN_BELOW_MS = 2;
/** In sleep pacing, wake this much early: Atomics.wait overshoots by tens of µs. */
const SLEEP_EARLY_MS = 0.03;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function positiveNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} wants a non-negative number, got "${text}"`);
  return value;
}

function writeLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      'interval-ms': { type: 'string', default: '1' },
      'duration-ms': { type: 'string' },
      count: { type: 'string' },
      'wait-ms': { type: 'string', default: '100' },
      pacing: { type: 'string', default: 'spin' },
    },
  });
  if (values.to === undefined) throw new Error('--to <ipv4:port> or --to [ipv6]:port is required');
  const target = parseTarget(values.to);
  const intervalMs = positiveNumber('interval-ms', values['interval-ms']) ?? 1;
  if (intervalMs <= 0) throw new Error('--interval-ms must be > 0');
  const durationMs = positiveNumber('duration-ms', values['duration-ms']);
  const count = positiveNumber('count', values.count);
  const waitMs = positiveNumber('wait-ms', values['wait-ms']) ?? 100;
  const pacing = values.pacing;
  if (pacing !== 'spin' && pacing !== 'sleep') throw new Error(`--pacing wants spin or sleep, got "${pacing}"`);

  const stats = new StreamStats();
  const socket = createSocket(target.family === 4 ? 'udp4' : 'udp6');
  let origin = 0;
  let startWallMs = 0;
  const clock = (): number => performance.now() - origin;
  let nextDueMs = 0;
  let sending = false;
  let pendingTimer: NodeJS.Timeout | null = null;
  let pendingImmediate: NodeJS.Immediate | null = null;
  let stopReason: StopReason | null = null;
  let finished = false;

  socket.on('message', (payload) => {
    const atMs = clock();
    const reply = decodeReply(payload) ?? { host: '?', seq: null, t: null };
    const change = stats.recordReply(reply, atMs);
    if (change !== null) writeLine({ ...change, wallMs: Math.round(startWallMs + change.atMs) });
    // A --count run that has every answer needs no more waiting: a probe with a
    // generous --wait-ms returns as soon as it succeeds.
    if (stopReason === 'count' && stats.received === stats.sent) finish();
  });
  socket.on('error', (error) => {
    process.stderr.write(`udp-stream: ${error.message}\n`);
  });

  const finish = (): void => {
    if (finished) return;
    finished = true;
    const summary = stats.summary();
    writeLine({
      ...summary,
      to: values.to,
      intervalMs,
      pacing,
      stopReason,
      startWallMs,
      durationMs: Math.round(clock() * 1000) / 1000,
    });
    socket.close();
    process.exit(summary.received > 0 ? 0 : 3);
  };

  const stopSending = (reason: StopReason): void => {
    if (stopReason !== null) {
      // A second stop request during the linger (e.g. SIGTERM after stdin EOF, or a second SIGTERM): report now.
      if (reason === 'signal') finish();
      return;
    }
    stopReason = reason;
    sending = false;
    if (pendingTimer !== null) clearTimeout(pendingTimer);
    if (pendingImmediate !== null) clearImmediate(pendingImmediate);
    pendingTimer = null;
    pendingImmediate = null;
    setTimeout(finish, waitMs);
  };

  const sendOne = (atMs: number): void => {
    const seq = stats.recordSend(atMs);
    socket.send(encodeRequest({ seq, t: Math.round(atMs * 1000) / 1000 }), target.port, target.address, (error) => {
      if (error) stats.recordSendError();
    });
  };

  const schedule = (): void => {
    const until = durationMs === undefined ? nextDueMs : Math.min(nextDueMs, durationMs);
    const waitForMs = until - clock();
    if (waitForMs > SPIN_BELOW_MS) pendingTimer = setTimeout(pump, waitForMs - 1);
    else if (pacing === 'spin') pendingImmediate = setImmediate(pump);
    else pendingImmediate = setImmediate(sleepThenPump);
  };

  // Runs as an immediate, i.e. after this loop turn has polled the socket.
  function sleepThenPump(): void {
    const until = durationMs === undefined ? nextDueMs : Math.min(nextDueMs, durationMs);
    const waitForMs = until - clock() - SLEEP_EARLY_MS;
    if (waitForMs > 0) Atomics.wait(sleepCell, 0, 0, waitForMs);
    pump();
  }

  // Pacing by deadline (seq * interval on a monotonic clock), not by a repeating
  // timer: setInterval(1) drifts to ~1.1 ms+, while spinning on setImmediate
  // still lets the event loop poll the socket between sends.
  function pump(): void {
    pendingTimer = null;
    pendingImmediate = null;
    if (!sending) return;
    const now = clock();
    if (durationMs !== undefined && now >= durationMs) return stopSending('duration');
    let burst = 0;
    while (now >= nextDueMs && burst < MAX_CATCH_UP_BURST) {
      sendOne(now);
      burst += 1;
      nextDueMs += intervalMs;
      if (count !== undefined && stats.sent >= count) return stopSending('count');
    }
    if (now - nextDueMs > REBASE_AFTER_MS) nextDueMs = now + intervalMs;
    schedule();
  }

  process.on('SIGTERM', () => stopSending('signal'));
  process.on('SIGINT', () => stopSending('signal'));
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('error', () => undefined);
    process.stdin.on('end', () => stopSending('stdin'));
    process.stdin.resume();
  }

  socket.bind(0, target.family === 4 ? '0.0.0.0' : '::', () => {
    origin = performance.now();
    startWallMs = Date.now();
    writeLine({ type: 'start', to: values.to, intervalMs, pacing, durationMs: durationMs ?? null, count: count ?? null, startWallMs });
    if (count === 0) return stopSending('count');
    sending = true;
    nextDueMs = 0;
    pump();
  });
}

main();
