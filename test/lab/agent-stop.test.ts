// A stopped agent is gone at once (issue 16 §3): after it logs "stopped" nothing may keep its event
// loop alive. It did for 7.5 s on etcd: the store's watch stream was only half-closed, etcd keeps such
// a stream open, and the open call kept grpc's connection until a keepalive ping failed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { timeOf } from './ipfo';

describe('a stopping agent', { timeout: 120_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: false, name: 'agent-stop' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  test('on etcd, with a resource and a watching peer, exits within 500 ms of logging "stopped"', async (t) => {
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${lab.vip(40)}/24`, preferredOwners: ['n1'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n2', 'web', 'n1');
    for (const node of ['n1', 'n2']) {
      const agent = cluster.agent(node);
      cluster.signal(node, 'SIGTERM');
      const stopped = await agent.waitFor((record) => record.message === 'stopped', 15_000, `${node} stopped`);
      const exit = await agent.exited;
      const lingered = Date.now() - timeOf(stopped);
      t.diagnostic(`${node}: exit code ${String(exit.code)}, ${lingered} ms after "stopped"`);
      assert.equal(exit.code, 0);
      assert.ok(lingered < 500, `${node} was still running ${lingered} ms after "stopped"`);
    }
  });
});

describe('a whole cluster stopping at once', { timeout: 120_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 1, rogue: false, name: 'cluster-stop' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  test('SIGTERM to every agent together: each exits within 2 s, says why, and no address is left in any kernel', async (t) => {
    const names = ['web', 'db', 'mail'];
    for (const [index, name] of names.entries()) {
      const added = await cluster.api('n1', 'resource.add', { spec: { name, ip: `${lab.vip(50 + index)}/24`, preferredOwners: [`n${index + 1}`] } });
      assert.equal(added.ok, true, JSON.stringify(added));
    }
    for (const [index, name] of names.entries()) await cluster.waitOwner('n1', name, `n${index + 1}`);
    const signalled = Date.now();
    for (const node of cluster.nodes) cluster.signal(node, 'SIGTERM');
    const exits = await Promise.all(cluster.nodes.map(async (node) => ({ node, exit: await cluster.agent(node).exited, after: Date.now() - signalled })));
    for (const { node, exit, after } of exits) {
      t.diagnostic(`${node}: exit ${String(exit.code)} after ${after} ms`);
      if (process.env.IPFO_STOP_DEBUG) for (const r of cluster.agent(node).records.filter((r) => Date.parse(String(r.time)) >= signalled - 100)) t.diagnostic(`  ${node} ${String(r.time)} ${String(r.message)}`);
      assert.equal(exit.code, 0, `${node}: ${cluster.agent(node).stderr}`);
      assert.ok(after < 2_000, `${node} took ${after} ms to stop`);
    }
    const said = cluster.nodes.flatMap((node) => cluster.agent(node).records.filter((r) => /no live node can take|is stopping/.test(String(r.message))));
    assert.ok(said.length > 0, 'an agent said why it did not hand its addresses over');
    for (const node of cluster.nodes) {
      const left = (await lab.addresses(node)).filter((address) => names.some((_, index) => address.startsWith(`${lab.vip(50 + index)}/`)));
      assert.deepEqual(left, [], `${node} still holds ${left.join(', ')}`);
    }
  });
});
