// The agent's mirror of the store (main/agent/cluster-view.ts): open intents are found by target in
// constant time, and the index follows every way the map changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterView } from '../../main/agent/cluster-view';
import type { Intent } from '../../main/store/store';

const move = (id: string, target: string, toNode = 'n2'): Intent => ({ id, kind: 'move', target, toNode, actor: 'test', createdAt: 1 });

describe('ClusterView intents', () => {
  test('intentFor follows puts and deletes, from changes and from direct edits', () => {
    const view = new ClusterView();
    view.apply({ revision: 1, collection: 'intents', name: 'a', kind: 'put', value: move('a', 'web') });
    assert.equal(view.intentFor('web', 'move')?.id, 'a');
    assert.equal(view.intentFor('web', 'online'), undefined);
    assert.equal(view.intentFor('db', 'move'), undefined);
    view.intents.set('b', move('b', 'db'));
    assert.equal(view.intentFor('db', 'move')?.id, 'b');
    view.apply({ revision: 2, collection: 'intents', name: 'a', kind: 'delete', value: null });
    assert.equal(view.intentFor('web', 'move'), undefined);
    view.intents.delete('b');
    assert.equal(view.intentFor('db', 'move'), undefined);
  });

  test('an intent rewritten for another target leaves the old target', () => {
    const view = new ClusterView();
    view.intents.set('a', move('a', 'web'));
    view.intents.set('a', move('a', 'db'));
    assert.equal(view.intentFor('web', 'move'), undefined);
    assert.equal(view.intentFor('db', 'move')?.id, 'a');
  });

  test('two open intents for one target: deleting one leaves the other found', () => {
    const view = new ClusterView();
    view.intents.set('old', move('old', 'web'));
    view.intents.set('new', move('new', 'web', 'n3'));
    view.intents.delete('new');
    assert.equal(view.intentFor('web', 'move')?.id, 'old');
  });

  test('a snapshot indexes its intents', () => {
    const view = ClusterView.fromSnapshot({ revision: 5, nodes: [], resources: [], owners: [], statuses: [], intents: [{ intent: move('a', 'web'), revision: 4 }] });
    assert.equal(view.intentFor('web', 'move')?.id, 'a');
  });
});
