// Issue 12, part 1: the store is a trust boundary. Records written into a real etcd by something that
// is not an agent — the reproduction through etcdctl, then a seeded fuzz of random and mutated
// records in every collection — while a two-node cluster serves an address with a client's witness on
// it: the good resource is never touched (one MAC, no gap), a resource added afterwards comes online
// (the reconcile goes on), no agent exits, `ipfo status` exits 0 and names every bad record with its key
// and reason, and the audit log has exactly one `store.rejected` entry for each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startMacWitness } from './witness';
import { checkRecord } from '../../main/store/record-check';
import type { Collection } from '../../main/store/store';
import { seededRandom } from '../seeded-random';
import { resourceSpec } from '../fixtures/records';

const FUZZ_RECORDS = 150;
const SEED = 12_2026;
const ETCD_PUT = join(__dirname, 'tools', 'etcd-put.js');

/** Mutated and random records: every one of them is not what it claims to be (checked before it is written). */
function fuzzRecords(random: () => number, root: string, vip: (i: number) => string): Array<[string, string]> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const junk = (): unknown => pick<() => unknown>([
    () => null, () => 'x'.repeat(Math.floor(random() * 3000)), () => -1, () => 1e308, () => [], () => ({}), () => true, () => ({ nested: { deep: [1, 'a', null] } }),
    () => '\u001b[2J', () => Number.NaN,
  ])();
  const mutate = (base: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...base };
    const keys = Object.keys(copy);
    switch (Math.floor(random() * 4)) {
      case 0:
        delete copy[pick(keys)];
        break;
      case 1:
        copy[pick(keys)] = junk();
        break;
      case 2:
        copy[`extra${Math.floor(random() * 10)}`] = junk();
        break;
      default:
        copy[pick(keys)] = junk();
        delete copy[pick(keys)];
    }
    return copy;
  };
  const out: Array<[string, string]> = [];
  for (let i = 0; out.length < FUZZ_RECORDS; i++) {
    const name = `fz${i}`;
    const collection = pick<Collection>(['resources', 'resources', 'resources', 'status', 'intents', 'nodes', 'members', 'owners', 'bindings', 'users']);
    const bases: Record<string, Record<string, unknown>> = {
      resources: { ...resourceSpec(name, vip(100 + (i % 50))), preferredOwners: ['n2'] },
      status: { name, state: 'online', owner: 'n2', ownerMac: '02:00:00:00:00:02', since: 1, failure: null, lastHandoffMs: null },
      intents: { id: name, kind: 'move', phase: 'requested', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'fuzz', createdAt: Date.now() },
      nodes: { name, state: 'up', agentVersion: 'fuzz', lastSeen: Date.now(), macs: { eth0: '02:00:00:00:00:99' } },
      members: { leaseId: '1', joinedAt: 1 },
      owners: { node: 'n2', leaseId: '1' },
      bindings: { node: name, at: 1, bindings: [] },
      users: { name, role: 'viewer', verifier: { storedKey: 'a'.repeat(64), serverKey: 'b'.repeat(64) }, createdAt: 1, createdBy: 'fuzz', rotatedAt: null },
    };
    let text: string;
    const style = random();
    if (style < 0.15) text = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256))).toString('latin1');
    else if (style < 0.25) text = JSON.stringify(junk()) ?? 'undefined';
    else if (collection === 'owners') text = JSON.stringify(pick(['n2', 'n1', '', 42, null])); // written with no lease: never an owner
    else text = JSON.stringify(mutate(bases[collection]!));
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      value = undefined;
    }
    // A member or owner key written here has no lease: refused whatever it holds. Anything else must fail the check.
    const refused = collection === 'members' || collection === 'owners' || value === undefined || !checkRecord(collection, name, value).ok;
    if (refused) out.push([`${root}${collection}/${name}`, text]);
  }
  return out;
}

describe('hostile records in a real etcd while the cluster runs', () => {
  let lab: Lab;
  let cluster: LabCluster;
  const scratch = mkdtempSync(join(tmpdir(), 'ipfo-store-hostile-'));

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 2, rogue: false, name: 'store-hostile' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('good resources are untouched, every bad record is reported once, nothing aborts', { timeout: 180_000 }, async () => {
    const etcd = cluster.etcd!;
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${lab.vip(1)}/24`, preferredOwners: ['n1', 'n2'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'web', 'n1');
    const witness = await startMacWitness(lab, 'c1', lab.vip(1));

    // The reproduction, word for word (it froze every reconcile), and an address the API refuses.
    await etcd.etcdctlOk(['put', 'ipfo/default/resources/evil', '{"name":"evil","ip":"10.77.0.5","prefix":24,"enabled":true}']);
    await etcd.etcdctlOk(['put', 'ipfo/default/resources/mcast', JSON.stringify({ ...resourceSpec('mcast', lab.vip(2)), ip: '224.0.0.1' })]);
    const pairs = fuzzRecords(seededRandom(SEED), 'ipfo/default/', (i) => lab.vip(i));
    const file = join(scratch, 'records.json');
    writeFileSync(file, JSON.stringify(pairs));
    const put = await lab.run('c2', [process.execPath, ETCD_PUT, etcd.clientUrl, file], { timeoutMs: 120_000 });
    assert.equal(put.code, 0, put.stderr);
    const expected = new Set(['ipfo/default/resources/evil', 'ipfo/default/resources/mcast', ...pairs.map(([key]) => key)]);

    // The reconcile goes on: a resource added after all that comes online.
    const db = await cluster.api('n2', 'resource.add', { spec: { name: 'db', ip: `${lab.vip(3)}/24`, preferredOwners: ['n2', 'n1'] } });
    assert.equal(db.ok, true, JSON.stringify(db));
    await cluster.waitOwner('n1', 'db', 'n2');

    // Every bad record named by ipfo status (exit 0), with key and reason; none of them placed.
    const deadline = Date.now() + 20_000;
    let status: { resources: Array<Record<string, unknown>>; rejected?: Array<{ key: string; reason: string }> } = { resources: [] };
    while (Date.now() < deadline) {
      status = (await cluster.status('n1'));
      if ((status.rejected ?? []).length >= expected.size) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const keys = (status.rejected ?? []).map((r) => r.key);
    assert.deepEqual(new Set(keys), expected, `missing: ${[...expected].filter((k) => !keys.includes(k)).join(', ')}`);
    assert.ok((status.rejected ?? []).every((r) => r.reason.length > 0));
    assert.deepEqual(status.resources.map((r) => [r.name, r.state, r.owner]).sort(), [['db', 'online', 'n2'], ['web', 'online', 'n1']]);

    // Once each in the audit log, for the whole cluster.
    const events = await cluster.api('n2', 'events.query', { limit: 1000 });
    const entries = ((events.result as { entries: Array<{ action: string; detail: string | null }> } | undefined)?.entries ?? []).filter((e) => e.action === 'store.rejected');
    const audited = entries.map((e) => String(e.detail).split(' (revision')[0]!);
    assert.equal(audited.length, expected.size, 'one entry per record');
    assert.deepEqual(new Set(audited), expected);

    // The client saw only n1 answer for web, without a gap.
    const report = await witness.stop();
    assert.deepEqual(Object.keys(report.macs), [cluster.host('n1').mac], JSON.stringify(report.macs));
    const times = witness.answers.map((a) => a.wallMs).sort((a, b) => a - b);
    let longest = 0;
    for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
    assert.ok(times.length > 100 && longest < 500, `${times.length} answers, longest gap ${longest.toFixed(0)} ms`);

    // No agent exited.
    for (const node of ['n1', 'n2']) {
      const exited = await Promise.race([cluster.agent(node).exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10))]);
      assert.equal(exited, false, `${node}'s agent exited`);
    }
  });
});
