// npm run bench — issue 3's benchmark, in one lab and one run: the client-visible gap of our cluster
// (etcd + one `ipfo agent` per node) next to keepalived's (VRRP pair on n1/n2, its defaults and
// advert_int 0.1 under VRRP v3), for a planned move, a killed owner, a cut link, and the time a
// drain of a node holding 1,000 addresses takes until every address answers from its new node; and the
// same planned and unplanned scenarios for an IPv6 address (issue 18: the agents over neighbour
// discovery, a dual-stack client), next to the IPv4 rows (keepalived is measured over IPv4 only).
// The client streams one datagram per ms; the figure is the gap at the owner change (the old
// owner's last reply to the new owner's first; see cluster-scenarios.ts and keepalived.ts).
//
//   npm run bench
//   BENCH_REPS=5 BENCH_SCENARIOS=planned,killed BENCH_PEER=0 node build/test/bench/cluster.bench.js
//
// Settings (environment):
//   BENCH_REPS (20)          repetitions per scenario and product
//   BENCH_DRAIN_REPS (5)     repetitions of the drain (each adds a resume + failback of 1,000 addresses)
//   BENCH_DRAIN_COUNT (1000) addresses held by the drained node
//   BENCH_TAKEOVER_REPS (3)  after the drains: n1's agent killed while it holds them all, until every address answers elsewhere
//   BENCH_SCENARIOS          comma list of planned, killed, killed-cut, link-cut, drain, planned-v6, killed-v6,
//                            killed-cut-v6, link-cut-v6 (default all)
//   BENCH_PEER (1)           0 skips keepalived
//   BENCH_LEASE_TTL          agents' lease TTL in s (default: the agent's own default)
//   BENCH_PROFILE (default)  agents' --failover-profile: default or fast
//   BENCH_OWNER_SILENCE_MS   agents' --owner-silence-ms (default: the profile's)
//   BENCH_PACING (sleep)     udp-stream pacing for both products: sleep or spin (spin takes a core)
//   BENCH_SWEEP_ROUND_MS (100), BENCH_SWEEP_BURST (16)  the drain's ARP sweep: round period, requests per ms
//   BENCH_CPU_HOGS (0)       busy processes (one endless loop each) running while our scenarios run
//   BENCH_AGENT_LOG_DIR      write every agent's JSON log lines there (n1.jsonl, ...) after the run
// Not a test: it asserts nothing, it prints a table. Needs root, etcd and keepalived.
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { withLab, type Lab } from '../lab/lab';
import { LabCluster } from '../lab/cluster';
import { startUdpEcho } from '../lab/traffic';
import { DEFAULT_LEASE_TTL_SEC } from '../../main/agent/lease-deadline';
import { lifetimeForTtl } from '../../main/cluster/fencing';
import { ApiSession } from './api-session';
import { formatTable, type PeerFigure, type TableRow } from './bench-table';
import { runFailures, runPlannedMoves, type BenchContext, type GapSample } from './cluster-scenarios';
import { measureDrain, measureFailback, measureTakeover, setupDrain, undoDrain, type DrainSample, type SweepTuning } from './drain-scenario';
import { KEEPALIVED_PROFILES, measureKeepalivedFailover, type KeepalivedProfileName } from './keepalived';
import { PEER_CASES } from './peer-cases';
import { choiceListEnv, intEnv } from './bench-env';
import { percentile, summarize, type Summary } from './stats';
import { CpuHogs } from './cpu-hogs';
import { revocationsByPhase, type Phase } from './revocations';
import { saveAgentLogs } from './agent-logs';
import { DEFAULT_FAILOVER_PROFILE, detectionFor, FAILOVER_PROFILES, isFailoverProfile, OWNER_SILENCE_MIN_MS, type FailoverProfile } from '../../main/cluster/failover-profile';

const SCENARIOS = ['planned', 'killed', 'killed-cut', 'link-cut', 'drain', 'planned-v6', 'killed-v6', 'killed-cut-v6', 'link-cut-v6'] as const;
type Scenario = (typeof SCENARIOS)[number];
type GapScenario = Exclude<Scenario, 'drain'>;
/** The IPv4 scenario an IPv6 one repeats (and the peer case of an IPv4 one). */
type Ipv4GapScenario = 'planned' | 'killed' | 'killed-cut' | 'link-cut';

function ipv4Twin(scenario: GapScenario): Ipv4GapScenario {
  return scenario.replace(/-v6$/, '') as Ipv4GapScenario;
}

function scenariosFromEnv(): Scenario[] {
  return choiceListEnv('BENCH_SCENARIOS', SCENARIOS);
}

const REPS = intEnv('BENCH_REPS', 20);
const DRAIN_REPS = intEnv('BENCH_DRAIN_REPS', 5);
const TAKEOVER_REPS = intEnv('BENCH_TAKEOVER_REPS', 3, 0);
const DRAIN_COUNT = intEnv('BENCH_DRAIN_COUNT', 1000);
const LEASE_TTL_SEC = intEnv('BENCH_LEASE_TTL', DEFAULT_LEASE_TTL_SEC, 2);
/** Our "tuned" profile: a shorter owner-silence threshold (default: the profile's own). */
const OWNER_SILENCE_MS = process.env.BENCH_OWNER_SILENCE_MS === undefined ? null : intEnv('BENCH_OWNER_SILENCE_MS', 100, OWNER_SILENCE_MIN_MS);
const PROFILE: FailoverProfile = (() => {
  const text = process.env.BENCH_PROFILE ?? DEFAULT_FAILOVER_PROFILE;
  if (!isFailoverProfile(text)) throw new Error(`BENCH_PROFILE must be one of ${FAILOVER_PROFILES.join(', ')}, got "${text}"`);
  return text;
})();
const LABELS: Readonly<Record<Scenario, string>> = {
  planned: 'planned move',
  killed: 'agent killed (SIGKILL)',
  'killed-cut': 'agent killed + link cut',
  'link-cut': "owner's link cut",
  drain: `drain of a node (${DRAIN_COUNT} addresses)`,
  'planned-v6': 'planned move, IPv6',
  'killed-v6': 'agent killed (SIGKILL), IPv6',
  'killed-cut-v6': 'agent killed + link cut, IPv6',
  'link-cut-v6': "owner's link cut, IPv6",
};

const WITH_PEER = process.env.BENCH_PEER !== '0';
const PACING = process.env.BENCH_PACING ?? 'sleep';
const CPU_HOGS = intEnv('BENCH_CPU_HOGS', 0, 0);
const SWEEP: SweepTuning = { roundMs: intEnv('BENCH_SWEEP_ROUND_MS', 100), burst: intEnv('BENCH_SWEEP_BURST', 16) };

const note = (text: string): void => void process.stderr.write(`${text}\n`);

interface Outcome {
  summary: Summary | null;
  error?: string;
  detail?: string;
}

function outcome(samples: readonly number[], error: unknown, detail?: string): Outcome {
  return {
    summary: samples.length === 0 ? null : summarize(samples),
    // The table keeps the first line; the whole report (statuses, agent logs) went to stderr.
    ...(error === null ? {} : { error: `${samples.length > 0 ? `stopped after ${samples.length} reps: ` : ''}${(error instanceof Error ? error.message : JSON.stringify(error)).split('\n')[0] ?? ''} (details on stderr)` }),
    ...(detail === undefined ? {} : { detail }),
  };
}

async function runPeer(lab: Lab, scenario: Ipv4GapScenario, profile: KeepalivedProfileName): Promise<Outcome> {
  const vip = lab.vip(150);
  const peerCase = PEER_CASES[scenario];
  const gaps: number[] = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const result = await measureKeepalivedFailover(lab, vip, profile, peerCase.scenario, { afterKill: peerCase.afterKill, pacing: PACING as 'sleep' | 'spin' });
      gaps.push(result.ownerChangeGapMs);
      note(`keepalived ${profile} ${LABELS[scenario]} #${rep + 1}: owner change ${result.ownerChangeGapMs} ms (longest gap ${result.gapMs} ms, lost ${result.lost}, sender stall ${String(result.report.longestSendGapMs)} ms)`);
    }
    return outcome(gaps, null);
  } catch (error) {
    note(`keepalived ${profile} ${LABELS[scenario]} FAILED: ${String(error)}`);
    return outcome(gaps, error);
  }
}

function describeGap(scenario: Scenario, rep: number, s: GapSample): void {
  note(`ours ${LABELS[scenario]} #${rep + 1}: owner change ${s.ownerChangeGapMs} ms (longest gap ${s.longestGapMs} ms, lost ${s.lost}, sender stall ${String(s.longestSendGapMs)} ms; ${s.detail})`);
}

async function runOurs(ctx: BenchContext, scenario: GapScenario, vip: string): Promise<Outcome> {
  const gaps: number[] = [];
  const onSample = (s: GapSample, rep: number): void => {
    gaps.push(s.ownerChangeGapMs);
    describeGap(scenario, rep, s);
  };
  try {
    const twin = ipv4Twin(scenario);
    if (twin === 'planned') await runPlannedMoves(ctx, REPS, vip, onSample);
    else await runFailures(ctx, twin, REPS, vip, onSample);
    return outcome(gaps, null);
  } catch (error) {
    note(`ours ${LABELS[scenario]} FAILED: ${String(error)}`);
    return outcome(gaps, error);
  }
}

/** Revocations of a live owner in the drain scenario (every owner there is alive), phase by phase. */
let drainRevocations: { total: number; summary: string } | null = null;
/** The failbacks of the drain scenario (resume n1 until every address answers from it again): their own row. */
let failbackOutcome: Outcome | null = null;
/** n1's agent killed while it holds every drain address (after the drains): its own row. */
let takeoverOutcome: Outcome | null = null;

/** etcd writes per repetition, as "median (min–max)". */
function writesNote(samples: readonly DrainSample[]): string {
  const writes = samples.flatMap((s) => (s.etcdWrites === null ? [] : [s.etcdWrites])).sort((a, b) => a - b);
  if (writes.length === 0) return 'etcd writes not counted';
  return `etcd writes per run (pause or resume until 2 s after the last address answered; every agent's writes, ARP-watch audit entries and binding saves included) median ${percentile(writes, 0.5)} (${writes[0]}–${writes[writes.length - 1]})`;
}

async function runDrain(ctx: BenchContext): Promise<Outcome> {
  const samples: DrainSample[] = [];
  const failbacks: DrainSample[] = [];
  let failbacksIncomplete = 0;
  const phases: Phase[] = [];
  /** Runs one phase and notes its span, also when it fails (its revocations are the ones to see then). */
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const sinceIso = new Date().toISOString();
    try {
      return await work();
    } finally {
      phases.push({ name, sinceIso, untilIso: new Date().toISOString() });
    }
  };
  let failure: unknown = null;
  try {
    const setupStarted = performance.now();
    const setup = await phase('adding', () => setupDrain(ctx, DRAIN_COUNT, SWEEP));
    note(`drain setup ready in ${Math.round((performance.now() - setupStarted) / 1000)} s: ${DRAIN_COUNT} addresses in ${setup.range.cidr}, all answering from n1`);
    for (let rep = 0; rep < DRAIN_REPS; rep++) {
      const s = await phase(`drain #${rep + 1}`, () => measureDrain(ctx, setup, SWEEP)).catch(async (error: unknown) => {
        await ctx.api.call('node.resume', { name: 'n1' });
        throw error;
      });
      samples.push(s);
      note(`ours drain #${rep + 1}: all ${DRAIN_COUNT} answer from new nodes after ${s.convergedMs.toFixed(1)} ms (per address median ${s.perAddressMedianMs.toFixed(1)} / p99 ${s.perAddressP99Ms.toFixed(1)} ms; API reply after ${s.apiReplyMs.toFixed(1)} ms; etcd writes ${String(s.etcdWrites)}; by MAC ${JSON.stringify(s.byMac)}; first seen as ${JSON.stringify(s.kinds)}; old MAC after move ${s.contraryAfterSettle})`);
      await phase(`failback #${rep + 1}`, async () => {
        try {
          const back = await measureFailback(ctx, setup, SWEEP);
          failbacks.push(back);
          note(`ours failback #${rep + 1}: all ${DRAIN_COUNT} answer from n1 again after ${back.convergedMs.toFixed(1)} ms (per address median ${back.perAddressMedianMs.toFixed(1)} / p99 ${back.perAddressP99Ms.toFixed(1)} ms; etcd writes ${String(back.etcdWrites)})`);
        } catch (error) {
          failbacksIncomplete += 1;
          note(`WARNING ours failback #${rep + 1} did not complete on its own: ${String(error)}`);
          await undoDrain(ctx, setup, SWEEP);
        }
      });
    }
    const takeovers: DrainSample[] = [];
    try {
      for (let rep = 0; rep < TAKEOVER_REPS; rep++) {
        const t = await measureTakeover(ctx, setup, SWEEP);
        takeovers.push(t);
        note(`ours takeover #${rep + 1}: all ${DRAIN_COUNT} answer from other nodes ${t.convergedMs.toFixed(1)} ms after n1's agent was killed (per address median ${t.perAddressMedianMs.toFixed(1)} / p99 ${t.perAddressP99Ms.toFixed(1)} ms; etcd writes ${String(t.etcdWrites)}; by MAC ${JSON.stringify(t.byMac)})`);
      }
      takeoverOutcome = outcome(takeovers.map((t) => t.convergedMs), null, `${TAKEOVER_REPS} reps (BENCH_TAKEOVER_REPS); from the SIGKILL until every address answers from n2 or n3 (n1's kernel serves them until their lifetime runs out); per-address median ${summarize(takeovers.map((t) => t.perAddressMedianMs)).median.toFixed(0)} ms; ${writesNote(takeovers)}`);
    } catch (error) {
      note(`ours takeover FAILED: ${String(error)}`);
      takeoverOutcome = outcome(takeovers.map((t) => t.convergedMs), error);
    }
  } catch (error) {
    failure = error;
    note(`ours drain FAILED: ${String(error)}`);
  }
  const revoked = revocationsByPhase(ctx.cluster, phases);
  drainRevocations = revoked;
  note(`drain scenario: ${revoked.total} revocations of a live owner (${revoked.summary})${revoked.lines.length === 0 ? '' : `\n${revoked.lines.join('\n')}`}`);
  const revokedNote = `revocations of a live owner ${revoked.total} (${revoked.summary})`;
  failbackOutcome = outcome(
    failbacks.map((s) => s.convergedMs),
    failbacksIncomplete === 0 ? null : new Error(`${failbacksIncomplete} of ${failbacks.length + failbacksIncomplete} failbacks did not complete on their own`),
    `completed on their own ${failbacks.length} of ${failbacks.length + failbacksIncomplete}; from node.resume until every address answers from n1; ${writesNote(failbacks)}`,
  );
  if (failure !== null) return outcome(samples.map((s) => s.convergedMs), failure, revokedNote);
  const api = summarize(samples.map((s) => s.apiReplyMs));
  const median = summarize(samples.map((s) => s.perAddressMedianMs));
  return outcome(
    samples.map((s) => s.convergedMs),
    null,
    `${DRAIN_REPS} reps (BENCH_DRAIN_REPS; each also resumes n1 and fails ${DRAIN_COUNT} addresses back, next row); per-address settle median ${median.median.toFixed(0)} ms; pauseNode API reply median ${api.median.toFixed(0)} ms; ${writesNote(samples)}; sweep round ${SWEEP.roundMs} ms, ${SWEEP.burst} requests/ms; ${revokedNote}`,
  );
}

function peerFigure(result: Outcome | undefined, fallback: string): PeerFigure {
  if (result === undefined) return { summary: null, note: fallback };
  return result.error === undefined ? { summary: result.summary } : { summary: result.summary, note: `FAILED: ${result.error}` };
}

async function main(): Promise<void> {
  if (PACING !== 'sleep' && PACING !== 'spin') throw new Error(`BENCH_PACING must be sleep or spin, got "${PACING}"`);
  const scenarios = scenariosFromEnv();
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const peer = new Map<string, Outcome>();
  const ours = new Map<Scenario, Outcome>();
  let labId = '';

  const ipv6 = scenarios.some((s) => s.endsWith('-v6'));
  await withLab({ nodes: 3, clients: 2, rogue: false, ipv6, name: 'bench-cluster' }, async (lab) => {
    labId = `${lab.id} (${lab.subnet}${ipv6 ? `, ${lab.subnet6}` : ''})`;
    // Dual-stack echo when IPv6 is measured: it answers the IPv4 streams as before.
    for (const node of lab.nodes) await startUdpEcho(lab, node, ipv6 ? { bind: '::' } : {});

    // keepalived first, while no agent runs: its link cuts then disturb nothing of ours (and ours nothing of it).
    if (WITH_PEER) {
      for (const scenario of scenarios) {
        if (scenario === 'drain' || scenario.endsWith('-v6')) continue;
        for (const profile of Object.keys(KEEPALIVED_PROFILES) as KeepalivedProfileName[]) peer.set(`${scenario}/${profile}`, await runPeer(lab, ipv4Twin(scenario), profile));
      }
    }

    const cluster = await LabCluster.start(lab, { etcdHost: 'c2', leaseTtlSec: LEASE_TTL_SEC, ...(OWNER_SILENCE_MS === null ? {} : { ownerSilenceMs: OWNER_SILENCE_MS }), agentArgs: ['--failover-profile', PROFILE] });
    // A run stopped by hand keeps its agents' logs too (before the lab's own teardown hook).
    const saveOnSignal = (): void => saveAgentLogs(cluster, note);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependOnceListener(signal, saveOnSignal);
    let api: ApiSession | null = null;
    let hogs: CpuHogs | null = null;
    try {
      api = await ApiSession.open(cluster, 'n3');
      const ctx: BenchContext = { lab, cluster, api, client: 'c1', pacing: PACING, note };
      const twins: readonly Ipv4GapScenario[] = ['planned', 'killed', 'killed-cut', 'link-cut'];
      // The same address number in each family: IPv4 .1-.4, IPv6 ::1-::4 of the lab's /64.
      const vipOf = (scenario: GapScenario): string => {
        const n = twins.indexOf(ipv4Twin(scenario)) + 1;
        return scenario.endsWith('-v6') ? lab.vip6(n) : lab.vip(n);
      };
      if (CPU_HOGS > 0) {
        hogs = CpuHogs.start(CPU_HOGS);
        note(`${CPU_HOGS} CPU hogs running (pids ${hogs.pids.join(', ')})`);
      }
      for (const scenario of scenarios) ours.set(scenario, scenario === 'drain' ? await runDrain(ctx) : await runOurs(ctx, scenario, vipOf(scenario)));
    } finally {
      await hogs?.stop();
      await api?.close();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, saveOnSignal);
      saveAgentLogs(cluster, note);
      await cluster.destroy();
    }
  });

  const rows: TableRow[] = scenarios.flatMap((scenario) => {
    const result = ours.get(scenario);
    const oursNote = [result?.detail, result?.error === undefined ? undefined : `FAILED: ${result.error}`].filter((s) => s !== undefined).join('; ');
    if (scenario === 'drain') {
      const none = 'no equivalent (one VRRP instance per address would be the peer): not run';
      const drainRow: TableRow = { label: LABELS[scenario], ours: result?.summary ?? null, ...(oursNote === '' ? {} : { oursNote }), peerDefault: { summary: null, note: none }, peerTuned: { summary: null } };
      const extra = (label: string, extraOutcome: Outcome | null): TableRow[] =>
        extraOutcome === null ? [] : [{ label, ours: extraOutcome.summary, oursNote: [extraOutcome.detail, extraOutcome.error].filter((s) => s !== undefined).join('; '), peerDefault: { summary: null, note: none }, peerTuned: { summary: null } }];
      return [drainRow, ...extra(`failback after the resume (${DRAIN_COUNT} addresses)`, failbackOutcome), ...extra(`takeover of a killed node (${DRAIN_COUNT} addresses)`, takeoverOutcome)];
    }
    if (scenario.endsWith('-v6')) {
      const ipv4Row = 'keepalived measured over IPv4 only: compare with the IPv4 row';
      return { label: LABELS[scenario], ours: result?.summary ?? null, ...(oursNote === '' ? {} : { oursNote }), peerDefault: { summary: null, note: ipv4Row }, peerTuned: { summary: null } };
    }
    const skipped = 'skipped (BENCH_PEER=0)';
    const peerCaseNote = PEER_CASES[scenario as Ipv4GapScenario].note;
    const def = peerFigure(peer.get(`${scenario}/default`), skipped);
    const tuned = peerFigure(peer.get(`${scenario}/tuned`), skipped);
    const peerNote = [def.note ?? tuned.note, WITH_PEER ? peerCaseNote : undefined].filter((s) => s !== undefined).join('; ');
    return {
      label: LABELS[scenario],
      ours: result?.summary ?? null,
      ...(oursNote === '' ? {} : { oursNote }),
      peerDefault: { summary: def.summary, ...(peerNote === '' ? {} : { note: peerNote }) },
      peerTuned: { summary: tuned.summary },
    };
  });

  const minutes = (performance.now() - started) / 60_000;
  const { default: d, tuned: t } = KEEPALIVED_PROFILES;
  console.log('');
  console.log(`ipfo cluster vs keepalived — client-observed gap at the owner change (old owner's last reply -> new owner's first), one datagram per ms`);
  console.log(`lab ${labId}: 3 nodes, client c1, etcd on c2; veth + bridge LAN; ${cpus().length} CPUs; stream pacing ${PACING}`);
  console.log(`ours: lease TTL ${LEASE_TTL_SEC} s (address lifetime ${lifetimeForTtl(LEASE_TTL_SEC)} s), failover profile ${PROFILE} (owner silence ${detectionFor(PROFILE, OWNER_SILENCE_MS ?? undefined).ownerSilenceMs} ms), preferred owners [n1, n2]; ${REPS} reps per scenario${scenarios.includes('drain') ? `, drain ${DRAIN_REPS} reps of ${DRAIN_COUNT} addresses (preferred owner n1, failback immediate)` : ''}`);
  console.log(WITH_PEER
    ? `keepalived: pair n1 (prio 150) / n2 (prio 100), unicast; default = VRRPv${d.vrrpVersion} advert_int ${d.advertIntS} s, tuned = VRRPv${t.vrrpVersion} advert_int ${t.advertIntS} s; ${REPS} reps each, a fresh pair per rep`
    : 'keepalived: skipped (BENCH_PEER=0)');
  console.log('ratio = keepalived / ours (median / p99); above 1x means ours is faster');
  if (CPU_HOGS > 0) console.log(`${CPU_HOGS} CPU-burning processes ran during our scenarios (BENCH_CPU_HOGS)`);
  if (drainRevocations !== null) console.log(`revocations of a live owner in the drain scenario (adding, drains, failbacks; must be 0): ${drainRevocations.total} (${drainRevocations.summary})`);
  console.log('');
  console.log(formatTable(rows));
  console.log('');
  console.log('aims (issue 3): planned move < 10 ms median; unplanned < 500 ms with default settings (and below keepalived tuned when tuned); drain of 1,000 < 1 s; issue 13: drain and failback of 1,000 < 1 s median, failback completing 20 of 20');
  console.log(`run took ${minutes.toFixed(1)} min; 1-min load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end (${cpus().length} CPUs; other processes on the machine count too)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
