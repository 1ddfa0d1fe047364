// The agent's mirror of the store (main/agent/cluster-view.ts): open intents are found by subject (a move's resource) in
// constant time, and the index follows every way the map changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterView } from '../../main/agent/cluster-view';
import type { Intent } from '../../main/cluster/intents';
import { countLoads } from '../../main/cluster/placement';
import type { StoreChange } from '../../main/store/store';
import { userRecord } from '../fixtures/records';
import { seededRandom } from '../seeded-random';

const move = (id: string, resource: string, toNode = 'n2'): Intent => ({ id, kind: 'move', phase: 'requested', resource, fromNode: 'n1', toNode, actor: 'test', createdAt: 1 });
const probe = (id: string, node: string, ip: string): Intent => ({ id, kind: 'probe', node, ip, outcome: null, actor: 'test', createdAt: 1 });

describe('ClusterView intents', () => {
  test('moveOf follows puts and deletes, from changes and from direct edits', () => {
    const view = new ClusterView();
    view.apply({ revision: 1, collection: 'intents', name: 'a', kind: 'put', value: move('a', 'web') });
    assert.equal(view.moveOf('web')?.id, 'a');
    // A probe intent is indexed under its node and address, never taken for a move.
    view.intents.set('p', probe('p', 'n2', '10.0.0.1'));
    assert.equal(view.intents.forSubject('n2\u000010.0.0.1', 'probe')?.id, 'p');
    assert.equal(view.moveOf('n2'), undefined);
    assert.equal(view.moveOf('db'), undefined);
    view.intents.set('b', move('b', 'db'));
    assert.equal(view.moveOf('db')?.id, 'b');
    view.apply({ revision: 2, collection: 'intents', name: 'a', kind: 'delete', value: null });
    assert.equal(view.moveOf('web'), undefined);
    view.intents.delete('b');
    assert.equal(view.moveOf('db'), undefined);
  });

  test('an intent rewritten for another resource leaves the old resource', () => {
    const view = new ClusterView();
    view.intents.set('a', move('a', 'web'));
    view.intents.set('a', move('a', 'db'));
    assert.equal(view.moveOf('web'), undefined);
    assert.equal(view.moveOf('db')?.id, 'a');
  });

  test('two open intents for one resource: deleting one leaves the other found', () => {
    const view = new ClusterView();
    view.intents.set('old', move('old', 'web'));
    view.intents.set('new', move('new', 'web', 'n3'));
    view.intents.delete('new');
    assert.equal(view.moveOf('web')?.id, 'old');
  });

  test('a snapshot leaves out an intent that is not what it claims to be, and says so', () => {
    const rejected: string[] = [];
    const hostile = { id: 'x', kind: 'move', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'test', createdAt: 1, phase: 'done' } as unknown as Intent;
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], users: [], intents: [{ intent: hostile, revision: 4 }, { intent: move('a', 'db'), revision: 4 }] }, (id, reason) => rejected.push(`${id}: ${reason}`));
    assert.deepEqual(rejected, ['x: move: unknown phase "done"']);
    assert.equal(view.moveOf('web'), undefined);
    assert.equal(view.moveOf('db')?.id, 'a');
  });

  test('a snapshot indexes its intents', () => {
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], users: [], intents: [{ intent: move('a', 'web'), revision: 4 }] });
    assert.equal(view.moveOf('web')?.id, 'a');
  });

  test('each open intent\'s revision follows snapshot, puts and deletes (its next write is a compare-and-swap on it)', () => {
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], users: [], intents: [{ intent: probe('p', 'n2', '10.0.0.1'), revision: 4 }] });
    assert.equal(view.intentRevisions.get('p'), 4);
    view.apply({ revision: 9, collection: 'intents', name: 'p', kind: 'put', value: probe('p', 'n2', '10.0.0.1') });
    assert.equal(view.intentRevisions.get('p'), 9);
    view.apply({ revision: 10, collection: 'intents', name: 'p', kind: 'delete', value: null });
    assert.equal(view.intentRevisions.has('p'), false);
    view.apply({ revision: 11, collection: 'resources', name: 'web', kind: 'delete', value: null });
    assert.equal(view.intentRevisions.size, 0, 'a resource change is not an intent revision');
  });

  test('a record the store left out is kept with its reason until its key changes again', () => {
    const rejected = { collection: 'resources' as const, name: 'evil', key: 'ipfo/default/resources/evil', reason: 'not JSON', revision: 3 };
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], users: [], intents: [], rejected: [rejected] });
    assert.deepEqual([...view.rejected.keys()], ['resources/evil']);
    view.apply({ revision: 6, collection: 'resources', name: 'web', kind: 'delete', value: null, rejected: { ...rejected, name: 'web', key: 'ipfo/default/resources/web', revision: 6 } });
    assert.deepEqual([...view.rejected.keys()].sort(), ['resources/evil', 'resources/web']);
    view.apply({ revision: 7, collection: 'resources', name: 'evil', kind: 'delete', value: null });
    assert.deepEqual([...view.rejected.keys()], ['resources/web']);
    // An audit key's rejection is kept too (audit changes are otherwise not part of the view).
    view.apply({ revision: 8, collection: 'audit', name: '00000009', kind: 'delete', value: null, rejected: { ...rejected, collection: 'audit', name: '00000009', key: 'k', revision: 8 } });
    assert.equal(view.rejected.has('audit/00000009'), true);
  });
});

describe('ClusterView users', () => {
  test('users and their revisions come from the snapshot, then follow puts and deletes', () => {
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], users: [{ user: userRecord('alice', 'admin'), revision: 3 }], intents: [] });
    assert.deepEqual(view.user('alice'), userRecord('alice', 'admin'));
    assert.equal(view.userRevisions.get('alice'), 3);
    assert.equal(view.user('bob'), null);
    view.apply({ revision: 6, collection: 'users', name: 'bob', kind: 'put', value: userRecord('bob', 'operator') });
    view.apply({ revision: 7, collection: 'users', name: 'alice', kind: 'put', value: userRecord('alice', 'viewer', { rotatedAt: 7 }) });
    assert.equal(view.user('bob')?.role, 'operator');
    assert.deepEqual(view.user('alice'), userRecord('alice', 'viewer', { rotatedAt: 7 }));
    assert.equal(view.userRevisions.get('alice'), 7);
    view.apply({ revision: 8, collection: 'users', name: 'alice', kind: 'delete', value: null });
    assert.equal(view.user('alice'), null);
    assert.equal(view.userRevisions.has('alice'), false);
    assert.deepEqual([...view.users.keys()], ['bob']);
  });

  test('a user record the store left out is no user', () => {
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], users: [{ user: userRecord('alice'), revision: 3 }], intents: [] });
    const rejected = { collection: 'users' as const, name: 'alice', key: 'ipfo/default/users/alice', reason: 'role: Invalid option', revision: 6 };
    view.apply({ revision: 6, collection: 'users', name: 'alice', kind: 'delete', value: null, rejected });
    assert.equal(view.user('alice'), null);
    assert.deepEqual(view.rejected.get('users/alice'), rejected);
  });
});

describe('ClusterView owners', () => {
  test('ownedBy follows every change of the ownership keys, and each change is counted', () => {
    const view = new ClusterView();
    const random = seededRandom(7);
    const truth = new Map<string, string>();
    let counted = view.owners.changes;
    for (let step = 0; step < 2000; step++) {
      const resource = `r${Math.floor(random() * 50)}`;
      const node = `n${Math.floor(random() * 3)}`;
      if (random() < 0.3) {
        const had = truth.delete(resource);
        view.owners.delete(resource);
        if (had) counted++;
      } else {
        truth.set(resource, node);
        view.owners.set(resource, { node, leaseId: '1' });
        counted++;
      }
      assert.equal(view.owners.changes, counted);
      // Placement's loads from the index are countLoads of the whole map, at every step.
      if (step % 50 === 0) assert.deepEqual(view.owners.loads(), countLoads(view.ownerMap()), `step ${step}`);
    }
    assert.deepEqual(view.owners.loads(), countLoads(view.ownerMap()));
    for (const node of ['n0', 'n1', 'n2', 'n3']) {
      const expected = [...truth].filter(([, owner]) => owner === node).map(([resource]) => resource).sort();
      assert.deepEqual([...view.owners.ownedBy(node)].sort(), expected, node);
    }
    view.owners.clear();
    assert.equal(view.owners.ownedBy('n1').size, 0);
    assert.deepEqual(view.owners.loads(), {});
  });

  test('a change from the store moves the counts that placement and the standby read', () => {
    const view = new ClusterView();
    const before = view.placementChanges();
    view.apply({ revision: 5, collection: 'owners', kind: 'put', name: 'web', value: { node: 'n1', leaseId: '9' } });
    assert.ok(view.placementChanges() > before);
    assert.deepEqual([...view.owners.ownedBy('n1')], ['web']);
    const afterOwner = view.placementChanges();
    view.apply({ revision: 6, collection: 'audit', kind: 'delete', name: '1', value: null } satisfies StoreChange);
    assert.equal(view.placementChanges(), afterOwner, 'the audit log is not placement');
  });
});
