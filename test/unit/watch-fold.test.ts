// Repeat folding, the pure half: the binding tracker fed the capture's summaries (observeRepeats) ends in
// the same state with the same events as fed every frame, and the storm detector counts a bulk exactly as
// frame by frame. The capture's rule (main/native/fold.h) is written out here as the reference model that
// turns a seeded random stream into what JavaScript receives; test/lab/watch-fold.test.ts checks the addon
// itself against the frame-by-frame capture on a real LAN.
//
// One difference is by design: a summary touches its binding when it arrives, not at its last frame, so
// with the table full (maxBindings) the binding evicted next may be another of those seen in the same few
// milliseconds. The streams here stay under the limit; a summary for an evicted binding is tested alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArpFrame, ArpOp, Ipv4, Mac } from '../../main/arp/frame';
import { BindingTracker, type Binding } from '../../main/watch/bindings';
import type { WatchEvent } from '../../main/watch/events';
import { StormDetector, type StormTransition } from '../../main/watch/storm';
import { seededRandom as random } from '../seeded-random';
import { foldSender, foldsAsRepeat } from './fold-model';

function arp(op: ArpOp, senderMac: Mac, senderIp: Ipv4, targetIp: Ipv4, vlan: number | null): ArpFrame {
  return { dst: 'ff:ff:ff:ff:ff:ff', src: senderMac, vlan, arp: { op, senderMac, senderIp, targetMac: '00:00:00:00:00:00', targetIp } };
}

interface Batch {
  now: number;
  frames: ArpFrame[];
}

type Delivery = { frame: ArpFrame } | { frame: ArpFrame; requests: number; replies: number };

/** fold.h's rule: what one batch hands to JavaScript, given the senders' last delivered MACs (kept across batches). */
function foldBatch(frames: readonly ArpFrame[], lastMac: Map<string, Mac>): Delivery[] {
  const out: Delivery[] = [];
  const pending = new Map<string, { frame: ArpFrame; requests: number; replies: number }>();
  for (const frame of frames) {
    const key = foldSender(frame);
    if (foldsAsRepeat(frame, lastMac)) {
      let summary = pending.get(key);
      if (summary === undefined) pending.set(key, (summary = { frame, requests: 0, replies: 0 }));
      if (frame.arp.op === 'request') summary.requests++;
      else summary.replies++;
      continue;
    }
    // A frame handed over as it is comes after the repeats of its sender held so far.
    const before = pending.get(key);
    if (before !== undefined) {
      out.push(before);
      pending.delete(key);
    }
    out.push({ frame });
  }
  out.push(...pending.values());
  return out;
}

/** A seeded stream: stations that mostly repeat, some with a second MAC, probes, announcements, held addresses, two VLANs. */
function stream(seed: number, batches: number): Batch[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const ips = Array.from({ length: 12 }, (_, i) => `10.213.0.${i + 1}`);
  const macs = Array.from({ length: 6 }, (_, i) => `02:1f:ee:00:00:0${i}`);
  const result: Batch[] = [];
  let now = 1000;
  for (let b = 0; b < batches; b++) {
    now += pick([0.5, 2, 30, 900, 4000, 70_000]);
    const frames: ArpFrame[] = [];
    const size = 1 + Math.floor(next() * 40);
    for (let i = 0; i < size; i++) {
      const ip = pick(ips);
      // Each address has a usual MAC; now and then another one answers for it.
      const mac = next() < 0.85 ? macs[ips.indexOf(ip) % macs.length]! : pick(macs);
      const vlan = next() < 0.2 ? 7 : null;
      const roll = next();
      if (roll < 0.05) frames.push(arp('request', mac, '0.0.0.0', ip, vlan));
      else if (roll < 0.1) frames.push(arp('request', mac, ip, ip, vlan));
      else if (roll < 0.13) frames.push(arp('reply', mac, ip, ip, vlan));
      else if (roll < 0.55) frames.push(arp('request', mac, ip, pick(ips), vlan));
      else frames.push(arp('reply', mac, ip, pick(ips), vlan));
    }
    result.push({ now, frames });
  }
  return result;
}

const trackerOptions = {
  vendorOf: () => null,
  ownMacs: ['02:1f:ee:00:00:05'],
  held: new Map([['10.213.0.3', '02:1f:ee:00:00:05'], ['10.213.0.4', null]]),
  stormThresholdPerSec: 60,
} as const;

const eventKeys = (events: readonly WatchEvent[]): string[] => events.map((event) => JSON.stringify(event)).sort();
const bindingKeys = (bindings: readonly Binding[]): string[] => bindings.map((binding) => JSON.stringify(binding)).sort();

describe('observeRepeats: the folded stream gives what every frame gives', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}: same events, bindings and counters`, () => {
      const everyFrame = new BindingTracker({ ...trackerOptions });
      const folded = new BindingTracker({ ...trackerOptions });
      const lastMac = new Map<string, Mac>();
      let summaries = 0;
      for (const { now, frames } of stream(seed, 400)) {
        const expected: WatchEvent[] = [];
        for (const frame of frames) expected.push(...everyFrame.observe(now, frame));
        const got: WatchEvent[] = [];
        for (const delivery of foldBatch(frames, lastMac)) {
          if ('requests' in delivery) {
            summaries++;
            got.push(...folded.observeRepeats(now, delivery.frame, delivery.requests, delivery.replies));
          } else got.push(...folded.observe(now, delivery.frame));
        }
        // Within a batch every frame has the same time; the order of events may differ (storm, duplicate, conflicts).
        assert.deepEqual(eventKeys(got), eventKeys(expected), `batch at ${now}`);
        assert.deepEqual(bindingKeys(folded.bindings()), bindingKeys(everyFrame.bindings()), `bindings after the batch at ${now}`);
      }
      assert.deepEqual(folded.stats(), everyFrame.stats());
      assert.ok(summaries > 100, `the stream folded something (${summaries} summaries)`);
    });
  }

  test('a summary whose binding was evicted starts it again as a new station, then counts the rest', () => {
    const t = new BindingTracker({ vendorOf: () => null, maxBindings: 1 });
    t.observe(0, arp('request', '02:00:00:00:00:01', '10.0.0.1', '10.0.0.9', null));
    t.observe(1, arp('request', '02:00:00:00:00:02', '10.0.0.2', '10.0.0.9', null)); // evicts .1
    const events = t.observeRepeats(2, arp('reply', '02:00:00:00:00:01', '10.0.0.1', '10.0.0.9', null), 3, 2);
    assert.deepEqual(events.map((e) => e.type), ['new-station']);
    assert.equal(t.binding('10.0.0.1')?.count, 5);
    assert.deepEqual(t.stats().byKind, { probe: 0, announcement: 0, 'gratuitous-reply': 0, request: 5, reply: 2 });
  });

  test('a conflict per folded frame from another host using a held address, named by the frame kind', () => {
    const t = new BindingTracker({ vendorOf: () => null, held: ['10.0.0.1'] });
    const rogue = arp('request', '02:00:00:00:00:66', '10.0.0.1', '10.0.0.9', null);
    assert.deepEqual(t.observe(0, rogue).map((e) => e.type), ['new-station', 'conflict']);
    const events = t.observeRepeats(1, rogue, 2, 3);
    assert.deepEqual(events.map((e) => (e.type === 'conflict' ? e.frameKind : e.type)), ['request', 'request', 'reply', 'reply', 'reply']);
  });
});

describe('StormDetector.frames: a bulk counts as its frames one by one', () => {
  for (const seed of [11, 12, 13]) {
    test(`seed ${seed}`, () => {
      const next = random(seed);
      const one = new StormDetector(40, 20);
      const bulk = new StormDetector(40, 20);
      let now = 0;
      for (let step = 0; step < 3000; step++) {
        now += [0, 1, 5, 40, 300, 1500][Math.floor(next() * 6)]!;
        const count = [1, 2, 7, 41, 90, 500][Math.floor(next() * 6)]!;
        const expected: StormTransition[] = [];
        for (let i = 0; i < count; i++) {
          const transition = one.frame(now);
          if (transition) expected.push(transition);
        }
        assert.deepEqual(bulk.frames(now, count), expected, `step ${step} at ${now}`);
        assert.equal(bulk.storming, one.storming);
        assert.equal(bulk.rateAt(now), one.rateAt(now));
        if (next() < 0.1) assert.deepEqual(bulk.tick(now + 1200), one.tick(now + 1200));
      }
    });
  }
});
