// A toast about a resource never contradicts the live table (renderer/src/model/toasts.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toastsStillTrue, toastSubject, type Toast } from '../../renderer/src/model/toasts';
import { resource } from './renderer-fixtures';

const created: Toast = { id: 1, tone: 'ok', text: 'Created web: web online on n1', about: toastSubject(resource('web', '10.0.0.1', { owner: 'n1', state: 'online' })) };
const deleted: Toast = { id: 2, tone: 'ok', text: 'Deleted db', about: null };

test('a toast stays while its resource is where and as it says', () => {
  const toasts = [created, deleted];
  assert.equal(toastsStillTrue(toasts, new Map([['web', resource('web', '10.0.0.1', { owner: 'n1', state: 'online' })]])), toasts);
});

test('it closes once the resource moved, changed state or was deleted; other toasts stay', () => {
  for (const live of [resource('web', '10.0.0.1', { owner: 'n2', state: 'online' }), resource('web', '10.0.0.1', { owner: null, state: 'offline' })]) {
    assert.deepEqual(toastsStillTrue([created, deleted], new Map([['web', live]])), [deleted]);
  }
  assert.deepEqual(toastsStillTrue([created, deleted], new Map([['web', null]])), [deleted], 'deleted: the model says null');
});

test('a resource the page has not heard of yet (its record on the way from the model) keeps its toast', () => {
  const toasts = [created, deleted];
  assert.equal(toastsStillTrue(toasts, new Map()), toasts);
});
