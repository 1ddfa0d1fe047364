// Typed wrappers around the lab's traffic tools (tools/udp-echo, tools/udp-stream),
// for tests and benchmarks: start an echo and wait until it listens, probe one
// address, or run a 1 datagram/ms stream and collect its owner changes and summary.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DEFAULT_ECHO_PORT } from './tools/echo-protocol';
import type { OwnerChange, StreamSummary } from './tools/stream-stats';
import { toolArgv, type Lab, type LabHost } from './lab';

export type { OwnerChange, StreamSummary } from './tools/stream-stats';

/** The summary line of udp-stream, with the run parameters it adds. */
export interface StreamReport extends StreamSummary {
  to: string;
  intervalMs: number;
  pacing: 'spin' | 'sleep';
  stopReason: 'duration' | 'count' | 'signal' | 'stdin' | null;
  startWallMs: number;
  durationMs: number;
}

export interface OwnerChangeLine extends OwnerChange {
  wallMs: number;
}

function lineType(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
}

/** Starts udp-echo on `host` (reply names the host) and resolves once it is bound. */
export async function startUdpEcho(lab: Lab, host: LabHost | string, options: { port?: number; timeoutMs?: number; bind?: '0.0.0.0' | '::' } = {}): Promise<ChildProcess> {
  const name = typeof host === 'string' ? host : host.name;
  const bind = options.bind === undefined ? [] : ['--bind', options.bind];
  const child = lab.spawn(host, toolArgv('udp-echo', ['--name', name, '--port', String(options.port ?? DEFAULT_ECHO_PORT), ...bind]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`udp-echo on ${name} not ready: ${stderr}`)), options.timeoutMs ?? 10_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.trim() !== 'ready') return;
      clearTimeout(timer);
      lines.close();
      resolve();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`udp-echo on ${name} exited (${String(code ?? signal)}): ${stderr}`));
    });
  });
  // Keep draining stdout so the pipe never fills.
  child.stdout?.resume();
  return child;
}

export interface StreamOptions {
  port?: number;
  intervalMs?: number;
  durationMs?: number;
  count?: number;
  waitMs?: number;
  /** 'spin' (default: exact timing, one busy core) or 'sleep' (idle, replies timestamped up to one interval late). */
  pacing?: 'spin' | 'sleep';
}

function streamArgs(to: string, options: StreamOptions): string[] {
  const port = options.port ?? DEFAULT_ECHO_PORT;
  const args = ['--to', to.includes(':') ? `[${to}]:${port}` : `${to}:${port}`];
  if (options.intervalMs !== undefined) args.push('--interval-ms', String(options.intervalMs));
  if (options.durationMs !== undefined) args.push('--duration-ms', String(options.durationMs));
  if (options.count !== undefined) args.push('--count', String(options.count));
  if (options.waitMs !== undefined) args.push('--wait-ms', String(options.waitMs));
  if (options.pacing !== undefined) args.push('--pacing', options.pacing);
  return args;
}

export interface RunningStream {
  child: ChildProcess;
  /** Resolves when the first datagram is about to leave (the "start" line). */
  started: Promise<void>;
  /** Owner changes so far (grows while the stream runs). */
  owners: OwnerChangeLine[];
  /** Resolves with the summary when the stream ends by itself (duration/count) or is stopped. */
  done: Promise<StreamReport>;
  /** Stops sending (SIGTERM), waits for late replies (waitMs) and returns the summary. */
  stop(): Promise<StreamReport>;
}

/** Starts udp-stream on `from` toward `to` (an address of the lab). */
export function startUdpStream(lab: Lab, from: LabHost | string, to: string, options: StreamOptions = {}): RunningStream {
  if (!lab.contains(to)) throw new RangeError(`${to} is not an address of lab ${lab.id}`);
  const child = lab.spawn(from, toolArgv('udp-stream', streamArgs(to, options)), { stdio: ['ignore', 'pipe', 'pipe'] });
  const owners: OwnerChangeLine[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const done = new Promise<StreamReport>((resolve, reject) => {
    let summary: StreamReport | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return;
      }
      const type = lineType(value);
      if (type === 'start') markStarted();
      else if (type === 'owner') owners.push(value as OwnerChangeLine);
      else if (type === 'summary') summary = value as StreamReport;
    });
    child.once('close', (code, signal) => {
      markStarted();
      if (summary !== null) resolve(summary);
      else reject(new Error(`udp-stream on ${typeof from === 'string' ? from : from.name} ended without a summary (${String(code ?? signal)}): ${stderr}`));
    });
  });
  // Callers that only use stop() must not see an unhandled rejection from `done`.
  done.catch(() => undefined);
  return {
    child,
    started,
    owners,
    done,
    async stop() {
      // Past the grace period the process is killed and `done` rejects: a stream
      // that cannot report within its linger time is a failure worth seeing.
      await lab.stop(child, (options.waitMs ?? 100) + 2000);
      return done;
    },
  };
}

/**
 * One datagram (or a few) from `from` to `to`: which host answered, if any.
 * Returns the summary; summary.perHost names the responders. Returns as soon as
 * every datagram is answered, else after waitMs (default 1000).
 */
export async function udpProbe(
  lab: Lab,
  from: LabHost | string,
  to: string,
  options: { port?: number; count?: number; waitMs?: number } = {},
): Promise<StreamReport> {
  const stream = startUdpStream(lab, from, to, {
    port: options.port,
    count: options.count ?? 1,
    waitMs: options.waitMs ?? 1000,
    intervalMs: 10,
  });
  return stream.done;
}
