// The cluster store's contract: one suite that every implementation must pass (file-store.test.ts
// and etcd-store.test.ts run it). A harness opens fresh, empty clusters; each cluster can be
// reached through several independent connections (etcd: separate clients; file store:
// separate handles), so races and "another node sees it" are tested for real.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeRecord, ResourceStatus } from '../../main/cluster/model';
import {
  MAX_STORED_BINDINGS,
  RevisionConflictError,
  isStoreError,
  type AuditRecord,
  type StoredBinding,
  type ClusterStore,
  type Intent,
  type LeaseLossReason,
  type StoreChange,
  type StoreSnapshot,
} from '../../main/store/store';
import { resourceSpec, userRecord } from '../fixtures/records';

export { resourceSpec };

export interface ClusterHandle {
  /** Another connection to the same cluster. */
  connect(): Promise<ClusterStore>;
  /** Closes every connection it opened and removes the cluster. */
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  name: string;
  newCluster(options?: { auditRetention?: number }): Promise<ClusterHandle>;
}

/** The shortest TTL etcd grants; the file store uses the same so timings compare. */
export const CONTRACT_TTL_SEC = 2;
/** How long after TTL a lease may take to run out. etcd's leader looks for expired leases every
 * 500 ms and revokes them through raft; on a loaded 2-core CI machine that was seen to take 2 s
 * (the owner key went 3.99 s after the close with TTL 2 s). Safety never rests on it: an agent
 * fences itself at its own deadline (docs/ARCHITECTURE.md), this bound is liveness only. */
const EXPIRY_SLACK_MS = 2500;

export function nodeRecord(name: string): NodeRecord {
  return { name, state: 'up', agentVersion: 'contract-test', lastSeen: 0, macs: { lan0: '02:00:00:00:00:01' } };
}


function statusOf(name: string, owner: string | null): ResourceStatus {
  return { name, state: owner === null ? 'offline' : 'online', owner, ownerMac: null, since: Date.now(), failure: null, lastHandoffMs: null };
}

function auditRecord(action: string): AuditRecord {
  return { at: Date.now(), actor: 'contract', action, target: null, outcome: 'ok', detail: null, handoffMs: null };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Applies changes to a snapshot the way a console would; used to check the stream is complete. */
function applyChanges(snapshot: StoreSnapshot, changes: readonly StoreChange[]): Record<string, string> {
  const view = new Map<string, unknown>();
  for (const entry of snapshot.resources) view.set(`resources/${entry.spec.name}`, entry.spec);
  for (const entry of snapshot.owners) view.set(`owners/${entry.resource}`, { node: entry.node, leaseId: entry.leaseId });
  for (const entry of snapshot.intents) view.set(`intents/${entry.intent.id}`, entry.intent);
  for (const entry of snapshot.statuses) view.set(`status/${entry.status.name}`, entry.status);
  for (const change of changes) {
    if (!['resources', 'owners', 'intents', 'status'].includes(change.collection)) continue;
    const key = `${change.collection}/${change.name}`;
    if (change.kind === 'put') view.set(key, change.value);
    else view.delete(key);
  }
  return Object.fromEntries([...view].map(([key, value]): [string, string] => [key, JSON.stringify(value)]).sort());
}

export function runStoreContract(harness: StoreHarness): void {
  /** Runs `body` on a fresh cluster and always cleans it up. */
  async function withCluster(options: { auditRetention?: number }, body: (cluster: ClusterHandle) => Promise<void>): Promise<void> {
    const cluster = await harness.newCluster(options);
    try {
      await body(cluster);
    } finally {
      await cluster.cleanup();
    }
  }

  describe(`cluster store contract: ${harness.name}`, { timeout: 60_000 }, () => {
    test('join: nodes are listed alive with their lease; a revoked member stays known but not alive', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        assert.ok(m1.ttlSec >= CONTRACT_TTL_SEC);
        assert.notEqual(m1.leaseId, m2.leaseId);
        assert.ok(m1.validUntil() > performance.now(), 'a fresh lease is valid');
        const seenByA = await a.nodes();
        assert.deepEqual(
          seenByA.map((n) => [n.node.name, n.alive, n.leaseId]),
          [
            ['n1', true, m1.leaseId],
            ['n2', true, m2.leaseId],
          ],
        );
        assert.ok((seenByA[0]?.node.lastSeen ?? 0) > 0, 'join stamps lastSeen');
        await m2.revoke();
        assert.equal(m2.ended, true);
        const afterRevoke = await a.nodes();
        assert.deepEqual(
          afterRevoke.map((n) => [n.node.name, n.alive, n.leaseId]),
          [
            ['n1', true, m1.leaseId],
            ['n2', false, null],
          ],
        );
      }));

    test('node state: paused survives a rejoin; only a node that is not alive can be removed', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        await a.setNodeState('n1', 'paused');
        assert.equal((await a.nodes())[0]?.node.state, 'paused');
        await m1.revoke();
        const again = await a.join({ ...nodeRecord('n1'), agentVersion: 'v2' }, { ttlSec: CONTRACT_TTL_SEC });
        const [entry] = await a.nodes();
        assert.equal(entry?.node.state, 'paused', 'the administrative state is the operator’s, not the agent’s');
        assert.equal(entry?.node.agentVersion, 'v2', 'the other fields come from the agent');
        assert.equal(await a.removeNode('n1'), false, 'n1 is alive');
        await a.setNodeState('n1', 'up');
        assert.equal((await a.nodes())[0]?.node.state, 'up');
        await again.revoke();
        assert.equal(await a.removeNode('n1'), true);
        assert.deepEqual(await a.nodes(), []);
        await assert.rejects(a.setNodeState('n1', 'paused'), (error) => isStoreError(error, 'not-found'));
        await assert.rejects(a.join(nodeRecord('bad/name'), { ttlSec: CONTRACT_TTL_SEC }), (error) => isStoreError(error, 'invalid'));
      }));

    test('maintenance windows survive a rejoin and end on request', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        await a.setNodeMaintenance('n1', 1_900_000_000_000);
        await m1.revoke();
        const again = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        assert.equal((await a.nodes())[0]?.node.maintenanceUntil, 1_900_000_000_000, 'the window is the operator’s, not the agent’s');
        await a.setNodeMaintenance('n1', null);
        assert.equal((await a.nodes())[0]?.node.maintenanceUntil, undefined);
        await again.revoke();
        await assert.rejects(a.setNodeMaintenance('n9', null), (error) => isStoreError(error, 'not-found'));
      }));

    test('a node record takes new MACs (an interface changed its MAC) and keeps its state; unknown node: not-found', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        await a.setNodeState('n1', 'paused');
        const snapshot = await b.snapshot();
        const seen: string[] = [];
        const stop = await b.watch(snapshot.revision, (change) => {
          if (change.collection === 'nodes' && change.kind === 'put') seen.push(JSON.stringify(change.value.macs));
        });
        await a.setNodeMacs('n1', { lan0: '02:ee:00:00:00:01' });
        const [entry] = await a.nodes();
        assert.deepEqual(entry?.node.macs, { lan0: '02:ee:00:00:00:01' });
        assert.equal(entry?.node.state, 'paused', 'the administrative state is kept');
        for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(seen, ['{"lan0":"02:ee:00:00:00:01"}'], 'watchers see the new MACs');
        await stop();
        await assert.rejects(a.setNodeMacs('n9', {}), (error) => isStoreError(error, 'not-found'));
        await m1.revoke();
      }));

    test('binding tables: one per node, replaced, bounded, seen by watchers', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const station = (i: number): StoredBinding => ({ ip: `10.213.7.${i % 250}`, vlan: null, mac: '02:00:00:00:00:09', vendor: null, firstSeen: i, lastSeen: i, count: 1, changes: 0 });
        const snapshot = await b.snapshot();
        const seen: string[] = [];
        const stop = await b.watch(snapshot.revision, (change) => {
          if (change.collection === 'bindings') seen.push(`${change.kind} ${change.name}`);
        });
        await a.putBindings({ node: 'n1', at: 1, bindings: [station(1)] });
        await a.putBindings({ node: 'n1', at: 2, bindings: Array.from({ length: MAX_STORED_BINDINGS + 10 }, (_, i) => station(i)) });
        await a.putBindings({ node: 'n2', at: 3, bindings: [] });
        const tables = (await b.bindings()).sort((x, y) => (x.node < y.node ? -1 : 1));
        assert.deepEqual(tables.map((t) => [t.node, t.at, t.bindings.length]), [['n1', 2, MAX_STORED_BINDINGS], ['n2', 3, 0]]);
        for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(seen, ['put n1', 'put n1', 'put n2']);
        await stop();
        await assert.rejects(a.putBindings({ node: 'bad/name', at: 1, bindings: [] }), (error) => isStoreError(error, 'invalid'));
      }));

    test('health records: bound to the writer\'s lease (gone with it), replaced, seen by watchers; another node\'s name or a dead lease refused', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const snapshot = await b.snapshot();
        const seen: string[] = [];
        const stop = await b.watch(snapshot.revision, (change) => {
          if (change.collection === 'health') seen.push(`${change.kind} ${change.name}${change.kind === 'put' ? ` ${change.value.results.length}` : ''}`);
        });
        const verdict = { key: '0123456789abcdef', healthy: true, reason: 'tcp 127.0.0.1:80: accepted', since: 5 };
        await a.putHealth(m1, { node: 'n1', results: [verdict] });
        await a.putHealth(m1, { node: 'n1', results: [verdict, { ...verdict, key: 'fedcba9876543210', healthy: false }] });
        assert.deepEqual((await b.snapshot()).health?.map((record) => [record.node, record.results.length]), [['n1', 2]]);
        await assert.rejects(a.putHealth(m1, { node: 'n2', results: [] }), (error) => isStoreError(error, 'invalid'));
        await m1.revoke();
        for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(seen, ['put n1 1', 'put n1 2', 'delete n1'], 'the record went with the lease');
        assert.deepEqual((await b.snapshot()).health ?? [], []);
        await assert.rejects(a.putHealth(m1, { node: 'n1', results: [] }), (error) => isStoreError(error, 'lease-lost'));
        await stop();
      }));

    test('resources: compare-and-swap by revision, with a clear conflict error', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const created = await a.putResource(resourceSpec('web'), 0);
        assert.ok(created > 0);
        await assert.rejects(b.putResource(resourceSpec('web'), 0), (error: unknown) => {
          assert.ok(error instanceof RevisionConflictError);
          assert.equal(error.code, 'conflict');
          assert.equal(error.expected, 0);
          assert.equal(error.actual, created);
          assert.match(error.message, /already exists/);
          return true;
        });
        const [seen] = await b.resources();
        assert.equal(seen?.revision, created);
        assert.equal(seen?.spec.ip, '10.213.7.10');
        const updated = await b.putResource({ ...resourceSpec('web'), ip: '10.213.7.11' }, created);
        assert.ok(updated > created);
        await assert.rejects(a.putResource({ ...resourceSpec('web'), ip: '10.213.7.12' }, created), (error: unknown) => {
          assert.ok(error instanceof RevisionConflictError);
          assert.equal(error.actual, updated);
          assert.match(error.message, /changed: expected revision/);
          return true;
        });
        assert.equal((await a.resources())[0]?.spec.ip, '10.213.7.11', 'the failed write changed nothing');
        await assert.rejects(a.deleteResource('web', created), RevisionConflictError);
        await assert.rejects(a.putResource(resourceSpec('nothing'), 5), (error: unknown) => error instanceof RevisionConflictError && error.actual === 0);
        assert.equal(await a.deleteResource('web', updated), true);
        assert.equal(await a.deleteResource('web'), false, 'already gone');
        assert.deepEqual(await b.resources(), []);
        const unconditional = await a.putResource(resourceSpec('db', '10.213.7.20'));
        assert.ok(unconditional > updated);
        assert.equal(await b.deleteResource('db'), true);
      }));

    test('acquire: when two members race for the same resources, exactly one wins each', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        const names = Array.from({ length: 20 }, (_, i) => `vip${i}`);
        const results = await Promise.all(names.map((name) => Promise.all([a.acquire(name, m1), b.acquire(name, m2)])));
        const winners: string[] = [];
        for (const [index, [r1, r2]] of results.entries()) {
          assert.equal(Number(r1.ok) + Number(r2.ok), 1, `${names[index]}: exactly one acquire succeeds`);
          const winner = r1.ok ? r1 : r2;
          const loser = r1.ok ? r2 : r1;
          assert.equal(loser.current?.node, winner.current?.node, 'the loser is told who owns it');
          winners.push(winner.current?.node ?? '?');
        }
        const ownersA = await a.owners();
        const ownersB = await b.owners();
        assert.deepEqual(ownersA, ownersB, 'both connections see the same owners');
        assert.deepEqual(
          ownersA.map((o) => [o.resource, o.node]),
          [...names].sort().map((name) => [name, winners[names.indexOf(name)]]),
        );
        for (const owner of ownersA) assert.equal(owner.leaseId, owner.node === 'n1' ? m1.leaseId : m2.leaseId, 'bound to the winner’s lease');
        const again = await a.acquire('vip0', m1);
        assert.equal(again.ok, false, 'an owned resource cannot be acquired again, even by its owner');
      }));

    test('transfer moves ownership atomically only from the current owner; release only by the owner', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        assert.equal((await a.acquire('web', m1)).ok, true);
        const wrongFrom = await b.transfer('web', 'n3', m2);
        assert.equal(wrongFrom.ok, false);
        assert.equal(wrongFrom.current?.node, 'n1');
        const moved = await b.transfer('web', 'n1', m2);
        assert.equal(moved.ok, true);
        assert.equal(moved.current?.node, 'n2');
        assert.equal(moved.current?.leaseId, m2.leaseId);
        assert.deepEqual(
          (await a.owners()).map((o) => [o.resource, o.node, o.leaseId]),
          [['web', 'n2', m2.leaseId]],
        );
        const refused = await a.release('web', 'n1');
        assert.equal(refused.ok, false, 'n1 no longer owns web');
        assert.equal(refused.current?.node, 'n2');
        assert.equal((await a.owners()).length, 1, 'a refused release changes nothing');
        const nobody = await a.transfer('db', 'n1', m2);
        assert.deepEqual(nobody, { ok: false, current: null });
        const released = await b.release('web', 'n2');
        assert.deepEqual(released, { ok: true, current: null });
        assert.deepEqual(await a.owners(), []);
        // A restarted agent re-adopts its addresses: transfer from itself to its new lease.
        assert.equal((await a.acquire('web', m1)).ok, true);
        const m1again = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const readopted = await a.transfer('web', 'n1', m1again);
        assert.equal(readopted.ok, true);
        await m1.revoke();
        assert.deepEqual(
          (await b.owners()).map((o) => [o.node, o.leaseId]),
          [['n1', m1again.leaseId]],
          'ownership moved to the new lease survives the old one',
        );
      }));

    test('transferMany moves in transactions of 100 what the old owner holds, acquireMany takes what nobody holds, each reports the rest as it stands; putStatuses writes them all', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        // 250 names: three transactions, the second of which meets a key n1 no longer holds.
        const names = Array.from({ length: 250 }, (_, i) => `vip${String(i).padStart(3, '0')}`);
        for (const name of names) assert.equal((await a.acquire(name, m1)).ok, true);
        assert.equal((await a.release('vip150', 'n1')).ok, true);
        const results = await b.transferMany([...names, 'absent'], 'n1', m2);
        assert.equal(results.length, 251, 'one result per name, in order');
        results.forEach((result, i) => {
          const name = i < 250 ? names[i] : 'absent';
          if (name === 'vip150' || name === 'absent') assert.deepEqual(result, { ok: false, current: null }, name);
          else assert.deepEqual([result.ok, result.current?.node, result.current?.leaseId, result.current?.resource], [true, 'n2', m2.leaseId, name], name);
        });
        const owners = await a.owners();
        assert.equal(owners.length, 249);
        assert.ok(owners.every((o) => o.node === 'n2' && o.leaseId === m2.leaseId), 'every key moved is bound to the new lease');
        const again = await a.transferMany(names.slice(0, 3), 'n1', m1);
        assert.deepEqual(again.map((r) => [r.ok, r.current?.node]), [[false, 'n2'], [false, 'n2'], [false, 'n2']], 'n1 holds none of them now');
        // acquireMany: only what nobody holds (vip150 was released above and moved nowhere).
        const acquired = await a.acquireMany(['vip150', 'vip151', 'fresh'], m1);
        assert.deepEqual(acquired.map((r) => [r.ok, r.current?.node]), [[true, 'n1'], [false, 'n2'], [true, 'n1']]);
        assert.equal((await a.release('vip150', 'n1')).ok, true);
        assert.equal((await a.release('fresh', 'n1')).ok, true);
        const statuses = names.map((name) => ({ name, state: 'online' as const, owner: 'n2', ownerMac: '02:00:00:00:00:02', since: 1, failure: null, lastHandoffMs: 1.5 }));
        await b.putStatuses(statuses);
        await b.putStatuses([]);
        const stored = (await a.statuses()).map((entry) => entry.status);
        assert.deepEqual(stored.sort((x, y) => x.name.localeCompare(y.name)), statuses);
        await m2.revoke();
        assert.deepEqual(await a.owners(), [], 'the keys moved went with the new lease');
      }));

    test('a revoked lease takes its ownerships with it; the member is told; the lease cannot be used again', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        const losses: LeaseLossReason[] = [];
        m1.onLost((reason) => losses.push(reason));
        assert.equal((await a.acquire('web', m1)).ok, true);
        assert.equal((await a.acquire('db', m1)).ok, true);
        assert.equal((await b.acquire('mail', m2)).ok, true);
        // n2 saw web stop answering ARP: it revokes n1's lease instead of waiting for expiry.
        assert.equal(await b.revokeMembership(m1.leaseId), true);
        assert.deepEqual(
          (await b.owners()).map((o) => o.resource),
          ['mail'],
          'every key of the revoked lease went at once',
        );
        assert.equal((await b.nodes()).find((n) => n.node.name === 'n1')?.alive, false);
        await waitFor('n1 to learn it lost its lease', m1.ttlSec * 1000 + EXPIRY_SLACK_MS, () => Promise.resolve(losses.length > 0 ? true : null));
        assert.deepEqual(losses, ['revoked']);
        assert.equal(m1.ended, true);
        assert.equal(await b.revokeMembership(m1.leaseId), false, 'already gone');
        await assert.rejects(a.acquire('web', m1), (error) => isStoreError(error, 'lease-lost'));
        assert.equal((await b.acquire('web', m2)).ok, true, 'another node can take over at once');
        await m2.revoke();
        assert.deepEqual(await a.owners(), [], 'a member’s own revoke() ends its ownerships too');
        assert.equal(losses.length, 1, 'lost fires once');
      }));

    test('when keepalives stop (connection closed), ownership vanishes after TTL plus slack, not at once', (t) =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        assert.equal((await b.acquire('web', m2)).ok, true);
        const closedAt = performance.now();
        await b.close();
        await sleep(300);
        assert.equal((await a.owners()).length, 1, 'the lease is not revoked by a close: it runs out');
        await waitFor('the owner key to expire', m2.ttlSec * 1000 + EXPIRY_SLACK_MS + 500, async () => ((await a.owners()).length === 0 ? true : null));
        const elapsed = performance.now() - closedAt;
        t.diagnostic(`owner key gone ${elapsed.toFixed(0)} ms after the close (TTL ${m2.ttlSec} s)`);
        assert.ok(elapsed <= m2.ttlSec * 1000 + EXPIRY_SLACK_MS, `owner gone after ${elapsed.toFixed(0)} ms, more than TTL + ${EXPIRY_SLACK_MS} ms`);
        assert.equal((await a.nodes())[0]?.alive, false);
      }));

    test('status and intents: stored, listed, compare-and-swap, deleted', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const statusRev = await a.putStatus(statusOf('web', 'n1'));
        const [status] = await b.statuses();
        assert.equal(status?.status.owner, 'n1');
        assert.equal(status?.revision, statusRev);
        await assert.rejects(b.putStatus(statusOf('web', 'n2'), statusRev - 1), RevisionConflictError);
        await b.putStatus(statusOf('web', 'n2'), statusRev);
        assert.equal((await a.statuses())[0]?.status.owner, 'n2');
        const intent: Intent = { id: 'i-1', kind: 'move', phase: 'requested', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'alice', createdAt: Date.now() };
        const intentRev = await a.putIntent(intent, 0);
        await assert.rejects(b.putIntent(intent, 0), RevisionConflictError);
        assert.deepEqual(await b.intents(), [{ intent, revision: intentRev }]);
        // An agent takes an intent by deleting it at the revision it read: only one agent can.
        const takes = await Promise.allSettled([a.deleteIntent('i-1', intentRev), b.deleteIntent('i-1', intentRev)]);
        assert.equal(takes.filter((t) => t.status === 'fulfilled').length, 1);
        assert.equal(takes.filter((t) => t.status === 'rejected' && t.reason instanceof RevisionConflictError).length, 1);
        assert.equal(await a.deleteStatus('web'), true);
        assert.equal(await a.deleteStatus('web'), false);
        assert.deepEqual(await b.intents(), []);
      }));

    test('users: stored, listed, compare-and-swap, deleted, seen by watchers', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const snapshot = await b.snapshot();
        assert.deepEqual(snapshot.users, []);
        const seen: string[] = [];
        const stop = await b.watch(snapshot.revision, (change) => {
          if (change.collection === 'users') seen.push(`${change.kind} ${change.name}${change.kind === 'put' ? ` ${change.value.role}` : ''}`);
        });
        const created = await a.putUser(userRecord('alice', 'viewer'), 0);
        assert.deepEqual(await b.users(), [{ user: userRecord('alice', 'viewer'), revision: created }]);
        await assert.rejects(b.putUser(userRecord('alice', 'admin'), 0), (error: unknown) => error instanceof RevisionConflictError && error.actual === created);
        const promoted = await b.putUser(userRecord('alice', 'operator'), created);
        await assert.rejects(a.putUser(userRecord('alice', 'admin'), created), (error: unknown) => error instanceof RevisionConflictError && error.actual === promoted);
        await assert.rejects(a.deleteUser('alice', created), RevisionConflictError);
        assert.deepEqual((await a.snapshot()).users, [{ user: userRecord('alice', 'operator'), revision: promoted }]);
        // A record every reader would leave out is not written at all.
        await assert.rejects(a.putUser({ ...userRecord('bob'), role: 'superuser' as 'admin' }), (error) => isStoreError(error, 'invalid'));
        await assert.rejects(a.putUser(userRecord('root', 'admin')), (error) => isStoreError(error, 'invalid'));
        assert.equal(await a.deleteUser('alice', promoted), true);
        assert.equal(await a.deleteUser('alice'), false, 'already gone');
        assert.deepEqual(await b.users(), []);
        for (let i = 0; i < 50 && seen.length < 3; i++) await sleep(20);
        assert.deepEqual(seen, ['put alice viewer', 'put alice operator', 'delete alice']);
        await stop();
      }));

    test('audit: append order, gapless seq, queries, bounded retention', () =>
      withCluster({ auditRetention: 5 }, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const appended = [];
        for (let i = 1; i <= 8; i += 1) appended.push(await (i % 2 === 0 ? a : b).appendAudit(auditRecord(`op${i}`)));
        assert.deepEqual(
          appended.map((e) => e.seq),
          [1, 2, 3, 4, 5, 6, 7, 8],
        );
        const all = await b.audit();
        assert.deepEqual(
          all.map((e) => [e.seq, e.action]),
          [4, 5, 6, 7, 8].map((seq) => [seq, `op${seq}`]),
          'oldest first, only the last 5 kept',
        );
        assert.deepEqual(all[4], appended[7], 'stored as appended');
        assert.deepEqual(
          (await a.audit({ limit: 2 })).map((e) => e.seq),
          [7, 8],
          'a limit keeps the newest',
        );
        assert.deepEqual(
          (await a.audit({ sinceSeq: 5 })).map((e) => e.seq),
          [6, 7, 8],
        );
        assert.deepEqual(
          (await a.audit({ sinceSeq: 5, limit: 1 })).map((e) => e.seq),
          [6],
          'with sinceSeq a limit keeps the oldest',
        );
        assert.deepEqual(await a.audit({ sinceSeq: 8 }), []);
        assert.deepEqual(await a.audit({ limit: 0 }), []);
        // Concurrent appends from two connections still get distinct, gapless numbers.
        const concurrent = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).appendAudit(auditRecord(`c${i}`))));
        assert.deepEqual(
          concurrent.map((e) => e.seq).sort((x, y) => x - y),
          [9, 10, 11, 12, 13, 14],
        );
        assert.deepEqual(
          (await b.audit()).map((e) => e.seq),
          [10, 11, 12, 13, 14],
        );
      }));

    test('reconnect (the host\'s source address changed): later calls succeed, the membership lives on, a watch opened before still delivers', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const membership = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        const lost: string[] = [];
        membership.onLost((reason) => lost.push(String(reason)));
        const seen: string[] = [];
        const resets: string[] = [];
        const stop = await a.watch((await a.snapshot()).revision, (change) => {
          if (change.collection === 'resources') seen.push(change.name);
        }, (reason) => resets.push(reason));
        await a.putResource(resourceSpec('before'));
        await waitFor('the watch to see the first write', 5000, () => Promise.resolve(seen.includes('before') ? true : null));
        a.reconnect();
        await a.putResource(resourceSpec('after'));
        await waitFor('the watch to see the write after the reconnect', 10_000, () => Promise.resolve(seen.includes('after') ? true : null));
        // Past the TTL: the keepalives went on over the new connection.
        await sleep((CONTRACT_TTL_SEC + 1) * 1000);
        assert.deepEqual(lost, []);
        assert.equal(membership.ended, false);
        assert.ok(membership.validUntil() > performance.now(), 'a renewal was confirmed after the reconnect');
        assert.deepEqual((await a.nodes()).map((n) => [n.node.name, n.alive]), [['n1', true]]);
        assert.deepEqual(seen, ['before', 'after']);
        await stop();
      }));

    test('snapshot + watch(snapshot.revision): every later change, in order, once - also those made before the watch started', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m1 = await a.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
        await a.putResource(resourceSpec('pre'));
        const snapshot = await a.snapshot();
        assert.deepEqual(
          snapshot.resources.map((r) => r.spec.name),
          ['pre'],
        );
        assert.deepEqual(
          snapshot.nodes.map((n) => [n.node.name, n.alive]),
          [['n1', true]],
        );
        // Changes between the snapshot and the watch: the gap a careless consumer would lose.
        await b.putResource(resourceSpec('gap1'));
        assert.equal((await b.acquire('gap1', await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC }))).ok, true);
        const received: StoreChange[] = [];
        const resets: string[] = [];
        const unsubscribe = await a.watch(snapshot.revision, (change) => received.push(change), (reason) => resets.push(reason));
        const writes: Array<Promise<unknown>> = [];
        for (let i = 0; i < 15; i += 1) {
          writes.push(a.putResource(resourceSpec(`r${i}`)));
          writes.push(b.putIntent({ id: `i${i}`, kind: 'move', phase: 'requested', resource: `r${i}`, fromNode: null, toNode: 'n1', actor: 'watch-test', createdAt: i }));
        }
        await Promise.all(writes);
        await a.acquire('r0', m1);
        await b.deleteResource('pre');
        await b.appendAudit(auditRecord('watched'));
        const last = await a.putStatus(statusOf('r0', 'n1'));
        await waitFor('the watch to catch up', 5000, () => Promise.resolve(received.some((c) => c.revision === last) ? true : null));
        await unsubscribe();
        const final = await a.snapshot();
        assert.deepEqual(resets, []);
        assert.ok(
          received.every((c) => c.revision > snapshot.revision),
          'nothing at or before the snapshot revision',
        );
        for (let i = 1; i < received.length; i += 1) {
          assert.ok((received[i]?.revision ?? 0) >= (received[i - 1]?.revision ?? 0), 'revisions never go back');
        }
        const keys = received.map((c) => `${c.revision}:${c.kind}:${c.collection}/${c.name}`);
        assert.equal(new Set(keys).size, keys.length, 'no change delivered twice');
        assert.ok(keys.some((k) => k.endsWith(':put:resources/gap1')), 'a change made before watch() was called is delivered');
        assert.ok(keys.some((k) => k.endsWith(':put:owners/gap1')));
        assert.ok(keys.some((k) => k.endsWith(':delete:resources/pre')));
        const audit = received.find((c) => c.collection === 'audit');
        assert.equal(audit?.kind === 'put' ? audit.value.action : null, 'watched');
        const owner = received.find((c) => c.collection === 'owners' && c.name === 'r0');
        assert.deepEqual(owner?.kind === 'put' ? owner.value : null, { node: 'n1', leaseId: m1.leaseId });
        assert.deepEqual(applyChanges(snapshot, received), applyChanges(final, []), 'snapshot + changes = the current state');
        // Changes after unsubscribe are not delivered.
        const count = received.length;
        await a.putResource(resourceSpec('after'));
        await sleep(200);
        assert.equal(received.length, count);
      }));

    test('watch sees lease endings as deletes of the member and owner keys, in one revision', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        await b.acquire('web', m2);
        const { revision } = await a.snapshot();
        const received: StoreChange[] = [];
        const unsubscribe = await a.watch(revision, (change) => received.push(change));
        await a.revokeMembership(m2.leaseId);
        await waitFor('the deletes', 5000, () => Promise.resolve(received.length >= 2 ? true : null));
        await unsubscribe();
        assert.deepEqual(received.map((c) => `${c.kind} ${c.collection}/${c.name}`).sort(), ['delete members/n2', 'delete owners/web']);
        assert.equal(received[0]?.revision, received[1]?.revision, 'one revision: nobody sees n2 alive without its owner key');
      }));

    test('a member marks itself leaving: watchers see it, the node stays alive with its keys, a stale membership cannot', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const old = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        const m2 = await b.join(nodeRecord('n2'), { ttlSec: CONTRACT_TTL_SEC });
        await b.acquire('web', m2);
        const { revision } = await a.snapshot();
        const received: StoreChange[] = [];
        const unsubscribe = await a.watch(revision, (change) => received.push(change));
        await assert.rejects(b.markLeaving(old), (error) => isStoreError(error, 'lease-lost'), 'an earlier membership of the node does not speak for it');
        await b.markLeaving(m2);
        await waitFor('the leaving member', 5000, () => Promise.resolve(received.length >= 1 ? true : null));
        await unsubscribe();
        assert.deepEqual(received.map((c) => [c.kind, c.collection, c.name, c.kind === 'put' ? c.value : null]), [['put', 'members', 'n2', { leaseId: m2.leaseId, joinedAt: (received[0]?.value as { joinedAt: number }).joinedAt, leaving: true }]]);
        const snapshot = await a.snapshot();
        assert.equal(snapshot.nodes.find((n) => n.node.name === 'n2')?.alive, true);
        assert.deepEqual(snapshot.owners.map((o) => o.resource), ['web'], 'its keys stay until it leaves');
        assert.equal(snapshot.rejected?.length ?? 0, 0, 'the leaving record is a valid one');
        await m2.revoke();
        await assert.rejects(b.markLeaving(m2), (error) => isStoreError(error, 'lease-lost'));
      }));

    test('replaceResources: a group of resources written in one transaction, all or none, each at the revision read', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const inside = await a.putResource(resourceSpec('inside', '10.213.102.1'), 0);
        const outside = await a.putResource(resourceSpec('outside', '10.213.102.2'), 0);
        const grouped = await b.replaceResources([
          { spec: { ...resourceSpec('inside', '10.213.102.1'), group: 'gw' }, expectRev: inside },
          { spec: { ...resourceSpec('outside', '10.213.102.2'), group: 'gw' }, expectRev: outside },
        ]);
        assert.ok(grouped > outside);
        const stored = await a.resources();
        assert.deepEqual(stored.map((entry) => [entry.spec.name, entry.spec.group, entry.revision]).sort(), [['inside', 'gw', grouped], ['outside', 'gw', grouped]], 'both in one revision');
        // One of them changed meanwhile: nothing is written, the error names it.
        const edited = await a.putResource({ ...resourceSpec('outside', '10.213.102.2'), group: 'gw', enabled: false }, grouped);
        await assert.rejects(
          b.replaceResources([
            { spec: resourceSpec('inside', '10.213.102.1'), expectRev: grouped },
            { spec: resourceSpec('outside', '10.213.102.2'), expectRev: grouped },
          ]),
          (error: unknown) => error instanceof RevisionConflictError && error.key.endsWith('/outside') && error.actual === edited,
        );
        const after = await b.resources();
        assert.deepEqual(after.map((entry) => [entry.spec.name, entry.spec.group]).sort(), [['inside', 'gw'], ['outside', 'gw']], 'the refused write changed neither');
        await assert.rejects(b.replaceResources([]), (error) => isStoreError(error, 'invalid'));
      }));

    test('putResources: creates many at once, never overwrites (an existing or repeated name is reported), watchers see each', () =>
      withCluster({}, async (cluster) => {
        const a = await cluster.connect();
        const b = await cluster.connect();
        const kept = await a.putResource(resourceSpec('r-0007', '10.213.99.99'));
        const { revision: before } = await b.snapshot();
        const received: StoreChange[] = [];
        const unsubscribe = await b.watch(before, (change) => received.push(change));
        // More than two etcd transactions' worth, with a name that exists and one given twice.
        const specs = Array.from({ length: 250 }, (_, i) => resourceSpec(`r-${String(i).padStart(4, '0')}`, `10.213.${8 + Math.floor(i / 200)}.${1 + (i % 200)}`));
        const result = await a.putResources([...specs, resourceSpec('r-0001', '10.213.100.1')]);
        assert.ok(result.revision > before);
        assert.deepEqual([...result.collided].sort(), ['r-0001', 'r-0007']);
        const stored = await b.resources();
        assert.equal(stored.length, 250);
        assert.equal(stored.find((entry) => entry.spec.name === 'r-0007')?.revision, kept, 'the existing one is untouched');
        assert.equal(stored.find((entry) => entry.spec.name === 'r-0001')?.spec.ip, '10.213.8.2', 'the first of a repeated name is the one created');
        await waitFor('every create in the watch', 10_000, () => Promise.resolve(received.filter((c) => c.collection === 'resources').length >= 249 ? true : null));
        await unsubscribe();
        assert.deepEqual(received.filter((c) => c.collection === 'resources').map((c) => `${c.kind} ${c.name}`).sort(), specs.filter((spec) => spec.name !== 'r-0007').map((spec) => `put ${spec.name}`).sort());
        assert.deepEqual(await a.putResources([]), { revision: 0, collided: [] }, 'nothing to write: nothing written');
        await assert.rejects(a.putResources([resourceSpec('fine', '10.213.101.1'), resourceSpec('bad/name', '10.213.101.2')]), (error) => isStoreError(error, 'invalid'));
        assert.equal((await b.resources()).some((entry) => entry.spec.name === 'fine'), false, 'a bad name fails the call before anything is written');
      }));
  });
}
