// The binding tracker fed IPv6 neighbour discovery: every frame is built with the nd builders, encoded
// and decoded again (what the ND capture hands over), then observed with a fake clock. The events must be
// those of ARP for the same facts; the table keys IPv6 by its RFC 5952 text beside the dotted quads.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArpFrame, Ipv4, Mac } from '../../main/arp/frame';
import { isCanonicalIpv6 } from '../../main/nd/addresses';
import { buildDadProbe, buildSolicitation, buildSolicitedAdvertisement, buildUnsolicitedAdvertisement } from '../../main/nd/builders';
import { decode, encode, NdCodecError } from '../../main/nd/codec';
import type { Ipv6, NdFrame } from '../../main/nd/frame';
import { BindingTracker, type BindingTrackerOptions } from '../../main/watch/bindings';
import type { WatchEvent } from '../../main/watch/events';
import { ndMeaning } from '../../main/watch/nd-meaning';
import { seededRandom } from '../seeded-random';

const A: Mac = '00:00:0c:00:00:0a';
const B: Mac = '00:50:56:00:00:0b';
const C: Mac = '00:03:93:00:00:0c';
const OURS: Mac = '02:00:5e:00:00:01';
const IP6: Ipv6 = '2001:db8:d5::a';
const OTHER6: Ipv6 = '2001:db8:d5::14';
const IP4: Ipv4 = '10.213.0.10';

/** Through the codec both ways: the tracker sees what a capture decodes, not what a builder made. */
function wire(frame: NdFrame): NdFrame {
  return decode(encode(frame));
}
const na = (mac: Mac, target: Ipv6): NdFrame => wire(buildUnsolicitedAdvertisement(mac, target));
const ns = (mac: Mac, from: Ipv6, target: Ipv6): NdFrame => wire(buildSolicitation(mac, from, target));
const dad = (mac: Mac, target: Ipv6): NdFrame => wire(buildDadProbe(mac, target));
/** The answer of `mac` to OURS asking for `target` from OTHER6. */
const solicitedNa = (mac: Mac, target: Ipv6): NdFrame => wire(buildSolicitedAdvertisement(mac, buildSolicitation(OURS, OTHER6, target)));
const withHopLimit = (frame: NdFrame, hopLimit: number): NdFrame => wire({ ...frame, ipv6: { ...frame.ipv6, hopLimit } });

function arpRequest(mac: Mac, ip: Ipv4): ArpFrame {
  return { dst: 'ff:ff:ff:ff:ff:ff', src: mac, vlan: null, arp: { op: 'request', senderMac: mac, senderIp: ip, targetMac: '00:00:00:00:00:00', targetIp: '10.213.0.1' } };
}

const fakeVendor = (mac: Mac) => (mac === A ? 'Vendor A' : null);
function tracker(options: Partial<BindingTrackerOptions> = {}): BindingTracker {
  return new BindingTracker({ vendorOf: fakeVendor, ...options });
}
const types = (events: readonly WatchEvent[]) => events.map((event) => event.type);

describe('what an ND frame says (RFC 4861)', () => {
  test('an advertisement binds its target to the target link-layer option, else the Ethernet source', () => {
    const spoofedSource = wire({ ...buildUnsolicitedAdvertisement(A, IP6), srcMac: B });
    assert.deepEqual(ndMeaning(spoofedSource), { kind: 'bind', frameKind: 'unsolicited-advertisement', ip: IP6, mac: A, claim: true, gratuitous: true });
    const bare = buildUnsolicitedAdvertisement(A, IP6);
    const noOption = wire({ ...bare, srcMac: B, icmp: { ...bare.icmp, targetLinkAddr: null } as NdFrame['icmp'] });
    assert.deepEqual(ndMeaning(noOption), { kind: 'bind', frameKind: 'unsolicited-advertisement', ip: IP6, mac: B, claim: true, gratuitous: true });
    assert.deepEqual(ndMeaning(solicitedNa(A, IP6)), { kind: 'bind', frameKind: 'solicited-advertisement', ip: IP6, mac: A, claim: true, gratuitous: false });
  });

  test('a solicitation binds its source (option, else Ethernet source) and says nothing of its target', () => {
    assert.deepEqual(ndMeaning(ns(A, OTHER6, IP6)), { kind: 'bind', frameKind: 'solicitation', ip: OTHER6, mac: A, claim: false, gratuitous: false });
    const bare = buildSolicitation(A, OTHER6, IP6);
    const noOption = wire({ ...bare, srcMac: B, icmp: { ...bare.icmp, sourceLinkAddr: null } as NdFrame['icmp'] });
    assert.equal((ndMeaning(noOption) as { mac: Mac }).mac, B);
  });

  test('a DAD solicitation is a probe by its Ethernet source; hop limit not 255 is off the link', () => {
    assert.deepEqual(ndMeaning(dad(A, IP6)), { kind: 'probe', target: IP6, mac: A });
    for (const hopLimit of [0, 1, 64, 254]) assert.deepEqual(ndMeaning(withHopLimit(na(A, IP6), hopLimit)), { kind: 'off-link' });
  });
});

describe('ND bindings and events', () => {
  test('a solicitation makes its asker a new station; the target stays unknown', () => {
    const watch = tracker();
    assert.deepEqual(watch.observeNd(1000, ns(A, OTHER6, IP6)), [{ type: 'new-station', at: 1000, vlan: null, ip: OTHER6, mac: A, vendor: 'Vendor A' }]);
    assert.equal(watch.binding(IP6), null);
    assert.deepEqual(watch.observeNd(1001, solicitedNa(B, IP6)), [{ type: 'new-station', at: 1001, vlan: null, ip: IP6, mac: B, vendor: null }]);
    assert.deepEqual(watch.bindings().map((b) => [b.ip, b.mac]), [[IP6, B], [OTHER6, A]]);
  });

  test('an unsolicited advertisement is gratuitous (form advertisement); a solicited one is not', () => {
    const watch = tracker();
    assert.deepEqual(watch.observeNd(5, na(A, IP6)), [
      { type: 'new-station', at: 5, vlan: null, ip: IP6, mac: A, vendor: 'Vendor A' },
      { type: 'gratuitous', at: 5, vlan: null, ip: IP6, mac: A, form: 'advertisement' },
    ]);
    assert.deepEqual(watch.observeNd(6, solicitedNa(A, IP6)), []);
  });

  test('a DAD probe raises probe and binds nothing', () => {
    const watch = tracker();
    assert.deepEqual(watch.observeNd(7, dad(A, IP6)), [{ type: 'probe', at: 7, vlan: null, targetIp: IP6, mac: A }]);
    assert.deepEqual(watch.bindings(), []);
  });

  test('changed MAC, then flip-flop back within the window, folded once', () => {
    const watch = tracker({ flipFlopWindowMs: 60_000, duplicateWindowMs: 50 });
    watch.observeNd(0, solicitedNa(A, IP6));
    assert.deepEqual(watch.observeNd(100, solicitedNa(B, IP6)), [{ type: 'changed-mac', at: 100, vlan: null, ip: IP6, oldMac: A, newMac: B }]);
    assert.deepEqual(types(watch.observeNd(10_000, solicitedNa(A, IP6))), ['flip-flop']);
    assert.deepEqual(watch.observeNd(10_001, solicitedNa(B, IP6)).filter((e) => e.type === 'flip-flop'), []);
    assert.equal(watch.binding(IP6)?.changes, 3);
  });

  test('two MACs advertising one address within the window: duplicate, once per episode', () => {
    const watch = tracker({ duplicateWindowMs: 5000 });
    watch.observeNd(0, solicitedNa(A, IP6));
    assert.deepEqual(watch.observeNd(1000, solicitedNa(B, IP6)), [
      { type: 'changed-mac', at: 1000, vlan: null, ip: IP6, oldMac: A, newMac: B },
      { type: 'duplicate-address', at: 1000, vlan: null, ip: IP6, macs: [A, B] },
    ]);
    assert.deepEqual(types(watch.observeNd(1500, solicitedNa(A, IP6))), ['flip-flop']);
    // Solicitations claim nothing: a solicitation from the address by C is a change, not a duplicate.
    assert.deepEqual(types(watch.observeNd(1600, ns(C, IP6, OTHER6))), ['changed-mac']);
  });

  test('the vendor comes from the lookup for the bound MAC (the option, not the Ethernet source)', () => {
    const watch = tracker();
    const [event] = watch.observeNd(1, wire({ ...buildUnsolicitedAdvertisement(A, IP6), srcMac: C }));
    assert.deepEqual(event, { type: 'new-station', at: 1, vlan: null, ip: IP6, mac: A, vendor: 'Vendor A' });
  });

  test('off-link frames count in the stats and the storm, and bind nothing', () => {
    const watch = tracker({ stormThresholdPerSec: 3 });
    for (let i = 0; i < 3; i++) assert.deepEqual(watch.observeNd(i, withHopLimit(na(A, IP6), 64)), []);
    assert.deepEqual(types(watch.observeNd(3, withHopLimit(dad(A, IP6), 1))), ['storm-start']);
    assert.deepEqual(watch.bindings(), []);
    assert.deepEqual(watch.stats().nd, { frames: 4, byKind: { 'dad-probe': 1, solicitation: 0, 'unsolicited-advertisement': 3, 'solicited-advertisement': 0 }, offLink: 4 });
    assert.equal(watch.stats().frames, 0, 'frames stays the ARP count');
  });

  test('ARP and ND share one storm: a mixed flood starts it, silence ends it', () => {
    const watch = tracker({ stormThresholdPerSec: 4, stormQuietPerSec: 2 });
    const events: WatchEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(...(i % 2 === 0 ? watch.observe(i, arpRequest(A, IP4)) : watch.observeNd(i, ns(A, IP6, OTHER6))));
    assert.deepEqual(types(events).filter((t) => t.startsWith('storm')), ['storm-start']);
    assert.deepEqual(types(watch.tick(5000)), ['storm-end']);
  });

  test('VLANs are separate tables for ND too', () => {
    const watch = tracker();
    const tagged = wire({ ...buildUnsolicitedAdvertisement(B, IP6), vlan: 7 });
    watch.observeNd(0, na(A, IP6));
    assert.deepEqual(types(watch.observeNd(1, tagged)), ['new-station', 'gratuitous']);
    assert.equal(watch.binding(IP6)?.mac, A);
    assert.equal(watch.binding(IP6, 7)?.mac, B);
  });

  test('time never runs backwards', () => {
    const watch = tracker();
    watch.observeNd(1000, na(A, IP6));
    assert.deepEqual(watch.observeNd(10, na(B, IP6))[0], { type: 'changed-mac', at: 1000, vlan: null, ip: IP6, oldMac: A, newMac: B });
  });
});

describe('ND conflicts with held addresses', () => {
  const LONG = '2001:0DB8:00D5:0000:0000:0000:0000:000A'; // IP6 in another spelling

  test('another MAC advertising a held address is a conflict naming the ND kind and our MAC', () => {
    const watch = tracker({ ownMacs: [OURS], held: new Map([[LONG, OURS]]) });
    assert.deepEqual(watch.observeNd(10, na(A, IP6)), [
      { type: 'new-station', at: 10, vlan: null, ip: IP6, mac: A, vendor: 'Vendor A' },
      { type: 'gratuitous', at: 10, vlan: null, ip: IP6, mac: A, form: 'advertisement' },
      { type: 'conflict', at: 10, vlan: null, ip: IP6, ourMac: OURS, theirMac: A, frameKind: 'unsolicited-advertisement' },
    ]);
    assert.deepEqual(watch.observeNd(11, solicitedNa(A, IP6)), [
      { type: 'conflict', at: 11, vlan: null, ip: IP6, ourMac: OURS, theirMac: A, frameKind: 'solicited-advertisement' },
    ]);
  });

  test('a solicitation from a held address by another MAC is a conflict; our own frames and DAD probes are not', () => {
    const watch = tracker({ ownMacs: [OURS], held: [IP6] });
    assert.deepEqual(watch.observeNd(0, ns(OURS, IP6, OTHER6)), [{ type: 'new-station', at: 0, vlan: null, ip: IP6, mac: OURS, vendor: null }]);
    assert.deepEqual(watch.observeNd(1, na(OURS, IP6)), [{ type: 'gratuitous', at: 1, vlan: null, ip: IP6, mac: OURS, form: 'advertisement' }]);
    assert.deepEqual(watch.observeNd(2, dad(B, IP6)), [{ type: 'probe', at: 2, vlan: null, targetIp: IP6, mac: B }]);
    assert.deepEqual(watch.observeNd(3, ns(B, IP6, OTHER6)), [
      { type: 'changed-mac', at: 3, vlan: null, ip: IP6, oldMac: OURS, newMac: B },
      { type: 'conflict', at: 3, vlan: null, ip: IP6, ourMac: OURS, theirMac: B, frameKind: 'solicitation' },
    ]);
  });

  test('an off-link advertisement of a held address is no conflict (every host drops it)', () => {
    const watch = tracker({ ownMacs: [OURS], held: [IP6] });
    assert.deepEqual(watch.observeNd(0, withHopLimit(na(A, IP6), 254)), []);
  });

  test('setHeld later, in any spelling, marks an existing ND binding', () => {
    const watch = tracker({ ownMacs: [OURS] });
    watch.observeNd(0, na(OURS, IP6));
    watch.setHeld(new Map([[LONG.toLowerCase(), OURS]]));
    assert.deepEqual(types(watch.observeNd(1, na(A, IP6))), ['changed-mac', 'duplicate-address', 'gratuitous', 'conflict']);
    assert.equal(watch.binding(LONG)?.mac, A, 'binding() takes any spelling');
  });
});

describe('ARP and ND together', () => {
  test('one MAC with an IPv4 and an IPv6 address: two bindings, each with its own history', () => {
    const watch = tracker();
    assert.deepEqual(types(watch.observe(0, arpRequest(A, IP4))), ['new-station']);
    assert.deepEqual(types(watch.observeNd(1, ns(A, IP6, OTHER6))), ['new-station']);
    assert.deepEqual(types(watch.observeNd(2, na(B, IP6))), ['changed-mac', 'gratuitous']);
    assert.equal(watch.binding(IP4)?.mac, A, 'the IPv4 binding is untouched by ND');
    assert.equal(watch.binding(IP6)?.mac, B);
    assert.deepEqual(watch.observe(3, arpRequest(A, IP4)), []);
    assert.equal(watch.stats().bindings, 2);
    assert.equal(watch.stats().frames, 2);
    assert.equal(watch.stats().nd.frames, 2);
  });

  test('an IPv4-mapped IPv6 target never lands on the IPv4 binding of the same address', () => {
    const watch = tracker({ ownMacs: [OURS], held: new Map([[IP4, OURS]]) });
    watch.observe(0, arpRequest(OURS, IP4));
    const mapped = na(A, `::ffff:${IP4}`);
    const events = watch.observeNd(1, mapped);
    assert.deepEqual(types(events), ['new-station', 'gratuitous']);
    assert.equal(watch.binding(IP4)?.mac, OURS);
    assert.ok(!events.some((e) => e.type === 'conflict'));
  });

  test('the table bound holds across both: an ND flood evicts the least recently seen, ARP or not', () => {
    const watch = tracker({ maxBindings: 3 });
    watch.observe(0, arpRequest(A, IP4));
    for (let i = 1; i <= 5; i++) watch.observeNd(i, na(B, `2001:db8:d5::${i.toString(16)}`));
    assert.equal(watch.stats().bindings, 3);
    assert.equal(watch.stats().evictions, 3);
    assert.equal(watch.binding(IP4), null);
    assert.deepEqual(watch.bindings().map((b) => b.ip), ['2001:db8:d5::5', '2001:db8:d5::4', '2001:db8:d5::3']);
  });
});

describe('hostile ND frames', () => {
  test('an advertisement for :: binds nothing', () => {
    const watch = tracker();
    const bare = buildUnsolicitedAdvertisement(A, IP6);
    const unspecified = wire({ ...bare, ipv6: { ...bare.ipv6, src: OTHER6 }, icmp: { ...bare.icmp, target: '::' } });
    assert.deepEqual(watch.observeNd(0, unspecified), []);
    assert.deepEqual(watch.bindings(), []);
  });

  test('broken bytes never reach the tracker as frames: the codec refuses them', () => {
    const bytes = encode(buildUnsolicitedAdvertisement(A, IP6));
    const last = bytes.length - 1;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 0xff, last); // inside the option: the checksum no longer matches
    assert.throws(() => decode(bytes), (error: unknown) => error instanceof NdCodecError && error.code === 'BAD_CHECKSUM');
  });

  test('fuzz: random valid frames (spoofed options, flags, hop limits, VLANs, v4-mapped and link-local targets) never throw and keep the invariants', () => {
    const random = seededRandom(18);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const macs = [A, B, C, OURS, 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '33:33:00:00:00:01'];
    const ips = [IP6, OTHER6, 'fe80::1', 'fe80::2:3', `::ffff:${IP4}`, '2001:db8::', '::1'];
    const watch = tracker({ ownMacs: [OURS], held: [IP6, 'fe80::1'], maxBindings: 4, stormThresholdPerSec: 20 });
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      now += Math.floor(random() * 50);
      const mac = pick(macs);
      const form = pick(['na', 'sna', 'ns', 'dad'] as const);
      let frame =
        form === 'na' ? buildUnsolicitedAdvertisement(mac, pick(ips))
        : form === 'sna' ? buildSolicitedAdvertisement(mac, buildSolicitation(pick(macs), pick(ips), pick(ips)))
        : form === 'ns' ? buildSolicitation(mac, pick(ips), pick(ips))
        : buildDadProbe(mac, pick(ips));
      frame = { ...frame, srcMac: pick(macs), vlan: random() < 0.2 ? Math.floor(random() * 4096) : null, ipv6: { ...frame.ipv6, hopLimit: random() < 0.2 ? Math.floor(random() * 256) : 255 } };
      if (frame.icmp.type === 'na' && random() < 0.3) frame = { ...frame, icmp: { ...frame.icmp, targetLinkAddr: null } };
      const events = watch.observeNd(now, wire(frame));
      const onLink = frame.ipv6.hopLimit === 255;
      for (const event of events) {
        if (event.type === 'storm-start' || event.type === 'storm-end') continue;
        assert.ok(onLink, `an off-link frame made ${event.type}`);
        const ip = event.type === 'probe' ? event.targetIp : event.ip;
        assert.ok(isCanonicalIpv6(ip), `${event.type} names ${ip}`);
        assert.ok(ip !== '::');
        if (event.type === 'conflict') assert.notEqual(event.theirMac, OURS);
      }
      assert.ok(watch.stats().bindings <= 4);
    }
    assert.equal(watch.stats().nd.frames, 3000);
  });
});
