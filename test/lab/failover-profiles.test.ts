// Issue 17: the failover profiles in the lab. For `default` and `fast` (`ipfo agent --failover-profile`):
// the owner's interface set down on the owner itself, and the owning agent killed with its cable cut —
// another node serves within the profile's bound, and the witness on the client never saw two MACs for
// the address; for `fast --owner-silence-ms 8` (probes every 2 ms) the interface set down. Then the
// default profile beside two CPU-burning processes and 120 addresses: no live owner is failed over (no
// revocation, no failover, no fence) in a minute.
// The bounds here are loose (a loaded CI machine); the aims (200 ms and 30 ms, 20 reps) are
// `npm run bench:detect`'s.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, LAB_IFNAME, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startUdpEcho, startUdpStream, type RunningStream } from './traffic';
import { startMacWitness, type RunningWitness } from './witness';
import { waitForNeighborMac } from './neighbor-wait';
import { CpuHogs } from '../bench/cpu-hogs';
import type { FailoverProfile } from '../../main/cluster/failover-profile';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest client gap a test accepts: about twice the aim, for a loaded 2-core CI machine. */
const GAP_BOUND_MS: Readonly<Record<FailoverProfile, number>> = { default: 400, fast: 120 };

interface Setting {
  label: string;
  profile: FailoverProfile;
  /** --owner-silence-ms, or null for the profile's own. */
  ownerSilenceMs: number | null;
  /** Also the agent killed with its cable cut. */
  killAndCut: boolean;
}

const SETTINGS: readonly Setting[] = [
  { label: 'default', profile: 'default', ownerSilenceMs: null, killAndCut: true },
  { label: 'fast', profile: 'fast', ownerSilenceMs: null, killAndCut: true },
  { label: 'fast --owner-silence-ms 8', profile: 'fast', ownerSilenceMs: 8, killAndCut: false },
];

for (const { label, profile, ownerSilenceMs, killAndCut } of SETTINGS) {
  describe(`failover profile ${label}`, () => {
    let lab: Lab;
    let cluster: LabCluster;
    let vip: string;
    let witness: RunningWitness | null = null;
    let stream: RunningStream | null = null;
    let round = 0;

    before(async () => {
      lab = await createLab({ nodes: 3, clients: 2, rogue: false, name: `profile-${profile}${ownerSilenceMs === null ? '' : `-${ownerSilenceMs}`}` });
      for (const node of lab.nodes) await startUdpEcho(lab, node);
      cluster = await LabCluster.start(lab, { etcdHost: 'c2', ...(ownerSilenceMs === null ? {} : { ownerSilenceMs }), agentArgs: ['--failover-profile', profile] });
    });
    after(async () => {
      await cluster?.destroy();
      await lab?.destroy();
    });

    beforeEach(async () => {
      round++;
      vip = lab.vip(round);
      const added = await cluster.api('n2', 'resource.add', { spec: { name: `r${round}`, ip: `${vip}/24`, preferredOwners: ['n1', 'n2', 'n3'] } });
      assert.equal(added.ok, true, JSON.stringify(added));
      await cluster.waitOwner('n2', `r${round}`, 'n1', 15_000);
      witness = await startMacWitness(lab, 'c1', vip);
      stream = startUdpStream(lab, 'c1', vip, { intervalMs: 1, pacing: 'sleep' });
      await stream.started;
      await sleep(500); // the standby has heard n1 answer by now
    });
    afterEach(async () => {
      await stream?.stop().catch(() => undefined);
      await witness?.stop().catch(() => undefined);
      stream = null;
      witness = null;
    });

    /** Waits until n2 or n3 holds the address and the client's ARP entry names it; the client's gap and no overlap. */
    async function servedElsewhere(): Promise<{ taker: string; gapMs: number }> {
      const deadline = Date.now() + 10_000;
      let taker: string | null = null;
      while (taker === null && Date.now() < deadline) {
        for (const node of ['n2', 'n3']) if ((await lab.addresses(node)).includes(`${vip}/24`)) taker = node;
        if (taker === null) await sleep(20);
      }
      assert.ok(taker !== null, `nobody took ${vip} within 10 s`);
      await waitForNeighborMac(lab, 'c1', vip, cluster.host(taker).mac, 2000);
      await sleep(300);
      const report = await stream!.stop();
      stream = null;
      const gap = report.longestGap;
      assert.ok(gap !== null, 'the client got replies');
      const overlaps = (await witness!.stop()).overlaps;
      witness = null;
      assert.deepEqual(overlaps, [], 'two MACs answered for the address at once');
      assert.equal(gap.hostBefore, 'n1', `the longest gap is the owner change: ${JSON.stringify(gap)}`);
      assert.equal(gap.hostAfter, taker);
      return { taker, gapMs: gap.ms };
    }

    test("the owner's interface set down on the owner itself: another node serves within the bound, never two MACs", async () => {
      const down = await lab.run('n1', ['ip', 'link', 'set', 'dev', LAB_IFNAME, 'down']);
      assert.equal(down.code, 0, down.stderr);
      let served;
      try {
        served = await servedElsewhere();
      } finally {
        await lab.run('n1', ['ip', 'link', 'set', 'dev', LAB_IFNAME, 'up']);
      }
      console.log(`# ${label}: interface down on n1 -> ${served.taker} served after a client gap of ${served.gapMs.toFixed(1)} ms`);
      assert.ok(served.gapMs <= GAP_BOUND_MS[profile], `client gap ${served.gapMs} ms > ${GAP_BOUND_MS[profile]} ms`);
      await sleep(2500);
      assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`), 'n1 did not take the address back');
    });

    // The shortest silence is proven with the interface set down alone.
    if (killAndCut) {
      test('the owning agent killed and its cable cut: another node serves within the bound, never two MACs', async () => {
        await cluster.killAgent('n1');
        await lab.setLinkUp('n1', false);
        let served;
        try {
          served = await servedElsewhere();
        } finally {
          await lab.setLinkUp('n1', true);
        }
        console.log(`# ${label}: n1 killed and cut -> ${served.taker} served after a client gap of ${served.gapMs.toFixed(1)} ms`);
        assert.ok(served.gapMs <= GAP_BOUND_MS[profile], `client gap ${served.gapMs} ms > ${GAP_BOUND_MS[profile]} ms`);
        await cluster.startAgent('n1');
        await sleep(1500);
        assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`), 'the restarted agent did not take the address back');
      });
    }
  });
}

const online = (status: { resources: Array<Record<string, unknown>> }): number => status.resources.filter((r) => r.state === 'online').length;

describe('the default profile on a busy machine', () => {
  const ADDRESSES = 120; // the lab's /24 holds 150 virtual addresses
  const HOG_MS = 60_000;
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 1, rogue: false, name: 'profile-hogs' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  test(`two CPU-burning processes for a minute beside ${ADDRESSES} addresses: no live owner is failed over`, { timeout: 240_000 }, async () => {
    const rows = Array.from({ length: ADDRESSES }, (_, i) => ({ name: `busy${i}`, ip: `${lab.vip(i + 1)}/24`, preferredOwners: [['n1', 'n2', 'n3'][i % 3]!] }));
    const imported = await cluster.api('n1', 'resource.import', { rows, skipInvalid: false });
    assert.equal(imported.ok, true, JSON.stringify(imported).slice(0, 500));
    await cluster.until(`${ADDRESSES} addresses online`, async () => {
      return online(await cluster.status('n1')) === ADDRESSES;
    }, 60_000);
    await sleep(2000); // every standby has heard its owners answer
    const since = new Date().toISOString();
    const hogs = CpuHogs.start(2);
    try {
      await sleep(HOG_MS);
    } finally {
      await hogs.stop();
    }
    await sleep(1000);
    const logs = cluster.nodes.flatMap((node) => cluster.agent(node).records.filter((r) => r.event === 'log' && String(r.time) >= since).map((r) => `${node}: ${String(r.message)}`));
    assert.deepEqual(logs.filter((line) => /revoking its lease|fenced/.test(line)), [], `a live owner was failed over:\n${logs.slice(0, 40).join('\n')}`);
    const failovers = await cluster.api('n1', 'events.query', { filter: { action: 'failover' } });
    const entries = ((failovers.result as { entries?: Array<{ at: number; target: string }> } | undefined)?.entries ?? []).filter((e) => e.at >= Date.parse(since));
    assert.deepEqual(entries, [], 'no address failed over');
    assert.equal(online(await cluster.status('n1')), ADDRESSES);
  });
});
