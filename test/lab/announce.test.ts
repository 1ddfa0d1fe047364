// Re-announcing on a real cluster (issue 14 §4): three agents on etcd in lab namespaces and a client
// whose ARP cache is made stale by hand (a router that kept an old entry longer than a move's
// gratuitous ARPs). With --announce-refresh the holder's periodic announcement repairs the client's
// entry; without it the stale entry stays (the control: the test could fail); `ipfo announce` from
// another node repairs it at once through the holder and is audited; turning the refresh off stops it;
// an address that is not online cannot be announced (exit 1), an unknown one is bad input (exit 2).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { waitForNeighborMac } from './neighbor-wait';

/** A MAC no lab host has: the stale entry a client kept. */
const STALE_MAC = '02:de:ad:00:00:01';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('re-announcing a held address: the periodic refresh and ipfo announce', { timeout: 180_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 1, rogue: false, name: 'announce' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  /** Adds `name` (one first announcement only, so nothing but a re-announcement can reach the client later) and waits for its holder. */
  async function addOnline(name: string, vip: string, extra: readonly string[] = []): Promise<{ owner: string; mac: string }> {
    const added = await cluster.cli('n1', ['resource', 'add', name, `${vip}/24`, '--announce-count', '1', ...extra]);
    assert.equal(added.code, 0, added.stderr);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const view = (await cluster.status('n1')).resources.find((r) => r.name === name);
      if (view?.state === 'online') return { owner: String(view.owner), mac: cluster.host(String(view.owner)).mac };
      if (Date.now() > deadline) assert.fail(`${name} not online within 15 s: ${JSON.stringify(view)}`);
      await sleep(100);
    }
  }

  /** The client's entry for `vip` made stale by hand, and checked to be so. */
  async function poison(vip: string): Promise<void> {
    await lab.setNeighbor('c1', vip, STALE_MAC, 'stale');
    assert.equal((await lab.neighbor('c1', vip))?.mac, STALE_MAC);
  }

  test('--announce-refresh 2s: the holder announces again and the client\'s stale entry follows; without it the entry stays stale', async () => {
    const refreshed = lab.vip(30);
    const plain = lab.vip(31);
    const web = await addOnline('web', refreshed, ['--announce-refresh', '2s']);
    await addOnline('plain', plain);
    // The first announcements are over (count 1); from here only a refresh can reach the client.
    await poison(refreshed);
    await poison(plain);
    const poisonedAt = Date.now();
    const repairedAt = await waitForNeighborMac(lab, 'c1', refreshed, web.mac, 6_000);
    // At most one period (2 s) plus a refresh pass (1 s) and the machine's slack after the poisoning.
    assert.ok(repairedAt - poisonedAt <= 4_000, `repaired ${repairedAt - poisonedAt} ms after the entry went stale`);
    await sleep(Math.max(0, poisonedAt + 4_500 - Date.now()));
    assert.equal((await lab.neighbor('c1', plain))?.mac, STALE_MAC, 'a resource without a refresh is never announced again on its own');

    const listed = await cluster.cli('n2', ['resource', 'list']);
    assert.match(listed.stdout, /^web\s.*\brequest\s+2s\s+always\s+-$/m);
    assert.match(listed.stdout, /^plain\s.*\brequest\s+off\s+always\s+-$/m);

    // Turned off: the entry made stale again stays so.
    const off = await cluster.cli('n3', ['resource', 'edit', 'web', '--announce-refresh', 'off']);
    assert.equal(off.code, 0, off.stderr);
    await sleep(1_500); // every agent's view has the edit
    await poison(refreshed);
    await sleep(4_500);
    assert.equal((await lab.neighbor('c1', refreshed))?.mac, STALE_MAC, 'no refresh once it is off');
  });

  test('ipfo announce from a node that does not hold the address: the holder announces at once, the audit log says who', async () => {
    const vip = lab.vip(32);
    const db = await addOnline('db', vip);
    const asker = ['n1', 'n2', 'n3'].find((node) => node !== db.owner)!;
    await poison(vip);
    const started = Date.now();
    const announced = await cluster.cli(asker, ['announce', 'db']);
    assert.equal(announced.code, 0, announced.stderr);
    assert.match(announced.stdout, new RegExp(`${vip.replace(/\./g, '\\.')} announced from ${db.owner} lan0 \\(${db.mac}\\)`));
    await waitForNeighborMac(lab, 'c1', vip, db.mac, 1_000);
    assert.ok(Date.now() - started < 5_000);

    const events = await cluster.cli('n1', ['events', '--action', 'resource.announce', '--target', 'db', '--json']);
    const entries = events.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { action: string; outcome: string; detail: string; actor: string });
    assert.equal(entries.length, 1, events.stdout);
    assert.equal(entries[0]!.outcome, 'ok');
    assert.match(entries[0]!.detail, new RegExp(`from ${db.owner} `));
  });

  test('an address that is not online cannot be announced (exit 1); an unknown resource is bad input (exit 2)', async () => {
    const vip = lab.vip(33);
    const added = await cluster.cli('n1', ['resource', 'add', 'idle', `${vip}/24`, '--offline']);
    assert.equal(added.code, 0, added.stderr);
    const offline = await cluster.cli('n2', ['announce', 'idle']);
    assert.equal(offline.code, 1, offline.stdout);
    assert.match(offline.stderr, /idle is not online \(offline\): no node holds/);
    const unknown = await cluster.cli('n2', ['announce', 'nope']);
    assert.equal(unknown.code, 2, unknown.stdout);
    assert.match(unknown.stderr, /no resource named "nope"/);
  });
});
