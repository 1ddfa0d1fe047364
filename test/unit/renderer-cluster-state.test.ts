// The console's copy of the cluster: snapshot then changes, in revision order, copy-on-write.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPush, applyPushes, conflictKey, CONSOLE_EVENTS_LIMIT, EMPTY_CLUSTER, type ClusterState } from '../../renderer/src/model/cluster-state';
import { audit, changePush, conflict, node, resource, snapshotPush } from './renderer-fixtures';

function loaded(revision = 10): ClusterState {
  return applyPush(
    EMPTY_CLUSTER,
    snapshotPush(revision, {
      nodes: [node('n1'), node('n2')],
      resources: [resource('web', '10.213.0.50'), resource('db', '10.213.0.51', { owner: 'n2' })],
      conflicts: [conflict('10.213.0.50', '02:00:00:00:00:66')],
      events: [audit(3), audit(1), audit(2)],
    }),
  );
}

describe('snapshot', () => {
  test('replaces everything and sorts the audit entries by seq', () => {
    const state = loaded();
    assert.equal(state.revision, 10);
    assert.equal(state.snapshotRevision, 10);
    assert.deepEqual([...state.nodes.keys()], ['n1', 'n2']);
    assert.deepEqual([...state.resources.keys()].sort(), ['db', 'web'], 'by name (a BucketMap iterates by bucket)');
    assert.deepEqual([...state.conflicts.keys()], [conflictKey('n1', '10.213.0.50', '02:00:00:00:00:66')]);
    assert.deepEqual(state.events.map((e) => e.seq), [1, 2, 3]);
    const replaced = applyPush(state, snapshotPush(4, { nodes: [node('n9')] }));
    assert.deepEqual([...replaced.nodes.keys()], ['n9']);
    assert.equal(replaced.resources.size, 0);
    assert.equal(replaced.revision, 4, 'a snapshot after an agent restart may carry a lower revision: it still wins');
  });

  test('keeps only the newest entries beyond the cap', () => {
    const events = Array.from({ length: 12 }, (_, i) => audit(i + 1));
    const state = applyPushes(EMPTY_CLUSTER, [snapshotPush(1, { events })], 5);
    assert.deepEqual(state.events.map((e) => e.seq), [8, 9, 10, 11, 12]);
  });
});

describe('changes', () => {
  test('before the first snapshot are ignored (nothing to apply them to)', () => {
    const state = applyPush(EMPTY_CLUSTER, changePush(1, { kind: 'node', node: node('n1') }));
    assert.equal(state, EMPTY_CLUSTER);
  });

  test('at or below the snapshot revision are already in it', () => {
    const state = loaded(10);
    const after = applyPushes(state, [changePush(9, { kind: 'node-removed', name: 'n1' }), changePush(10, { kind: 'node-removed', name: 'n2' })]);
    assert.equal(after, state);
  });

  test('upsert and remove nodes, resources and conflicts by their keys', () => {
    const moved = resource('web', '10.213.0.50', { owner: 'n2', ownerMac: '02:00:00:00:00:02', lastHandoffMs: 0.7 });
    const state = applyPushes(loaded(), [
      changePush(11, { kind: 'node', node: node('n2', 'paused') }),
      changePush(12, { kind: 'node', node: node('n3') }),
      changePush(13, { kind: 'node-removed', name: 'n1' }),
      changePush(14, { kind: 'resource', resource: moved }),
      changePush(15, { kind: 'resource-removed', name: 'db' }),
      changePush(16, { kind: 'conflict', conflict: conflict('10.213.0.50', '02:00:00:00:00:66', { count: 9, defended: true }) }),
      changePush(17, { kind: 'conflict', conflict: conflict('10.213.0.51', '02:00:00:00:00:77') }),
      changePush(18, { kind: 'conflict-cleared', node: 'n1', address: '10.213.0.50', theirMac: '02:00:00:00:00:66' }),
    ]);
    assert.equal(state.revision, 18);
    assert.deepEqual([...state.nodes.values()].map((n) => [n.name, n.state]), [['n2', 'paused'], ['n3', 'up']]);
    assert.deepEqual([...state.resources.keys()], ['web']);
    assert.equal(state.resources.get('web')?.status.owner, 'n2');
    assert.equal(state.resources.get('web')?.status.lastHandoffMs, 0.7);
    assert.deepEqual([...state.conflicts.values()].map((c) => [c.address, c.theirMac]), [['10.213.0.51', '02:00:00:00:00:77']]);
    assert.equal(state.outOfSync, false);
  });

  test('store records left out: the snapshot\'s list, then rejected and cleared by key', () => {
    const record = (key: string, reason = 'not JSON') => ({ collection: 'resources', name: key.split('/').at(-1)!, key, reason, revision: 3 });
    const start = applyPush(EMPTY_CLUSTER, snapshotPush(10, { rejected: [record('ipfo/default/resources/evil')] }));
    assert.deepEqual([...start.rejected.keys()], ['ipfo/default/resources/evil']);
    const state = applyPushes(start, [
      changePush(11, { kind: 'rejected', record: record('ipfo/default/resources/mcast', 'ip: multicast') }),
      changePush(12, { kind: 'rejected-cleared', key: 'ipfo/default/resources/evil' }),
      changePush(13, { kind: 'rejected-cleared', key: 'ipfo/default/resources/never-seen' }),
    ]);
    assert.deepEqual([...state.rejected.values()].map((r) => [r.key, r.reason]), [['ipfo/default/resources/mcast', 'ip: multicast']]);
    assert.deepEqual([...start.rejected.keys()], ['ipfo/default/resources/evil'], 'copy on write: the earlier state is unchanged');
  });

  test('several changes may share a revision, and revisions may jump: all are applied', () => {
    const state = applyPushes(loaded(10), [
      changePush(11, { kind: 'node', node: node('n3') }),
      changePush(11, { kind: 'node', node: node('n4') }),
      changePush(40, { kind: 'node', node: node('n5') }),
    ]);
    assert.deepEqual([...state.nodes.keys()], ['n1', 'n2', 'n3', 'n4', 'n5']);
    assert.equal(state.revision, 40);
    assert.equal(state.outOfSync, false);
  });

  test('a revision going backwards marks the copy out of sync and nothing more is applied until a snapshot', () => {
    const state = applyPushes(loaded(10), [
      changePush(12, { kind: 'node', node: node('n3') }),
      changePush(11, { kind: 'node', node: node('n4') }),
      changePush(13, { kind: 'node', node: node('n5') }),
    ]);
    assert.equal(state.outOfSync, true);
    assert.deepEqual([...state.nodes.keys()], ['n1', 'n2', 'n3']);
    const resynced = applyPush(state, snapshotPush(20, { nodes: [node('n1')] }));
    assert.equal(resynced.outOfSync, false);
    assert.deepEqual([...resynced.nodes.keys()], ['n1']);
  });
});

describe('audit entries', () => {
  test('append in seq order, replace an entry with the same seq, insert a late lower seq in place', () => {
    const state = applyPushes(loaded(), [
      changePush(11, { kind: 'audit', entry: audit(5, { outcome: 'started' }) }),
      changePush(12, { kind: 'audit', entry: audit(5, { outcome: 'ok', handoffMs: 0.4 }) }),
      changePush(13, { kind: 'audit', entry: audit(4) }),
      changePush(14, { kind: 'audit', entry: audit(6) }),
    ]);
    assert.deepEqual(state.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
    assert.equal(state.events.find((e) => e.seq === 5)?.outcome, 'ok');
    assert.equal(state.events.find((e) => e.seq === 5)?.handoffMs, 0.4);
  });

  test('the live stream is capped at the newest entries', () => {
    let state = loaded();
    const pushes = Array.from({ length: CONSOLE_EVENTS_LIMIT + 50 }, (_, i) => changePush(11 + i, { kind: 'audit', entry: audit(4 + i) }));
    state = applyPushes(state, pushes);
    assert.equal(state.events.length, CONSOLE_EVENTS_LIMIT);
    assert.equal(state.events[state.events.length - 1]?.seq, 3 + CONSOLE_EVENTS_LIMIT + 50);
    // Seqs 1..3 from the snapshot and 4..1053 from the stream: the newest 1,000 start at 54.
    assert.equal(state.events[0]?.seq, 54);
    assert.ok(state.events.every((entry, i, all) => i === 0 || (all[i - 1]?.seq ?? 0) < entry.seq));
  });
});

describe('copy on write', () => {
  test('the previous state is untouched and untouched collections keep their identity', () => {
    const before = loaded();
    const nodesBefore = [...before.nodes.values()];
    const after = applyPush(before, changePush(11, { kind: 'resource', resource: resource('new', '10.213.0.60') }));
    assert.notEqual(after, before);
    assert.notEqual(after.resources, before.resources);
    assert.equal(before.resources.has('new'), false);
    assert.equal(after.nodes, before.nodes);
    assert.equal(after.conflicts, before.conflicts);
    assert.equal(after.events, before.events);
    assert.deepEqual([...before.nodes.values()], nodesBefore);
  });

  test('an empty batch returns the same state object', () => {
    const state = loaded();
    assert.equal(applyPushes(state, []), state);
  });

  test('a batch of 1,000 changes on 10,000 resources copies the map once and keeps every change', () => {
    const resources = Array.from({ length: 10_000 }, (_, i) => resource(`r${i}`, `10.213.${Math.floor(i / 250)}.${1 + (i % 250)}`));
    const state = applyPush(EMPTY_CLUSTER, snapshotPush(1, { resources }));
    const pushes = Array.from({ length: 1_000 }, (_, i) => changePush(2 + i, { kind: 'resource', resource: resource(`r${i * 7}`, '10.213.99.1', { owner: 'n2' }) }));
    const after = applyPushes(state, pushes);
    assert.equal(after.resources.size, 10_000);
    assert.equal(after.revision, 1_001);
    assert.ok(pushes.every((push) => push.change.kind === 'resource' && after.resources.get(push.change.resource.name)?.status.owner === 'n2'));
    assert.equal(state.resources.get('r7')?.status.owner, 'n1');
  });
});
