// A resource sent again by the stream keeps the parts that did not change from the version the
// console holds (renderer/src/model/share-unchanged.ts): equal parts are the earlier objects, the
// result deep-equals what arrived, and neither argument is modified.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shareUnchanged } from '../../renderer/src/model/share-unchanged';
import type { ResourceView } from '../../preload/contract/domain';
import { resource } from './renderer-fixtures';
import { seededRandom as prng } from '../seeded-random';

const parsed = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A failed resource whose status carries a failure object (the fixture's has none). */
function failed(owner: string): ResourceView {
  const base = resource('web', '10.0.0.5', { owner, state: 'failed' });
  return { ...base, status: { ...base.status, failure: { kind: 'no-eligible-node' } } };
}

describe('shareUnchanged', () => {
  test('a deep-equal record is the earlier one itself', () => {
    const before = resource('web', '10.0.0.5', { owner: 'n2', group: 'g' });
    assert.equal(shareUnchanged(before, parsed(before)), before);
  });

  test('a changed status: a new record and status, every other part the earlier one', () => {
    const before = failed('n2');
    const arrived = parsed(failed('n3'));
    const snapshotOfArrived = parsed(arrived);
    const snapshotOfBefore = parsed(before);
    const result = shareUnchanged(before, arrived);
    assert.deepEqual(result, snapshotOfArrived, 'the result is what arrived');
    assert.notEqual(result, before);
    assert.notEqual(result.status, before.status);
    assert.notEqual(before.status.failure, null);
    assert.equal(result.status.failure, before.status.failure, 'an equal failure inside a changed status is shared');
    for (const key of Object.keys(before) as Array<keyof typeof before>) {
      if (key !== 'status') assert.equal(result[key], before[key], `${key} is the earlier part`);
    }
    assert.deepEqual(arrived, snapshotOfArrived, 'what arrived is not modified');
    assert.deepEqual(before, snapshotOfBefore, 'the earlier version is not modified');
  });

  test('arrays: equal ones shared, a changed one new with its equal elements shared', () => {
    const before = { lists: [['n1', 'n2'], [{ a: 1 }, { b: 2 }]], other: ['x'] };
    const result = shareUnchanged(before, parsed({ lists: [['n1', 'n2'], [{ a: 1 }, { b: 3 }]], other: ['x', 'y'] }));
    assert.equal(result.lists[0], before.lists[0]);
    assert.notEqual(result.lists[1], before.lists[1]);
    assert.equal(result.lists[1]?.[0], before.lists[1]?.[0]);
    assert.deepEqual(result.other, ['x', 'y'], 'a longer array is new');
    assert.deepEqual(shareUnchanged({ l: [1, 2, 3] }, { l: [1, 2] }).l, [1, 2], 'a shorter one too');
  });

  test('keys added or removed, and values that change type, make a new record', () => {
    const before: Record<string, unknown> = { a: 1, b: { c: 2 } };
    assert.deepEqual(shareUnchanged(before, { a: 1 }), { a: 1 });
    assert.deepEqual(shareUnchanged(before, { a: 1, b: { c: 2 }, d: null }), { a: 1, b: { c: 2 }, d: null });
    assert.deepEqual(shareUnchanged(before, { a: 1, b: [2] }), { a: 1, b: [2] });
    assert.deepEqual(shareUnchanged(before, { a: '1', b: null }), { a: '1', b: null });
  });

  test('an own "__proto__" from JSON.parse is kept as it came and sets no prototype', () => {
    const hostile = JSON.parse('{"a":1,"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const result = shareUnchanged<Record<string, unknown>>({ a: 1, __proto__: null }, hostile);
    assert.equal(result, hostile);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('random records: the result always deep-equals what arrived, and shares every equal part', () => {
    const random = prng(7);
    const value = (depth: number): unknown => {
      const roll = random();
      if (depth > 3 || roll < 0.4) return [1, 'a', null, true, 2.5][Math.floor(random() * 5)];
      if (roll < 0.7) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, (_, i) => [`k${i}`, value(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const before = value(0);
      const arrived = random() < 0.3 ? parsed(before) : value(0);
      const result = shareUnchanged(before, arrived);
      assert.deepEqual(result, arrived);
      if (JSON.stringify(before) === JSON.stringify(arrived)) assert.equal(result, before, `case ${i}: equal means the earlier one`);
    }
  });
});
