// The console's resources under the live stream at 100,000 (issue 13 §4): the persistent map
// (bucket-map.ts) keeps every earlier version as it was; the per-state counts and the change
// journal kept with each state (cluster-state.ts) agree with the map; and the table's rows, updated
// from the journal (resource-table.ts nextResourceRows), are always the rows computed afresh.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceView } from '../../preload/contract/domain';
import type { Push } from '../../preload/contract/protocol';
import { resourceRows, type ResourceSort } from '../../preload/contract/resource-order';
import { BucketMap } from '../../renderer/src/model/bucket-map';
import { applyPushes, EMPTY_CLUSTER, resourceChangesSince, type ClusterState } from '../../renderer/src/model/cluster-state';
import { nextResourceRows, type ResourceRowsCache } from '../../renderer/src/model/resource-table';
import { changePush, resource, snapshotPush, T0 } from './renderer-fixtures';
import { seededRandom as prng } from '../seeded-random';

describe('BucketMap', () => {
  test('an edit leaves the earlier version exactly as it was', () => {
    const first = BucketMap.of(Array.from({ length: 5_000 }, (_, i) => `k${i}`), (key) => key);
    const editor = first.edit();
    editor.set('k1', 'changed');
    editor.delete('k2');
    editor.delete('absent');
    editor.set('new', 'new');
    const second = editor.result();
    editor.set('k3', 'after');
    const third = editor.result();
    assert.equal(first.size, 5_000);
    assert.equal(first.get('k1'), 'k1');
    assert.equal(first.get('k2'), 'k2');
    assert.equal(first.has('new'), false);
    assert.equal(second.size, 5_000);
    assert.equal(second.get('k1'), 'changed');
    assert.equal(second.has('k2'), false);
    assert.equal(second.get('k3'), 'k3', 'a write after result() does not reach the version handed out');
    assert.equal(third.get('k3'), 'after');
    assert.deepEqual(new Set(second.keys()).size, 5_000);
    assert.deepEqual(new Map(second).get('new'), 'new');
  });
});

const STATES = ['online', 'offline', 'failed', 'online-pending'] as const;
const SORTS: ResourceSort[] = [
  { column: 'name', direction: 'asc' },
  { column: 'state', direction: 'desc' },
  { column: 'since', direction: 'asc' },
  { column: 'owner', direction: 'asc' },
];

function rowsOf(cache: ResourceRowsCache | null): ResourceView[] | undefined {
  return cache?.rows.toArray();
}

describe('rows under the stream', () => {
  for (const sort of SORTS) {
    test(`journal-driven rows equal the rows afresh, counts equal a count (${sort.column} ${sort.direction})`, () => {
      const random = prng(sort.column.length);
      const initial = Array.from({ length: 2_000 }, (_, i) => resource(`r${String(i).padStart(4, '0')}`, `10.0.${i >> 8}.${i & 255}`, { since: T0 + i }));
      let state: ClusterState = applyPushes(EMPTY_CLUSTER, [snapshotPush(1, { resources: initial })]);
      let cache: ResourceRowsCache | null = null;
      let revision = 1;
      let incremental = 0;
      for (let batch = 0; batch < 60; batch++) {
        const pushes: Push[] = [];
        for (let i = 0, n = Math.floor(random() * 40); i < n; i++) {
          const name = `r${String(Math.floor(random() * 2_000)).padStart(4, '0')}`;
          const roll = random();
          if (roll < 0.004) pushes.push(changePush(++revision, { kind: 'resource-removed', name }));
          else if (roll < 0.008) pushes.push(changePush(++revision, { kind: 'resource', resource: resource(`n${batch}-${i}`, '10.9.0.1') }));
          else {
            const state2 = STATES[Math.floor(random() * STATES.length)] ?? 'online';
            const owner = state2 === 'online' ? `n${1 + Math.floor(random() * 3)}` : null;
            pushes.push(changePush(++revision, { kind: 'resource', resource: resource(name, '10.0.0.1', { state: state2, owner, since: T0 + Math.floor(random() * 5_000) }) }));
          }
        }
        const before = state;
        state = applyPushes(state, pushes);
        // Sometimes the table skips renders (several batches between two of its computations).
        if (random() < 0.3 && batch < 59) continue;
        const previousVersion = cache?.version ?? -1;
        const previous: ResourceRowsCache | null = cache;
        const previousRows = rowsOf(previous);
        cache = nextResourceRows(cache, state.resources, state.resourceLog, '', sort);
        assert.deepEqual(rowsOf(previous), previousRows, 'the rows handed out before (maybe still rendering) did not change');
        if (cache.index !== null && previousVersion >= 0) incremental++;
        assert.deepEqual(
          cache.rows.toArray().map((row) => row.name),
          resourceRows(state.resources.values(), '', sort).map((row) => row.name),
          `batch ${batch}`,
        );
        assert.deepEqual(cache.rows.toArray(), resourceRows(state.resources.values(), '', sort));
        const counts: Record<string, number> = {};
        for (const row of state.resources.values()) counts[row.status.state] = (counts[row.status.state] ?? 0) + 1;
        for (const [key, value] of Object.entries(state.resourceStates)) assert.equal(value, counts[key] ?? 0, `${key} after batch ${batch}`);
        assert.ok(before.resources !== state.resources || pushes.length === 0);
      }
      if (sort.column === 'name') assert.ok(incremental > 10, `most batches were in-place updates (${incremental})`);
    });
  }

  test('the journal tells what changed since a recent version, and nothing for an old one', () => {
    let state = applyPushes(EMPTY_CLUSTER, [snapshotPush(1, { resources: [resource('a', '10.0.0.1'), resource('b', '10.0.0.2')] })]);
    const start = state.resourceLog.version;
    state = applyPushes(state, [changePush(2, { kind: 'resource', resource: resource('a', '10.0.0.1', { owner: 'n2' }) })]);
    state = applyPushes(state, [changePush(3, { kind: 'resource-removed', name: 'b' })]);
    state = applyPushes(state, [changePush(4, { kind: 'node-removed', name: 'n9' })]);
    assert.deepEqual(resourceChangesSince(state.resourceLog, start), ['a', 'b']);
    assert.deepEqual(resourceChangesSince(state.resourceLog, state.resourceLog.version), []);
    assert.equal(resourceChangesSince(state.resourceLog, start - 1), null, 'the snapshot replaced everything');
    for (let i = 0; i < 20; i++) state = applyPushes(state, [changePush(10 + i, { kind: 'resource', resource: resource('a', '10.0.0.1') })]);
    assert.equal(resourceChangesSince(state.resourceLog, start), null, 'beyond the journal');
  });
});
