// The agent's load line (main/agent/load-line.ts) reads back as the benchmark parses it
// (test/bench/steady-state.ts): a change to one side that the other does not follow fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLoadLine } from '../../main/agent/load-line';
import { parseLoadLine } from '../bench/steady-state';

test('a load line round-trips through the bench parser, singular and plural, with thousands', () => {
  const line = formatLoadLine({ resources: 10_000, heldHere: 3334, passes: 1, passMedianMs: 12.34, passLongestMs: 56.78, probesPerSecond: 39.96, ownersWatched: 1, rssBytes: 150 * 1024 * 1024, heapBytes: 60 * 1024 * 1024 });
  assert.equal(line, 'load: 10,000 resources, 3334 held here; reconcile 1 pass, median 12.3 ms, longest 56.8 ms; standby 40.0 probes/s to 1 owner; memory rss 150.0 MiB, heap 60.0 MiB');
  assert.deepEqual(parseLoadLine(line), { resources: 10_000, heldHere: 3334, passes: 1, passMedianMs: 12.3, passLongestMs: 56.8, probesPerSecond: 40, ownersWatched: 1, agentRssMiB: 150 });
  const many = formatLoadLine({ resources: 1, heldHere: 0, passes: 2_500, passMedianMs: 0, passLongestMs: 0, probesPerSecond: 0, ownersWatched: 2, rssBytes: 0, heapBytes: 0 });
  assert.deepEqual(parseLoadLine(many), { resources: 1, heldHere: 0, passes: 2500, passMedianMs: 0, passLongestMs: 0, probesPerSecond: 0, ownersWatched: 2, agentRssMiB: 0 });
  assert.equal(parseLoadLine('load average: 1.2'), null);
});
