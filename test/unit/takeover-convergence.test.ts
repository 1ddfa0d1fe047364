// Convergence after a takeover (main/watch/takeover-convergence.ts), on a fake clock: who is told, how
// often, when a station counts as seen, the report and its words; the stations picked from binding tables.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeTakeoverConvergence, stationsToTell, TakeoverConvergence, type KnownStation } from '../../main/watch/takeover-convergence';

const A: KnownStation = { mac: '02:00:00:00:00:0a', ip: '10.0.0.10', vendor: null };
const B: KnownStation = { mac: '00:1b:21:00:00:0b', ip: '10.0.0.11', vendor: 'Intel Corporate' };
const VIP = '10.0.0.50';

describe('takeover convergence', () => {
  test('every station is told at once, again each second while unseen, at most three times', () => {
    const watch = new TakeoverConvergence(VIP, 'n1', 1000, [A, B]);
    assert.deepEqual(watch.tick(1000).sends.map((s) => s.toMac), [A.mac, B.mac]);
    assert.deepEqual(watch.tick(1500).sends, [], 'not again within the spacing');
    watch.onFrame(A.mac, 1700);
    assert.deepEqual(watch.tick(2000).sends, [{ kind: 'send-garp', toMac: B.mac, toIp: B.ip }], 'only the one not seen');
    assert.deepEqual(watch.tick(3000).sends.map((s) => s.toMac), [B.mac]);
    assert.deepEqual(watch.tick(4000).sends, [], 'three at most');
    const { report } = watch.tick(11_000);
    assert.deepEqual(report, { ip: VIP, from: 'n1', told: [A, B], seen: [A.mac], unheard: [B.mac], afterMs: 700, reason: 'window-ended' });
    assert.equal(watch.done, true);
    assert.deepEqual(watch.tick(12_000), { sends: [], report: null });
  });

  test('the report comes as soon as every station is seen', () => {
    const watch = new TakeoverConvergence(VIP, 'n1', 0, [A, B]);
    watch.tick(0);
    watch.onFrame(B.mac, 120);
    watch.onFrame(A.mac, 340);
    watch.onFrame(A.mac, 400);
    assert.deepEqual(watch.tick(350).report, { ip: VIP, from: 'n1', told: [A, B], seen: [B.mac, A.mac].sort(), unheard: [], afterMs: 340, reason: 'all-seen' });
  });

  test('frames from strangers to the address, and a station holding the address itself, change nothing', () => {
    const watch = new TakeoverConvergence(VIP, 'n1', 0, [A, { mac: '02:00:00:00:00:99', ip: VIP, vendor: null }]);
    assert.deepEqual(watch.tick(0).sends.map((s) => s.toMac), [A.mac]);
    watch.onFrame('02:00:00:00:00:77', 10);
    assert.equal(watch.tick(100).report, null);
  });

  test('nobody to tell: reported at once', () => {
    const watch = new TakeoverConvergence(VIP, 'n1', 0, []);
    assert.deepEqual(watch.tick(0).report?.reason, 'all-seen');
  });

  test('in words (a vendor the OUI table words in parentheses is not wrapped twice)', () => {
    const local = { mac: '02:00:00:00:00:0c', ip: '10.0.0.12', vendor: '(locally administered)' };
    assert.match(describeTakeoverConvergence({ ip: VIP, from: 'n1', told: [local], seen: [local.mac], unheard: [], afterMs: 5, reason: 'all-seen' }), /02:00:00:00:00:0c \(10\.0\.0\.12, locally administered\)$/);
    const base = { ip: VIP, from: 'n1', told: [A, B], afterMs: 340, reason: 'all-seen' as const };
    assert.equal(describeTakeoverConvergence({ ...base, seen: [A.mac, B.mac], unheard: [] }), `after the takeover from n1: told 2 stations the new MAC of ${VIP} by unicast gratuitous ARP; all seen using it after 340 ms: ${A.mac} (10.0.0.10), ${B.mac} (10.0.0.11, Intel Corporate)`);
    assert.equal(describeTakeoverConvergence({ ...base, seen: [], unheard: [B.mac], afterMs: null }), `after the takeover from n1: told 2 stations the new MAC of ${VIP} by unicast gratuitous ARP; seen using it: none; not heard from since: ${B.mac} (10.0.0.11, Intel Corporate) (idle, or a cache that ignores gratuitous ARP)`);
    assert.equal(describeTakeoverConvergence({ ...base, told: [], seen: [], unheard: [] }), `after the takeover from n1: no station of ${VIP}'s subnet in the binding tables to tell`);
  });
});

describe('stations to tell', () => {
  const entry = (mac: string, ip: string, lastSeen: number) => ({ mac, ip, vendor: null, lastSeen });
  test("the subnet's stations from every table, once per MAC at its latest address, not the cluster's, newest first, bounded", () => {
    const tables = [
      { bindings: [entry(A.mac, '10.0.0.10', 100), entry('02:00:00:00:00:01', '10.0.0.1', 500), entry('02:00:00:00:00:0c', '10.9.0.12', 900)] },
      { bindings: [entry(A.mac, '10.0.0.13', 300), entry(B.mac, '10.0.0.11', 200), entry('02:00:00:00:00:0d', VIP, 950)] },
    ];
    const stations = stationsToTell(tables, VIP, 24, new Set(['02:00:00:00:00:01']));
    assert.deepEqual(stations, [{ mac: A.mac, ip: '10.0.0.13', vendor: null }, { mac: B.mac, ip: '10.0.0.11', vendor: null }]);
    assert.deepEqual(stationsToTell(tables, VIP, 24, new Set(), 1).map((s) => s.mac), ['02:00:00:00:00:01']);
  });
});
