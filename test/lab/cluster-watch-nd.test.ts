// Issue 18, the agents' passive watch and stragglers over IPv6 neighbour discovery: the IPv6 twin of
// cluster-watch.test.ts. Real etcd, real agents in node namespaces, real kernels doing their own ND.
// A rogue's advertisement of an IPv6 resource's address is an `arp.conflict` with its MAC and vendor in
// another node's API snapshot; one sent to the standby only is recorded by the standby (the holder never
// saw it) and the holder defends; a planned move is an expected handoff (`arp.handoff`), never a conflict,
// and the stored binding tables hold the client's IPv6 address; after a move, a client whose entry names
// the old owner and keeps sending is told by the old owner's unicast advertisement (seen on the client by
// tools/nd-listen.js) and follows; after a takeover the new owner tells the client the binding tables
// know by a unicast advertisement as well.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, LAB_IFNAME, LAB_PREFIX6, type Lab } from './lab';
import { LabCluster } from './cluster';
import { JsonLines, type JsonRecord } from './json-lines';
import { startUdpEcho, startUdpStream, type RunningStream } from './traffic';
import { waitForNeighborMac } from './neighbor-wait';

const ND_SEND = join(__dirname, 'tools', 'nd-send.js');
const ND_LISTEN = join(__dirname, 'tools', 'nd-listen.js');
/** An Intel OUI (00:1b:21), so the vendor can be checked; the lab's own MACs are locally administered. */
const ROGUE_MAC = '00:1b:21:13:5e:96';
const ROGUE_VENDOR = 'Intel Corporate';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Conflict {
  node: string;
  address: string;
  theirMac: string;
  theirVendor: string | null;
  resource: string | null;
  defended: boolean;
}

describe('the cluster\'s watch and straggler repair over IPv6 neighbour discovery', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let events: JsonLines;
  let stream: RunningStream | null = null;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: true, ipv6: true, name: 'cluster-watch-nd' });
    for (const node of lab.nodes) await startUdpEcho(lab, node, { bind: '::' });
    const setMac = await lab.run('r1', ['ip', 'link', 'set', 'dev', LAB_IFNAME, 'address', ROGUE_MAC]);
    assert.equal(setMac.code, 0, setMac.stderr);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    // The operator's view: a console on n3, which holds none of the addresses below.
    events = cluster.followEvents('n3');
    await sleep(500);
  });
  after(async () => {
    events?.child.kill('SIGTERM');
    await cluster?.destroy();
    await lab?.destroy();
  });
  afterEach(async () => {
    await stream?.stop().catch(() => undefined);
    stream = null;
  });

  const mac = (node: string): string => cluster.host(node).mac;

  /** An IPv6 resource on n1 (n2 its first standby), the client c1 streaming to it and resolved to n1. */
  async function servedByN1(name: string, n: number): Promise<string> {
    const vip = lab.vip6(n);
    const added = await cluster.api('n3', 'resource.add', { spec: { name, ip: `${vip}/${LAB_PREFIX6}`, preferredOwners: ['n1', 'n2', 'n3'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n3', name, 'n1');
    stream = startUdpStream(lab, 'c1', vip, { intervalMs: 5, pacing: 'sleep' });
    await stream.started;
    await waitForNeighborMac(lab, 'c1', vip, mac('n1'), 2000);
    await sleep(500); // the standby watches n1 by now: its ND socket is open
    return vip;
  }

  async function conflicts(node: string, vip: string): Promise<Conflict[]> {
    const snap = await cluster.api(node, 'snapshot', {});
    assert.equal(snap.ok, true, JSON.stringify(snap));
    return (snap.result as { snapshot: { conflicts: Conflict[] } }).snapshot.conflicts.filter((c) => c.address === vip);
  }

  /** The rogue's advertisement of `vip` (to all nodes, or to `toMac` only); when it went out (wall ms). */
  async function rogueAdvertises(vip: string, toMac?: string): Promise<number> {
    const argv = [process.execPath, ND_SEND, '--dev', LAB_IFNAME, '--form', 'na', '--ip', vip, ...(toMac === undefined ? [] : ['--to-mac', toMac])];
    const sent = await lab.run('r1', argv, { timeoutMs: 10_000 });
    assert.equal(sent.code, 0, sent.stderr);
    return (JSON.parse(sent.stdout.trim().split('\n').at(-1) ?? '{}') as { at: number }).at;
  }

  test('a rogue advertisement of an IPv6 resource\'s address: the conflict, with its MAC and vendor, reaches another node\'s API snapshot', async (t) => {
    const vip = await servedByN1('web6', 1);
    const sentAt = await rogueAdvertises(vip);
    const entry = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'web6', 3000, 'the conflict on n3');
    const lag = events.readTimeOf(entry) - sentAt;
    assert.ok(lag < 1000, `conflict reported ${lag} ms after the frame`);
    t.diagnostic(`conflict on n3's event stream ${lag} ms after the rogue's frame (recorded by ${String(entry.actor)}): ${String(entry.detail)}`);
    assert.match(String(entry.detail), new RegExp(`^conflict on ${vip}: ${ROGUE_MAC} \\(${ROGUE_VENDOR}\\) claims it`));
    const seen = await conflicts('n2', vip);
    assert.deepEqual(seen.map((c) => [c.theirMac, c.theirVendor, c.resource]), [[ROGUE_MAC, ROGUE_VENDOR, 'web6']]);
    await waitForNeighborMac(lab, 'c1', vip, mac('n1'), 3000);
  });

  test('a rogue advertisement sent to the standby only: the standby records the conflict and the holder, told through the store, defends', async (t) => {
    const vip = await servedByN1('api6', 2);
    const sentAt = await rogueAdvertises(vip, mac('n2'));
    const entry = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'api6' && r.actor === 'n2', 3000, 'n2\'s conflict');
    t.diagnostic(`${String(entry.detail)} (reported by n2, on n3's stream ${events.readTimeOf(entry) - sentAt} ms after the frame)`);
    assert.match(String(entry.detail), new RegExp(`${ROGUE_MAC} \\(${ROGUE_VENDOR}\\)`));
    await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'api6' && r.actor === 'n1' && /, defended/.test(String(r.detail)), 3000, 'n1 defending');
    const recorded = await conflicts('n3', vip);
    assert.ok(recorded.some((c) => c.node === 'n2' && c.theirMac === ROGUE_MAC && c.theirVendor === ROGUE_VENDOR), JSON.stringify(recorded));
  });

  test('a planned move of an IPv6 address is an expected handoff, never a conflict; the stored tables hold the client\'s IPv6 address', async () => {
    const vip = await servedByN1('mail6', 3);
    const moved = await cluster.api('n3', 'resource.move', { name: 'mail6', target: 'n2' });
    assert.equal(moved.ok, true, JSON.stringify(moved));
    const handoff = await events.waitFor((r) => r.action === 'arp.handoff' && r.target === 'mail6', 5000, 'the handoff');
    assert.match(String(handoff.detail), new RegExp(`^expected handoff of ${vip}: n1 \\(${mac('n1')}\\) -> n2 \\(${mac('n2')}\\)`));
    await waitForNeighborMac(lab, 'c1', vip, mac('n2'), 1000);
    await sleep(2000); // anything late would show now
    assert.deepEqual(events.records.filter((r: JsonRecord) => r.target === 'mail6' && r.action === 'arp.conflict'), [], 'the handoff was taken for a conflict');
    assert.deepEqual(await conflicts('n3', vip), []);

    const c1 = lab.host('c1');
    await cluster.until('c1\'s IPv6 address in a stored binding table', async () => {
      const run = await cluster.cli('n3', ['bindings', '--json']);
      assert.equal(run.code, 0, run.stderr);
      const { nodes } = JSON.parse(run.stdout) as { nodes: Array<{ bindings: Array<{ ip: string; mac: string }> }> };
      return nodes.some((n) => n.bindings.some((b) => b.ip === c1.ip6 && b.mac === c1.mac));
    }, 15_000);
  });

  test('after a move, a client whose entry names the old owner again and keeps sending is told by the old owner\'s unicast advertisement and follows within a second', async (t) => {
    const vip = await servedByN1('db6', 4);
    const c1 = lab.host('c1');
    const listener = new JsonLines(lab.spawn('c1', [process.execPath, ND_LISTEN, '--dev', LAB_IFNAME], { stdio: ['pipe', 'pipe', 'pipe'] }));
    try {
      await listener.waitFor((r) => r.type === 'ready', 5000, 'the listener');
      // Pinned to the old owner first, so nothing else can repair the entry meanwhile: in this lab the new
      // holder's kernel answers the standby's questions with advertisements to all nodes every few ms.
      await lab.setNeighbor('c1', vip, mac('n1'), 'permanent');
      const moved = await cluster.api('n3', 'resource.move', { name: 'db6', target: 'n2' });
      assert.equal(moved.ok, true, JSON.stringify(moved));
      const straggler = await events.waitFor((r) => r.action === 'arp.straggler' && r.target === 'db6', 3000, 'the straggler');
      assert.equal(straggler.actor, 'n1');
      assert.match(String(straggler.detail), new RegExp(`^${c1.mac} \\(${c1.ip6}\\) still sends to ${vip} at the old MAC ${mac('n1')}: its neighbour cache is stale`));
      const told = await listener.waitFor((r) => r.type === 'na' && r.dstMac === c1.mac && r.target === vip, 3000, 'the unicast advertisement to c1');
      assert.deepEqual(
        [told.srcMac, told.src, told.dst, told.targetLinkAddr, told.solicited, told.override],
        [mac('n1'), vip, c1.ip6, mac('n2'), false, true],
        'from the old owner\'s MAC, to c1\'s address, naming the new owner, override set',
      );
      // The pin lifted (as the brief's stale cache would be): a reachable entry, still with the old MAC.
      const staleAt = Date.now();
      await lab.setNeighbor('c1', vip, mac('n1'), 'reachable');
      const followedAt = await waitForNeighborMac(lab, 'c1', vip, mac('n2'), 1000);
      t.diagnostic(`c1's entry named n2 ${followedAt - staleAt} ms after it was set back to n1's MAC (reachable)`);
      const unicast = listener.records.filter((r) => r.type === 'na' && r.dstMac === c1.mac && r.target === vip && r.srcMac === mac('n1'));
      t.diagnostic(`unicast advertisements from n1 to c1: ${unicast.length}`);
    } finally {
      listener.child.kill('SIGTERM');
    }
    const converged = await events.waitFor((r) => r.action === 'arp.convergence' && r.target === 'db6', 15_000, 'the convergence report');
    t.diagnostic(String(converged.detail));
    assert.equal(converged.outcome, 'ok');
    assert.match(String(converged.detail), new RegExp(`^converged: all 1 station updated after \\d+ ms \\(${c1.mac}\\)`));
    assert.equal((await lab.neighbor('c1', vip))?.mac, mac('n2'));
    const running = stream!;
    await running.stop();
    stream = null;
    assert.equal(running.owners.at(-1)?.host, 'n2', JSON.stringify(running.owners));
  });

  test('after a takeover (the owning agent killed, its cable cut) the new owner tells the client of the binding tables by a unicast advertisement', async (t) => {
    const vip = await servedByN1('kill6', 5);
    const c1 = lab.host('c1');
    await cluster.until('c1\'s IPv6 address in a stored binding table', async () => {
      const run = await cluster.cli('n3', ['bindings', '--json']);
      const { nodes } = JSON.parse(run.stdout) as { nodes: Array<{ bindings: Array<{ ip: string; mac: string }> }> };
      return nodes.some((n) => n.bindings.some((b) => b.ip === c1.ip6 && b.mac === c1.mac));
    }, 15_000);
    const listener = new JsonLines(lab.spawn('c1', [process.execPath, ND_LISTEN, '--dev', LAB_IFNAME], { stdio: ['pipe', 'pipe', 'pipe'] }));
    try {
      await listener.waitFor((r) => r.type === 'ready', 5000, 'the listener');
      await cluster.killAgent('n1');
      await lab.setLinkUp('n1', false);
      const told = await listener.waitFor((r) => r.type === 'na' && r.dstMac === c1.mac && r.target === vip, 10_000, 'the new owner\'s unicast advertisement to c1');
      const taker = told.srcMac === mac('n2') ? 'n2' : 'n3';
      assert.deepEqual([told.srcMac, told.src, told.dst, told.targetLinkAddr, told.solicited, told.override], [mac(taker), vip, c1.ip6, mac(taker), false, true]);
      const converged = await events.waitFor((r) => r.action === 'arp.convergence' && r.target === 'kill6', 15_000, 'the takeover\'s convergence entry');
      t.diagnostic(`${String(converged.actor)}: ${String(converged.detail)}`);
      assert.equal(converged.actor, taker);
      assert.match(String(converged.detail), new RegExp(`^after the takeover from n1: told \\d+ stations? the new MAC of ${vip} by unicast neighbour advertisement; .*${c1.mac} \\(${c1.ip6}`));
      assert.match(String(converged.detail), new RegExp(`(all seen using it|seen using it: [^;]*${c1.mac})`));
    } finally {
      listener.child.kill('SIGTERM');
      await lab.setLinkUp('n1', true);
    }
    await cluster.startAgent('n1');
  });
});
