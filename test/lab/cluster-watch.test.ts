// Issue 5 acceptance: the ARP watch tied to the cluster. Real etcd, real agents in node namespaces,
// real frames from a rogue and clients. What the cluster concluded is read where an operator reads it:
// `ipfo events --follow --json` on a node other than the one that saw the frames, and the API snapshot.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import type { JsonLines, JsonRecord } from './json-lines';
import { startUdpEcho, startUdpStream } from './traffic';
import { waitForNeighborMac } from './neighbor-wait';
import { startIpfo } from './ipfo';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
/** An Intel OUI (00:1b:21), so the vendor can be checked; the lab's own MACs are locally administered. */
const ROGUE_MAC = '00:1b:21:13:5e:99';
const ROGUE_VENDOR = 'Intel Corporate';

interface Snapshot {
  conflicts: Array<{ node: string; address: string; theirMac: string; theirVendor: string | null; resource: string | null; defended: boolean }>;
}

describe('the ARP watch tied to the cluster', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let events: JsonLines;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: true, name: 'cluster-watch' });
    for (const node of lab.nodes) await startUdpEcho(lab, node);
    const setMac = await lab.run('r1', ['ip', 'link', 'set', 'dev', 'lan0', 'address', ROGUE_MAC]);
    assert.equal(setMac.code, 0, setMac.stderr);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    // The operator's view: a console on n3, which holds none of the addresses below at first.
    events = cluster.followEvents('n3');
    await new Promise((resolve) => setTimeout(resolve, 500));
  });
  after(async () => {
    events?.child.kill('SIGTERM');
    await cluster?.destroy();
    await lab?.destroy();
  });

  const mac = (node: string): string => cluster.host(node).mac;

  async function addOn(name: string, vip: string, preferredOwners: string[]): Promise<void> {
    const added = await cluster.api('n1', 'resource.add', { spec: { name, ip: `${vip}/24`, preferredOwners } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', name, preferredOwners[0] ?? 'n1');
  }

  function entriesFor(target: string, action: string): JsonRecord[] {
    return events.records.filter((r) => r.target === target && r.action === action);
  }

  async function snapshot(node: string): Promise<Snapshot> {
    const snap = await cluster.api(node, 'snapshot', {});
    assert.equal(snap.ok, true, JSON.stringify(snap));
    return (snap.result as { snapshot: Snapshot }).snapshot;
  }

  test('a rogue gratuitous ARP: the conflict, with its MAC and vendor, reaches another node\'s API within a second; the owner defends and the client returns', async (t) => {
    const vip = lab.vip(1);
    await addOn('web', vip, ['n1', 'n2', 'n3']);
    const stream = startUdpStream(lab, 'c1', vip, { intervalMs: 5, pacing: 'sleep' });
    await stream.started;
    await waitForNeighborMac(lab, 'c1', vip, mac('n1'), 2000);

    const send = await lab.run('r1', [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip], { timeoutMs: 10_000 });
    assert.equal(send.code, 0, send.stderr);
    const sentAt = (JSON.parse(send.stdout.trim().split('\n').at(-1) ?? '{}') as { at: number }).at;
    const entry = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'web', 3000, 'the conflict on n3');
    const lag = events.readTimeOf(entry) - sentAt;
    t.diagnostic(`conflict on n3's event stream ${lag} ms after the rogue's frame: ${String(entry.detail)}`);
    assert.ok(lag < 1000, `conflict reported ${lag} ms after the frame`);
    assert.match(String(entry.detail), new RegExp(`${ROGUE_MAC} \\(${ROGUE_VENDOR}\\)`));

    // The holder defended, and the client's cache came back to it.
    await waitForNeighborMac(lab, 'c1', vip, mac('n1'), 3000);
    const conflicts = (await snapshot('n2')).conflicts.filter((c) => c.address === vip);
    assert.deepEqual(conflicts.map((c) => [c.node, c.theirMac, c.theirVendor, c.resource, c.defended]), [['n1', ROGUE_MAC, ROGUE_VENDOR, 'web', true]]);
    const summary = await stream.stop();
    assert.equal(stream.owners.at(-1)?.host, 'n1', JSON.stringify(summary.perHost));
  });

  test('a rogue that only answers ARP requests for an address: the standby sees its unicast replies, reports the conflict, and the owner defends', async (t) => {
    const vip = lab.vip(2);
    await addOn('api', vip, ['n1', 'n2', 'n3']);
    // n2, first standby for api, asks n1 for the address 20 times a second; the rogue answers too.
    const added = await lab.run('r1', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lan0']);
    assert.equal(added.code, 0, added.stderr);
    const since = Date.now();
    try {
      const entry = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'api', 3000, 'the conflict on n3');
      t.diagnostic(`${String(entry.detail)} (reported by ${String(entry.actor)}, ${events.readTimeOf(entry) - since} ms after the rogue took the address)`);
      assert.match(String(entry.detail), new RegExp(ROGUE_MAC));
      // The owner heard of it through the store and defended, though it never saw the rogue's replies.
      await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'api' && r.actor === 'n1' && /, defended$/.test(String(r.detail)), 3000, 'n1 defending');
      // A client that asks now gets two answers and may keep the rogue's; the owner defends again (at most
      // once per defend interval, 10 s) while the rogue goes on answering, and the client comes back.
      await lab.run('c1', ['ip', 'neigh', 'flush', 'to', vip, 'dev', 'lan0']);
      const stream = startUdpStream(lab, 'c1', vip, { intervalMs: 5, pacing: 'sleep' });
      await stream.started;
      await new Promise((resolve) => setTimeout(resolve, 100));
      t.diagnostic(`c1 first resolved ${vip} to ${(await lab.neighbor('c1', vip))?.mac ?? 'nothing'}`);
      await waitForNeighborMac(lab, 'c1', vip, mac('n1'), 15_000);
      await stream.stop();
    } finally {
      await lab.run('r1', ['ip', 'addr', 'del', `${vip}/32`, 'dev', 'lan0']);
    }
  });

  test('two stations configured with the same plain address: a duplicate-address event', async () => {
    const plain = lab.vip(50);
    for (const host of ['c1', 'r1']) {
      const send = await lab.run(host, [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', plain], { timeoutMs: 10_000 });
      assert.equal(send.code, 0, send.stderr);
    }
    const entry = await events.waitFor((r) => r.action === 'arp.duplicate' && r.target === plain, 3000, 'the duplicate');
    assert.match(String(entry.detail), new RegExp(`${mac('c1')} \\(locally administered\\) and ${ROGUE_MAC} \\(${ROGUE_VENDOR}\\)`));
  });

  test('the binding tables are kept in the cluster store: ipfo bindings lists what every node saw', async () => {
    const c1 = lab.host('c1');
    const deadline = Date.now() + 15_000;
    let last = '';
    while (Date.now() < deadline) {
      const run = await cluster.cli('n3', ['bindings', '--json']);
      assert.equal(run.code, 0, run.stderr);
      last = run.stdout;
      const { nodes } = JSON.parse(run.stdout) as { nodes: Array<{ node: string; bindings: Array<{ ip: string; mac: string; vendor: string | null; count: number }> }> };
      const seen = nodes.flatMap((n) => n.bindings.filter((b) => b.ip === c1.ip && b.mac === c1.mac).map(() => n.node));
      if (seen.length > 0) {
        assert.ok(nodes.every((n) => n.bindings.length <= 4096));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.fail(`no node's stored table has c1 (${c1.ip} at ${c1.mac}): ${last.slice(0, 500)}`);
  });

  test('a client pinned to the old MAC is named as a straggler, then reported converged after the unicast GARP', async (t) => {
    const vip = lab.vip(4);
    await addOn('db', vip, ['n1', 'n2', 'n3']);
    const stream = startUdpStream(lab, 'c1', vip, { intervalMs: 5, pacing: 'sleep' });
    await stream.started;
    await waitForNeighborMac(lab, 'c1', vip, mac('n1'), 2000);
    await lab.setNeighbor('c1', vip, mac('n1'), 'permanent');
    const moved = await cluster.api('n3', 'resource.move', { name: 'db', target: 'n2' });
    assert.equal(moved.ok, true, JSON.stringify(moved));
    const straggler = await events.waitFor((r) => r.action === 'arp.straggler' && r.target === 'db', 3000, 'the straggler');
    assert.match(String(straggler.detail), new RegExp(`^${mac('c1')} \\(${lab.host('c1').ip}\\) still sends to ${vip} at the old MAC ${mac('n1')}`));
    // The administrator's pin is lifted: the entry is an ordinary one again, still with the old MAC.
    await lab.setNeighbor('c1', vip, mac('n1'), 'stale');
    const converged = await events.waitFor((r) => r.action === 'arp.convergence' && r.target === 'db', 15_000, 'the convergence report');
    t.diagnostic(String(converged.detail));
    assert.equal(converged.outcome, 'ok');
    assert.match(String(converged.detail), new RegExp(`^converged: all 1 station updated after \\d+ ms \\(${mac('c1')}\\)`));
    assert.equal((await lab.neighbor('c1', vip))?.mac, mac('n2'));
    await stream.stop();
  });

  test('maintenance windows: alarms for a resource or a node under maintenance are muted, and still recorded', async () => {
    const vip = lab.vip(5);
    await addOn('cache', vip, ['n1', 'n2', 'n3']);
    // Each phase from another MAC of the rogue's: a new station is a new episode (the same one would be
    // folded into its episode until 30 s of quiet).
    const rogueAs = async (rogueMac: string): Promise<void> => {
      const set = await lab.run('r1', ['ip', 'link', 'set', 'dev', 'lan0', 'address', rogueMac]);
      assert.equal(set.code, 0, set.stderr);
    };
    const rogueAnnounces = async (): Promise<void> => {
      const send = await lab.run('r1', [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip], { timeoutMs: 10_000 });
      assert.equal(send.code, 0, send.stderr);
    };
    const edit = await cluster.cli('n3', ['resource', 'edit', 'cache', '--maintenance', '10m']);
    assert.equal(edit.code, 0, edit.stderr);
    await rogueAnnounces();
    const muted = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'cache', 3000, 'the muted conflict');
    assert.match(String(muted.detail), /; muted \(maintenance\)$/);
    const recorded = (await snapshot('n2')).conflicts.find((c) => c.address === vip);
    assert.equal((recorded as { muted?: boolean } | undefined)?.muted, true);

    // The resource's window ends; the node that holds it goes under maintenance instead.
    assert.equal((await cluster.cli('n3', ['resource', 'edit', 'cache', '--maintenance', 'off'])).code, 0);
    const node = await cluster.cli('n3', ['node', 'maintenance', 'n1', '--for', '5m']);
    assert.equal(node.code, 0, node.stderr);
    await rogueAs('00:1b:21:13:5e:9a');
    await rogueAnnounces();
    const second = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'cache' && r !== muted, 3000, 'the conflict under node maintenance');
    assert.match(String(second.detail), /; muted \(maintenance\)$/);

    // Maintenance over: the next episode is an alarm again.
    assert.equal((await cluster.cli('n3', ['node', 'maintenance', 'n1', '--end'])).code, 0);
    await rogueAs('00:1b:21:13:5e:9b');
    await rogueAnnounces();
    const third = await events.waitFor((r) => r.action === 'arp.conflict' && r.target === 'cache' && r !== muted && r !== second, 3000, 'the conflict after maintenance');
    assert.doesNotMatch(String(third.detail), /muted/);
    await rogueAs(ROGUE_MAC);
  });

  test('a resource\'s own GARP count and spacing are what the new owner sends', async () => {
    const vip = lab.vip(6);
    await addOn('voip', vip, ['n1', 'n2', 'n3']);
    const edit = await cluster.cli('n3', ['resource', 'edit', 'voip', '--announce-count', '4', '--announce-interval-ms', '100']);
    assert.equal(edit.code, 0, edit.stderr);
    const watch = startIpfo(lab, 'c1', ['watch', '--dev', 'lan0', '--json']);
    try {
      await watch.waitFor((r) => typeof r.text === 'string' || r.event !== undefined, 3000, 'the watch to start').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const moved = await cluster.api('n3', 'resource.move', { name: 'voip', target: 'n2' });
      assert.equal(moved.ok, true, JSON.stringify(moved));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const garps = watch.records.filter((r) => r.event === 'gratuitous' && r.ip === vip && r.mac === mac('n2'));
      assert.equal(garps.length, 4, JSON.stringify(garps));
      const times = garps.map((r) => Date.parse(String(r.time)));
      // Times are when the client's watch read each frame: one read late makes its gap longer and the next
      // one shorter by as much (81 ms seen on a loaded machine), so each gap is held loosely and their mean tightly.
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      for (const gap of gaps) assert.ok(gap >= 50 && gap < 400, `spacing ${gap} ms (all: ${gaps.join(', ')})`);
      const mean = (times.at(-1)! - times[0]!) / gaps.length;
      assert.ok(mean >= 90 && mean < 250, `mean spacing ${mean} ms (all: ${gaps.join(', ')})`);
    } finally {
      watch.child.kill('SIGTERM');
    }
  });

  test('a planned move and an automatic failover are expected handoffs, never conflicts', async () => {
    const vip = lab.vip(3);
    await addOn('mail', vip, ['n1', 'n2', 'n3']);
    const moved = await cluster.api('n3', 'resource.move', { name: 'mail', target: 'n2' });
    assert.equal(moved.ok, true, JSON.stringify(moved));
    const planned = await events.waitFor((r) => r.action === 'arp.handoff' && r.target === 'mail', 5000, 'the planned handoff');
    assert.match(String(planned.detail), new RegExp(`n1 \\(${mac('n1')}\\) -> n2 \\(${mac('n2')}\\)`));

    // n2 dies: the best live node (n1) takes the address over.
    await cluster.killAgent('n2');
    await cluster.waitOwner('n3', 'mail', 'n1', 15_000);
    const failover = await events.waitFor((r) => r.action === 'arp.handoff' && r.target === 'mail' && r !== planned, 5000, 'the failover handoff');
    assert.match(String(failover.detail), new RegExp(`n2 \\(${mac('n2')}\\) -> n1 \\(${mac('n1')}\\)`));
    await new Promise((resolve) => setTimeout(resolve, 2000)); // anything late would show now
    assert.deepEqual(entriesFor('mail', 'arp.conflict'), [], 'a handoff was taken for a conflict');
    assert.deepEqual((await snapshot('n3')).conflicts.filter((c) => c.address === vip), []);
    await cluster.startAgent('n2');
  });
});
