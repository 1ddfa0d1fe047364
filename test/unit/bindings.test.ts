// The ARP watch binding tracker, frame by frame with a fake clock (the `now` argument),
// plus the OUI vendor table it ships with and the script that generates that table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { classifyArp } from '../../main/arp/codec';
import type { ArpFrame, ArpOp, Ipv4, Mac } from '../../main/arp/frame';
import { BindingTracker, MAX_PREVIOUS_MACS, type BindingTrackerOptions } from '../../main/watch/bindings';
import type { WatchEvent } from '../../main/watch/events';
import { LOCALLY_ADMINISTERED, MULTICAST, ouiOf, parseOuiTable, withVendor } from '../../main/watch/oui';
import { DEFAULT_OUI_PATH, OuiDirectory, defaultOuiDirectory } from '../../main/agent/oui-directory';
import { StormDetector } from '../../main/watch/storm';
import { ouiTsvLines, parseCsv } from '../../scripts/gen-oui';

const A: Mac = '00:00:0c:00:00:0a';
const B: Mac = '00:50:56:00:00:0b';
const C: Mac = '00:03:93:00:00:0c';
const OURS: Mac = '02:00:5e:00:00:01';
const IP: Ipv4 = '10.213.0.10';
const OTHER_IP: Ipv4 = '10.213.0.20';

function arp(op: ArpOp, senderMac: Mac, senderIp: Ipv4, targetIp: Ipv4, vlan: number | null = null): ArpFrame {
  const dst = op === 'request' ? 'ff:ff:ff:ff:ff:ff' : '00:00:00:00:00:99';
  return { dst, src: senderMac, vlan, arp: { op, senderMac, senderIp, targetMac: '00:00:00:00:00:00', targetIp } };
}
const request = (mac: Mac, ip: Ipv4, vlan: number | null = null) => arp('request', mac, ip, '10.213.0.1', vlan);
const reply = (mac: Mac, ip: Ipv4) => arp('reply', mac, ip, '10.213.0.1');
const probe = (mac: Mac, target: Ipv4) => arp('request', mac, '0.0.0.0', target);
const announcement = (mac: Mac, ip: Ipv4) => arp('request', mac, ip, ip);
const gratuitousReply = (mac: Mac, ip: Ipv4) => arp('reply', mac, ip, ip);

/** Vendor lookup that needs no table: tests of the tracker should not depend on the IEEE file. */
const fakeVendor = (mac: Mac) => (mac === A ? 'Vendor A' : null);

function tracker(options: Partial<BindingTrackerOptions> = {}): BindingTracker {
  return new BindingTracker({ vendorOf: fakeVendor, ...options });
}

const types = (events: readonly WatchEvent[]) => events.map((event) => event.type);

describe('classifyArp', () => {
  test('tells probes, announcements, gratuitous replies, requests and replies apart', () => {
    assert.equal(classifyArp(probe(A, IP).arp), 'probe');
    assert.equal(classifyArp(announcement(A, IP).arp), 'announcement');
    assert.equal(classifyArp(gratuitousReply(A, IP).arp), 'gratuitous-reply');
    assert.equal(classifyArp(request(A, IP).arp), 'request');
    assert.equal(classifyArp(reply(A, IP).arp), 'reply');
    assert.equal(classifyArp(arp('reply', A, '0.0.0.0', '0.0.0.0').arp), 'reply');
  });
});

describe('bindings', () => {
  test('first frame from an IP is a new station; repeats only update the binding', () => {
    const watch = tracker();
    assert.deepEqual(watch.observe(1000, request(A, IP)), [
      { type: 'new-station', at: 1000, vlan: null, ip: IP, mac: A, vendor: 'Vendor A' },
    ]);
    assert.deepEqual(watch.observe(1500, reply(A, IP)), []);
    assert.deepEqual(watch.bindings(), [{
      ip: IP, vlan: null, mac: A, vendor: 'Vendor A', firstSeen: 1000, lastSeen: 1500, macSince: 1000,
      count: 2, changes: 0, previousMacs: [],
    }]);
  });

  test('probes raise a probe event and never create a binding', () => {
    const watch = tracker();
    assert.deepEqual(watch.observe(10, probe(A, IP)), [{ type: 'probe', at: 10, vlan: null, targetIp: IP, mac: A }]);
    assert.deepEqual(watch.bindings(), []);
    assert.equal(watch.binding(IP), null);
    assert.equal(watch.stats().byKind.probe, 1);
  });

  test('a reply from 0.0.0.0 binds nothing', () => {
    const watch = tracker();
    assert.deepEqual(watch.observe(10, arp('reply', A, '0.0.0.0', IP)), []);
    assert.equal(watch.stats().bindings, 0);
  });

  test('a MAC never seen for the IP is a changed MAC; the old one goes to previousMacs', () => {
    const watch = tracker();
    watch.observe(1000, request(A, IP));
    watch.observe(2000, request(A, IP));
    assert.deepEqual(watch.observe(3000, request(B, IP)), [
      { type: 'changed-mac', at: 3000, vlan: null, ip: IP, oldMac: A, newMac: B },
    ]);
    const binding = watch.binding(IP);
    assert.ok(binding);
    assert.equal(binding.mac, B);
    assert.equal(binding.vendor, null, 'vendor follows the new MAC');
    assert.equal(binding.firstSeen, 1000);
    assert.equal(binding.macSince, 3000);
    assert.equal(binding.count, 3);
    assert.equal(binding.changes, 1);
    assert.deepEqual(binding.previousMacs, [{ mac: A, lastSeen: 2000 }]);
  });

  test(`previousMacs keeps the ${MAX_PREVIOUS_MACS} most recent distinct MACs`, () => {
    const watch = tracker();
    const macs = ['00:00:00:00:01:01', '00:00:00:00:01:02', '00:00:00:00:01:03', '00:00:00:00:01:04', '00:00:00:00:01:05', '00:00:00:00:01:06'];
    macs.forEach((mac, i) => watch.observe(i * 1000, request(mac, IP)));
    assert.deepEqual(watch.binding(IP)?.previousMacs.map((p) => p.mac), ['00:00:00:00:01:05', '00:00:00:00:01:04', '00:00:00:00:01:03', '00:00:00:00:01:02']);
  });

  test('flip-flop: back to a MAC last seen exactly flipFlopWindowMs ago is inside the window', () => {
    const watch = tracker({ flipFlopWindowMs: 60_000 });
    watch.observe(0, request(A, IP));
    watch.observe(1000, request(A, IP));
    assert.deepEqual(types(watch.observe(2000, request(B, IP))), ['changed-mac']);
    assert.deepEqual(watch.observe(61_000, request(A, IP)), [
      { type: 'flip-flop', at: 61_000, vlan: null, ip: IP, macs: [B, A] },
    ]);
  });

  test('flip-flop: one millisecond later it is just a changed MAC', () => {
    const watch = tracker({ flipFlopWindowMs: 60_000 });
    watch.observe(0, request(A, IP));
    watch.observe(1000, request(A, IP));
    watch.observe(2000, request(B, IP));
    assert.deepEqual(watch.observe(61_001, request(A, IP)), [
      { type: 'changed-mac', at: 61_001, vlan: null, ip: IP, oldMac: B, newMac: A },
    ]);
  });

  test('flip-flop is reported once per episode; a new episode after a quiet window is reported again', () => {
    const watch = tracker({ flipFlopWindowMs: 60_000 });
    watch.observe(0, request(A, IP));
    watch.observe(1000, request(B, IP));
    assert.deepEqual(types(watch.observe(2000, request(A, IP))), ['flip-flop']);
    assert.deepEqual(watch.observe(3000, request(B, IP)), [], 'same pair again within the window: folded');
    assert.deepEqual(watch.observe(4000, request(A, IP)), []);
    assert.deepEqual(types(watch.observe(5000, request(C, IP))), ['changed-mac'], 'a third MAC is news');
    assert.equal(watch.binding(IP)?.changes, 5, 'folded changes still move the binding');
    watch.observe(70_000, request(C, IP));
    watch.observe(70_000, request(A, IP)); // A last seen at 4000: a plain change
    assert.deepEqual(watch.observe(71_000, request(C, IP)), [
      { type: 'flip-flop', at: 71_000, vlan: null, ip: IP, macs: [A, C] },
    ]);
    watch.observe(72_000, request(A, IP));
    watch.observe(140_000, request(A, IP));
    assert.deepEqual(types(watch.observe(140_500, request(C, IP))), ['changed-mac'], 'C last seen 69 s ago');
    assert.deepEqual(types(watch.observe(141_000, request(A, IP))), ['flip-flop'], 'previous flip-flop was 69 s ago: a new episode');
  });

  test('duplicate address: two MACs replying exactly duplicateWindowMs apart', () => {
    const watch = tracker({ duplicateWindowMs: 5000 });
    watch.observe(0, reply(A, IP));
    assert.deepEqual(watch.observe(5000, reply(B, IP)), [
      { type: 'changed-mac', at: 5000, vlan: null, ip: IP, oldMac: A, newMac: B },
      { type: 'duplicate-address', at: 5000, vlan: null, ip: IP, macs: [A, B] },
    ]);
  });

  test('duplicate address: one millisecond outside the window is not', () => {
    const watch = tracker({ duplicateWindowMs: 5000 });
    watch.observe(0, reply(A, IP));
    assert.deepEqual(types(watch.observe(5001, reply(B, IP))), ['changed-mac']);
  });

  test('duplicate address counts replies and announcements, not plain requests', () => {
    const requests = tracker();
    requests.observe(0, request(A, IP));
    assert.deepEqual(types(requests.observe(10, request(B, IP))), ['changed-mac']);
    assert.deepEqual(types(requests.observe(20, reply(A, IP))), ['flip-flop'], 'one claimant so far');

    const announced = tracker();
    announced.observe(0, reply(A, IP));
    assert.deepEqual(types(announced.observe(10, announcement(B, IP))), ['changed-mac', 'duplicate-address', 'gratuitous']);
  });

  test('duplicate address is reported once while the two MACs keep answering', () => {
    const watch = tracker({ duplicateWindowMs: 5000 });
    watch.observe(0, reply(A, IP));
    assert.ok(types(watch.observe(1, reply(B, IP))).includes('duplicate-address'));
    for (let t = 1000; t <= 20_000; t += 1000) {
      assert.ok(!types(watch.observe(t, reply(A, IP))).includes('duplicate-address'));
      assert.ok(!types(watch.observe(t + 1, reply(B, IP))).includes('duplicate-address'));
    }
    assert.deepEqual(types(watch.observe(30_000, reply(A, IP))), [], 'B claimed 10 s ago: no duplicate');
    assert.deepEqual(types(watch.observe(31_000, reply(B, IP))), ['duplicate-address'], 'a new episode');
  });

  test('gratuitous ARP: announcement is form request, gratuitous reply is form reply; both bind', () => {
    const watch = tracker();
    assert.deepEqual(watch.observe(5, announcement(A, IP)), [
      { type: 'new-station', at: 5, vlan: null, ip: IP, mac: A, vendor: 'Vendor A' },
      { type: 'gratuitous', at: 5, vlan: null, ip: IP, mac: A, form: 'request' },
    ]);
    assert.deepEqual(watch.observe(6, gratuitousReply(A, IP)), [
      { type: 'gratuitous', at: 6, vlan: null, ip: IP, mac: A, form: 'reply' },
    ]);
    assert.equal(watch.binding(IP)?.count, 2);
  });

  test('the same IP on two VLANs is two bindings that never interfere', () => {
    const watch = tracker();
    assert.deepEqual(types(watch.observe(0, request(A, IP))), ['new-station']);
    assert.deepEqual(types(watch.observe(1, request(B, IP, 10))), ['new-station']);
    assert.deepEqual(types(watch.observe(2, request(A, IP))), []);
    assert.equal(watch.binding(IP)?.mac, A);
    assert.equal(watch.binding(IP, 10)?.mac, B);
    assert.equal(watch.binding(IP, 11), null);
  });

  test('time never runs backwards: a late timestamp counts as the latest seen', () => {
    const watch = tracker();
    watch.observe(1000, request(A, IP));
    assert.deepEqual(types(watch.observe(500, request(A, IP))), []);
    assert.equal(watch.binding(IP)?.lastSeen, 1000);
  });

  test('stats count frames by kind', () => {
    const watch = tracker();
    watch.observe(0, probe(A, IP));
    watch.observe(1, announcement(A, IP));
    watch.observe(2, gratuitousReply(A, IP));
    watch.observe(3, request(A, IP));
    watch.observe(4, reply(B, OTHER_IP));
    watch.observe(5, reply(B, OTHER_IP));
    assert.deepEqual(watch.stats(), {
      frames: 6, byKind: { probe: 1, announcement: 1, 'gratuitous-reply': 1, request: 1, reply: 2 },
      nd: { frames: 0, byKind: { 'dad-probe': 0, solicitation: 0, 'unsolicited-advertisement': 0, 'solicited-advertisement': 0 }, offLink: 0 },
      bindings: 2, evictions: 0, storming: false,
    });
  });
});

describe('conflicts with addresses this host holds', () => {
  test('another MAC using a held address as sender is a conflict, naming our MAC', () => {
    const watch = tracker({ ownMacs: [OURS], held: new Map([[IP, OURS]]) });
    assert.deepEqual(watch.observe(100, request(A, IP)), [
      { type: 'new-station', at: 100, vlan: null, ip: IP, mac: A, vendor: 'Vendor A' },
      { type: 'conflict', at: 100, vlan: null, ip: IP, ourMac: OURS, theirMac: A, frameKind: 'request' },
    ]);
    assert.deepEqual(watch.observe(200, gratuitousReply(A, IP)).at(-1),
      { type: 'conflict', at: 200, vlan: null, ip: IP, ourMac: OURS, theirMac: A, frameKind: 'gratuitous-reply' });
    assert.deepEqual(types(watch.observe(300, reply(A, OTHER_IP))), ['new-station'], 'not a held address');
  });

  test('own MACs never conflict, whatever the frame (MACs compared case-insensitively)', () => {
    const watch = tracker({ ownMacs: [OURS.toUpperCase()], held: [IP] });
    for (const frame of [request(OURS, IP), reply(OURS, IP), announcement(OURS, IP), gratuitousReply(OURS, IP)]) {
      assert.ok(!types(watch.observe(0, frame)).includes('conflict'));
    }
    assert.equal(watch.binding(IP)?.mac, OURS, 'own frames are still recorded');
  });

  test('ourMac is learned from the wire when setHeld gives only addresses', () => {
    const watch = tracker({ ownMacs: [OURS] });
    watch.observe(0, announcement(OURS, IP)); // seen before we hold it
    watch.setHeld([IP, OTHER_IP]);
    const first = watch.observe(10, reply(A, IP)).find((event) => event.type === 'conflict');
    assert.deepEqual(first, { type: 'conflict', at: 10, vlan: null, ip: IP, ourMac: OURS, theirMac: A, frameKind: 'reply' });
    const unknown = watch.observe(20, request(B, OTHER_IP)).find((event) => event.type === 'conflict');
    assert.equal(unknown?.type === 'conflict' && unknown.ourMac, null, 'never seen our MAC for it');
    watch.observe(30, announcement(OURS, OTHER_IP));
    const learned = watch.observe(40, request(B, OTHER_IP)).find((event) => event.type === 'conflict');
    assert.equal(learned?.type === 'conflict' && learned.ourMac, OURS);
  });

  test('setHeld replaces the held set; a probe (sender 0.0.0.0) is never a conflict', () => {
    const watch = tracker({ ownMacs: [OURS], held: [IP] });
    assert.ok(types(watch.observe(0, request(A, IP))).includes('conflict'));
    assert.deepEqual(types(watch.observe(1, probe(B, IP))), ['probe']);
    watch.setHeld([OTHER_IP]);
    assert.ok(!types(watch.observe(2, request(A, IP))).includes('conflict'));
    assert.ok(types(watch.observe(3, request(A, OTHER_IP))).includes('conflict'));
    watch.setHeld([]);
    assert.ok(!types(watch.observe(4, request(A, OTHER_IP))).includes('conflict'));
  });
});

describe('eviction', () => {
  test('at maxBindings the least recently seen binding goes, and is counted', () => {
    const watch = tracker({ maxBindings: 3 });
    watch.observe(0, request(A, '10.213.1.1'));
    watch.observe(1, request(A, '10.213.1.2'));
    watch.observe(2, request(A, '10.213.1.3'));
    watch.observe(3, request(A, '10.213.1.1')); // .1 is now more recent than .2
    watch.observe(4, request(A, '10.213.1.4'));
    assert.deepEqual(watch.bindings().map((b) => b.ip), ['10.213.1.4', '10.213.1.1', '10.213.1.3']);
    assert.equal(watch.stats().evictions, 1);
    assert.equal(watch.stats().bindings, 3);
    assert.deepEqual(types(watch.observe(5, request(A, '10.213.1.2'))), ['new-station'], 'an evicted station is new again');
    assert.deepEqual(watch.bindings().map((b) => b.ip), ['10.213.1.2', '10.213.1.4', '10.213.1.1']);
    assert.equal(watch.stats().evictions, 2);
  });

  test('eviction reaches tagged tables too', () => {
    const watch = tracker({ maxBindings: 1 });
    watch.observe(0, request(A, IP, 7));
    watch.observe(1, request(A, IP));
    assert.equal(watch.binding(IP, 7), null);
    assert.deepEqual(types(watch.observe(2, request(A, IP, 7))), ['new-station']);
  });
});

describe('ARP storm', () => {
  const burst = (watch: BindingTracker, times: number[]) => times.flatMap((t) => watch.observe(t, request(A, IP)).filter((e) => e.type.startsWith('storm')));

  test('starts when more than the threshold fall in the last second (window is (now-1000, now])', () => {
    const edge = tracker({ stormThresholdPerSec: 10 });
    assert.deepEqual(burst(edge, Array<number>(10).fill(0)), []);
    assert.deepEqual(burst(edge, [1000]), [], 'the ten frames at t=0 are exactly 1 s old: outside');

    const inside = tracker({ stormThresholdPerSec: 10 });
    assert.deepEqual(burst(inside, [...Array<number>(10).fill(0), 999]), [{ type: 'storm-start', at: 999, rate: 11 }]);
    assert.equal(inside.stats().storming, true);
  });

  test('one start and one end, with hysteresis between threshold and quiet level', () => {
    const watch = tracker({ stormThresholdPerSec: 10, stormQuietPerSec: 5 });
    const start = burst(watch, Array.from({ length: 11 }, (_, i) => i)); // 11 frames at t=0..10
    assert.deepEqual(start, [{ type: 'storm-start', at: 10, rate: 11 }]);
    // 150 ms apart is 7 frames/s: below the threshold but not quiet, so the storm goes on.
    assert.deepEqual(burst(watch, Array.from({ length: 20 }, (_, i) => 10 + 150 * (i + 1))), []);
    // 250 ms apart is 4 frames/s: it ends once the 150 ms frames have left the window.
    assert.deepEqual(burst(watch, [3260, 3510, 3760]), []);
    assert.deepEqual(burst(watch, [4010]), [{ type: 'storm-end', at: 4010, rate: 4, durationMs: 4000, frames: 25 }]);
    assert.deepEqual(burst(watch, Array.from({ length: 20 }, (_, i) => 4010 + 250 * (i + 1))), [], 'no new start at 4/s');
    assert.equal(watch.stats().storming, false);
  });

  test('tick ends a storm that stopped dead, at the exact quiet edge', () => {
    const watch = tracker({ stormThresholdPerSec: 10, stormQuietPerSec: 5 });
    burst(watch, Array.from({ length: 11 }, (_, i) => i));
    assert.deepEqual(watch.tick(500), []);
    assert.deepEqual(watch.tick(1005), [], 'frames at 6..10 are 5 in the window: not yet below 5');
    assert.deepEqual(watch.tick(1006), [{ type: 'storm-end', at: 1006, rate: 4, durationMs: 996, frames: 1 }]);
    assert.deepEqual(watch.tick(5000), [], 'ends once');
  });

  test('default threshold is 500 frames/s', () => {
    const watch = tracker();
    assert.deepEqual(burst(watch, Array<number>(500).fill(0)), []);
    assert.deepEqual(burst(watch, [0]), [{ type: 'storm-start', at: 0, rate: 501 }]);
  });

  test('storm-start comes before the frame\'s own events', () => {
    const watch = tracker({ stormThresholdPerSec: 1 });
    watch.observe(0, request(A, IP));
    assert.deepEqual(types(watch.observe(1, request(B, OTHER_IP))), ['storm-start', 'new-station']);
  });

  test('rejects a quiet level above the threshold', () => {
    assert.throws(() => new StormDetector(10, 11), RangeError);
    assert.throws(() => tracker({ stormThresholdPerSec: 0 }), RangeError);
    assert.throws(() => tracker({ maxBindings: 1.5 }), RangeError);
  });
});

describe('OUI vendor table', () => {
  test('withVendor: "MAC (Vendor)", the table\'s parenthesised names never doubled, nothing for no vendor', () => {
    assert.equal(withVendor('00:1b:21:00:00:01', 'Intel Corporate'), '00:1b:21:00:00:01 (Intel Corporate)');
    assert.equal(withVendor('02:66:00:00:00:01', LOCALLY_ADMINISTERED), '02:66:00:00:00:01 (locally administered)');
    assert.equal(withVendor('02:66:00:00:00:01', null), '02:66:00:00:00:01');
    assert.equal(withVendor('02:66:00:00:00:01', ''), '02:66:00:00:00:01');
  });

  // Compiled to build/test/unit/: the package root is three levels up.
  const shippedPath = resolve(__dirname, '..', '..', '..', 'resources', 'oui', 'oui.tsv');

  test('ships at the default path, sorted "AABBCC<TAB>Vendor" lines, under 2 MB', () => {
    assert.equal(DEFAULT_OUI_PATH, shippedPath);
    const text = readFileSync(shippedPath, 'utf8');
    assert.ok(text.length < 2_000_000, `${text.length} bytes`);
    const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    assert.ok(lines.length > 30_000, `${lines.length} entries`);
    for (const line of lines) assert.match(line, /^[0-9A-F]{6}\t\S.*\S$|^[0-9A-F]{6}\t\S$/);
    const keys = lines.map((line) => line.slice(0, 6));
    assert.deepEqual(keys, [...keys].sort(), 'sorted');
    assert.equal(new Set(keys).size, keys.length, 'one line per OUI');
  });

  test('well-known OUIs resolve to their registered names', () => {
    const oui = new OuiDirectory(shippedPath);
    assert.equal(oui.vendorOf('00:00:0c:12:34:56'), 'Cisco Systems, Inc');
    assert.equal(oui.vendorOf('00:50:56:ab:cd:ef'), 'VMware, Inc.');
    assert.equal(oui.vendorOf('00:03:93:00:00:01'), 'Apple, Inc.');
    assert.equal(oui.vendorOf('B8:27:EB:00:00:01'), 'Raspberry Pi Foundation', 'upper-case MAC too');
  });

  test('locally administered, multicast, unknown and malformed MACs', () => {
    const oui = new OuiDirectory(shippedPath);
    assert.equal(oui.vendorOf('52:54:00:12:34:56'), LOCALLY_ADMINISTERED, 'QEMU/KVM default prefix');
    assert.equal(oui.vendorOf('02:00:00:00:00:01'), LOCALLY_ADMINISTERED);
    assert.equal(oui.vendorOf('01:00:5e:00:00:01'), MULTICAST);
    assert.equal(oui.vendorOf('ff:ff:ff:ff:ff:ff'), MULTICAST, 'multicast wins over locally administered');
    assert.equal(oui.vendorOf('0c:0c:0c:00:00:01'), null, 'universal unicast OUI not in the registry');
    assert.equal(oui.vendorOf('zz:00:0c:00:00:01'), null);
    assert.equal(oui.vendorOf(''), null);
  });

  test('reads the table lazily and says where it looked when it is missing', () => {
    const missing = new OuiDirectory('/nonexistent/ipfo/oui.tsv'); // constructing does not read
    assert.equal(missing.vendorOf('01:00:5e:00:00:01'), MULTICAST, 'bit checks need no table');
    assert.throws(() => missing.vendorOf('00:00:0c:00:00:01'), /\/nonexistent\/ipfo\/oui\.tsv/);
  });

  test('ouiOf and parseOuiTable', () => {
    assert.equal(ouiOf('00:50:56:00:00:00'), 0x005056);
    assert.equal(ouiOf('AB:cd:EF:00:00:00'), 0xabcdef);
    const table = parseOuiTable('# comment\n00000C\tCisco\n\n005056\tVMware \n');
    assert.deepEqual([...table], [[0x00000c, 'Cisco'], [0x005056, 'VMware']]);
    assert.throws(() => parseOuiTable('00000C Cisco\n'), /bad OUI table line/);
  });

  test('the tracker names vendors from the packaged table', () => {
    const watch = new BindingTracker({ vendorOf: defaultOuiDirectory().vendorOf });
    assert.deepEqual(watch.observe(0, request(B, IP)), [{ type: 'new-station', at: 0, vlan: null, ip: IP, mac: B, vendor: 'VMware, Inc.' }]);
    assert.equal(watch.binding(IP)?.vendor, 'VMware, Inc.');
  });
});

describe('scripts/gen-oui', () => {
  test('parses RFC 4180 CSV: quoted commas, doubled quotes, line breaks in fields', () => {
    assert.deepEqual(parseCsv('a,"b, c","say ""hi""","two\nlines"\r\nx,,z\n'), [
      ['a', 'b, c', 'say "hi"', 'two\nlines'],
      ['x', '', 'z'],
    ]);
  });

  test('keeps MA-L rows, cleans names, merges re-issued assignments, sorts', () => {
    const csv = [
      'Registry,Assignment,Organization Name,Organization Address',
      'MA-L,F4BD9E,"Cisco Systems, Inc",80 West Tasman Drive',
      'MA-L,00000c,"Cisco Systems, Inc","170 WEST TASMAN DRIVE',
      'SAN JOSE CA"',
      'MA-M,00000D1,Not an MA-L,Somewhere',
      'MA-L,080030,ROYAL MELBOURNE INST OF TECH,GPO BOX',
      'MA-L,080030,CERN,GENEVE',
      'MA-L,ABCDEF,"Tabbed\tName  Ltd\t",Addr',
    ].join('\n');
    assert.deepEqual(ouiTsvLines(csv), [
      '00000C\tCisco Systems, Inc',
      '080030\tCERN / ROYAL MELBOURNE INST OF TECH',
      'ABCDEF\tTabbed Name Ltd',
      'F4BD9E\tCisco Systems, Inc',
    ]);
    assert.throws(() => ouiTsvLines('a,b,c\n'), /not an IEEE registry CSV/);
  });

});
