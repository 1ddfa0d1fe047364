import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MOVES_IN_FLIGHT, nextWave } from '../../main/cluster/move-waves';

const wanted = (count: number): Array<{ resource: string; to: string }> =>
  Array.from({ length: count }, (_, i) => ({ resource: `r${String(i).padStart(4, '0')}`, to: 'n2' }));
const nothingUnderWay = (): boolean => false;

test('a drain of 1,000 asks for one window of moves, in the order wanted', () => {
  const wave = nextWave(wanted(1000), 0, nothingUnderWay);
  assert.equal(wave.length, MOVES_IN_FLIGHT);
  assert.deepEqual(wave.map((m) => m.resource), wanted(MOVES_IN_FLIGHT).map((m) => m.resource));
});

test('open moves take their room in the window; a full window asks for nothing', () => {
  assert.equal(nextWave(wanted(1000), 60, nothingUnderWay, 64).length, 4);
  assert.equal(nextWave(wanted(1000), 64, nothingUnderWay, 64).length, 0);
  // More open than the window (a smaller window after a restart, moves asked by the operator): nothing new.
  assert.equal(nextWave(wanted(1000), 100, nothingUnderWay, 64).length, 0);
});

test('moves already under way are skipped without using the window', () => {
  const underWay = new Set(['r0000', 'r0001', 'r0002']);
  const wave = nextWave(wanted(10), 0, (r) => underWay.has(r), 4);
  assert.deepEqual(wave.map((m) => m.resource), ['r0003', 'r0004', 'r0005', 'r0006']);
});

test('fewer wanted than the window: all of them', () => {
  assert.equal(nextWave(wanted(5), 0, nothingUnderWay).length, 5);
  assert.deepEqual(nextWave([], 0, nothingUnderWay), []);
});

test('a window that is not a whole number >= 1 is refused', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => nextWave(wanted(3), 0, nothingUnderWay, bad), /move window must be a whole number >= 1/);
  }
});
