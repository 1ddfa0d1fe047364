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
