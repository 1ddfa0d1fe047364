// Issue 13 §1 acceptance: a drain, its failback and a killed node's takeover move many addresses as batches (one intent per
// owner and target, one netlink batch on each side). Real etcd, real agents, a client that sweeps every
// address with ARP until each answers from its new node, and a witness that asks for a sample of them
// every 20 ms and reports any moment two MACs answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startArpSweep } from '../bench/arp-sweep';
import { SoakWitness } from '../bench/soak-witness';

/** Addresses n1 holds (the lab's /24 has room for 150 virtual ones). */
const COUNT = 120;
/** Every SAMPLE_STEP-th address is watched by the two-MAC witness. */
const SAMPLE_STEP = 6;

interface StatusRow {
  name: string;
  state: string;
  owner: string | null;
}

describe('batched drain, failback and takeover on a three-node cluster', () => {
  let lab: Lab;
  let cluster: LabCluster;
  const names = Array.from({ length: COUNT }, (_, i) => `b${String(i + 1).padStart(3, '0')}`);
  let addresses: string[] = [];

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: true, name: 'batch-moves' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    addresses = names.map((_, i) => lab.vip(i + 1));
    let next = 0;
    const add = async (): Promise<void> => {
      while (next < COUNT) {
        const i = next++;
        const added = await cluster.api('n1', 'resource.add', { spec: { name: names[i]!, ip: `${addresses[i]!}/24`, preferredOwners: ['n1'], failback: { mode: 'immediate' } } });
        assert.equal(added.ok, true, JSON.stringify(added));
      }
    };
    await Promise.all(Array.from({ length: 8 }, add));
    await waitStatuses('n1', 20_000);
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  async function statuses(): Promise<StatusRow[]> {
    const status = await cluster.status('n3');
    return status.resources.filter((r) => names.includes(String(r.name))) as unknown as StatusRow[];
  }

  /** Until every resource is online on `owner` (or, for '!n1', anywhere but n1). */
  async function waitStatuses(owner: 'n1' | '!n1', timeoutMs: number, except: readonly string[] = []): Promise<StatusRow[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = (await statuses()).filter((r) => !except.includes(r.name));
      const placed = rows.filter((r) => r.state === 'online' && (owner === 'n1' ? r.owner === 'n1' : r.owner !== null && r.owner !== 'n1'));
      if (placed.length === COUNT - except.length) return rows;
      if (Date.now() > deadline) throw new Error(`${COUNT - except.length - placed.length} resources not online on ${owner} after ${timeoutMs} ms: ${JSON.stringify(rows.filter((r) => !placed.includes(r)).slice(0, 5))}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Every address answers the client from a MAC other than n1's (drain) or n1's (failback). */
  async function sweep(until: { mac: string } | { notMac: string }, targets: readonly string[]): Promise<void> {
    const running = await startArpSweep(lab, 'c1', { fromIp: lab.host('c1').ip, targets, until, timeoutMs: 10_000 });
    const summary = await running.done;
    assert.equal(summary.reason, 'converged', `not every address answered as wanted: ${JSON.stringify(summary.unsettledSample)}`);
    assert.equal(summary.contraryAfterSettle, 0, 'an address answered from the old MAC again after the new one');
  }

  /** The agents' lines that report a batch taken (batch-moves.ts). */
  function batchLines(from: string): string[] {
    return ['n1', 'n2', 'n3'].flatMap((node) => cluster.agent(node).records.flatMap((r) => (typeof r.message === 'string' && r.message.startsWith(`batch batch:${from}:`) && r.message.includes('addresses taken') ? [r.message] : [])));
  }

  test('a drain moves every address in one batch per target, the client follows each one, no moment has two MACs; the resume fails them back', async () => {
    const sample = addresses.filter((_, i) => i % SAMPLE_STEP === 0);
    const witness = await SoakWitness.start(lab, 'c1', sample, 20, 100);
    try {
      const paused = await cluster.api('n3', 'node.pause', { name: 'n1' });
      assert.equal(paused.ok, true, JSON.stringify(paused));
      await sweep({ notMac: cluster.host('n1').mac }, addresses);
      const drained = await waitStatuses('!n1', 10_000);
      const byOwner = new Map<string, number>();
      for (const row of drained) byOwner.set(row.owner!, (byOwner.get(row.owner!) ?? 0) + 1);
      assert.deepEqual([...byOwner.keys()].sort(), ['n2', 'n3'], `spread over both other nodes: ${JSON.stringify([...byOwner])}`);
      assert.deepEqual((await lab.addresses('n1')).filter((a) => addresses.includes(a.split('/')[0]!)), [], 'n1 holds none of them');
      // Batches, not 120 single moves: each target reports its batch, and together they carried every address.
      const drainBatches = batchLines('n1');
      assert.ok(drainBatches.length >= 2 && drainBatches.length <= 4, `one batch per target (a retry at most): ${drainBatches.join(' | ')}`);
      const carried = drainBatches.reduce((sum, line) => sum + Number(/: (\d+) of \d+ addresses taken/.exec(line)?.[1] ?? 0), 0);
      assert.equal(carried, COUNT, drainBatches.join(' | '));
      const events = await cluster.api('n2', 'events.query', { limit: 500, filter: { action: 'move' } });
      assert.equal(events.ok, true, JSON.stringify(events));
      const moves = (events.result as { entries: Array<{ actor: string; target: string; outcome: string; handoffMs: number | null }> }).entries.filter((e) => e.actor === 'drain' && names.includes(e.target));
      assert.equal(moves.filter((e) => e.outcome === 'ok').length, COUNT, 'one audit entry per address');
      assert.ok(moves.every((e) => e.outcome !== 'ok' || (typeof e.handoffMs === 'number' && e.handoffMs >= 0)), 'each with its handoff time');

      const resumed = await cluster.api('n3', 'node.resume', { name: 'n1' });
      assert.equal(resumed.ok, true, JSON.stringify(resumed));
      await sweep({ mac: cluster.host('n1').mac }, addresses);
      await waitStatuses('n1', 10_000);
      for (const node of ['n2', 'n3']) assert.deepEqual((await lab.addresses(node)).filter((a) => addresses.includes(a.split('/')[0]!)), [], `${node} holds none of them`);
      assert.ok(batchLines('n2').length + batchLines('n3').length >= 2, 'the failback went in batches too');
    } finally {
      const seen = await witness.stop();
      assert.deepEqual(seen.overlaps, [], `two MACs answered at once: ${JSON.stringify(seen.overlaps.slice(0, 3))}`);
      assert.deepEqual(seen.neverAnswered, [], 'every watched address answered');
      assert.equal(seen.kernelDropped ?? 0, 0, 'the witness heard everything');
    }
  });

  test("a killed node's addresses are taken over in batches: every address answers from a live node, no moment has two MACs", async () => {
    const sample = addresses.filter((_, i) => i % SAMPLE_STEP === 3);
    const witness = await SoakWitness.start(lab, 'c1', sample, 20, 100);
    try {
      await cluster.killAgent('n1');
      // n1's kernel serves until the addresses' lifetime runs out (2 s); the standbys then hear the silence.
      await sweep({ notMac: cluster.host('n1').mac }, addresses);
      await waitStatuses('!n1', 10_000);
      const takeovers = ['n2', 'n3'].flatMap((node) => cluster.agent(node).records.flatMap((r) => (typeof r.message === 'string' && r.message.startsWith('claimed together: ') ? [`${node} ${r.message}`] : [])));
      const taken = takeovers.reduce((sum, line) => sum + Number(/claimed together: (\d+) of/.exec(line)?.[1] ?? 0), 0);
      assert.equal(taken, COUNT, `the takeovers carried every address: ${takeovers.join(' | ')}`);
      assert.ok(takeovers.length <= 4, `in batches, not one by one: ${takeovers.join(' | ')}`);
    } finally {
      const seen = await witness.stop();
      assert.deepEqual(seen.overlaps, [], `two MACs answered at once: ${JSON.stringify(seen.overlaps.slice(0, 3))}`);
    }
    await cluster.startAgent('n1');
    await sweep({ mac: cluster.host('n1').mac }, addresses);
    await waitStatuses('n1', 15_000);
  });

  test('an address of a batch that a station outside the cluster answers for is left out: it stays on its owner, the others move', async () => {
    const stolen = addresses[7]!;
    const name = names[7]!;
    await lab.run('r1', ['ip', 'addr', 'add', `${stolen}/24`, 'dev', 'lan0']);
    // The pause answers once n1 holds nothing: after the stranger has gone and the last address moved.
    const pausing = cluster.api('n3', 'node.pause', { name: 'n1' });
    try {
      await waitStatuses('!n1', 10_000, [name]);
      const row = (await statuses()).find((r) => r.name === name);
      assert.deepEqual([row?.state, row?.owner], ['online', 'n1'], 'the contested address stays with its owner');
      const events = await cluster.api('n2', 'events.query', { limit: 50, filter: { target: name } });
      const failed = (events.result as { entries: Array<{ outcome: string; detail: string | null }> }).entries.filter((e) => e.outcome === 'failed');
      assert.ok(failed.some((e) => (e.detail ?? '').includes(`answered by ${lab.host('r1').mac}`)), `the move of ${name} failed naming the stranger: ${JSON.stringify(failed.slice(0, 3))}`);
    } finally {
      await lab.run('r1', ['ip', 'addr', 'del', `${stolen}/24`, 'dev', 'lan0']);
    }
    const paused = await pausing;
    assert.equal(paused.ok, true, JSON.stringify(paused));
    await waitStatuses('!n1', 10_000);
    const resumed = await cluster.api('n3', 'node.resume', { name: 'n1' });
    assert.equal(resumed.ok, true, JSON.stringify(resumed));
    await waitStatuses('n1', 15_000);
  });
});
