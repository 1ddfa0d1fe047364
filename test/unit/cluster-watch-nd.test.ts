// The agent's passive watch over IPv6 neighbour discovery (main/agent/arp-watch.ts observeNd): ND frames,
// built by main/nd/builders.ts and passed through the codec, go into the same binding tracker and the same
// reading as ARP. A foreign MAC advertising an IPv6 resource's address is an `arp.conflict` with its MAC
// and vendor, recorded by the node the rules name (the holder's claim otherwise); the new owner's
// unsolicited advertisements after a move are an expected handoff, not a conflict; the binding table and
// the audit entries it writes pass the store's record checks. Also: the frame tap reads IPv6 frames, the
// straggler's unicast advertisement, and a takeover's stations of the address's family and prefix.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ClusterArpWatch } from '../../main/agent/arp-watch';
import { ClusterView } from '../../main/agent/cluster-view';
import type { ResourceSpec } from '../../main/cluster/model';
import { validateResourceSpec } from '../../main/cluster/validate';
import { buildSolicitation, buildUnicastAdvertisement, buildUnsolicitedAdvertisement } from '../../main/nd/builders';
import { decode, encode, NdCodecError } from '../../main/nd/codec';
import type { Mac, NdFrame } from '../../main/nd/frame';
import { parseTapped } from '../../main/net/frame-tap';
import { checkRecord } from '../../main/store/record-check';
import type { AuditRecord, BindingsRecord } from '../../main/store/store';
import { describeTakeoverConvergence, stationsToTell } from '../../main/watch/takeover-convergence';
import { nodeRecord } from '../fixtures/records';

const VIP6 = '2001:db8:d5::50';
const STATION6 = '2001:db8:d5::31';
const N1: Mac = '02:00:00:00:00:01';
const N2: Mac = '02:00:00:00:00:02';
const N3: Mac = '02:00:00:00:00:03';
const ROGUE: Mac = '00:1b:21:aa:bb:cc';
const CLIENT: Mac = '02:00:00:00:00:31';
const MACS: Record<string, Mac> = { n1: N1, n2: N2, n3: N3 };

const wire = (frame: NdFrame): NdFrame => decode(encode(frame));
const na = (mac: Mac, target: string): NdFrame => wire(buildUnsolicitedAdvertisement(mac, target));
/** An advertisement sent to one node only (a rogue that answers that node's questions). */
const naTo = (mac: Mac, target: string, to: Mac): NdFrame => wire({ ...buildUnsolicitedAdvertisement(mac, target), dstMac: to });

function spec(name: string, ip: string): ResourceSpec {
  const validation = validateResourceSpec({ name, ip, preferredOwners: ['n1', 'n2', 'n3'] }, { nodes: ['n1', 'n2', 'n3'], existing: [] });
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.spec;
}

/** Three live nodes, `web6` (VIP6/64) held by `owner`. */
function view(owner: string | null): ClusterView {
  const v = new ClusterView();
  for (const name of ['n1', 'n2', 'n3']) {
    v.nodes.set(name, nodeRecord(name, { lan0: MACS[name]! }));
    v.members.set(name, { leaseId: `lease-${name}`, joinedAt: 1 });
  }
  v.resources.set('web6', spec('web6', `${VIP6}/64`));
  if (owner !== null) v.owners.set('web6', { node: owner, leaseId: `lease-${owner}` });
  return v;
}

const opened: ClusterArpWatch[] = [];
afterEach(() => {
  for (const watch of opened.splice(0)) watch.close();
});

/** The watch of node `node` over `cluster`, its audit entries and saved tables collected. */
function watchOf(node: string, cluster: { view: ClusterView }) {
  const audit: AuditRecord[] = [];
  const saved: BindingsRecord[] = [];
  const watch = new ClusterArpWatch({
    node,
    view: () => cluster.view,
    ownMacs: () => [MACS[node]!],
    append: (record) => Promise.resolve(void audit.push(record)),
    saveBindings: (record) => Promise.resolve(void saved.push(record)),
    log: () => undefined,
    vendorOf: (mac) => (mac === ROGUE ? 'Intel Corporate' : null),
  });
  opened.push(watch);
  return { watch, audit, saved };
}

/** What the store would read back of an audit entry: `null` when its check passes, else why not. */
function storeRefusal(record: AuditRecord): string | null {
  const check = checkRecord('audit', '0000000000000001', { ...record, seq: 1 });
  return check.ok ? null : check.reason;
}

describe('ClusterArpWatch over neighbour discovery', () => {
  test('a foreign MAC advertising an IPv6 resource\'s address to a standby only is that standby\'s conflict, with MAC and vendor', () => {
    const { watch, audit } = watchOf('n2', { view: view('n1') });
    watch.observeNd('lan0', naTo(ROGUE, VIP6, N2), 1000);
    assert.equal(audit.length, 1);
    const [entry] = audit;
    assert.equal(entry!.action, 'arp.conflict');
    assert.equal(entry!.target, 'web6');
    assert.match(entry!.detail ?? '', new RegExp(`^conflict on ${VIP6}: ${ROGUE} \\(Intel Corporate\\) claims it`));
    assert.equal(entry!.arp?.kind, 'conflict');
    if (entry!.arp?.kind !== 'conflict') return;
    assert.equal(entry!.arp.conflict.address, VIP6);
    assert.equal(entry!.arp.conflict.theirMac, ROGUE);
    assert.equal(entry!.arp.conflict.theirVendor, 'Intel Corporate');
    assert.equal(entry!.arp.conflict.node, 'n2');
    assert.equal(storeRefusal(entry!), null);
  });

  test('an advertisement to all nodes while the holder is live is the holder\'s to record (its claim sees it)', () => {
    const { watch, audit } = watchOf('n2', { view: view('n1') });
    watch.observeNd('lan0', na(ROGUE, VIP6), 1000);
    assert.deepEqual(audit, []);
  });

  test('without a live holder the first live node by name records it; the others do not', () => {
    const cluster = { view: view(null) };
    const n1 = watchOf('n1', cluster);
    const n2 = watchOf('n2', cluster);
    for (const w of [n1, n2]) w.watch.observeNd('lan0', na(ROGUE, VIP6), 1000);
    assert.deepEqual(n1.audit.map((r) => r.action), ['arp.conflict']);
    assert.deepEqual(n2.audit, []);
  });

  test('a foreign MAC using the address as its source (a solicitation from it) is a conflict too', () => {
    const { watch, audit } = watchOf('n1', { view: view(null) });
    watch.observeNd('lan0', wire(buildSolicitation(ROGUE, VIP6, STATION6)), 1000);
    assert.deepEqual(audit.map((r) => r.action), ['arp.conflict']);
  });

  test('the new owner\'s unsolicited advertisements after a move are an expected handoff, not a conflict', () => {
    const cluster = { view: view('n1') };
    const { watch, audit } = watchOf('n3', cluster);
    watch.observeNd('lan0', na(N1, VIP6), 1000);
    cluster.view = view('n2');
    watch.viewReplaced();
    watch.observeNd('lan0', na(N2, VIP6), 2000);
    watch.observeNd('lan0', na(N2, VIP6), 2001);
    assert.deepEqual(audit.map((r) => r.action), ['arp.handoff']);
    const [entry] = audit;
    assert.deepEqual(entry!.arp, { kind: 'handoff', ip: VIP6, fromMac: N1, toMac: N2, fromNode: 'n1', toNode: 'n2' });
    assert.equal(storeRefusal(entry!), null);
  });

  test('a node\'s advertisement before the store names it is held back, and is a handoff once the store agrees', () => {
    const cluster = { view: view('n1') };
    const { watch, audit } = watchOf('n3', cluster);
    watch.observeNd('lan0', na(N1, VIP6), 1000);
    watch.observeNd('lan0', na(N2, VIP6), 1100); // overtook the store's news
    assert.equal(audit.length, 0);
    cluster.view.owners.set('web6', { node: 'n2', leaseId: 'lease-n2' });
    watch.viewChanged({ collection: 'owners', kind: 'put', name: 'web6', value: { node: 'n2', leaseId: 'lease-n2' }, revision: 2 });
    assert.deepEqual(audit.map((r) => r.action), ['arp.handoff']);
  });

  test('the binding table holds the IPv6 stations beside the IPv4 ones, and the store takes it as saved', () => {
    const { watch } = watchOf('n2', { view: view('n1') });
    watch.observeNd('lan0', na(N1, VIP6), 1000);
    watch.observeNd('lan0', wire(buildSolicitation(CLIENT, STATION6, VIP6)), 1001);
    watch.observeNd('lan0', wire(buildSolicitation(CLIENT, 'fe80::31', VIP6)), 1002);
    watch.observe('lan0', { dst: 'ff:ff:ff:ff:ff:ff', src: CLIENT, vlan: null, arp: { op: 'request', senderMac: CLIENT, senderIp: '10.0.0.31', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.50' } }, 1003);
    const record = watch.bindingsRecord(2000);
    assert.deepEqual(record.bindings.map((b) => [b.ip, b.mac]).sort(), [
      ['10.0.0.31', CLIENT],
      [STATION6, CLIENT],
      [VIP6, N1],
      ['fe80::31', CLIENT],
    ].sort());
    assert.deepEqual(checkRecord('bindings', 'n2', record), { ok: true, value: record });
  });

  test('the store still refuses a binding or an entry whose address is not in its one stored spelling', () => {
    const binding = { ip: '2001:DB8:D5:0::31', vlan: null, mac: CLIENT, vendor: null, firstSeen: 1, lastSeen: 2, count: 1, changes: 0 };
    assert.equal(checkRecord('bindings', 'n2', { node: 'n2', at: 2, bindings: [binding] }).ok, false);
    assert.equal(checkRecord('bindings', 'n2', { node: 'n2', at: 2, bindings: [{ ...binding, ip: 'not an address' }] }).ok, false);
    const handoff: AuditRecord = { at: 1, actor: 'n3', action: 'arp.handoff', target: 'web6', outcome: 'ok', detail: null, handoffMs: null, arp: { kind: 'handoff', ip: '2001:db8:d5:0::50', fromMac: N1, toMac: N2, fromNode: 'n1', toNode: 'n2' } };
    assert.notEqual(storeRefusal(handoff), null);
    assert.equal(storeRefusal({ ...handoff, arp: { kind: 'convergence', ip: VIP6, stations: 1, converged: [CLIENT], stale: [], afterMs: 10 } }), null);
  });
});

describe('the frame tap reads IPv6', () => {
  const frame = (vlan: boolean): Buffer => {
    const eth = Buffer.from([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 0x31]);
    const tag = vlan ? Buffer.from([0x81, 0x00, 0x00, 0x05]) : Buffer.alloc(0);
    const ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.set([0x20, 0x01, 0x0d, 0xb8, 0x00, 0xd5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x31], 8);
    ip.set([0x20, 0x01, 0x0d, 0xb8, 0x00, 0xd5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50], 24);
    return Buffer.concat([eth, tag, Buffer.from([0x86, 0xdd]), ip]);
  };

  test('Ethernet source and IPv6 source and destination in RFC 5952 form, tagged or not', () => {
    for (const vlan of [false, true]) {
      const buf = frame(vlan);
      assert.deepEqual(parseTapped(buf, buf.length), { srcMac: CLIENT, srcIp: STATION6, dstIp: VIP6 });
    }
  });

  test('cut short anywhere, or not version 6: null', () => {
    const buf = frame(false);
    for (let length = 0; length < buf.length; length++) assert.equal(parseTapped(buf, length), null, `length ${length}`);
    const v4 = Buffer.from(buf);
    v4[14] = 0x45;
    assert.equal(parseTapped(v4, v4.length), null);
  });
});

describe('buildUnicastAdvertisement', () => {
  test('unicast to the straggler, from the address, override set, solicited clear, the new MAC in the option', () => {
    const frame = buildUnicastAdvertisement({ ownMac: '02:00:00:00:00:0A', target: '2001:DB8:D5:0::50', targetMac: N2, toMac: CLIENT, toIp: STATION6 });
    assert.deepEqual(frame, {
      dstMac: CLIENT,
      srcMac: '02:00:00:00:00:0a',
      vlan: null,
      ipv6: { src: VIP6, dst: STATION6, hopLimit: 255 },
      icmp: { type: 'na', target: VIP6, router: false, solicited: false, override: true, targetLinkAddr: N2 },
    });
    assert.deepEqual(decode(encode(frame)), frame);
  });

  test('a bad argument is named', () => {
    assert.throws(() => buildUnicastAdvertisement({ ownMac: N1, target: VIP6, targetMac: 'nope', toMac: CLIENT, toIp: STATION6 }), (error: unknown) => error instanceof NdCodecError && /targetMac/.test(error.message));
    assert.throws(() => buildUnicastAdvertisement({ ownMac: N1, target: VIP6, targetMac: N2, toMac: CLIENT, toIp: '10.0.0.31' }), (error: unknown) => error instanceof NdCodecError && /toIp/.test(error.message));
  });
});

describe('stationsToTell after an IPv4 takeover', () => {
  test('leaves out the IPv6 entries the ND watch put in the binding tables', () => {
    const bindings = [
      { ip: '10.0.0.31', mac: CLIENT, vendor: null, lastSeen: 1 },
      { ip: STATION6, mac: '02:00:00:00:00:32', vendor: null, lastSeen: 2 },
      { ip: 'fe80::33', mac: '02:00:00:00:00:33', vendor: null, lastSeen: 3 },
    ];
    assert.deepEqual(stationsToTell([{ bindings }], '10.0.0.50', 24, new Set()).map((s) => s.mac), [CLIENT]);
  });
});

describe('stationsToTell after an IPv6 takeover', () => {
  test('the IPv6 stations of the address\'s prefix only: not link-local, not IPv4, not another prefix, not the cluster\'s, not the address itself', () => {
    const bindings = [
      { ip: STATION6, mac: CLIENT, vendor: null, lastSeen: 5 },
      { ip: 'fe80::31', mac: CLIENT, vendor: null, lastSeen: 9 },
      { ip: '2001:db8:d5::32', mac: '02:00:00:00:00:32', vendor: 'Acme', lastSeen: 6 },
      { ip: '2001:db8:d6::33', mac: '02:00:00:00:00:33', vendor: null, lastSeen: 7 },
      { ip: '10.0.0.34', mac: '02:00:00:00:00:34', vendor: null, lastSeen: 8 },
      { ip: VIP6, mac: N1, vendor: null, lastSeen: 9 },
      { ip: '2001:db8:d5::2', mac: N2, vendor: null, lastSeen: 9 },
    ];
    assert.deepEqual(stationsToTell([{ bindings }], VIP6, 64, new Set([N1, N2])), [
      { mac: '02:00:00:00:00:32', ip: '2001:db8:d5::32', vendor: 'Acme' },
      { mac: CLIENT, ip: STATION6, vendor: null },
    ]);
    // A prefix that is not a whole number of bytes: /60 holds 2001:db8:d5:f::/64 too, /68 not ::1000:0:0:1.
    const odd = [{ ip: '2001:db8:d5:f::1', mac: '02:00:00:00:00:41', vendor: null, lastSeen: 1 }, { ip: '2001:db8:d5:0:1000::1', mac: '02:00:00:00:00:42', vendor: null, lastSeen: 2 }];
    assert.deepEqual(stationsToTell([{ bindings: odd }], VIP6, 60, new Set()).map((s) => s.mac), ['02:00:00:00:00:42', '02:00:00:00:00:41']);
    assert.deepEqual(stationsToTell([{ bindings: odd }], VIP6, 68, new Set()).map((s) => s.mac), []);
    assert.deepEqual(stationsToTell([{ bindings }], VIP6, 128, new Set()), []);
  });

  test('the takeover\'s record names the advertisement', () => {
    const report = { ip: VIP6, from: 'n1', told: [{ mac: CLIENT, ip: STATION6, vendor: null }], seen: [], unheard: [CLIENT], afterMs: null, reason: 'window-ended' as const };
    assert.equal(describeTakeoverConvergence(report), `after the takeover from n1: told 1 station the new MAC of ${VIP6} by unicast neighbour advertisement; seen using it: none; not heard from since: ${CLIENT} (${STATION6}) (idle, or a cache that ignores unsolicited advertisements)`);
  });
});
