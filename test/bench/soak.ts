// npm run soak — issue 10's chaos soak: a three-node lab cluster on etcd with 100 resources, a
// client witness asking every address every 20 ms, and a seeded stream of faults for N minutes
// (soak-schedule.ts: kill -9 + restart, SIGSTOP/SIGCONT, admin-down/up on the node, carrier loss,
// etcd restart, a node cut from etcd, planned moves, drain + resume, a CPU hog). Then a settle
// period and the end check. It prints, per fault kind, how many ran and the longest client-visible
// gap, and the totals that must be zero: moments with two MACs answering one address, agent
// crashes, resources not online on exactly one node at the end, revocations of a live owner. It
// exits 1 when any total is not zero (2 when the soak itself could not run, 3 past its deadline).
//
//   npm run soak
//   SOAK_MINUTES=2 SOAK_SEED=1 node build/test/bench/soak.js
//   SOAK_FAULTS=kill,move SOAK_MINUTES=1 node build/test/bench/soak.js
//
// Settings (environment):
//   SOAK_MINUTES (10)     how long faults are injected
//   SOAK_SEED (random)    the schedule's seed (printed, so any run can be repeated)
//   SOAK_FAULTS (all)     comma list of kill, stop, admin-down, carrier, etcd-restart, etcd-cut, move, drain, cpu-hog
//   SOAK_RESOURCES (100)  resources (1..150: the lab's virtual addresses)
//   SOAK_SETTLE_S (60)    how long the end check waits for every resource to be placed
//   SOAK_PROFILE (default) the agents' --failover-profile: default or fast
//   SOAK_WITNESS_LOG, SOAK_AGENT_LOG (unset)  files to keep the witness's records and every agent log line in
// Not a test (it prints figures); needs root and etcd. Progress goes to stderr, the report to stdout.
import { cpus, loadavg } from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerLab, unregisterLab } from '../lab/cleanup';
import { createLab, type Lab } from '../lab/lab';
import { LabCluster } from '../lab/cluster';
import { DEFAULT_FAILOVER_PROFILE, FAILOVER_PROFILES, isFailoverProfile, type FailoverProfile } from '../../main/cluster/failover-profile';
import { ApiSession } from './api-session';
import { AgentSupervisor } from './soak-agents';
import { checkPlacement, type SoakResource } from './soak-check';
import { runFault, type SoakContext } from './soak-faults';
import {
  faultAt,
  formatKindTable,
  overlapProofs,
  formatTotals,
  isLiveOwnerRevocation,
  kindRows,
  parseRevocation,
  totals,
  totalsAreZero,
  type EndProblem,
  type FaultRun,
  type Revocation,
  type SoakFacts,
} from './soak-report';
import { buildSchedule, FAULT_DESCRIPTIONS, parseFaultKinds, type FaultKind } from './soak-schedule';
import { SoakWitness, type WitnessEnd } from './soak-witness';

const WITNESS_INTERVAL_MS = 20;
const PROFILE: FailoverProfile = (() => {
  const text = process.env.SOAK_PROFILE ?? DEFAULT_FAILOVER_PROFILE;
  if (!isFailoverProfile(text)) throw new Error(`SOAK_PROFILE must be one of ${FAILOVER_PROFILES.join(', ')}, got "${text}"`);
  return text;
})();
/** Silences shorter than this are not gaps (a lost probe or reply on a busy machine). */
const WITNESS_GAP_MS = 100;
const SETUP_BUDGET_MS = 5 * 60_000;
const TEARDOWN_BUDGET_MS = 2 * 60_000;
const ADD_CONCURRENCY = 4;
const PLACEMENT_POLL_MS = 1000;

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${text}"`);
  return value;
}

const note = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface Settings {
  minutes: number;
  seed: number;
  kinds: FaultKind[];
  resources: number;
  settleMs: number;
}

function settingsFromEnv(): Settings {
  return {
    minutes: intEnv('SOAK_MINUTES', 10, 1, 24 * 60),
    seed: intEnv('SOAK_SEED', Math.floor(Math.random() * 1_000_000), 0, 2 ** 31 - 1),
    kinds: parseFaultKinds(process.env.SOAK_FAULTS),
    resources: intEnv('SOAK_RESOURCES', 100, 1, 150),
    settleMs: intEnv('SOAK_SETTLE_S', 60, 5, 600) * 1000,
  };
}

/** Adds the resources (preferred owners rotating over the nodes, failback alternating) through one session. */
async function addResources(cluster: LabCluster, resources: readonly SoakResource[]): Promise<void> {
  const api = await ApiSession.open(cluster, cluster.nodes.at(-1)!);
  try {
    let next = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < resources.length) {
        const i = next++;
        const { name, ip } = resources[i]!;
        const n = cluster.nodes.length;
        const preferredOwners = cluster.nodes.map((_, k) => cluster.nodes[(i + k) % n]!);
        const added = await api.call('resource.add', { spec: { name, ip: `${ip}/24`, preferredOwners, failback: { mode: i % 2 === 0 ? 'immediate' : 'never' } } });
        if (!added.ok) failures.push(`${name}: ${added.code ?? ''} ${added.message ?? ''}`);
      }
    };
    await Promise.all(Array.from({ length: ADD_CONCURRENCY }, worker));
    if (failures.length > 0) throw new Error(`adding resources failed: ${failures.slice(0, 5).join('; ')}`);
  } finally {
    await api.close();
  }
}

/** Polls the placement check until it is clean or `timeoutMs` passed; returns the last problems and when it got clean. */
async function waitPlaced(ctx: SoakContext, resources: readonly SoakResource[], timeoutMs: number): Promise<{ problems: EndProblem[]; tookMs: number }> {
  const started = Date.now();
  let problems: EndProblem[] = [{ resource: '-', ip: '-', problem: 'not checked yet' }];
  while (Date.now() - started < timeoutMs) {
    const via = ctx.cluster.nodes.find((n) => ctx.agents.running(n));
    if (via !== undefined) {
      problems = await checkPlacement(ctx.cluster, via, resources).catch((error: unknown) => [{ resource: '-', ip: '-', problem: `check failed: ${String(error).split('\n')[0]}` }]);
      if (problems.length === 0) return { problems, tookMs: Date.now() - started };
    }
    await sleep(PLACEMENT_POLL_MS);
  }
  return { problems, tookMs: Date.now() - started };
}

function collectRevocations(agents: AgentSupervisor): Revocation[] {
  const found: Revocation[] = [];
  for (const { node, lines } of agents.started) {
    for (const record of lines.records) {
      if (record.event !== 'log') continue;
      const revocation = parseRevocation(node, String(record.time), String(record.message));
      if (revocation !== null) found.push(revocation);
    }
  }
  return found.sort((a, b) => a.atWallMs - b.atWallMs);
}

/** Agent log lines of `node` within ±windowMs of `atWallMs`, for the report of a finding. */
function logAround(agents: AgentSupervisor, node: string, atWallMs: number, windowMs = 2000, max = 15): string[] {
  return agents.started
    .filter((a) => a.node === node)
    .flatMap((a) => a.lines.records)
    .filter((r) => r.event === 'log' && Math.abs(Date.parse(String(r.time)) - atWallMs) <= windowMs)
    .slice(0, max)
    .map((r) => `      ${String(r.time)} ${node}: ${String(r.message)}`);
}

/** The last `max` agent log lines, of every node, that name `resource` (a whole word), in time order. */
function logNaming(agents: AgentSupervisor, resource: string, max: number): string[] {
  const word = new RegExp(`\\b${resource.replace(/[^a-z0-9-]/gi, '')}\\b`);
  return agents.started
    .flatMap(({ node, lines }) => lines.records.filter((r) => r.event === 'log' && word.test(String(r.message))).map((r) => ({ node, time: String(r.time), message: String(r.message) })))
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
    .slice(-max)
    .map((r) => `      ${r.time} ${r.node}: ${r.message}`);
}

/** A client-visible gap this long is shown with the agents' logs around it. */
const LONG_GAP_MS = 2000;

const iso = (wallMs: number): string => new Date(wallMs).toISOString();

function printReport(settings: Settings, facts: SoakFacts, figures: { labId: string; setupMs: number; soakMs: number; settleMs: number; settled: boolean; witness: WitnessEnd; loadStart: number; nodesByMac: (macs: readonly string[]) => string[] }, agents: AgentSupervisor): boolean {
  const t = totals(facts);
  const out = (line = ''): void => console.log(line);
  out('');
  out(`ipfo chaos soak — seed ${settings.seed}, ${settings.minutes} min of faults (${settings.kinds.join(', ')}), ${settings.resources} resources on 3 nodes + etcd`);
  out(`lab ${figures.labId}; witness on c1 asks every address every ${WITNESS_INTERVAL_MS} ms (gaps: silences over ${WITNESS_GAP_MS} ms; "<thr" = none over it); ${cpus().length} CPUs; failover profile ${PROFILE}`);
  out(`setup ${seconds(figures.setupMs)} (lab, etcd, agents, resources online, witness); faults ${seconds(figures.soakMs)}; settle ${figures.settled ? seconds(figures.settleMs) : `NOT settled after ${seconds(figures.settleMs)}`}`);
  out(`witness: ${figures.witness.probesSent} requests sent, capture drops ${String(figures.witness.kernelDropped)}`);
  out(`repeat: SOAK_MINUTES=${settings.minutes} SOAK_SEED=${settings.seed}${process.env.SOAK_FAULTS ? ` SOAK_FAULTS=${process.env.SOAK_FAULTS}` : ''} node build/test/bench/soak.js`);
  out('');
  out(formatKindTable(kindRows(facts)));
  out('');
  out('gap = per fault, the longest time one address went unanswered (from its last answer before, within the fault and 3 s after it is undone);');
  out('"no fault" = gaps no fault explains. Kinds:');
  for (const kind of settings.kinds) out(`  ${kind.padEnd(13)} ${FAULT_DESCRIPTIONS[kind]}`);
  out('');
  out('totals that must be zero:');
  out(formatTotals(t));
  const failedFaults = facts.faults.filter((f) => f.error !== undefined);
  if (failedFaults.length > 0) {
    out('');
    out(`faults whose injection or undoing failed (${failedFaults.length}):`);
    for (const f of failedFaults.slice(0, 10)) out(`  #${f.index} ${f.kind} ${f.node ?? ''} at ${iso(f.startWallMs)}: ${f.error ?? ''}`);
  }
  if (facts.overlaps.length > 0) {
    out('');
    const proofs = overlapProofs(facts.overlaps);
    out(`two MACs answering one address: ${proofs.lasting} lasting (several proofs), ${proofs.singleSameRequest} single same-request proofs, ${proofs.singleInterleaved} single interleaved proofs`);
    // The first two of each fault (at most 12 faults): one fault kind must not hide another.
    const shown = new Map<number, number>();
    const examples = facts.overlaps.filter((o) => {
      const key = faultAt(facts.faults, o.fromWallMs)?.index ?? -1;
      const seen = shown.get(key) ?? 0;
      if (seen >= 2 || (seen === 0 && shown.size >= 12)) return false;
      shown.set(key, seen + 1);
      return true;
    });
    for (const o of examples) {
      const fault = faultAt(facts.faults, o.fromWallMs);
      out(`  ${o.ip} ${o.macs.join(' + ')} from ${iso(o.fromWallMs)} for ${(o.toWallMs - o.fromWallMs).toFixed(1)} ms (${(o.rules ?? []).join('+')}, ${o.evidence ?? 1} proofs); fault: ${fault === null ? 'none' : `#${fault.index} ${fault.kind} ${fault.node ?? ''}`}`);
      if (o.around !== undefined) out(`      answers around it (mac kind request ms-offset): ${o.around.map(([mac, kind, request, at]) => `${mac.slice(-2)} ${kind} ${String(request)} ${(at - o.fromWallMs).toFixed(1)}`).join('; ')}`);
      for (const node of figures.nodesByMac(o.macs)) for (const l of logAround(agents, node, o.fromWallMs, 1500, 10)) out(l);
    }
  }
  // A client waiting seconds is a finding even when every total is zero: show the first few, with what
  // the nodes involved (the one answering before, the one after) said around its start.
  const longGaps = facts.gaps.filter((g) => g.ms > LONG_GAP_MS && faultAt(facts.faults, g.fromWallMs)?.kind !== 'etcd-restart');
  if (longGaps.length > 0) {
    out('');
    out(`gaps over ${seconds(LONG_GAP_MS)} (etcd restarts aside: every owner fences): ${longGaps.length}`);
    const shownFaults = new Set<number>();
    for (const g of longGaps) {
      const fault = faultAt(facts.faults, g.fromWallMs);
      if (shownFaults.has(fault?.index ?? -1) || shownFaults.size >= 4) continue;
      shownFaults.add(fault?.index ?? -1);
      out(`  ${g.ip} unanswered ${seconds(g.ms)} from ${iso(g.fromWallMs)} (${g.fromMac ?? '?'} before, ${g.toMac ?? 'nobody'} after); fault: ${fault === null ? 'none' : `#${fault.index} ${fault.kind} ${fault.node ?? ''}`}`);
      for (const node of figures.nodesByMac([g.fromMac, g.toMac].filter((m): m is string => m !== null))) for (const l of logAround(agents, node, g.fromWallMs, 1500, 10)) out(l);
    }
  }
  if (facts.crashes.length > 0) {
    out('');
    out('agent crashes:');
    for (const c of facts.crashes.slice(0, 10)) {
      const fault = faultAt(facts.faults, c.atWallMs);
      out(`  ${c.node} at ${iso(c.atWallMs)}: ${c.code === null ? `signal ${String(c.signal)}` : `exit ${c.code}`}; fault: ${fault === null ? 'none' : `#${fault.index} ${fault.kind} ${fault.node ?? ''}`}`);
      for (const l of c.stderrTail.trim().split('\n').slice(-4)) out(`      stderr: ${l}`);
    }
  }
  const live = facts.revocations.filter((r) => isLiveOwnerRevocation(r, facts.faults, facts.crashes));
  if (live.length > 0) {
    out('');
    out('revocations of a live owner:');
    for (const r of live.slice(0, 10)) {
      const fault = faultAt(facts.faults, r.atWallMs);
      out(`  ${r.by} revoked ${r.owner} (silent on ARP for ${r.ip} for ${r.silentMs} ms) at ${iso(r.atWallMs)}; fault then: ${fault === null ? 'none' : `#${fault.index} ${fault.kind} ${fault.node ?? ''}`}`);
      for (const l of logAround(agents, r.owner, r.atWallMs)) out(l);
    }
  }
  if (facts.endProblems.length > 0) {
    out('');
    const byProblem = new Map<string, number>();
    for (const p of facts.endProblems) {
      const kind = p.problem.replace(/\d+(\.\d+){3}|([0-9a-f]{2}:){5}[0-9a-f]{2}/g, 'X');
      byProblem.set(kind, (byProblem.get(kind) ?? 0) + 1);
    }
    out(`resources not online on exactly one node at the end: ${[...byProblem].map(([kind, n]) => `${n} x ${kind}`).join('; ')}`);
    for (const p of facts.endProblems.slice(0, 15)) out(`  ${p.resource} ${p.ip}: ${p.problem}`);
    // What the agents said about the first few: the story of how each got there.
    for (const p of facts.endProblems.slice(0, 3)) {
      out(`  log lines naming ${p.resource} (every agent, last 20):`);
      for (const l of logNaming(agents, p.resource, 20)) out(l);
    }
  }
  if (figures.witness.openGaps.length > 0) out(`\naddresses unanswered at the witness's end: ${figures.witness.openGaps.map((g) => g.ip).slice(0, 20).join(', ')}`);
  out('');
  out(`run took ${seconds(figures.setupMs + figures.soakMs + figures.settleMs)} before teardown; 1-min load average ${figures.loadStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end`);
  out(totalsAreZero(t) ? 'RESULT: every total is zero' : 'RESULT: FAILED — a total is not zero');
  return totalsAreZero(t);
}

async function soak(settings: Settings): Promise<boolean> {
  const setupStarted = Date.now();
  const loadStart = loadavg()[0] ?? Number.NaN;
  const lab: Lab = await createLab({ nodes: 3, clients: 2, rogue: false, name: 'soak' });
  let cluster: LabCluster | null = null;
  let agents: AgentSupervisor | null = null;
  let witness: SoakWitness | null = null;
  const clusterDir = { id: `soak-dir-${lab.id}`, dir: '', destroySync(): void { if (this.dir !== '') rmSync(this.dir, { recursive: true, force: true }); } };
  registerLab(clusterDir);
  try {
    note(`lab ${lab.id} (${lab.subnet}) built; starting etcd on c2 and the agents`);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2', agentArgs: ['--failover-profile', PROFILE] });
    clusterDir.dir = cluster.dir;
    agents = new AgentSupervisor(cluster, note);
    const ctx: SoakContext = { lab, cluster, agents, hogHost: 'c1', note };
    const resources: SoakResource[] = Array.from({ length: settings.resources }, (_, i) => ({ name: `soak-${String(i + 1).padStart(3, '0')}`, ip: lab.vip(i + 1) }));
    await addResources(cluster, resources);
    const placed = await waitPlaced(ctx, resources, 60_000);
    if (placed.problems.length > 0) throw new Error(`resources not placed after setup: ${JSON.stringify(placed.problems.slice(0, 5))}`);
    witness = await SoakWitness.start(lab, 'c1', resources.map((r) => r.ip), WITNESS_INTERVAL_MS, WITNESS_GAP_MS);
    const setupMs = Date.now() - setupStarted;
    note(`setup done in ${seconds(setupMs)}: ${resources.length} resources online, witness running`);

    const durationMs = settings.minutes * 60_000;
    const schedule = buildSchedule({ seed: settings.seed, durationMs, nodes: cluster.nodes, kinds: settings.kinds });
    const runs: FaultRun[] = [];
    const soakStarted = Date.now();
    for (const fault of schedule) {
      const wait = soakStarted + fault.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() - soakStarted >= durationMs) break;
      if (!witness.alive) throw new Error(`the witness died: ${witness.stderr}`);
      note(`#${fault.index} ${fault.kind}${fault.node === null ? '' : ` ${fault.node}`} (hold ${fault.holdMs} ms${fault.count > 0 ? `, ${fault.count} resources` : ''})`);
      const run = await runFault(ctx, fault);
      runs.push(run);
      note(`#${fault.index} ${fault.kind} done in ${run.endWallMs - run.startWallMs} ms: ${run.detail}${run.error === undefined ? '' : `; ERROR ${run.error}`}; two-MAC moments so far ${witness.overlapsSoFar}, crashes ${agents.crashes.length}`);
    }
    const remaining = soakStarted + durationMs - Date.now();
    if (remaining > 0) await sleep(remaining);
    const soakMs = Date.now() - soakStarted;

    note('faults over; waiting for every resource to be online on exactly one node');
    const settleStarted = Date.now();
    await agents.restartCrashed();
    const settled = await waitPlaced(ctx, resources, settings.settleMs - (Date.now() - settleStarted));
    const settleMs = Date.now() - settleStarted;
    const witnessRecords = witness.records();
    const witnessEnd = await witness.stop();
    if (process.env.SOAK_WITNESS_LOG) writeFileSync(process.env.SOAK_WITNESS_LOG, witnessRecords.map((r) => JSON.stringify(r)).join('\n'));
    if (process.env.SOAK_AGENT_LOG) {
      const lines = agents.started.flatMap(({ node, lines: l }) => l.records.filter((r) => r.event === 'log').map((r) => `${String(r.time)} ${node}: ${String(r.message)}`));
      writeFileSync(process.env.SOAK_AGENT_LOG, `${lines.sort().join('\n')}\n`);
    }
    witness = null;
    const crashes = [...agents.crashes];
    agents.stopWatching();
    const facts: SoakFacts = {
      faults: runs,
      gaps: [...witnessEnd.gaps, ...witnessEnd.openGaps],
      overlaps: witnessEnd.overlaps,
      revocations: collectRevocations(agents),
      crashes,
      endProblems: settled.problems,
    };
    return printReport(settings, facts, { labId: `${lab.id} (${lab.subnet})`, setupMs, soakMs, settleMs, settled: settled.problems.length === 0, witness: witnessEnd, loadStart, nodesByMac: (macs) => lab.nodes.filter((n) => macs.includes(n.mac)).map((n) => n.name) }, agents);
  } finally {
    agents?.stopWatching();
    await witness?.kill().catch(() => undefined);
    await cluster?.destroy().catch((error: unknown) => note(`cluster teardown: ${String(error)}`));
    await lab.destroy().catch((error: unknown) => note(`lab teardown: ${String(error)}`));
    clusterDir.destroySync();
    unregisterLab(clusterDir);
  }
}

async function main(): Promise<void> {
  const settings = settingsFromEnv();
  note(`soak: seed ${settings.seed}, ${settings.minutes} min, faults ${settings.kinds.join(',')}`);
  // Never hang: past setup + faults + settle + teardown, the process exits; its exit hooks
  // (test/lab/cleanup.ts) tear the lab and etcd down synchronously.
  const budgetMs = SETUP_BUDGET_MS + settings.minutes * 60_000 + 60_000 + settings.settleMs + TEARDOWN_BUDGET_MS;
  const deadline = setTimeout(() => {
    note(`soak: past its deadline of ${seconds(budgetMs)}: giving up`);
    process.exit(3);
  }, budgetMs);
  deadline.unref();
  let ok: boolean;
  try {
    ok = await soak(settings);
  } catch (error) {
    note(`soak could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = ok ? 0 : 1;
}

void main();
