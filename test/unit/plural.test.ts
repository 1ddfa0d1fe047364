// Counted nouns in the console and the CLI (issue 16 §2): 0, 1, 2 and 1,000 of every noun counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTED_NOUNS, counted, nounFor, type CountedNoun } from '../../preload/contract/plural';

test('every counted noun: 0, 1, 2 and 1,000', () => {
  for (const [noun, plural] of Object.entries(COUNTED_NOUNS) as Array<[CountedNoun, string]>) {
    assert.equal(counted(0, noun), `0 ${plural}`);
    assert.equal(counted(1, noun), `1 ${noun}`);
    assert.equal(counted(2, noun), `2 ${plural}`);
    assert.equal(counted(1_000, noun), `1,000 ${plural}`);
    assert.equal(nounFor(1, noun), noun);
  }
  assert.equal(counted(1, 'address'), '1 address');
  assert.equal(counted(3, 'entry'), '3 entries');
});
