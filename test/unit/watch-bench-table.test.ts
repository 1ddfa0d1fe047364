import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuRatio, formatWatchTable, highestLossless, median, type RateRow } from '../bench/watch-table';
import type { RunResult } from '../bench/watch-measure';

function run(watcher: 'ipfo' | 'arpwatch', rate: number, kernelDrops: number, sentRate = rate): RunResult {
  return { watcher, rate, sent: sentRate * 3, sentRate, delivered: sentRate * 3, seen: sentRate * 3 - kernelDrops, kernelDrops, cpuPercent: rate / 10_000 };
}

function row(rate: number, oursDrops: number[], theirDrops: number[], sentRate = rate): RateRow {
  return { rate, ours: oursDrops.map((d) => run('ipfo', rate, d, sentRate)), arpwatch: theirDrops.map((d) => run('arpwatch', rate, d, sentRate)) };
}

describe('bench:watch table', () => {
  test('median', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  test('the highest lossless rung stops at the first loss and skips rungs the flooder did not reach', () => {
    const rows = [row(10_000, [0, 0], [0, 0]), row(50_000, [0, 0], [0, 5]), row(100_000, [0, 1], [0, 0]), row(200_000, [0, 0], [0, 0])];
    assert.equal(highestLossless(rows, 'ours'), 50_000);
    assert.equal(highestLossless(rows, 'arpwatch'), 10_000);
    const short = [row(10_000, [0], [0]), row(400_000, [0], [0], 150_000)];
    assert.equal(highestLossless(short, 'ours'), 10_000);
    assert.equal(highestLossless([row(10_000, [1], [0])], 'ours'), 0);
  });

  test('prints one row per rung and the verdict', () => {
    const text = formatWatchTable([row(10_000, [0, 0, 0], [0, 0, 0]), row(100_000, [0, 0, 0], [100, 0, 300])]);
    const lines = text.split('\n');
    assert.match(lines[0]!, /target.*ipfo sent\/s.*arpw drops/);
    assert.match(lines[2]!, /^\s+10k\s/);
    assert.match(lines[3]!, /100k.*100 \(0\.0%\) max 300/);
    assert.match(text, /ipfo watch: 100k fps at 10\.0% of one core/);
    assert.match(text, /arpwatch: {3}10k fps/);
    assert.match(text, /ratio ipfo \/ arpwatch: 10\.00x \(lossless at the top of the ladder/);
    assert.match(text, /cpu per frame, ipfo watch \/ arpwatch \(median cpu of each rung\): 10k 1\.00x, 100k 1\.00x/);
  });

  test('the cpu ratio of a rung: ipfo median over arpwatch median, - when arpwatch used none', () => {
    const rung = row(100_000, [0, 0, 0], [0, 0, 0]);
    rung.ours = rung.ours.map((r, i) => ({ ...r, cpuPercent: [4, 5, 6][i]! }));
    rung.arpwatch = rung.arpwatch.map((r, i) => ({ ...r, cpuPercent: [2, 2.5, 3][i]! }));
    assert.equal(cpuRatio(rung), '2.00x');
    rung.arpwatch = rung.arpwatch.map((r) => ({ ...r, cpuPercent: 0 }));
    assert.equal(cpuRatio(rung), '-');
  });
});
