// The Resources table's rows in chunks (renderer/src/model/chunked-rows.ts): the same rows as the
// array they were made from, at every length around a chunk's edge; an edit copies what it writes
// and leaves every version handed out before exactly as it was.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHUNK_SIZE, ChunkedRows } from '../../renderer/src/model/chunked-rows';
import { seededRandom as prng } from '../seeded-random';

const LENGTHS = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 10_000];

describe('ChunkedRows', () => {
  for (const length of LENGTHS) {
    test(`${length} rows read back as the array they came from`, () => {
      const array = Array.from({ length }, (_, i) => `row${i}`);
      const rows = ChunkedRows.of(array);
      assert.equal(rows.length, length);
      assert.deepEqual([...rows], array);
      assert.deepEqual(rows.toArray(), array);
      for (let i = 0; i < length; i++) assert.equal(rows.at(i), array[i]);
      for (const outside of [-1, length, length + CHUNK_SIZE, 0.5, Number.NaN]) assert.equal(rows.at(outside), undefined, `at(${outside})`);
      if (length > 0) {
        assert.equal(rows.findIndex((row) => row === `row${length - 1}`), length - 1);
        assert.equal(rows.findIndex((row) => row === 'row0'), 0);
      }
      assert.equal(rows.findIndex((row) => row === 'absent'), -1);
    });
  }

  test('edits equal the same writes to a copied array; every earlier version stays as it was', () => {
    const random = prng(13);
    const versions: Array<{ rows: ChunkedRows<number>; array: number[] }> = [];
    let array = Array.from({ length: 5 * CHUNK_SIZE + 17 }, (_, i) => i);
    let rows = ChunkedRows.of(array);
    versions.push({ rows, array });
    for (let round = 0; round < 50; round++) {
      const edit = rows.edit();
      array = array.slice();
      for (let i = 0, n = Math.floor(random() * 20); i < n; i++) {
        const at = Math.floor(random() * array.length);
        const value = -Math.floor(random() * 1_000_000);
        edit.set(at, value);
        array[at] = value;
        assert.equal(edit.at(at), value, 'the editor reads its own writes');
      }
      rows = edit.result();
      // A write after result() must not reach the version it handed out.
      const afterwards = edit.at(0);
      edit.set(0, 424242);
      assert.equal(rows.at(0), afterwards);
      versions.push({ rows, array });
    }
    for (const [i, version] of versions.entries()) assert.deepEqual(version.rows.toArray(), version.array, `version ${i}`);
  });

  test('an edit copies only the chunks it writes', () => {
    const rows = ChunkedRows.of(Array.from({ length: 4 * CHUNK_SIZE }, (_, i) => ({ i })));
    const edit = rows.edit();
    edit.set(CHUNK_SIZE + 3, { i: -1 });
    edit.set(CHUNK_SIZE + 5, { i: -2 });
    const next = edit.result();
    // Rows are shared by reference in the chunks not written, and the written chunk's other rows too.
    assert.equal(next.at(0), rows.at(0));
    assert.equal(next.at(3 * CHUNK_SIZE), rows.at(3 * CHUNK_SIZE));
    assert.equal(next.at(CHUNK_SIZE + 4), rows.at(CHUNK_SIZE + 4));
    assert.deepEqual(next.at(CHUNK_SIZE + 3), { i: -1 });
    assert.deepEqual(rows.at(CHUNK_SIZE + 3), { i: CHUNK_SIZE + 3 });
  });

  test('an edit never resizes: a write outside the rows is a RangeError and changes nothing', () => {
    const rows = ChunkedRows.of(['a', 'b']);
    const edit = rows.edit();
    for (const outside of [-1, 2, 1.5]) assert.throws(() => edit.set(outside, 'x'), { name: 'RangeError', message: new RegExp(`row ${outside} is outside 0\\.\\.1`) });
    assert.deepEqual(edit.result().toArray(), ['a', 'b']);
  });
});
