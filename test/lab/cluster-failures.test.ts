// Issue 3 acceptance, failures: an owner killed, frozen, cut off from the LAN or from etcd; etcd going
// away; an agent restarted at once; a graceful stop. After each, another node serves the address and
// the witness on the client never saw two MACs answer for it at once.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startUdpEcho, startUdpStream, type RunningStream } from './traffic';
import { startMacWitness, type RunningWitness } from './witness';
import { waitForNeighborMac } from './neighbor-wait';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('failures of the owner', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let vip: string;
  let witness: RunningWitness | null = null;
  let stream: RunningStream | null = null;
  let round = 0;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: false, name: 'cluster-failures' });
    for (const node of lab.nodes) await startUdpEcho(lab, node);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  /** Each test: a fresh resource on n1, the client streaming to it, the witness watching it. */
  beforeEach(async () => {
    round++;
    vip = lab.vip(round);
    const added = await cluster.api('n2', 'resource.add', { spec: { name: `r${round}`, ip: `${vip}/24`, preferredOwners: ['n1', 'n2', 'n3'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n2', `r${round}`, 'n1');
    witness = await startMacWitness(lab, 'c1', vip);
    stream = startUdpStream(lab, 'c1', vip, { intervalMs: 1, pacing: 'sleep' });
    await stream.started;
    await sleep(200);
  });
  afterEach(async () => {
    await stream?.stop().catch(() => undefined);
    await witness?.stop().catch(() => undefined);
    stream = null;
    witness = null;
  });

  async function expectTakeover(by: string[], timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const node of by) {
        if ((await lab.addresses(node)).includes(`${vip}/24`)) {
          await waitForNeighborMac(lab, 'c1', vip, cluster.host(node).mac, 2000);
          return node;
        }
      }
      await sleep(50);
    }
    throw new Error(`nobody of ${by.join(', ')} took ${vip} within ${timeoutMs} ms`);
  }

  async function expectNoOverlap(): Promise<void> {
    const answers = witness!.answers;
    const report = await witness!.stop();
    witness = null;
    const context = (): string => {
      const at = report.overlaps[0]?.fromWallMs ?? 0;
      const near = answers.filter((a) => Math.abs(a.wallMs - at) < 300).map((a) => `${a.wallMs.toFixed(1)} ${a.mac} ${a.kind}`);
      const logs = cluster.nodes.map((n) => `${n}: ${cluster.agent(n).records.filter((r) => r.event === 'log').map((r) => `${String(r.time)} ${String(r.message)}`).join(' | ')}`);
      return `answers near it: ${near.join('; ')}\nagent logs:\n${logs.join('\n')}`;
    };
    assert.deepEqual(report.overlaps, [], `two MACs answered at once: ${JSON.stringify(report.overlaps)}\n${report.overlaps.length > 0 ? context() : ''}`);
  }

  test('kill -9 of the owning agent: another node serves; restarted later, it rejoins without a duplicate', async () => {
    await cluster.killAgent('n1');
    const taker = await expectTakeover(['n2', 'n3'], 10_000);
    assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`), 'the killed node stopped answering (kernel lifetime)');
    await cluster.startAgent('n1');
    await sleep(1500);
    assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`), 'the restarted agent did not take the address back');
    assert.ok((await lab.addresses(taker)).includes(`${vip}/24`));
    await expectNoOverlap();
  });

  test('SIGSTOP of the owning agent: another node serves; on SIGCONT the old one stands down', async () => {
    cluster.signal('n1', 'SIGSTOP');
    try {
      await expectTakeover(['n2', 'n3'], 10_000);
      assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`), 'the frozen node lost the address');
    } finally {
      cluster.signal('n1', 'SIGCONT');
    }
    await sleep(2500);
    assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`), 'the resumed agent did not take the address back');
    await expectNoOverlap();
  });

  test("cutting the owner's link: another node serves, and after the link returns there is no duplicate", async () => {
    await lab.setLinkUp('n1', false);
    try {
      await expectTakeover(['n2', 'n3'], 10_000);
    } finally {
      await lab.setLinkUp('n1', true);
    }
    await sleep(2500);
    assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`));
    await expectNoOverlap();
    // Back in touch with etcd, n1 records the fence in the audit log (hooks and the metrics see it there).
    // The address went with the fence, or a moment before it with the carrier (interface-recovery.ts drops
    // an interface's addresses when its carrier goes): then the fence had none left to drop. Which comes
    // first is a race between the kernel's carrier event and the lease's timer.
    await cluster.until('the fence in the audit log', async () => {
      const fences = await cluster.api('n2', 'events.query', { filter: { target: 'n1', action: 'fence' } });
      return ((fences.result as { entries?: Array<{ detail: string | null }> } | undefined)?.entries ?? []).some((e) => /^dropped (1 address|0 addresses) \(/.test(e.detail ?? ''));
    }, 10_000);
  });

  test('a node cut off from etcd but not from the LAN fences itself before its lease expires', async () => {
    const etcdIp = cluster.etcd!.host;
    await lab.run('n1', ['ip', 'route', 'add', 'blackhole', `${etcdIp}/32`]);
    try {
      const agent = cluster.agent('n1');
      const mark = agent.records.length;
      const fenced = await agent.waitFor((r) => r.event === 'log' && /fenced/.test(String(r.message)) && agent.records.indexOf(r) >= mark, 5000, 'fencing on n1');
      assert.match(String(fenced.message), /dropped 1 address/);
      await expectTakeover(['n2', 'n3'], 10_000);
    } finally {
      await lab.run('n1', ['ip', 'route', 'del', 'blackhole', `${etcdIp}/32`]);
    }
    await sleep(2500);
    assert.ok(!(await lab.addresses('n1')).includes(`${vip}/24`));
    await expectNoOverlap();
  });

  test('etcd stopped and restarted: no address moves, the agents recover', async () => {
    const stoppedAt = Date.now();
    // Stopped, then started again at once: the outage is what a restart takes (1-2 s here), within the
    // lease — the case the issue names. A longer outage fences every owner; see the issue note.
    await cluster.etcd!.stop();
    await cluster.etcd!.start();
    const outageMs = Date.now() - stoppedAt;
    await sleep(2500);
    // Whatever the outage, no other node took the address, and n1 serves it again.
    await cluster.waitOwner('n2', `r${round}`, 'n1', 10_000).catch((error: unknown) => {
      const logs = cluster.nodes.map((n) => `${n}: ${cluster.agent(n).records.filter((r) => r.event === 'log').map((r) => `${String(r.time)} ${String(r.message)}`).slice(-12).join(' | ')}`);
      throw new Error(`${(error as Error).message} (etcd away ${outageMs} ms)\n${logs.join('\n')}`);
    });
    assert.ok((await lab.addresses('n1')).includes(`${vip}/24`), 'n1 serves again');
    for (const node of ['n2', 'n3']) assert.ok(!(await lab.addresses(node)).includes(`${vip}/24`), `${node} never took it`);
    const summary = await stream!.stop();
    stream = null;
    assert.deepEqual(Object.keys(summary.perHost), ['n1']);
    assert.equal(stream === null && summary.perHost.n1! > 0, true);
    // Within the lease (fencing starts ~T - 0.6 s after the last keepalive), not one datagram may be lost;
    // a longer outage makes the owner fence (correctly) until etcd is back.
    process.stdout.write(`# etcd was away ${outageMs} ms; client lost ${summary.lost} datagrams\n`);
    if (outageMs < 2000) assert.equal(summary.lost, 0, `datagrams lost: ${JSON.stringify(summary.lostRanges)}`);
    await expectNoOverlap();
  });

  test('an agent killed and restarted at once re-adopts its addresses: no datagram lost', async () => {
    await cluster.killAgent('n1');
    await cluster.startAgent('n1');
    await sleep(3000); // past the old lease: ownership must have moved to the new one
    const logs = (): string => cluster.nodes.map((n) => `${n}: ${cluster.agent(n).records.filter((r) => r.event === 'log').map((r) => `${String(r.time)} ${String(r.message)}`).join(' | ')}`).join('\n');
    await cluster.waitOwner('n2', `r${round}`, 'n1', 5000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${logs()}`);
    });
    const summary = await stream!.stop();
    stream = null;
    assert.deepEqual(Object.keys(summary.perHost), ['n1']);
    const log = cluster.agent('n1').records.filter((r) => r.event === 'log').map((r) => r.message);
    assert.equal(summary.lost, 0, `datagrams lost: ${JSON.stringify(summary.lostRanges)}; n1 log: ${JSON.stringify(log)}`);
    await expectNoOverlap();
  });

  test('a graceful stop (SIGTERM) hands the addresses to other nodes as planned moves', async () => {
    const code = await cluster.stopAgent('n1');
    assert.equal(code, 0);
    const taker = await expectTakeover(['n2', 'n3'], 5000);
    const events = await cluster.api(taker, 'events.query', { filter: { target: `r${round}`, action: 'move' } });
    assert.equal(events.ok, true);
    assert.ok((events.result as { entries: Array<{ outcome: string }> }).entries.some((e) => e.outcome === 'ok'), `a move was recorded: ${JSON.stringify(events.result)}`);
    await cluster.startAgent('n1');
    await expectNoOverlap();
  });
});
