// The cluster's reading of ARP watch events (main/watch/classify.ts) and conflict episodes
// (main/watch/conflict-episodes.ts): pure, so every case is a table row.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WatchEvent } from '../../main/watch/events';
import { classify, clusterFacts, type ClusterFacts } from '../../main/watch/classify';
import { ConflictEpisodes, type ConflictSighting } from '../../main/watch/conflict-episodes';
import { ConvergenceWatch, describeConvergence } from '../../main/watch/convergence';
import { parseTapped } from '../../main/net/frame-tap';

const VIP = '10.0.0.50';
const PLAIN = '10.0.0.7';
const N1 = '02:00:00:00:00:01';
const N2 = '02:00:00:00:00:02';
const N3 = '02:00:00:00:00:03';
const ROGUE = '00:1b:21:aa:bb:cc';
const OTHER = '00:1b:21:dd:ee:ff';

function facts(owner: string | null, moveTarget: string | null = null): ClusterFacts {
  return clusterFacts({
    resources: [{ name: 'web', ip: VIP }],
    ownerOf: () => owner,
    moveTargetOf: () => moveTarget,
    nodes: [
      { name: 'n1', macs: { lan0: N1 } },
      { name: 'n2', macs: { lan0: N2 } },
      { name: 'n3', macs: { lan0: N3 } },
    ],
  });
}

const changed = (ip: string, oldMac: string, newMac: string): WatchEvent => ({ type: 'changed-mac', at: 1, vlan: null, ip, oldMac, newMac });

describe('classify', () => {
  test('a MAC change to the node that now holds the address is an expected handoff', () => {
    assert.deepEqual(classify(changed(VIP, N1, N2), facts('n2')), { kind: 'expected-handoff', resource: 'web', ip: VIP, fromMac: N1, toMac: N2, fromNode: 'n1', toNode: 'n2' });
  });

  test('a MAC change to the target of a move under way is an expected handoff', () => {
    assert.equal(classify(changed(VIP, N1, N2), facts('n1', 'n2'))?.kind, 'expected-handoff');
  });

  test('a MAC change to a station outside the cluster is a conflict naming it', () => {
    assert.deepEqual(classify(changed(VIP, N1, ROGUE), facts('n1')), { kind: 'conflict', resource: 'web', ip: VIP, theirMac: ROGUE, theirNode: null });
  });

  test('a node that does not hold the address is unsettled (the store may not have told us yet)', () => {
    assert.deepEqual(classify(changed(VIP, N1, N3), facts('n1')), { kind: 'unsettled', resource: 'web', ip: VIP, fromMac: N1, toMac: N3, toNode: 'n3' });
  });

  test('a flip-flop reads like the change it ends with', () => {
    const event: WatchEvent = { type: 'flip-flop', at: 1, vlan: null, ip: VIP, macs: [N2, N1] };
    assert.equal(classify(event, facts('n1'))?.kind, 'expected-handoff');
    assert.equal(classify(event, facts('n2'))?.kind, 'unsettled');
  });

  test('a gratuitous ARP from the holder says nothing; from a stranger it is a conflict', () => {
    const garp = (mac: string): WatchEvent => ({ type: 'gratuitous', at: 1, vlan: null, ip: VIP, mac, form: 'request' });
    assert.equal(classify(garp(N1), facts('n1')), null);
    assert.equal(classify(garp(ROGUE), facts('n1'))?.kind, 'conflict');
    assert.equal(classify(garp(N2), facts('n1'))?.kind, 'unsettled');
  });

  test('a duplicate on a plain address is a duplicate; on a virtual one the intruder is the conflict', () => {
    const dup = (ip: string, a: string, b: string): WatchEvent => ({ type: 'duplicate-address', at: 1, vlan: null, ip, macs: [a, b] });
    assert.deepEqual(classify(dup(PLAIN, ROGUE, OTHER), facts('n1')), { kind: 'duplicate-address', ip: PLAIN, macs: [ROGUE, OTHER] });
    assert.deepEqual(classify(dup(VIP, N1, ROGUE), facts('n1')), { kind: 'conflict', resource: 'web', ip: VIP, theirMac: ROGUE, theirNode: null });
    assert.deepEqual(classify(dup(VIP, ROGUE, N1), facts('n1')), { kind: 'conflict', resource: 'web', ip: VIP, theirMac: ROGUE, theirNode: null });
  });

  test('changes of plain addresses, probes and storms are not the cluster\'s business', () => {
    assert.equal(classify(changed(PLAIN, ROGUE, OTHER), facts('n1')), null);
    assert.equal(classify({ type: 'probe', at: 1, vlan: null, targetIp: VIP, mac: ROGUE }, facts('n1')), null);
    assert.equal(classify({ type: 'storm-start', at: 1, rate: 900 }, facts('n1')), null);
  });
});

describe('ConflictEpisodes', () => {
  const sighting: ConflictSighting = { resource: 'web', ip: VIP, vlan: null, ourMac: N1, theirMac: ROGUE, theirVendor: 'Intel Corporate', defended: false };

  test('the first frame is published at once, the next ones at most once per interval with the count', () => {
    const episodes = new ConflictEpisodes({ updateIntervalMs: 1000, quietMs: 30_000 });
    assert.equal(episodes.observe(sighting, 0)?.count, 1);
    assert.equal(episodes.observe(sighting, 100), null);
    assert.equal(episodes.observe(sighting, 200), null);
    assert.deepEqual(episodes.due(500), []);
    const update = episodes.due(1000);
    assert.equal(update.length, 1);
    assert.equal(update[0]?.count, 3);
    assert.equal(update[0]?.firstSeen, 0);
    assert.equal(update[0]?.lastSeen, 200);
    assert.deepEqual(episodes.due(2500), [], 'nothing new, nothing published');
  });

  test('the first defence is published at once', () => {
    const episodes = new ConflictEpisodes();
    episodes.observe(sighting, 0);
    assert.equal(episodes.observe({ ...sighting, defended: true }, 10)?.defended, true);
  });

  test('after a quiet period a new episode starts', () => {
    const episodes = new ConflictEpisodes({ quietMs: 5000 });
    episodes.observe(sighting, 0);
    const next = episodes.observe(sighting, 6000);
    assert.equal(next?.count, 1);
    assert.equal(next?.firstSeen, 6000);
  });

  test('different stations are different episodes', () => {
    const episodes = new ConflictEpisodes();
    assert.ok(episodes.observe(sighting, 0));
    assert.ok(episodes.observe({ ...sighting, theirMac: OTHER }, 1));
  });
});

describe('ConvergenceWatch', () => {
  const STALE = '02:00:00:00:00:c1';
  const options = { windowMs: 30_000, quietMs: 2000, garpSpacingMs: 500, maxGarps: 4 };

  test('a straggler is named, sent a GARP at once, again while it keeps using the old MAC, and converges when quiet', () => {
    const watch = new ConvergenceWatch(VIP, 0, options);
    assert.deepEqual(watch.onFrame(STALE, '10.0.0.9', 100), [{ kind: 'new-straggler', mac: STALE, ip: '10.0.0.9' }, { kind: 'send-garp', toMac: STALE, toIp: '10.0.0.9' }]);
    assert.deepEqual(watch.onFrame(STALE, '10.0.0.9', 300), [], 'spaced: no second GARP within 500 ms');
    assert.deepEqual(watch.onFrame(STALE, '10.0.0.9', 700), [{ kind: 'send-garp', toMac: STALE, toIp: '10.0.0.9' }]);
    assert.equal(watch.tick(2000), null, 'quiet for 1300 ms only');
    assert.deepEqual(watch.tick(2700), { ip: VIP, stations: 1, converged: [STALE], stale: [], afterMs: 700, reason: 'settled' });
    assert.equal(watch.tick(5000), null, 'reported once');
    assert.equal(describeConvergence({ ip: VIP, stations: 1, converged: [STALE], stale: [], afterMs: 700, reason: 'settled' }), `converged: all 1 station updated after 700 ms (${STALE})`);
  });

  test('GARPs per straggler are capped', () => {
    const watch = new ConvergenceWatch(VIP, 0, options);
    let garps = 0;
    for (let t = 0; t < 10_000; t += 100) garps += watch.onFrame(STALE, '10.0.0.9', t).filter((e) => e.kind === 'send-garp').length;
    assert.equal(garps, 4);
  });

  test('a station still using the old MAC when the window ends is named as not converged', () => {
    const watch = new ConvergenceWatch(VIP, 0, options);
    for (let t = 0; t <= 30_000; t += 250) watch.onFrame(STALE, '10.0.0.9', t);
    const report = watch.tick(30_000);
    assert.deepEqual(report, { ip: VIP, stations: 1, converged: [], stale: [STALE], afterMs: 30_000, reason: 'window-ended' });
    assert.equal(watch.done, true);
    assert.match(describeConvergence(report), /^not converged: 02:00:00:00:00:c1 still used the old MAC/);
  });

  test('no straggler: one report when the window ends', () => {
    const watch = new ConvergenceWatch(VIP, 0, options);
    assert.equal(watch.tick(29_999), null);
    const report = watch.tick(30_000);
    assert.equal(report?.stations, 0);
    assert.equal(describeConvergence(report), `converged: no station used the old MAC for ${VIP}`);
  });
});

describe('parseTapped', () => {
  const frame = (etherType: number, vlan: boolean): Buffer => {
    const eth = Buffer.from([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 0xc1]);
    const tag = vlan ? Buffer.from([0x81, 0x00, 0x00, 0x05]) : Buffer.alloc(0);
    const type = Buffer.from([etherType >> 8, etherType & 0xff]);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.set([10, 0, 0, 9], 12);
    ip.set([10, 0, 0, 50], 16);
    return Buffer.concat([eth, tag, type, ip]);
  };

  test('reads the Ethernet source and the IPv4 source and destination, tagged or not', () => {
    for (const vlan of [false, true]) {
      const buf = frame(0x0800, vlan);
      assert.deepEqual(parseTapped(buf, buf.length), { srcMac: '02:00:00:00:00:c1', srcIp: '10.0.0.9', dstIp: '10.0.0.50' });
    }
  });

  test('not IPv4, or cut short anywhere: null', () => {
    const arp = frame(0x0806, false);
    assert.equal(parseTapped(arp, arp.length), null);
    const ip = frame(0x0800, false);
    for (let length = 0; length < ip.length; length++) assert.equal(parseTapped(ip, length), null, `length ${length}`);
  });
});
