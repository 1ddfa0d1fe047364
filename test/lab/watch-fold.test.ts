// Repeat folding on a real LAN (main/native/fold.c, the watch's capture): one process captures lan0 twice —
// folded as `ipfo watch` does, and frame by frame — and feeds a binding tracker from each, while the rogue
// floods requests and replies of 140 stations, a second flooder gives 10 of those addresses other MACs now and then
// (changed MACs, flip-flops, duplicates), announcements for another address come from a new MAC each time,
// every 997th frame is malformed, and three flooded addresses are held by the watching host (a conflict per
// frame). Both sides must end with the same events (times aside), the same bindings and the same counters,
// while the folded side's JavaScript saw a small share of the frames.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { JsonLines } from './json-lines';
import { arpFloodArgv } from './tools/arp-flood';

const FIXTURE = join(__dirname, 'fixtures', 'fold-compare.js');
const FLOOD_MS = 2500;

interface SideReport {
  /** Each distinct event (JSON without its time): how many times. */
  events: Record<string, number>;
  bindings: unknown[];
  tracker: { frames: number; byKind: Record<string, number>; bindings: number; evictions: number };
  capture: { received: number; decoded: number; malformed: number; kernelReceived: number; kernelDropped: number };
  frameEvents: number;
  repeatEvents: number;
  unfolded: Record<string, { frames: number; repeats: number }>;
}

const count = (events: Record<string, number>, type: string): number =>
  Object.entries(events).filter(([event]) => event.includes(`"type":"${type}"`)).reduce((sum, [, n]) => sum + n, 0);

describe('the watch\'s capture folds repeats exactly', () => {
  let lab: Lab;
  before(async () => {
    lab = await createLab({ nodes: 1, clients: 0, rogue: true, name: 'watch-fold' });
  });
  after(async () => {
    await lab?.destroy();
  });

  test('folded and frame-by-frame captures of one flood give the same events, bindings and counts', async () => {
    const watcher = lab.host('n1');
    const subnet = lab.subnet.split('.').slice(0, 3).join('.');
    const held = [101, 102, 103].map((n) => `${subnet}.${n}`);
    // Never folded on the folded side, as an agent's socket keeps the addresses its claims and watchers
    // listen to: one with changing MACs (the second flooder's 101-110), one without.
    const unfolded = [105, 120].map((n) => `${subnet}.${n}`);
    const compare = new JsonLines(lab.spawn(watcher, [process.execPath, FIXTURE, watcher.ifname, held.join(','), unfolded.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] }));
    await compare.waitFor((r) => r.ready === true, 10_000, 'the two captures open');
    const floods = [
      new JsonLines(lab.spawn(lab.rogue!, arpFloodArgv({ subnet, rate: 40_000, durationMs: FLOOD_MS, first: 101, last: 240, malformedEvery: 997, conflictIp: lab.vip(150), conflictEveryMs: 100 }), { stdio: ['ignore', 'pipe', 'inherit'] })),
      new JsonLines(lab.spawn(lab.rogue!, arpFloodArgv({ subnet, rate: 400, durationMs: FLOOD_MS, first: 101, last: 110, macSalt: 1 }), { stdio: ['ignore', 'pipe', 'inherit'] })),
    ];
    const summaries = await Promise.all(floods.map((flood) => flood.waitFor((r) => r.type === 'summary', FLOOD_MS + 10_000, 'flood summary')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    compare.child.kill('SIGTERM');
    const result = await compare.waitFor((r) => r.folded !== undefined, 10_000, 'the comparison');
    const folded = result.folded as SideReport;
    const plain = result.plain as SideReport;
    const sent = summaries.reduce((sum, s) => sum + Number(s.sent), 0);

    for (const [name, side] of [['folded', folded], ['plain', plain]] as const) {
      assert.equal(side.capture.kernelDropped, 0, `${name}: no frame lost in the kernel`);
      assert.equal(side.capture.received, side.capture.kernelReceived, `${name}: every frame the kernel passed was counted, folded ones included`);
    }
    assert.ok(plain.capture.received >= sent * 0.99, `the watch saw the flood: ${plain.capture.received} of ${sent} sent`);
    assert.deepEqual(folded.capture, plain.capture, 'the same capture counters');
    assert.deepEqual(folded.tracker, plain.tracker, 'the same tracker counters (frames by kind, bindings)');
    assert.deepEqual(folded.bindings, plain.bindings, 'the same bindings: MAC, count, changes, earlier MACs');
    assert.deepEqual(folded.events, plain.events, 'the same events, each as many times');
    // The scenario made what it should have: otherwise the equality above proves little.
    for (const type of ['conflict', 'changed-mac', 'flip-flop', 'duplicate-address', 'gratuitous']) {
      assert.ok(count(plain.events, type) > 0, `the flood made ${type} events`);
    }
    assert.ok(plain.capture.malformed > 0, 'malformed frames were counted');
    // The unfolded senders came frame by frame, every one of them, on the folded side too.
    for (const ip of unfolded) {
      const [f, p] = [folded.unfolded[ip]!, plain.unfolded[ip]!];
      assert.ok(p.frames > 100, `${ip} was flooded: ${p.frames} frames`);
      assert.deepEqual(f, { frames: p.frames, repeats: 0 }, `${ip}: never folded`);
    }
    // Folding did its job: the folded side's listeners were called for a small share of the frames.
    const calls = folded.frameEvents + folded.repeatEvents;
    assert.ok(calls < plain.frameEvents / 5, `folded: ${calls} calls for ${plain.frameEvents} frames`);
    console.log(`# ${plain.capture.received} frames: frame by frame ${plain.frameEvents} calls; folded ${folded.frameEvents} frames + ${folded.repeatEvents} summaries; events ${Object.values(plain.events).reduce((a, b) => a + b, 0)} (conflict ${count(plain.events, 'conflict')}, flip-flop ${count(plain.events, 'flip-flop')}, duplicate ${count(plain.events, 'duplicate-address')})`);
  });
});
