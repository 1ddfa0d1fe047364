// The drain benchmark: a node holding 1,000 addresses is paused (`pauseNode`), and the time runs
// from the command leaving the API client until an ARP sweep from the client has seen every address
// answered by another node. The addresses live in a second range (drain-range.ts) because the lab's
// /24 has only 150; all prefer n1 with failback immediate, so resuming n1 brings them home and the
// next repetition starts alike. Setting up 1,000 resources through the API takes a while: it is done
// once per run.
import { setTimeout as sleep } from 'node:timers/promises';
import { startArpSweep, type SweepSummary } from './arp-sweep';
import { agentLogDigest, type BenchContext } from './cluster-scenarios';
import { addDrainRange, DRAIN_PREFIX, drainRange, type DrainRange } from './drain-range';
import { percentile } from './stats';

/** Adds that may miss n1 (conflict, another owner) before the setup gives up. */
const MAX_SETUP_MISSES = 20;

export interface DrainSetup {
  range: DrainRange;
  /** ISO time the setup began: agent logs are digested from here on. */
  sinceIso: string;
  names: string[];
  addresses: string[];
  clientAddress: string;
}

export interface DrainSample {
  /** From the pauseNode command leaving the API client to the last address answered by another node. */
  convergedMs: number;
  /** etcd writes (revisions) from just before the command until 2 s after the last address answered (null: no etcd). */
  etcdWrites: number | null;
  /** From the same moment to the agent's reply to pauseNode ("drained" by the ownership map). */
  apiReplyMs: number;
  /** Per-address settle times (ms since the pause), median and p99. */
  perAddressMedianMs: number;
  perAddressP99Ms: number;
  byMac: Record<string, number>;
  kinds: SweepSummary['settledKinds'];
  contraryAfterSettle: number;
}

export interface SweepTuning {
  roundMs: number;
  burst: number;
}

/** The stuck state of a drain or failback, precisely: what the sweep saw, statuses, agent logs. */
async function describeStuck(ctx: BenchContext, setup: DrainSetup, summary: SweepSummary, what: string): Promise<string> {
  const sample = summary.unsettledSample.slice(0, 5);
  const snap = await ctx.api.call('snapshot', {});
  const resources = snap.ok ? (snap.result as { snapshot: { resources: Array<{ name: string; ip: string; status: unknown }> } }).snapshot.resources : [];
  const stuck = sample.map((u) => resources.find((r) => r.ip === u.ip));
  const statuses = stuck.map((r) => `  ${JSON.stringify(r === undefined ? null : { name: r.name, ip: r.ip, status: r.status })}`);
  const events = await Promise.all(stuck.slice(0, 3).map(async (r) => {
    if (r === undefined) return [];
    const found = await ctx.api.call('events.query', { limit: 8, filter: { target: r.name } });
    const entries = found.ok ? (found.result as { entries: Array<{ at: number; actor: string; action: string; outcome: string; detail: string | null }> }).entries : [];
    return entries.map((e) => `  ${r.name}: ${new Date(e.at).toISOString()} ${e.actor} ${e.action} ${e.outcome} ${e.detail ?? ''}`);
  }));
  const held = await Promise.all(['n1', 'n2', 'n3'].map(async (node) => `${node} holds ${(await ctx.lab.addresses(node)).filter((a) => setup.addresses.includes(a.split('/')[0]!)).length}`));
  return [
    `${what}: ${summary.unsettledCount} of ${summary.targets} addresses not settled after ${Math.round(summary.endWallMs - summary.startWallMs)} ms (sweep ${summary.reason}); ${held.join(', ')}`,
    `unsettled (ip, last MAC seen): ${JSON.stringify(summary.unsettledSample)}`,
    `their status:`,
    ...statuses,
    `their last audit events:`,
    ...events.flat(),
    `agent logs:`,
    agentLogDigest(ctx, 'n1', setup.sinceIso),
    agentLogDigest(ctx, 'n2', setup.sinceIso),
    agentLogDigest(ctx, 'n3', setup.sinceIso),
  ].join('\n');
}

async function sweepUntil(ctx: BenchContext, setup: DrainSetup, until: { mac: string } | { notMac: string }, timeoutMs: number, tuning: SweepTuning) {
  return startArpSweep(ctx.lab, ctx.client, { fromIp: setup.clientAddress, targets: setup.addresses, until, timeoutMs, ...tuning });
}

/**
 * Adds the second range to every host and `count` resources on it, all preferring n1 (failback
 * immediate), and waits until every address answers from n1.
 */
export async function setupDrain(ctx: BenchContext, count: number, tuning: SweepTuning, concurrency = 4): Promise<DrainSetup> {
  const sinceIso = new Date().toISOString();
  const range = drainRange(ctx.lab);
  await addDrainRange(ctx.lab, range);
  const addresses = range.virtualAddresses(count);
  const names = addresses.map((_, i) => `drain-${String(i + 1).padStart(4, '0')}`);
  const setup: DrainSetup = { range, sinceIso, names, addresses, clientAddress: range.hostAddress(ctx.lab.host(ctx.client)) };
  const interfaces = { n1: 'lan0', n2: 'lan0', n3: 'lan0' };
  const started = Date.now();
  let next = 0;
  const failures: string[] = [];
  let aborted: string | false = false;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const added = await ctx.api.call('resource.add', { spec: { name: names[i]!, ip: addresses[i]!, prefix: DRAIN_PREFIX, preferredOwners: ['n1'], failback: { mode: 'immediate' }, interfaces } });
      const state = (added.result as { resource?: { status?: { state?: string; owner?: string | null } } } | undefined)?.resource?.status;
      if (!added.ok || state?.state !== 'online' || state.owner !== 'n1') failures.push(`${names[i]} ${addresses[i]}: ${added.ok ? JSON.stringify(state) : `${added.code ?? ''} ${added.message ?? ''}`}`);
      // An undisturbed cluster puts every one on n1 at once; when many do not, adding more only buries the cause.
      if (failures.length > Math.max(MAX_SETUP_MISSES, next / 10) && !aborted) {
        aborted = `cluster unstable while adding: ${failures.length} of ${next} adds did not come online on n1 (a conflict, or another owner); examples and agent logs follow\n  ${failures.slice(0, 5).join('\n  ')}\nagent logs:\n${[1, 2, 3].map((n) => agentLogDigest(ctx, `n${n}`, sinceIso)).join('\n')}`;
        next = count;
      }
      if (i > 0 && i % 250 === 0) ctx.note(`drain setup: ${i} of ${count} resources added (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (aborted !== false) throw new Error(aborted);
  ctx.note(`drain setup: ${count} resources added in ${Math.round((Date.now() - started) / 1000)} s${failures.length === 0 ? '' : `; ${failures.length} not online on n1 at once, e.g. ${failures.slice(0, 3).join('; ')}`}`);
  await waitAllOn(ctx, setup, 'n1', 60_000, tuning, 'after adding the drain resources');
  return setup;
}

/** Drain resources not online on `node`: failed ones, and those online elsewhere. */
async function strayDrainResources(ctx: BenchContext, setup: DrainSetup, node: string): Promise<{ failed: string[]; elsewhere: string[] }> {
  const snap = await ctx.api.must('snapshot', {});
  const names = new Set(setup.names);
  const resources = (snap.result as { snapshot: { resources: Array<{ name: string; status: { state: string; owner: string | null } }> } }).snapshot.resources.filter((r) => names.has(r.name));
  return {
    failed: resources.filter((r) => r.status.state === 'failed').map((r) => r.name),
    elsewhere: resources.filter((r) => r.status.state === 'online' && r.status.owner !== node).map((r) => r.name),
  };
}

/**
 * Waits until every address answers from `node` and no other node holds any of them. Stragglers are
 * helped as an operator would, up to `retries` times: a failed resource is brought online again, one
 * online elsewhere is moved to `node`. Each retry is reported: an undisturbed cluster needs none.
 */
async function waitAllOn(ctx: BenchContext, setup: DrainSetup, node: string, timeoutMs: number, tuning: SweepTuning, what: string, retries = 2): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const sweep = await sweepUntil(ctx, setup, { mac: ctx.lab.host(node).mac }, timeoutMs, tuning);
    const summary = await sweep.done;
    if (summary.reason === 'converged') break;
    const { failed, elsewhere } = await strayDrainResources(ctx, setup, node);
    const stuck = await describeStuck(ctx, setup, summary, `${what}: not all addresses answer from ${node}`);
    if (attempt >= retries || failed.length + elsewhere.length === 0) throw new Error(stuck);
    ctx.note(`WARNING ${stuck}\n${what}: bringing ${failed.length} failed resources online again and moving ${elsewhere.length} to ${node} (retry ${attempt + 1} of ${retries})`);
    for (const name of failed) await ctx.api.call('resource.online', { name });
    for (const name of elsewhere) await ctx.api.call('resource.move', { name, target: node });
  }
  const wanted = new Set(setup.addresses);
  const deadline = Date.now() + timeoutMs;
  for (const other of ['n1', 'n2', 'n3'].filter((n) => n !== node)) {
    while ((await ctx.lab.addresses(other)).some((a) => wanted.has(a.split('/')[0]!))) {
      if (Date.now() > deadline) throw new Error(`${what}: ${other} still holds drain addresses after ${timeoutMs} ms\n${agentLogDigest(ctx, other, setup.sinceIso)}`);
      await sleep(200);
    }
  }
}

/** Writes settle a moment after the last address answers (statuses, audit, the intent's delete). */
const WRITES_SETTLE_MS = 2000;

/**
 * One drain of n1 (`node.pause`) or its undoing (`node.resume`: failback), timed from the command leaving
 * the API client until every address answers from another node (drain) or from n1 again (failback).
 */
export async function measureDrain(ctx: BenchContext, setup: DrainSetup, tuning: SweepTuning, timeoutMs = 60_000, command: 'node.pause' | 'node.resume' = 'node.pause'): Promise<DrainSample> {
  const n1 = ctx.lab.host('n1').mac;
  const sweep = await sweepUntil(ctx, setup, command === 'node.pause' ? { notMac: n1 } : { mac: n1 }, timeoutMs, tuning);
  const revisionBefore = await ctx.cluster.etcd?.revision();
  const pause = ctx.api.call(command, { name: 'n1' });
  const summary = await sweep.done;
  const paused = await pause;
  if (!paused.ok) throw new Error(`${command} n1: ${paused.code ?? ''} ${paused.message ?? ''}`);
  if (summary.reason !== 'converged' || summary.allSettledAtWallMs === null) throw new Error(await describeStuck(ctx, setup, summary, command === 'node.pause' ? 'drain of n1' : 'failback to n1'));
  await sleep(WRITES_SETTLE_MS);
  const revisionAfter = await ctx.cluster.etcd?.revision();
  const since = paused.sentAtWallMs;
  const perAddress = summary.settledAtWallMs.map((t) => (t ?? Number.NaN) - since).sort((a, b) => a - b);
  return {
    convergedMs: summary.allSettledAtWallMs - since,
    etcdWrites: revisionBefore === undefined || revisionAfter === undefined ? null : revisionAfter - revisionBefore,
    apiReplyMs: paused.doneAtWallMs - since,
    perAddressMedianMs: percentile(perAddress, 0.5),
    perAddressP99Ms: percentile(perAddress, 0.99),
    byMac: summary.settledByMac,
    kinds: summary.settledKinds,
    contraryAfterSettle: summary.contraryAfterSettle,
  };
}

/**
 * After a drain: resume n1 and time the failback of every address to n1, then check that no other node
 * holds any of them. A failback that does not complete on its own throws (the caller helps it home with
 * undoDrain and counts it as not completed).
 */
export async function measureFailback(ctx: BenchContext, setup: DrainSetup, tuning: SweepTuning): Promise<DrainSample> {
  const sample = await measureDrain(ctx, setup, tuning, 60_000, 'node.resume');
  await waitAllOn(ctx, setup, 'n1', 60_000, tuning, 'failback after resume of n1', 0);
  return sample;
}

/**
 * A node's takeover: n1's agent is killed (SIGKILL) while it holds every address; timed from the kill
 * until every address answers from another node (its kernel serves on until the addresses' lifetime
 * runs out, then the standbys hear the silence). n1's agent is started again and failback brings every
 * address home before the next repetition.
 */
export async function measureTakeover(ctx: BenchContext, setup: DrainSetup, tuning: SweepTuning, timeoutMs = 60_000): Promise<DrainSample> {
  const sweep = await sweepUntil(ctx, setup, { notMac: ctx.lab.host('n1').mac }, timeoutMs, tuning);
  const revisionBefore = await ctx.cluster.etcd?.revision();
  const killedAt = Date.now();
  await ctx.cluster.killAgent('n1');
  const summary = await sweep.done;
  if (summary.reason !== 'converged' || summary.allSettledAtWallMs === null) throw new Error(await describeStuck(ctx, setup, summary, 'takeover of n1'));
  await sleep(WRITES_SETTLE_MS);
  const revisionAfter = await ctx.cluster.etcd?.revision();
  const perAddress = summary.settledAtWallMs.map((t) => (t ?? Number.NaN) - killedAt).sort((a, b) => a - b);
  await ctx.cluster.startAgent('n1');
  await waitAllOn(ctx, setup, 'n1', 60_000, tuning, 'failback after n1 came back');
  return {
    convergedMs: summary.allSettledAtWallMs - killedAt,
    etcdWrites: revisionBefore === undefined || revisionAfter === undefined ? null : revisionAfter - revisionBefore,
    apiReplyMs: Number.NaN,
    perAddressMedianMs: percentile(perAddress, 0.5),
    perAddressP99Ms: percentile(perAddress, 0.99),
    byMac: summary.settledByMac,
    kinds: summary.settledKinds,
    contraryAfterSettle: summary.contraryAfterSettle,
  };
}

/** After a drain (measured or not): resume n1 and wait until failback has brought every address home. */
export async function undoDrain(ctx: BenchContext, setup: DrainSetup, tuning: SweepTuning): Promise<void> {
  await ctx.api.must('node.resume', { name: 'n1' });
  await waitAllOn(ctx, setup, 'n1', 60_000, tuning, 'failback after resume of n1');
}
