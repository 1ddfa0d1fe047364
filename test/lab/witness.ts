// Typed wrapper around tools/mac-witness for tests and benchmarks: start the
// witness on a client for one address, read its answers as they come, stop it
// and get the summary (per-MAC activity, overlaps, transitions). An IPv6
// address (in a lab created with ipv6) is watched over neighbour discovery,
// with the client's `ip6` as the source of its solicitations.
//
//   const witness = await startMacWitness(lab, 'c1', vip);
//   ... failover ...
//   const summary = await witness.stop();
//   assert.deepEqual(summary.overlaps, []);
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Lab, LabHost } from './lab';
import type { WitnessAnswer, WitnessSummary } from './tools/witness-log';

export type { MacActivity, WitnessAnswer, WitnessOverlap, WitnessSummary, WitnessTransition } from './tools/witness-log';

export interface WitnessReport extends WitnessSummary {
  probesSent: number;
}

export interface WitnessOptions {
  /** Probe period, ms (default 20). */
  intervalMs?: number;
  /** How long to wait for late replies after stop, ms (default 50). */
  waitMs?: number;
  /** How long to wait for the capture to open, ms (default 10 s). */
  readyTimeoutMs?: number;
}

export interface RunningWitness {
  child: ChildProcess;
  /** The client's MAC (its probes' sender). */
  mac: string;
  /** Every answer so far (grows while the witness runs). */
  answers: WitnessAnswer[];
  /** Resolves with the summary once the witness has exited. */
  done: Promise<WitnessReport>;
  /** Stops probing (SIGTERM), waits for late replies and returns the summary. */
  stop(): Promise<WitnessReport>;
}

const WITNESS_TOOL = join(__dirname, 'tools', 'mac-witness.js');

function lineType(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
}

/** Starts the witness on `from` (a client) for `address` (IPv4, or IPv6 over ND); resolves once it is capturing and has sent its first probe. */
export async function startMacWitness(lab: Lab, from: LabHost | string, address: string, options: WitnessOptions = {}): Promise<RunningWitness> {
  if (!lab.contains(address)) throw new RangeError(`${address} is not an address of lab ${lab.id}`);
  const host = lab.host(typeof from === 'string' ? from : from.name);
  const waitMs = options.waitMs ?? 50;
  const argv = [
    process.execPath, WITNESS_TOOL,
    '--ip', address, '--dev', host.ifname, '--from-ip', address.includes(':') ? host.ip6 : host.ip,
    '--interval-ms', String(options.intervalMs ?? 20), '--wait-ms', String(waitMs),
  ];
  const child = lab.spawn(host, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const answers: WitnessAnswer[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let markReady: (mac: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => (markReady = resolve));
  const done = new Promise<WitnessReport>((resolve, reject) => {
    let summary: WitnessReport | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return;
      }
      const type = lineType(value);
      if (type === 'ready') markReady(String((value as Record<string, unknown>).mac));
      else if (type === 'answer') {
        const { mac, kind, request, wallMs } = value as WitnessAnswer;
        answers.push({ mac, kind, request, wallMs });
      } else if (type === 'summary') summary = value as WitnessReport;
    });
    child.once('close', (code, signal) => {
      if (summary !== null) resolve(summary);
      else reject(new Error(`mac-witness on ${host.name} ended without a summary (${String(code ?? signal)}): ${stderr}`));
    });
  });
  done.catch(() => undefined);

  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`mac-witness on ${host.name} not ready after ${readyTimeoutMs} ms: ${stderr}`)), readyTimeoutMs);
  });
  let mac: string;
  try {
    // An early exit (bad interface, no libpcap) rejects `done` before any ready line.
    mac = await Promise.race([ready, timedOut, done.then(() => Promise.reject(new Error(`mac-witness on ${host.name} exited before it was ready: ${stderr}`)))]);
  } catch (error) {
    await lab.stop(child, 1000);
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    child,
    mac,
    answers,
    done,
    async stop() {
      await lab.stop(child, waitMs + 2000);
      return done;
    },
  };
}
