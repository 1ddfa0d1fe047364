// `ipfo plan` on a real cluster (issue 14 §5): three agents on etcd, resources with and without
// preferences and health checks, real TCP services. For each event — a pause, a service killed on its
// owner, an agent killed with SIGKILL — the plan is printed first, then the event is made to happen, and
// where every address ended up must be exactly what the plan said.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startTcpService, type TcpService } from './tcp-service';

const PORT = 18_082;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Plan {
  moves: Array<{ resource: string; from: string; to: string }>;
  stays: Array<{ resource: string; node: string; why: string }>;
  offline: Array<{ resource: string; from: string; why: string }>;
}

describe('ipfo plan: what it printed is what then happened', { timeout: 240_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  const services = new Map<string, TcpService>();

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 1, rogue: false, name: 'what-if' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    for (const node of ['n1', 'n2', 'n3']) services.set(node, await startTcpService(lab, node, PORT));
    const check = ['--check', `tcp:127.0.0.1:${PORT}`, '--check-interval', '300ms', '--check-timeout', '200ms', '--fall', '2', '--rise', '2'];
    const resources: Array<[string, number, string[]]> = [
      ['a', 50, ['--preferred', 'n1']],
      ['b', 51, ['--preferred', 'n1']],
      ['c', 52, ['--preferred', 'n1', '--owners', 'n1']],
      ['d', 53, ['--preferred', 'n2']],
      ['e', 54, ['--preferred', 'n2']],
      ['f', 55, ['--preferred', 'n2,n1']],
      ['api', 56, ['--preferred', 'n3', ...check]],
      ['www', 57, ['--preferred', 'n3', ...check]],
      ['g', 58, []],
    ];
    for (const [name, vip, options] of resources) {
      const added = await cluster.cli('n1', ['resource', 'add', name, `${lab.vip(vip)}/24`, ...options]);
      assert.equal(added.code, 0, `${name}: ${added.stderr}`);
    }
  });
  after(async () => {
    for (const service of services.values()) await service.kill();
    await cluster?.destroy();
    await lab?.destroy();
  });

  async function owners(via = 'n3'): Promise<Map<string, string | null>> {
    const { resources } = await cluster.status(via);
    return new Map(resources.map((r) => [String(r.name), r.state === 'online' ? String(r.owner) : null]));
  }

  async function plan(args: string[], via = 'n3'): Promise<Plan> {
    const run = await cluster.cli(via, ['plan', ...args, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const text = await cluster.cli(via, ['plan', ...args]);
    console.log(text.stdout.trimEnd().split('\n').map((line) => `# ${line}`).join('\n'));
    return JSON.parse(run.stdout) as Plan;
  }

  /** Waits until every address the plan names is where it said (the rest unchanged), and returns the owners then. */
  async function expectOutcome(before: Map<string, string | null>, planned: Plan, via = 'n3', timeoutMs = 20_000): Promise<void> {
    const expected = new Map(before);
    for (const move of planned.moves) expected.set(move.resource, move.to);
    for (const gone of planned.offline) expected.set(gone.resource, null);
    const deadline = Date.now() + timeoutMs;
    let now = await owners(via);
    while (JSON.stringify([...now].sort()) !== JSON.stringify([...expected].sort())) {
      if (Date.now() > deadline) assert.deepEqual(Object.fromEntries([...now].sort()), Object.fromEntries([...expected].sort()), 'what happened is not what the plan said');
      await sleep(200);
      now = await owners(via);
    }
    // And it stays so: nothing moves on afterwards.
    await sleep(1_500);
    assert.deepEqual(Object.fromEntries([...(await owners(via))].sort()), Object.fromEntries([...expected].sort()), 'something moved after the planned outcome');
  }

  test('--pause n1: the drain moves what the plan said, where it said; c (only n1 may hold it) stays', async () => {
    await cluster.waitOwner('n1', 'a', 'n1');
    await cluster.waitOwner('n1', 'api', 'n3');
    await cluster.waitOwner('n1', 'd', 'n2');
    const before = await owners();
    const planned = await plan(['--pause', 'n1']);
    assert.ok(planned.moves.length >= 2, JSON.stringify(planned));
    assert.deepEqual(planned.stays.map((s) => s.resource), ['c']);
    const paused = await cluster.cli('n2', ['node', 'pause', 'n1']);
    assert.ok(paused.code === 0 || paused.code === 1, paused.stderr);
    await expectOutcome(before, planned);
  });

  test('--check-fails api@n3: every address of that check on n3 goes where the plan said', async () => {
    const before = await owners();
    assert.equal(before.get('api'), 'n3');
    const planned = await plan(['--check-fails', 'api@n3']);
    assert.deepEqual(planned.moves.map((m) => m.resource).sort(), ['api', 'www']);
    await services.get('n3')!.kill();
    services.delete('n3');
    await expectOutcome(before, planned);
  });

  test('--node-down n2: its agent killed with SIGKILL, its addresses are taken where the plan said', async () => {
    const before = await owners();
    const held = [...before].filter(([, owner]) => owner === 'n2').map(([name]) => name);
    assert.ok(held.length >= 2, JSON.stringify(Object.fromEntries(before)));
    const planned = await plan(['--node-down', 'n2']);
    assert.deepEqual([...planned.moves.map((m) => m.resource), ...planned.offline.map((o) => o.resource)].sort(), held.sort());
    await cluster.killAgent('n2');
    await expectOutcome(before, planned);
  });
});
