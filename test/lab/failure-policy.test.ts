// The failure policy on a real cluster (issue 14 §3): three agents on etcd in lab namespaces and a client
// on the LAN. n1's agent runs without CAP_NET_ADMIN (a service unit whose capability bounding set lost
// it), so its kernel refuses every address it registers with EPERM: the resource is tried again on n1,
// n1 is banned, and the address answers from n2 — never failed cluster-wide. `ipfo status` names the
// ban; `resource cleanup --node n1` lifts it; an agent restarted with its capabilities (its ban lived
// with its lease) takes the address home. A resource whose interface is missing on n1 (retries 0) goes
// to n2 at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { waitForNeighborMac } from './neighbor-wait';

/** n1's agent as a unit without CAP_NET_ADMIN would run it: RTM_NEWADDR answers EPERM. */
const WITHOUT_NET_ADMIN = ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin', '--'];

describe('failure policy: a node that cannot carry an address is banned, another takes it', { timeout: 180_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 1, rogue: false, name: 'policy' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  interface Shown {
    state: string;
    owner: string | null;
    failure: unknown;
    bans: Array<{ node: string; reason: string; until: number; since: number }>;
  }

  async function shown(resource: string): Promise<Shown> {
    const run = await cluster.cli('n3', ['status', '--json']);
    const status = JSON.parse(run.stdout) as { resources: Array<Shown & { name: string }> };
    const view = status.resources.find((r) => r.name === resource);
    assert.ok(view, `${resource} in ${run.stdout}`);
    return view;
  }

  async function events(action: string): Promise<Array<{ actor: string; target: string; detail: string; seq: number }>> {
    const run = await cluster.cli('n2', ['events', '--action', action, '--json', '--limit', '100']);
    return run.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { actor: string; target: string; detail: string; seq: number });
  }

  async function addressesOn(node: string): Promise<string> {
    return (await lab.run(node, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'lan0'])).stdout;
  }

  test('the kernel refuses the address on n1 (EPERM): retried, n1 banned, online on n2; cleanup lifts the ban; a restarted agent takes it home', async () => {
    await cluster.stopAgent('n1');
    await cluster.startAgent('n1', WITHOUT_NET_ADMIN);
    const vip = lab.vip(50);
    // The client knew the address at n1 (as after talking to it): gratuitous ARP updates an entry, never creates one.
    await lab.setNeighbor('c1', vip, cluster.host('n1').mac, 'stale');
    const addedAt = Date.now();
    const added = await cluster.cli('n2', ['resource', 'add', 'web', `${vip}/24`, '--preferred', 'n1,n2', '--failback', 'immediate', '--ban-for', '10m']);
    await waitForNeighborMac(lab, 'c1', vip, cluster.host('n2').mac, 15_000);
    console.log(`# n1 refuses the address: the client's ARP entry names n2 ${Date.now() - addedAt} ms after the add (one retry 1 s after the first failure, then the ban)`);
    // The add itself waited for a settled state: online (on n2), not failed.
    assert.equal(added.code, 0, `${added.stdout}${added.stderr}`);
    const web = await shown('web');
    assert.equal(web.state, 'online');
    assert.equal(web.owner, 'n2');
    assert.equal(web.failure, null, 'never failed cluster-wide');
    assert.equal(web.bans.length, 1);
    assert.equal(web.bans[0]!.node, 'n1');
    assert.match(web.bans[0]!.reason, /^could not register on n1: .*Operation not permitted/);
    assert.equal(web.bans[0]!.until - web.bans[0]!.since, 600_000);
    assert.doesNotMatch(await addressesOn('n1'), new RegExp(`inet ${vip.replace(/\./g, '\\.')}/`), 'the kernel never carried it on n1');
    const text = (await cluster.cli('n3', ['status'])).stdout;
    assert.match(text, /^web banned on n1 for 10m more: could not register on n1: .*Operation not permitted/m, text);
    const retried = (await events('resource.retry')).filter((e) => e.target === 'web');
    const banned = (await events('resource.banned')).filter((e) => e.target === 'web');
    assert.equal(retried.length, 1, JSON.stringify(retried));
    assert.equal(banned.length, 1, JSON.stringify(banned));
    assert.equal(banned[0]!.actor, 'n1');
    assert.ok(banned[0]!.seq > retried[0]!.seq);
    assert.match(banned[0]!.detail, /^n1 banned for 10 min after 2 failures: could not register on n1: /);

    // Cleanup on n1 only: the ban goes, failback tries n1 again, which still cannot: banned again, back on n2.
    const cleaned = await cluster.cli('n3', ['resource', 'cleanup', 'web', '--node', 'n1']);
    assert.equal(cleaned.code, 0, `${cleaned.stdout}${cleaned.stderr}`);
    assert.match(cleaned.stdout, /n1: ban lifted, 1 failover mark dropped/);
    await cluster.until('n1 banned again', async () => (await events('resource.banned')).filter((e) => e.target === 'web').length === 2, 20_000);
    await cluster.until('web online on n2 again', async () => {
      const now = await shown('web');
      return now.state === 'online' && now.owner === 'n2';
    }, 15_000);
    await waitForNeighborMac(lab, 'c1', vip, cluster.host('n2').mac, 10_000);

    // n1's agent restarted with its capabilities: its ban lived with its lease, so failback takes the address home.
    await cluster.stopAgent('n1');
    const restartedAt = Date.now();
    await cluster.startAgent('n1');
    await waitForNeighborMac(lab, 'c1', vip, cluster.host('n1').mac, 15_000);
    console.log(`# n1 restarted with CAP_NET_ADMIN: home after ${Date.now() - restartedAt} ms`);
    const home = await shown('web');
    assert.equal(home.owner, 'n1');
    assert.deepEqual(home.bans, []);
  });

  test('an interface missing on n1 (--if n1=nosuch0) with --retry 0: n1 banned at once, online on n2', async () => {
    const vip = lab.vip(51);
    const added = await cluster.cli('n1', ['resource', 'add', 'api', `${vip}/24`, '--preferred', 'n1,n2', '--if', 'n1=nosuch0', '--retry', '0']);
    assert.equal(added.code, 0, `${added.stdout}${added.stderr}`);
    await cluster.until('api online on n2', async () => {
      const now = await shown('api');
      return now.state === 'online' && now.owner === 'n2';
    }, 15_000);
    const api = await shown('api');
    assert.equal(api.bans.length, 1);
    assert.match(api.bans[0]!.reason, /^interface missing on n1: .*nosuch0/);
    assert.equal((await events('resource.retry')).filter((e) => e.target === 'api').length, 0, 'no retry with --retry 0');
    const defined = (await cluster.cli('n3', ['resource', 'list'])).stdout;
    assert.match(defined, /^api\s.*\bretry 0, ban 10m, no limit$/m, defined);
  });
});
