// The cluster's agents in an ARP storm (issue 17: "storms are load too"): a lab cluster of three agents
// on etcd holding BENCH_ADDRESSES addresses on n1 (n2 and n3 stand by and ask n1 at their profile's rate),
// then an ARP flood from the client c1 at each rate of BENCH_RATES for BENCH_STORM_S seconds. Per rate:
// the rate the flooder reached (its own count: beside agents that burn the CPU it falls short), every
// agent's CPU (utime + stime of its process, % of one core), and the live owners revoked meanwhile (false
// failovers: there must be none). Medians over BENCH_REPS. A benchmark prints figures; it is not a test.
//
//   BENCH_REPS (3)                repetitions per rate
//   BENCH_RATES (0,50000,100000,200000)  frames/s asked of the flooder (0: no flood, the idle cost)
//   BENCH_STORM_S (10)            seconds per flood
//   BENCH_ADDRESSES (100)         addresses held by n1
//   BENCH_PROFILE (default)       the agents' --failover-profile
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLab, type Lab } from '../lab/lab';
import { LabCluster } from '../lab/cluster';
import { JsonLines } from '../lab/json-lines';
import { arpFloodArgv } from '../lab/tools/arp-flood';
import { ApiSession } from './api-session';
import { intEnv } from './bench-env';
import { clearDrainRange, drainRange } from './drain-range';
import { setupDrain, type SweepTuning } from './drain-scenario';
import { revocations } from './revocations';
import { summarize } from './stats';
import { cpuSeconds } from './watch-measure';
import type { BenchContext } from './cluster-scenarios';
import { isFailoverProfile } from '../../main/cluster/failover-profile';

const REPS = intEnv('BENCH_REPS', 3);
const STORM_S = intEnv('BENCH_STORM_S', 10);
const ADDRESSES = intEnv('BENCH_ADDRESSES', 100);
const RATES = (process.env.BENCH_RATES ?? '0,50000,100000,200000').split(',').map((text) => {
  const rate = Number(text);
  if (!Number.isInteger(rate) || rate < 0) throw new Error(`BENCH_RATES: "${text}" is not a whole number of frames/s`);
  return rate;
});
const PROFILE = process.env.BENCH_PROFILE ?? 'default';
if (!isFailoverProfile(PROFILE)) throw new Error(`BENCH_PROFILE: "${PROFILE}" is not a failover profile`);
/** The flood's stations: clear of the lab's nodes and of every address the cluster holds (drain range). */
const STORM_STATIONS = { first: 160, last: 240 };
const SWEEP: SweepTuning = { roundMs: 100, burst: 16 };
const NODES = ['n1', 'n2', 'n3'] as const;

const note = (line: string): void => void process.stderr.write(`${line}\n`);

interface Sample { reached: number; cpu: Record<string, number>; revoked: number }

/** One flood (or, at rate 0, as long a wait) with every agent's CPU over it. */
async function stormOnce(lab: Lab, cluster: LabCluster, rate: number): Promise<Sample> {
  const pids = NODES.map((node) => {
    const pid = cluster.agents.get(node)?.child.pid;
    if (pid === undefined) throw new Error(`no agent process on ${node}`);
    return pid;
  });
  const since = new Date().toISOString();
  const before = pids.map(cpuSeconds);
  const started = performance.now();
  let reached = 0;
  if (rate === 0) {
    await sleep(STORM_S * 1000);
  } else {
    const subnet = lab.subnet.split('.').slice(0, 3).join('.');
    const flood = new JsonLines(lab.spawn('c1', arpFloodArgv({ subnet, rate, durationMs: STORM_S * 1000, ...STORM_STATIONS }), { stdio: ['ignore', 'pipe', 'pipe'] }));
    const summary = await flood.waitFor((r) => r.type === 'summary', STORM_S * 1000 + 20_000, 'ARP flood summary');
    await flood.exited;
    reached = Number(summary.rate);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = pids.map(cpuSeconds);
  const cpu = Object.fromEntries(NODES.map((node, i) => [node, ((after[i]! - before[i]!) / seconds) * 100]));
  const revoked = revocations(cluster, since).length;
  return { reached, cpu, revoked };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const rows: Array<{ rate: number; samples: Sample[] }> = [];
  let labId = '';
  await withLab({ nodes: 3, clients: 2, rogue: false, name: 'bench-storm' }, async (lab) => {
    labId = `${lab.id} (${lab.subnet})`;
    const cluster = await LabCluster.start(lab, { etcdHost: 'c2', agentArgs: ['--failover-profile', PROFILE] });
    let api: ApiSession | null = null;
    try {
      api = await ApiSession.open(cluster, 'n3');
      const ctx: BenchContext = { lab, cluster, api, client: 'c1', pacing: 'sleep', note };
      await setupDrain(ctx, ADDRESSES, SWEEP);
      await sleep(2000);
      for (const rate of RATES) {
        const samples: Sample[] = [];
        for (let rep = 0; rep < REPS; rep++) {
          const sample = await stormOnce(lab, cluster, rate);
          note(`rate ${rate}/s #${rep + 1}: reached ${Math.round(sample.reached)}/s; CPU ${NODES.map((n) => `${n} ${sample.cpu[n]!.toFixed(1)} %`).join(', ')}; revoked ${sample.revoked}`);
          samples.push(sample);
          await sleep(1000);
        }
        rows.push({ rate, samples });
      }
    } finally {
      await api?.close();
      await cluster.destroy();
      await clearDrainRange(lab, drainRange(lab));
    }
  });
  console.log('');
  console.log(`agents in an ARP storm: lab ${labId}, 3 agents (profile ${PROFILE}), ${ADDRESSES} addresses on n1, n2 and n3 standing by; flood from c1 (stations .${STORM_STATIONS.first}-.${STORM_STATIONS.last}) for ${STORM_S} s; ${REPS} reps; ${cpus().length} CPUs`);
  console.log('asked/s    reached/s (median)   n1 CPU %   n2 CPU %   n3 CPU %   revoked (total)');
  for (const { rate, samples } of rows) {
    const med = (values: number[]): string => summarize(values).median.toFixed(1).padStart(8);
    console.log(`${String(rate).padStart(7)}    ${String(Math.round(summarize(samples.map((s) => s.reached)).median)).padStart(17)}   ${NODES.map((n) => med(samples.map((s) => s.cpu[n]!))).join('   ')}   ${String(samples.reduce((sum, s) => sum + s.revoked, 0)).padStart(15)}`);
  }
  console.log(`1-min load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
