// Counted nouns (preload/contract/plural.ts): every noun the console and the CLI count reads right
// for 0, 1, 2 and 1,000, and the places that count say so through the helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTED_NOUNS, formatCount, nounFor, plural } from '../../preload/contract/plural';
import { formatStatus } from '../../main/cli/format';

const EXPECTED: Readonly<Record<(typeof COUNTED_NOUNS)[number], readonly [string, string, string, string]>> = {
  address: ['0 addresses', '1 address', '2 addresses', '1,000 addresses'],
  conflict: ['0 conflicts', '1 conflict', '2 conflicts', '1,000 conflicts'],
  event: ['0 events', '1 event', '2 events', '1,000 events'],
  'failover mark': ['0 failover marks', '1 failover mark', '2 failover marks', '1,000 failover marks'],
  frame: ['0 frames', '1 frame', '2 frames', '1,000 frames'],
  node: ['0 nodes', '1 node', '2 nodes', '1,000 nodes'],
  owner: ['0 owners', '1 owner', '2 owners', '1,000 owners'],
  pass: ['0 passes', '1 pass', '2 passes', '1,000 passes'],
  resource: ['0 resources', '1 resource', '2 resources', '1,000 resources'],
  station: ['0 stations', '1 station', '2 stations', '1,000 stations'],
  'store record': ['0 store records', '1 store record', '2 store records', '1,000 store records'],
  hook: ['0 hooks', '1 hook', '2 hooks', '1,000 hooks'],
};

test('every counted noun for 0, 1, 2 and 1,000', () => {
  assert.deepEqual([...COUNTED_NOUNS].sort(), Object.keys(EXPECTED).sort());
  for (const noun of COUNTED_NOUNS) assert.deepEqual([0, 1, 2, 1000].map((count) => plural(count, noun)), EXPECTED[noun], noun);
});

test('the noun alone follows the count; counts keep a plain comma', () => {
  assert.equal(nounFor(1, 'address'), 'address');
  assert.equal(nounFor(1_000_000, 'address'), 'addresses');
  assert.equal(formatCount(1_234_567), '1,234,567');
  assert.equal(formatCount(999), '999');
});

test('ipfo status counts the store records it left out with the same helper', () => {
  const headline = (count: number): string | undefined => {
    const rejected = Array.from({ length: count }, (_, i) => ({ collection: 'resources' as const, name: `r${i}`, key: `ipfo/default/resources/r${i}`, reason: 'bad', revision: i + 1 }));
    return formatStatus({ nodes: [], resources: [], conflicts: [], events: [], rejected }, 0).find((line) => line.includes('left out'));
  };
  assert.equal(headline(0), undefined);
  assert.match(headline(1) ?? '', /^1 store record is not what it claims to be/);
  assert.match(headline(2) ?? '', /^2 store records are not what they claim to be/);
  assert.match(headline(1000) ?? '', /^1,000 store records are not what they claim to be/);
});
