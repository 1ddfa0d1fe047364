// bench:detect's pure parts: its settings, the table, the chart's SVG and the false-failover count
// (test/bench/detect-*.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAdverts, parseOurSettings } from '../bench/detect-settings';
import { formatDetectTable, type DetectRow } from '../bench/detect-table';
import { labelLevels, linearTicks, logDecades, renderChartSvg } from '../bench/detect-chart';
import { keepalivedMasterEntries } from '../bench/detect-false';
import { summarize } from '../bench/stats';

describe('bench:detect settings', () => {
  test('profile[@silenceMs]', () => {
    assert.deepEqual(parseOurSettings('fast, default@250,fast@8'), [
      { label: 'fast', profile: 'fast', ownerSilenceMs: null },
      { label: 'default@250', profile: 'default', ownerSilenceMs: 250 },
      { label: 'fast@8', profile: 'fast', ownerSilenceMs: 8 },
    ]);
  });

  test('refuses unknown profiles and silences the agent would refuse', () => {
    assert.throws(() => parseOurSettings('slow'), /BENCH_OURS/);
    assert.throws(() => parseOurSettings('fast@7'), /8\.\.10000/);
    assert.throws(() => parseOurSettings('fast@25@3'), /BENCH_OURS/);
    assert.throws(() => parseOurSettings('fast@2.5'), /integer/);
  });

  test('advert intervals in seconds', () => {
    assert.deepEqual(parseAdverts('1,0.1, 0.01'), [1, 0.1, 0.01]);
    assert.throws(() => parseAdverts('0'), /BENCH_ADVERTS/);
    assert.throws(() => parseAdverts('fast'), /BENCH_ADVERTS/);
  });
});

describe('bench:detect table', () => {
  const rows: DetectRow[] = [
    { product: 'ours', setting: 'fast', gaps: [summarize([20, 22, 30]), null], falseFailovers: 0 },
    { product: 'keepalived', setting: 'advert 1 s (v2)', gaps: [summarize([3600]), summarize([3700])], falseFailovers: null, note: 'quiet run: boom' },
  ];
  const text = formatDetectTable(['killed', 'link cut'], rows);
  const lines = text.split('\n');

  test('one row per setting, median / p99 per scenario, the false failovers last', () => {
    assert.match(lines[0]!, /^product\s+setting\s+killed med \/ p99\s+link cut med \/ p99\s+false failovers$/);
    assert.match(lines[2]!, /^ours\s+fast\s+22\.0 ms \/ 30\.0 ms\s+-\s+0$/);
    assert.match(lines[3]!, /^keepalived\s+advert 1 s \(v2\) \[1\]\s+3\.60 s \/ 3\.60 s\s+3\.70 s \/ 3\.70 s\s+-$/);
  });

  test('notes become footnotes', () => {
    assert.equal(lines.at(-1), '[1] keepalived advert 1 s (v2): quiet run: boom');
  });

  test('columns line up', () => {
    assert.equal(lines[2]!.length, lines[0]!.length);
  });
});

describe('bench:detect chart', () => {
  test('log decades span the points, at least one decade', () => {
    assert.deepEqual(logDecades(12, 3600), [10, 100, 1000, 10_000]);
    assert.deepEqual(logDecades(100, 100), [100, 1000]);
  });

  test('linear ticks start at 0 and reach the maximum in at most seven ticks', () => {
    assert.deepEqual(linearTicks(0), [0, 1]);
    assert.deepEqual(linearTicks(3), [0, 1, 2, 3]);
    assert.deepEqual(linearTicks(13), [0, 5, 10, 15]);
    const big = linearTicks(1234);
    assert.ok(big.length <= 8 && big.at(-1)! >= 1234);
  });

  test('labels that would overlap go up a line; apart or on other rows they stay just above their point', () => {
    // 'fast@8' (6 chars, ~42 px) from x 106 reaches x 148: the label of a point at x 120 on the same row clashes.
    assert.deepEqual(labelLevels([{ x: 100, y: 400, text: 'fast@8' }, { x: 120, y: 400, text: 'fast' }, { x: 300, y: 400, text: 'default' }]), [0, 1, 0]);
    // Listed in any order: the leftmost keeps the lowest line.
    assert.deepEqual(labelLevels([{ x: 120, y: 400, text: 'fast' }, { x: 100, y: 400, text: 'fast@8' }]), [1, 0]);
    // A third clashing label goes up another line; a label on another row (y 100) does not clash.
    assert.deepEqual(labelLevels([{ x: 100, y: 400, text: 'aaaaaa' }, { x: 110, y: 400, text: 'bbbbbb' }, { x: 120, y: 400, text: 'cc' }, { x: 110, y: 100, text: 'dddddd' }]), [0, 1, 2, 0]);
  });

  const svg = renderChartSvg({
    title: 'gap <vs> false',
    xLabel: 'ms',
    yLabel: 'false failovers',
    series: [
      { name: 'ours', color: '#00f', points: [{ x: 22, y: 0, label: 'fast' }, { x: 120, y: 0, label: 'default@250' }] },
      { name: 'keepalived', color: '#f00', points: [{ x: 40, y: 2, label: 'advert 0.01 s' }, { x: Number.NaN, y: 0, label: 'failed' }] },
    ],
  });

  test('a standalone SVG document, text escaped', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>$/);
    assert.match(svg, /gap &lt;vs&gt; false/);
  });

  test('one curve per product with two points or more, every usable point labelled', () => {
    assert.equal(svg.match(/<polyline/g)?.length, 1);
    assert.equal(svg.match(/<circle/g)?.length, 3);
    for (const label of ['fast', 'default@250', 'advert 0.01 s']) assert.ok(svg.includes(`>${label}</text>`), label);
    assert.ok(!svg.includes('>failed</text>'));
  });

  test('smaller gaps lie further left', () => {
    const x = (label: string): number => Number(new RegExp(`<text x="([\\d.]+)"[^>]*>${label}</text>`).exec(svg)?.[1]);
    assert.ok(x('fast') < x('advert 0.01 s') && x('advert 0.01 s') < x('default@250'));
  });
});

describe('bench:detect false failovers', () => {
  test('keepalived: transitions to MASTER in the backup\'s log', () => {
    const log = [
      'Sat Dec  5 22:00:00 2026: (VI_1) Entering BACKUP STATE (init)',
      'Sat Dec  5 22:00:09 2026: (VI_1) Entering MASTER STATE',
      'Sat Dec  5 22:00:09 2026: (VI_1) Master received advert from 10.1.1.11 with higher priority 150, ours 100',
      'Sat Dec  5 22:00:09 2026: (VI_1) Entering BACKUP STATE',
      'Sat Dec  5 22:00:19 2026: (VI_1) Entering MASTER STATE',
    ];
    assert.equal(keepalivedMasterEntries(log), 2);
    assert.equal(keepalivedMasterEntries(log.slice(0, 1)), 0);
  });
});
