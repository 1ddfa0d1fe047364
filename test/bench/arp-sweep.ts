// Typed wrapper around tools/arp-sweep (in test/lab/tools): start the sweep on a client for a list
// of addresses and wait for its summary — when each address was first answered as wanted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, LabHost } from '../lab/lab';
import { JsonLines } from '../lab/json-lines';

const SWEEP_TOOL = join(__dirname, '..', 'lab', 'tools', 'arp-sweep.js');

export interface SweepOptions {
  /** Sender IP of the requests: an address of the client in the targets' subnet. */
  fromIp: string;
  targets: readonly string[];
  /** Settled when answered by this MAC ({ mac }) or by any MAC but this one ({ notMac }). */
  until: { mac: string } | { notMac: string };
  /** A round of requests starts every roundMs (default 100). */
  roundMs?: number;
  /** Requests per millisecond (default 16; see the tool for why small). */
  burst?: number;
  timeoutMs?: number;
}

export interface SweepSummary {
  reason: 'converged' | 'timeout' | 'signal' | 'stdin';
  startWallMs: number;
  endWallMs: number;
  targets: number;
  settled: number;
  /** When the last address settled (wall ms), null unless all did. */
  allSettledAtWallMs: number | null;
  /** Per target, in the order given. */
  settledAtWallMs: Array<number | null>;
  unsettledSample: Array<{ ip: string; lastMac: string | null }>;
  unsettledCount: number;
  settledKinds: { reply: number; gratuitous: number; other: number };
  settledByMac: Record<string, number>;
  contraryAfterSettle: number;
  rounds: number;
  requestsSent: number;
  framesSeen: number;
}

export interface RunningSweep {
  /** Resolves with the summary once the sweep has ended (converged, timed out or stopped). */
  done: Promise<SweepSummary>;
  stop(): Promise<SweepSummary>;
}

/** Starts the sweep on `client`; resolves once its capture is open and the first round is going out. */
export async function startArpSweep(lab: Lab, client: LabHost | string, options: SweepOptions): Promise<RunningSweep> {
  const host = lab.host(typeof client === 'string' ? client : client.name);
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-sweep-'));
  const targetsFile = join(dir, 'targets');
  writeFileSync(targetsFile, `${options.targets.join('\n')}\n`);
  const until = 'mac' in options.until ? ['--want-mac', options.until.mac] : ['--not-mac', options.until.notMac];
  const argv = [
    process.execPath, SWEEP_TOOL, '--dev', host.ifname, '--targets-file', targetsFile, '--from-ip', options.fromIp, ...until,
    '--round-ms', String(options.roundMs ?? 100), '--burst', String(options.burst ?? 16), '--timeout-ms', String(options.timeoutMs ?? 60_000),
  ];
  const lines = new JsonLines(lab.spawn(host, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
  const done = (async () => {
    try {
      const exit = await lines.exited;
      const summary = lines.records.find((r) => r.type === 'done');
      if (summary === undefined) throw new Error(`arp-sweep on ${host.name} ended without a summary (${String(exit.code ?? exit.signal)}): ${lines.stderr}`);
      return summary as unknown as SweepSummary;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  done.catch(() => undefined);
  try {
    await Promise.race([
      lines.waitFor((r) => r.type === 'ready', 10_000, `arp-sweep on ${host.name} ready`),
      done.then(() => Promise.reject(new Error(`arp-sweep on ${host.name} exited before it was ready: ${lines.stderr}`))),
    ]);
  } catch (error) {
    await lab.stop(lines.child, 1000);
    throw error;
  }
  return {
    done,
    async stop() {
      await lab.stop(lines.child, 3000);
      return done;
    },
  };
}
