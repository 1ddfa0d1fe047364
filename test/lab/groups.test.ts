// Groups on a real cluster (issue 14 §2): three agents on etcd in lab namespaces, a two-address group
// (`ipfo group add gw inside outside`) and a group kept apart from it (`--apart-from gw`). Through the
// owner's agent killed with SIGKILL, its cable cut, a drain and the failbacks that follow, a witness on the
// client asks for each address every 20 ms: the two addresses change hands to the same node, in the same
// order, within a moment of each other (never split), and never answer from two MACs at once. A check
// failing on one member moves both. The group kept apart never shares a node with gw while another can hold it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startMacWitness, type RunningWitness, type WitnessReport } from './witness';
import { startTcpService, type TcpService } from './tcp-service';

const PORT = 18_090;
/** How far apart the two addresses of the group may change hands (one batch, or one takeover of both). */
const TOGETHER_MS = 1_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('groups: a two-address group is never split', { timeout: 360_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  let inside: string;
  let outside: string;
  const services = new Map<string, TcpService>();

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: false, name: 'groups' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    inside = lab.vip(80);
    outside = lab.vip(81);
    for (const [name, vip] of [['inside', inside], ['outside', outside]] as const) {
      const added = await cluster.cli('n1', ['resource', 'add', name, `${vip}/24`, '--preferred', 'n1,n2', '--failback', 'immediate']);
      assert.equal(added.code, 0, added.stderr);
    }
    for (const [name, vip] of [['db1', lab.vip(82)], ['db2', lab.vip(83)]] as const) {
      const added = await cluster.cli('n1', ['resource', 'add', name, `${vip}/24`, '--preferred', 'n1']);
      assert.equal(added.code, 0, added.stderr);
    }
    await cluster.waitOwner('n2', 'inside', 'n1');
    await cluster.waitOwner('n2', 'outside', 'n1');
  });
  after(async () => {
    for (const service of services.values()) await service.kill();
    await cluster?.destroy();
    await lab?.destroy();
  });

  async function owners(): Promise<Map<string, string | null>> {
    const { resources } = await cluster.status('n3');
    return new Map(resources.map((r) => [String(r.name), r.state === 'online' ? String(r.owner) : null]));
  }

  /** Both members online on `node`; returns that node. */
  async function together(node: string, what: string, timeoutMs = 20_000): Promise<string> {
    return togetherWhere((at) => at === node, what, timeoutMs);
  }

  /** Both members online on one node other than `from` (the owner that failed or left); returns that node. */
  async function takenFrom(from: string, what: string, timeoutMs = 20_000): Promise<string> {
    return togetherWhere((at) => at !== from, what, timeoutMs);
  }

  async function togetherWhere(wanted: (node: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    let where = '';
    await cluster.until(what, async () => {
      const now = await owners();
      const a = now.get('inside');
      const b = now.get('outside');
      where = a ?? '';
      return a !== null && a !== undefined && a === b && wanted(a);
    }, timeoutMs);
    return where;
  }

  async function watchBoth(): Promise<[RunningWitness, RunningWitness]> {
    return [await startMacWitness(lab, 'c1', inside), await startMacWitness(lab, 'c1', outside)];
  }

  /** The witness's evidence that the group moved as one: same hands, same order, close in time; never two MACs at once. */
  async function expectNeverSplit(witnesses: [RunningWitness, RunningWitness], expectedHands: string[]): Promise<void> {
    const a: WitnessReport = await witnesses[0].stop();
    const b: WitnessReport = await witnesses[1].stop();
    assert.deepEqual(a.overlaps, [], `two MACs answered for inside at once: ${JSON.stringify(a.overlaps)}`);
    assert.deepEqual(b.overlaps, [], `two MACs answered for outside at once: ${JSON.stringify(b.overlaps)}`);
    const macOf = new Map(cluster.nodes.map((node) => [cluster.host(node).mac, node]));
    const hands = (report: WitnessReport): string[] => report.transitions.map((t) => macOf.get(t.to) ?? t.to);
    assert.deepEqual(hands(a), expectedHands, `inside changed hands ${JSON.stringify(a.transitions)}`);
    assert.deepEqual(hands(b), expectedHands, `outside changed hands ${JSON.stringify(b.transitions)}`);
    const skews = a.transitions.map((t, i) => Math.abs(t.firstToWallMs - b.transitions[i]!.firstToWallMs));
    console.log(`# hands ${expectedHands.join(' -> ')}: the two addresses arrived ${skews.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} apart; answers ${a.answerCount} and ${b.answerCount}`);
    for (const skew of skews) assert.ok(skew <= TOGETHER_MS, `the two addresses changed hands ${skew.toFixed(0)} ms apart (split)`);
  }

  test('group add; a group kept apart from it leaves its node, together, and group list says where each is', async () => {
    const added = await cluster.cli('n2', ['group', 'add', 'gw', 'inside', 'outside']);
    assert.equal(added.code, 0, added.stderr);
    // db1 and db2 sit on n1 beside gw (their preferred node) until they form a group kept apart from gw.
    await cluster.waitOwner('n2', 'db1', 'n1');
    await cluster.waitOwner('n2', 'db2', 'n1');
    const refused = await cluster.cli('n2', ['group', 'add', 'db', 'db1', 'inside']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /inside is in group gw already/);
    const apart = await cluster.cli('n2', ['group', 'add', 'db', 'db1', 'db2', '--apart-from', 'gw']);
    assert.equal(apart.code, 0, apart.stderr);
    let dbNode = '';
    await cluster.until('db together off n1', async () => {
      const now = await owners();
      dbNode = now.get('db1') ?? '';
      return dbNode !== '' && dbNode !== 'n1' && now.get('db2') === dbNode;
    }, 20_000);
    assert.equal(await together('n1', 'gw still on n1'), 'n1');
    const listed = await cluster.cli('n3', ['group', 'list']);
    assert.match(listed.stdout, /^gw\s+inside,outside\s+n1\s+-$/m, listed.stdout);
    assert.match(listed.stdout, new RegExp(`^db\\s+db1,db2\\s+${dbNode}\\s+gw$`, 'm'), listed.stdout);
    const status = await cluster.cli('n3', ['status']);
    assert.match(status.stdout, /^inside\s.*\bgw$/m, status.stdout);
  });

  test('kill -9 of the owning agent: both addresses are taken over by one node (not the one gw is kept apart from); restarted, failback brings both home', async () => {
    const witnesses = await watchBoth();
    const dbNode = (await owners()).get('db1')!;
    await cluster.killAgent('n1');
    let taker: string;
    try {
      taker = await takenFrom('n1', 'gw taken over', 20_000);
      assert.notEqual(taker, dbNode, 'apart from db: the other node took gw');
    } finally {
      await cluster.startAgent('n1');
    }
    await together('n1', 'gw failed back to n1', 30_000);
    await sleep(500);
    await expectNeverSplit(witnesses, [taker, 'n1']);
  });

  test("cutting the owner's cable: both go to one node; the cable back, both come home", async () => {
    const witnesses = await watchBoth();
    await lab.setLinkUp('n1', false);
    let taker: string;
    try {
      taker = await takenFrom('n1', 'gw taken over', 20_000);
    } finally {
      await lab.setLinkUp('n1', true);
    }
    await together('n1', 'gw failed back to n1', 30_000);
    await sleep(500);
    await expectNeverSplit(witnesses, [taker, 'n1']);
  });

  test('drain: both leave n1 in one batch; resumed, one batch brings them back', async () => {
    const witnesses = await watchBoth();
    const since = Number((await cluster.cli('n2', ['events', '--limit', '1', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number }).at(-1)?.seq ?? 0);
    const paused = await cluster.cli('n2', ['node', 'pause', 'n1']);
    assert.ok(paused.code === 0 || paused.code === 1, paused.stderr);
    const taker = await takenFrom('n1', 'gw drained', 20_000);
    const resumed = await cluster.cli('n2', ['node', 'resume', 'n1']);
    assert.equal(resumed.code, 0, resumed.stderr);
    await together('n1', 'gw failed back to n1', 30_000);
    await sleep(500);
    await expectNeverSplit(witnesses, [taker, 'n1']);
    // One batch each way: the target's log names both addresses in one take.
    const batchLines = cluster.nodes.flatMap((node) => cluster.agent(node).records.filter((r) => r.event === 'log' && /^batch batch:/.test(String(r.message)) && / 2 of 2 addresses taken/.test(String(r.message))).map((r) => `${node}: ${String(r.message)}`));
    assert.ok(batchLines.some((line) => line.includes(`batch:n1:${taker}:`)), `a batch of both to ${taker}: ${batchLines.join(' | ')}`);
    assert.ok(batchLines.some((line) => line.includes(`batch:${taker}:n1:`)), `a batch of both back to n1: ${batchLines.join(' | ')}`);
    const moves = await cluster.cli('n2', ['events', '--action', 'move', '--json', '--limit', '50']);
    const entries = moves.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { seq: number; actor: string; target: string; outcome: string });
    const drained = entries.filter((e) => e.seq > since && e.actor === 'drain' && e.outcome === 'ok').map((e) => e.target).sort();
    assert.deepEqual(drained.filter((name) => name === 'inside' || name === 'outside'), ['inside', 'outside']);
  });

  test('a check failing on one member moves the whole group', async () => {
    for (const node of ['n1', 'n2', 'n3']) services.set(node, await startTcpService(lab, node, PORT));
    const edited = await cluster.cli('n2', ['resource', 'edit', 'outside', '--check', `tcp:127.0.0.1:${PORT}`, '--check-interval', '300ms', '--check-timeout', '200ms', '--fall', '2', '--rise', '2']);
    assert.equal(edited.code, 0, edited.stderr);
    await sleep(1_500);
    assert.equal(await together('n1', 'gw on n1 with its check passing'), 'n1');
    const witnesses = await watchBoth();
    await services.get('n1')!.kill();
    services.delete('n1');
    const taker = await takenFrom('n1', 'gw moved off n1', 20_000);
    await sleep(1_500);
    assert.equal(await together(taker, 'gw stays (n1 fails the check of outside: no failback there)'), taker);
    await expectNeverSplit(witnesses, [taker]);
  });

  test('group move: both members to the node named, in one batch; a member alone cannot be moved apart', async () => {
    const before = await owners();
    const from = before.get('inside')!;
    const to = ['n2', 'n3'].find((node) => node !== from)!;
    const witnesses = await watchBoth();
    const moved = await cluster.cli('n1', ['move', 'inside', to]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`gw moved to ${to} \\(2 addresses\\)`), moved.stdout);
    await together(to, 'gw on the node named');
    await sleep(500);
    await expectNeverSplit(witnesses, [to]);
  });
});
