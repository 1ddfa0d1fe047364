// npm run bench:detect — issue 17's failover frontier, in one lab and one run: how fast each setting
// of ours (failover profile, owner silence) and of keepalived (advert_int) moves an address when the
// owner dies, and how often it moves one from an owner that did not die. For every setting:
//  - the client-visible gap (old owner's last reply to the new owner's first; one datagram per ms,
//    as in `npm run bench`), median and p99 over BENCH_REPS, for
//      killed:     ours: the owner's agent SIGKILLed — its kernel answers until the address lifetime
//                  runs out (lease TTL 3 s), then a standby hears the silence; keepalived: the
//                  master SIGKILLed and its address removed at once (it would stay up forever);
//      link-cut:   the owner's switch port down (its agent or keepalived keeps running);
//      killed-cut: both at once;
//  - false failovers in a quiet run of BENCH_FALSE_S beside two CPU-burning processes: ours with
//    BENCH_FALSE_ADDRESSES resources on n1 (the drain range), counted as the standbys' "revoking its
//    lease" lines (no owner dies in that run, so each revoked a live one); keepalived's pair
//    counted as the backup's "Entering MASTER STATE" lines while its master runs.
// Prints one table and writes a chart (x: gap median of the link cut, or of the first scenario run,
// log scale; y: false failovers; one curve per product) as a PNG, drawn by Debian's Chromium.
//
//   npm run bench:detect
//   BENCH_REPS=3 BENCH_FALSE_S=20 BENCH_FALSE_ADDRESSES=100 BENCH_OURS=fast,default BENCH_ADVERTS=0.1,0.01 node build/test/bench/detect.bench.js
//
// Settings (environment):
//   BENCH_REPS (20)               repetitions per scenario and setting
//   BENCH_FALSE_S (300)           length of each setting's quiet run, s
//   BENCH_FALSE_ADDRESSES (1000)  our resources during the quiet run
//   BENCH_OURS                    our settings, profile[@ownerSilenceMs] (default fast,fast@25,default@50,default,default@250)
//   BENCH_ADVERTS                 keepalived's advert_int in s (default 1,0.1,0.05,0.02,0.01; VRRP v2 for whole seconds, v3 below)
//   BENCH_SCENARIOS               comma list of killed, link-cut, killed-cut (default all)
//   BENCH_PEER (1)                0 skips keepalived
//   BENCH_CHART (docs/bench-detect.png)  where the chart goes
//   BENCH_STORM_RATE (0)          ARP frames/s a client floods the LAN with during each quiet run (0: none)
//   BENCH_AGENT_LOG_DIR           write every agent's JSON log lines there after each of our settings
// Not a test: it asserts nothing. Needs root, etcd, keepalived and /usr/bin/chromium.
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLab, type Lab } from '../lab/lab';
import { LabCluster } from '../lab/cluster';
import { startUdpEcho } from '../lab/traffic';
import { JsonLines } from '../lab/json-lines';
import { arpFloodArgv } from '../lab/tools/arp-flood';
import { DEFAULT_LEASE_TTL_SEC } from '../../main/agent/lease-deadline';
import { lifetimeForTtl } from '../../main/cluster/fencing';
import { detectionFor } from '../../main/cluster/failover-profile';
import { ApiSession } from './api-session';
import { choiceListEnv, intEnv } from './bench-env';
import { runFailures, type BenchContext, type FailureScenario } from './cluster-scenarios';
import { CpuHogs } from './cpu-hogs';
import { DEFAULT_ADVERTS, DEFAULT_OURS, parseAdverts, parseOurSettings, type OurSetting } from './detect-settings';
import { formatDetectTable, type DetectRow } from './detect-table';
import { keepalivedMasterEntries } from './detect-false';
import { CHART_HEIGHT, CHART_WIDTH, renderChartSvg, type ChartSeries } from './detect-chart';
import { writeSvgAsPng } from './svg-png';
import { setupDrain, type SweepTuning } from './drain-scenario';
import { clearDrainRange, drainRange } from './drain-range';
import { keepalivedProfile, measureKeepalivedFailover, removeAddress, startKeepalivedPair, type KeepalivedProfile } from './keepalived';
import { PEER_CASES } from './peer-cases';
import { revocations } from './revocations';
import { summarize, type Summary } from './stats';
import { saveAgentLogs } from './agent-logs';

const SCENARIOS: readonly FailureScenario[] = ['killed', 'link-cut', 'killed-cut'];
const TITLES: Readonly<Record<FailureScenario, string>> = { killed: 'killed', 'link-cut': 'link cut', 'killed-cut': 'kill+cut' };

const REPS = intEnv('BENCH_REPS', 20);
const FALSE_S = intEnv('BENCH_FALSE_S', 300);
const FALSE_ADDRESSES = intEnv('BENCH_FALSE_ADDRESSES', 1000);
const OURS = parseOurSettings(process.env.BENCH_OURS || DEFAULT_OURS);
// Made up front: an advert keepalived cannot take stops the run before the lab is built.
const ADVERTS = parseAdverts(process.env.BENCH_ADVERTS || DEFAULT_ADVERTS).map(keepalivedProfile);
const SCENARIO_LIST = choiceListEnv('BENCH_SCENARIOS', SCENARIOS);
const WITH_PEER = process.env.BENCH_PEER !== '0';
const CHART = process.env.BENCH_CHART || 'docs/bench-detect.png';
/** The issue's load: two busy processes on a 2-core machine. */
const CPU_HOGS = 2;
const STORM_RATE = intEnv('BENCH_STORM_RATE', 0, 0);
/** The storm's sender addresses: none a scenario uses (vips 2-4 are .102-.104, keepalived's 150 is .250). */
const STORM_STATIONS = { first: 160, last: 240 };
const SWEEP: SweepTuning = { roundMs: 100, burst: 16 };
const PACING = 'sleep';

const note = (text: string): void => void process.stderr.write(`${text}\n`);

function firstLine(error: unknown): string {
  // Multi-line reports (keepalived's log, agent logs) went to stderr whole; a colon led into them.
  return ((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '').replace(/:$/, '');
}

/** Runs `work` (which pushes one gap per repetition); a failure keeps the gaps so far and says why. */
async function gapsOf(what: string, work: (push: (gapMs: number) => void) => Promise<void>, problems: string[]): Promise<Summary | null> {
  const gaps: number[] = [];
  try {
    await work((gapMs) => {
      gaps.push(gapMs);
      note(`${what} #${gaps.length}: ${gapMs} ms`);
    });
  } catch (error) {
    note(`${what} FAILED: ${String(error)}`);
    problems.push(`${what} stopped after ${gaps.length} reps: ${firstLine(error)}`);
  }
  return gaps.length === 0 ? null : summarize(gaps);
}

/** An ARP flood from c1 for the length of a quiet run (BENCH_STORM_RATE). */
function startStorm(lab: Lab): JsonLines | null {
  if (STORM_RATE === 0) return null;
  const subnet = lab.subnet.split('.').slice(0, 3).join('.');
  return new JsonLines(lab.spawn('c1', arpFloodArgv({ subnet, rate: STORM_RATE, durationMs: FALSE_S * 1000, ...STORM_STATIONS }), { stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function stopStorm(storm: JsonLines): Promise<void> {
  const summary = await storm.waitFor((r) => r.type === 'summary', 20_000, 'ARP storm summary').catch((error: unknown) => firstLine(error));
  if (storm.child.exitCode === null && storm.child.signalCode === null) storm.child.kill('SIGKILL');
  await storm.exited;
  note(`ARP storm: ${JSON.stringify(summary)}`);
}

/** A quiet run with the CPU hogs (and the storm); `count` reads the false failovers once it is over. */
async function quietRun(lab: Lab, count: () => number): Promise<number> {
  const hogs = CpuHogs.start(CPU_HOGS);
  const storm = startStorm(lab);
  try {
    await sleep(FALSE_S * 1000);
  } finally {
    await hogs.stop();
    if (storm !== null) await stopStorm(storm);
  }
  return count();
}

async function keepalivedQuiet(lab: Lab, vip: string, profile: KeepalivedProfile): Promise<number> {
  const pair = await startKeepalivedPair(lab, vip, profile);
  try {
    const from = pair.backup.log.length;
    return await quietRun(lab, () => keepalivedMasterEntries(pair.backup.log.slice(from)));
  } finally {
    await pair.stop();
    await Promise.all([removeAddress(pair.master.host, vip), removeAddress(pair.backup.host, vip)]);
  }
}

async function keepalivedRow(lab: Lab, profile: KeepalivedProfile): Promise<DetectRow> {
  const vip = lab.vip(150);
  const problems: string[] = [];
  const gaps: Array<Summary | null> = [];
  for (const scenario of SCENARIO_LIST) {
    const peerCase = PEER_CASES[scenario];
    gaps.push(await gapsOf(`keepalived ${profile.name} ${scenario}`, async (push) => {
      for (let rep = 0; rep < REPS; rep++) push((await measureKeepalivedFailover(lab, vip, profile, peerCase.scenario, { afterKill: peerCase.afterKill, pacing: PACING })).ownerChangeGapMs);
    }, problems));
  }
  let falseFailovers: number | null = null;
  try {
    falseFailovers = await keepalivedQuiet(lab, vip, profile);
    note(`keepalived ${profile.name}: ${falseFailovers} false failovers in ${FALSE_S} s`);
  } catch (error) {
    note(`keepalived ${profile.name} quiet run FAILED: ${String(error)}`);
    problems.push(`quiet run: ${firstLine(error)}`);
  }
  return { product: 'keepalived', setting: `advert ${profile.advertIntS} s (v${profile.vrrpVersion})`, gaps, falseFailovers, ...(problems.length === 0 ? {} : { note: problems.join('; ') }) };
}

async function ourQuiet(ctx: BenchContext, setting: OurSetting): Promise<number> {
  await setupDrain(ctx, FALSE_ADDRESSES, SWEEP);
  const since = new Date().toISOString();
  return quietRun(ctx.lab, () => {
    const found = revocations(ctx.cluster, since);
    for (const r of found) note(`  ours ${setting.label} false failover: ${r.time} ${r.by}: ${r.message}`);
    return found.length;
  });
}

async function ourRow(lab: Lab, setting: OurSetting): Promise<DetectRow> {
  const cluster = await LabCluster.start(lab, { etcdHost: 'c2', ...(setting.ownerSilenceMs === null ? {} : { ownerSilenceMs: setting.ownerSilenceMs }), agentArgs: ['--failover-profile', setting.profile] });
  const problems: string[] = [];
  const gaps: Array<Summary | null> = [];
  let falseFailovers: number | null = null;
  let api: ApiSession | null = null;
  try {
    api = await ApiSession.open(cluster, 'n3');
    const ctx: BenchContext = { lab, cluster, api, client: 'c1', pacing: PACING, note };
    for (const [i, scenario] of SCENARIO_LIST.entries()) {
      gaps.push(await gapsOf(`ours ${setting.label} ${scenario}`, (push) => runFailures(ctx, scenario, REPS, lab.vip(2 + i), (s) => push(s.ownerChangeGapMs)), problems));
    }
    try {
      falseFailovers = await ourQuiet(ctx, setting);
      note(`ours ${setting.label}: ${falseFailovers} false failovers in ${FALSE_S} s with ${FALSE_ADDRESSES} addresses`);
    } catch (error) {
      note(`ours ${setting.label} quiet run FAILED: ${String(error)}`);
      problems.push(`quiet run: ${firstLine(error)}`);
    }
  } finally {
    await api?.close();
    saveAgentLogs(cluster, note);
    await cluster.destroy();
    // The killed agents' addresses would outlive them (their lifetime); the next cluster starts clean.
    await clearDrainRange(lab, drainRange(lab));
  }
  return { product: 'ours', setting: setting.label, gaps, falseFailovers, ...(problems.length === 0 ? {} : { note: problems.join('; ') }) };
}

/** The chart's x: the link cut's median (the one scenario alike for both products), else the first run. */
function chartSeries(rows: readonly DetectRow[]): { scenario: FailureScenario; series: ChartSeries[] } {
  const index = Math.max(0, SCENARIO_LIST.indexOf('link-cut'));
  const series = (['ours', 'keepalived'] as const).map((product, i) => ({
    name: product,
    color: i === 0 ? '#1f6fb4' : '#c62828',
    points: rows.filter((r) => r.product === product).map((r) => ({ x: r.gaps[index]?.median ?? Number.NaN, y: r.falseFailovers ?? Number.NaN, label: r.setting })),
  }));
  return { scenario: SCENARIO_LIST[index]!, series };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const rows: DetectRow[] = [];
  let labId = '';
  await withLab({ nodes: 3, clients: 2, rogue: false, name: 'bench-detect' }, async (lab) => {
    labId = `${lab.id} (${lab.subnet})`;
    for (const node of lab.nodes) await startUdpEcho(lab, node);
    // keepalived first, while no agent runs: neither disturbs the other.
    if (WITH_PEER) for (const profile of ADVERTS) rows.push(await keepalivedRow(lab, profile));
    for (const setting of OURS) rows.push(await ourRow(lab, setting));
  });
  const ours = rows.filter((r) => r.product === 'ours');
  rows.splice(0, rows.length, ...ours, ...rows.filter((r) => r.product === 'keepalived'));

  console.log('');
  console.log('failover frontier (issue 17): client gap at the owner change (one datagram per ms) against false failovers of a quiet run');
  console.log(`lab ${labId}: 3 nodes, client c1, etcd on c2; ${cpus().length} CPUs; ${REPS} reps per scenario and setting`);
  console.log(`ours: lease TTL ${DEFAULT_LEASE_TTL_SEC} s (address lifetime ${lifetimeForTtl(DEFAULT_LEASE_TTL_SEC)} s); ${OURS.map((s) => {
    const detection = detectionFor(s.profile, s.ownerSilenceMs ?? undefined);
    return `${s.label} = silence ${detection.ownerSilenceMs} ms, probe every ${detection.probeIntervalMs} ms`;
  }).join('; ')}`);
  console.log(WITH_PEER ? 'keepalived: pair n1 (prio 150) / n2 (prio 100), unicast, a fresh pair per rep' : 'keepalived: skipped (BENCH_PEER=0)');
  console.log('killed: ours = agent SIGKILL, its kernel answers until the address lifetime runs out; keepalived = SIGKILL + address removed. link cut = owner\'s switch port down. kill+cut = both');
  console.log(`false failovers: ${FALSE_S} s beside ${CPU_HOGS} CPU hogs${STORM_RATE > 0 ? ` and an ARP storm of ${STORM_RATE} frames/s from c1` : ''}; ours with ${FALSE_ADDRESSES} addresses ("revoking its lease" lines), keepalived one address ("Entering MASTER STATE" on the backup)`);
  console.log('');
  console.log(formatDetectTable(SCENARIO_LIST.map((s) => TITLES[s]), rows));
  console.log('');
  const { scenario, series } = chartSeries(rows);
  try {
    const svg = renderChartSvg({ title: `Failover frontier: ${TITLES[scenario]} gap vs false failovers (${FALSE_S} s, ${CPU_HOGS} CPU hogs${STORM_RATE > 0 ? `, ARP storm ${STORM_RATE}/s` : ''})`, xLabel: `client gap median, ${TITLES[scenario]} (ms, log scale)`, yLabel: 'false failovers', series });
    await writeSvgAsPng(svg, CHART_WIDTH, CHART_HEIGHT, CHART);
    console.log(`chart: ${CHART}`);
  } catch (error) {
    console.log(`chart FAILED: ${firstLine(error)}`);
  }
  console.log(`run took ${((performance.now() - started) / 60_000).toFixed(1)} min; 1-min load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
