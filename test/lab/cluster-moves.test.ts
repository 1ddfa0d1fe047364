// Issue 3 acceptance, planned operations: move, drain, resume with failback, a rogue at add time.
// Real etcd, real agents (`ipfo agent`) in node namespaces, a client stream, and a witness on the
// client that asks for the address every 20 ms and records every MAC that answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startUdpEcho, startUdpStream } from './traffic';
import { startMacWitness } from './witness';
import { waitForNeighborMac } from './neighbor-wait';
import { join } from 'node:path';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');

describe('planned operations on a three-node cluster', () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: true, name: 'cluster-moves' });
    for (const node of lab.nodes) await startUdpEcho(lab, node);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  test('a planned move: the client follows and no moment has two MACs answering', async () => {
    const vip = lab.vip(1);
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${vip}/24`, preferredOwners: ['n1'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'web', 'n1');
    const witness = await startMacWitness(lab, 'c1', vip);
    const stream = startUdpStream(lab, 'c1', vip, { intervalMs: 1, pacing: 'sleep' });
    await stream.started;
    await new Promise((resolve) => setTimeout(resolve, 300));

    const moved = await cluster.api('n3', 'resource.move', { name: 'web', target: 'n2' });
    assert.equal(moved.ok, true, JSON.stringify(moved));
    const result = moved.result as { outcome: string; handoffMs: number | null };
    assert.equal(result.outcome, 'done');
    await waitForNeighborMac(lab, 'c1', vip, cluster.host('n2').mac, 1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const summary = await stream.stop();
    const report = await witness.stop();

    assert.ok((summary.perHost.n2 ?? 0) > 0, `n2 answered the client: ${JSON.stringify(summary.perHost)}`);
    assert.equal(stream.owners.at(-1)?.host, 'n2');
    assert.deepEqual(report.overlaps, [], `two MACs answered at once: ${JSON.stringify(report.overlaps)}`);
    assert.deepEqual(new Set(witness.answers.map((a) => a.mac)), new Set([cluster.host("n1").mac, cluster.host("n2").mac]));
    await cluster.waitOwner('n1', 'web', 'n2', 1000);
    // What a script sees: `ipfo status --json` names the owner of each resource.
    const status = await cluster.status('n3');
    const web = status.resources.find((r) => r.name === 'web');
    assert.equal(web?.owner, 'n2');
    assert.equal(web?.state, 'online');
  });

  test('drain of a node moves every address it holds; resume with failback brings them home', async () => {
    const names = ['db', 'mail', 'dns'];
    for (const [i, name] of names.entries()) {
      const added = await cluster.api('n1', 'resource.add', { spec: { name, ip: `${lab.vip(10 + i)}/24`, preferredOwners: ['n1', 'n2', 'n3'], failback: { mode: 'immediate' } } });
      assert.equal(added.ok, true, JSON.stringify(added));
      await cluster.waitOwner('n1', name, 'n1');
    }
    const stream = startUdpStream(lab, 'c1', lab.vip(10), { intervalMs: 1, pacing: 'sleep' });
    await stream.started;
    const witness = await startMacWitness(lab, 'c1', lab.vip(10));

    const paused = await cluster.api('n2', 'node.pause', { name: 'n1' });
    assert.equal(paused.ok, true, JSON.stringify(paused));
    for (const name of names) await cluster.waitOwner('n3', name, 'n2');
    assert.deepEqual((await lab.addresses('n1')).filter((a) => a.startsWith(lab.vip(1).slice(0, -3))), [`${lab.host('n1').ip}/24`]);
    await waitForNeighborMac(lab, 'c1', lab.vip(10), cluster.host('n2').mac, 1000);

    const resumed = await cluster.api('n3', 'node.resume', { name: 'n1' });
    assert.equal(resumed.ok, true, JSON.stringify(resumed));
    for (const name of names) await cluster.waitOwner('n3', name, 'n1');
    await waitForNeighborMac(lab, 'c1', lab.vip(10), cluster.host('n1').mac, 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const summary = await stream.stop();
    const report = await witness.stop();
    assert.deepEqual(stream.owners.map((o) => o.host), ['n1', 'n2', 'n1'], `owners seen by the client: ${JSON.stringify(stream.owners)}`);
    assert.ok(summary.received > 0);
    assert.deepEqual(report.overlaps, [], `two MACs answered at once: ${JSON.stringify(report.overlaps)}`);
  });

  test('the CLI drives the cluster: resource add, move, offline, online, rm, events', async () => {
    const vip = lab.vip(20);
    const add = await cluster.cli('n2', ['resource', 'add', 'cli', `${vip}/24`, '--owners', 'n1,n2,n3']);
    assert.equal(add.code, 0, add.stderr);
    const placed = (await cluster.status('n1')).resources.find((r) => r.name === 'cli');
    const target = ['n1', 'n2', 'n3'].find((n) => n !== placed?.owner)!;
    const move = await cluster.cli('n3', ['move', 'cli', target]);
    const logs = (): string => cluster.nodes.map((n) => `${n}: ${cluster.agent(n).records.filter((r) => r.event === 'log').map((r) => `${String(r.time)} ${String(r.message)}`).slice(-15).join(' | ')}`).join('\n');
    assert.equal(move.code, 0, `${move.stderr}\n${logs()}`);
    if (/still carrying it out/.test(move.stdout)) {
      // The CLI waits 15 s for the handoff, then reports it as accepted; the move must still land.
      // Seen once per full CI run on this 2-core machine and not reproduced alone: print why.
      process.stdout.write(`# move of cli was slow; agent logs:\n${logs().replace(/^/gm, '# ')}\n`);
      await cluster.waitOwner('n1', 'cli', target, 30_000);
    } else {
      assert.match(move.stdout, new RegExp(`cli moved to ${target} \\(handoff [\\d.]+ ms\\)`));
    }
    assert.ok((await lab.addresses(target)).includes(`${vip}/24`));
    const offline = await cluster.cli('n1', ['offline', 'cli']);
    assert.equal(offline.code, 0, offline.stderr);
    for (const node of cluster.nodes) assert.ok(!(await lab.addresses(node)).includes(`${vip}/24`), `offline: not on ${node}`);
    const online = await cluster.cli('n1', ['online', 'cli']);
    assert.equal(online.code, 0, online.stderr);
    const status = await cluster.status('n1');
    const cli = status.resources.find((r) => r.name === 'cli');
    assert.equal(cli?.state, 'online');
    assert.ok((await lab.addresses(String(cli?.owner))).includes(`${vip}/24`));
    const bad = await cluster.cli('n1', ['move', 'cli', 'nosuchnode']);
    assert.equal(bad.code, 2, bad.stderr);
    const rm = await cluster.cli('n1', ['resource', 'rm', 'cli']);
    assert.equal(rm.code, 0, rm.stderr);
    for (const node of cluster.nodes) assert.ok(!(await lab.addresses(node)).includes(`${vip}/24`), `removed: not on ${node}`);
    const events = await cluster.cli('n2', ['events', '--json', '--target', 'cli']);
    assert.equal(events.code, 0, events.stderr);
    const actions = events.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
    for (const action of ['resource.add', 'move', 'resource.offline', 'resource.online', 'resource.remove']) assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
  });

  test("a peer's ARP probes during a move's pre-flight are questions, a stranger's stop the move", async () => {
    // A standby's watch probe landing in the target's 90 ms pre-flight window once failed a move, naming
    // the standby's MAC (seen in CI). Here n2 (a peer, not the move's target) sends plain RFC 5227 probes,
    // not even marked as questions, every 5 ms for the whole move: the key is the owner's, so they cannot
    // be a rival's claim.
    const vip = lab.vip(50);
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'asked', ip: `${vip}/24`, preferredOwners: ['n1', 'n2', 'n3'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'asked', 'n1');
    const probeFrom = (host: string) => lab.run(host, [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'probe', '--ip', vip, '--count', '300', '--interval-ms', '5'], { timeoutMs: 15_000 });
    const peerProbes = probeFrom('n2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const moved = await cluster.api('n1', 'resource.move', { name: 'asked', target: 'n3' });
    assert.equal((await peerProbes).code, 0);
    assert.equal(moved.ok, true, JSON.stringify(moved));
    await cluster.waitOwner('n1', 'asked', 'n3', 2000);
    // The same probes from a station outside the cluster: someone else wants the address; it stays put.
    const strangerProbes = probeFrom('r1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await cluster.api('n1', 'resource.move', { name: 'asked', target: 'n2' });
    assert.equal((await strangerProbes).code, 0);
    assert.equal(refused.ok, false, JSON.stringify(refused));
    assert.match(String(refused.message), new RegExp(`answered by ${lab.host('r1').mac}`));
    await cluster.waitOwner('n1', 'asked', 'n3', 2000);
    const removed = await cluster.api('n1', 'resource.remove', { name: 'asked' });
    assert.equal(removed.ok, true, JSON.stringify(removed));
  });

  test('adding a resource whose address the rogue holds: failed with the rogue MAC, nothing registered', async () => {
    const vip = lab.vip(40);
    await lab.run('r1', ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'lan0']);
    try {
      const added = await cluster.api('n2', 'resource.add', { spec: { name: 'stolen', ip: `${vip}/24` } });
      assert.equal(added.ok, true, JSON.stringify(added));
      const view = (added.result as { resource: { status: { state: string; failure: { kind: string; mac?: string } | null } } }).resource;
      assert.equal(view.status.state, 'failed');
      assert.deepEqual(view.status.failure, { kind: 'conflict', mac: lab.host('r1').mac });
      for (const node of cluster.nodes) assert.ok(!(await lab.addresses(node)).includes(`${vip}/24`), `${vip} registered on ${node}`);
    } finally {
      await lab.run('r1', ['ip', 'addr', 'del', `${vip}/24`, 'dev', 'lan0']);
    }
  });
});
