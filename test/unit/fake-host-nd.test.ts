// The fake LAN's neighbour discovery (fake-host.ts FakeNdPort, FakeHost.hearNd): it is test
// infrastructure, but the agents' IPv6 tests are only as true as it is. Who hears what (all-nodes,
// solicited-node groups joined by the kernel or by a socket, unicast), what the "kernel" of a holder
// answers and with which fields (as Linux's ndisc_recv_ns), a down interface, a closed socket.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseInterface } from '../../main/agent/interface-choice';
import { solicitedNodeAddress, solicitedNodeMac } from '../../main/nd/addresses';
import { buildDadProbe, buildDadQuestion, buildSolicitation, buildUnsolicitedAdvertisement } from '../../main/nd/builders';
import { encode, type NdCodecError } from '../../main/nd/codec';
import { ALL_NODES_IPV6, ALL_NODES_MAC, type NdFrame } from '../../main/nd/frame';
import type { PacketIoError } from '../../main/net/pcap';
import { FakeLan, linkLocalOf, type FakeHost, type FakeNdPort } from './fake-host';

const VIP = '2001:db8:10::50';
/** Another address in VIP's solicited-node group (the same last 24 bits). */
const VIP_GROUP_MATE = '2001:db8:99::50';
const MAC = { n1: '02:66:00:00:00:01', n2: '02:66:00:00:00:02', n3: '02:66:00:00:00:03' } as const;
const STATION6 = { n1: '2001:db8:10::1', n2: '2001:db8:10::2', n3: '2001:db8:10::3' } as const;

/** Enough event-loop turns for a frame, the kernel's answer and its delivery. */
async function turns(n = 6): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function lanOf3(): { lan: FakeLan; n1: FakeHost; n2: FakeHost; n3: FakeHost } {
  const lan = new FakeLan();
  const n1 = lan.host('n1', '10.66.0.1', MAC.n1);
  const n2 = lan.host('n2', '10.66.0.2', MAC.n2);
  const n3 = lan.host('n3', '10.66.0.3', MAC.n3);
  n1.addStation6(STATION6.n1, 64);
  n2.addStation6(STATION6.n2, 64);
  n3.addStation6(STATION6.n3, 64);
  return { lan, n1, n2, n3 };
}

function hold(host: FakeHost, ip: string): void {
  const [result] = host.addresses.register([{ ifname: 'lan0', ip, prefix: 64 }]);
  assert.equal(result?.ok, true, JSON.stringify(result));
}

/** Every frame a port hears from now on. */
function recorder(port: FakeNdPort): NdFrame[] {
  const heard: NdFrame[] = [];
  port.on('frame', ({ frame }) => heard.push(frame));
  return heard;
}

const advertisements = (frames: NdFrame[]): NdFrame[] => frames.filter((f) => f.icmp.type === 'na');

describe('the fake LAN carries neighbour discovery', () => {
  test("a DAD question is answered by the holder's kernel only: an advertisement to all nodes, override set, solicited clear, its MAC, hop limit 255", async () => {
    const { lan, n1, n3 } = lanOf3();
    hold(n1, VIP);
    const asker = n3.openNd('lan0');
    const heard = recorder(asker);
    const question = buildDadQuestion(MAC.n3, VIP);
    asker.send(question);
    await turns();
    const answers = advertisements(heard);
    assert.equal(answers.length, 1, JSON.stringify(heard));
    assert.deepEqual(answers[0], {
      dstMac: ALL_NODES_MAC,
      srcMac: MAC.n1,
      vlan: null,
      ipv6: { src: VIP, dst: ALL_NODES_IPV6, hopLimit: 255 },
      icmp: { type: 'na', target: VIP, router: false, solicited: false, override: true, targetLinkAddr: MAC.n1 },
    });
    // The question went on the wire with its nonce, and nobody but n1 answered.
    assert.deepEqual(lan.ndWire.map((w) => [w.from, w.frame.icmp.type]), [['n3', 'ns'], ['n1', 'na']]);
    assert.equal(lan.ndWire[0]!.frame.icmp.type === 'ns' && lan.ndWire[0]!.frame.icmp.question, true);
    // The asker heard its own question too (a capture hears what its host sends).
    assert.deepEqual(heard[0], question);
  });

  test('a plain DAD probe is answered the same; an address registered in another spelling is held, listed and answered in RFC 5952 text', async () => {
    const { lan, n1, n2 } = lanOf3();
    hold(n1, '2001:DB8:10:0:0:0:0:50');
    assert.deepEqual(n1.held(), [VIP]);
    assert.ok(n1.addresses.listOwned('lan0').some((a) => a.ip === VIP && a.owned));
    const asker = n2.openNd('lan0');
    const heard = recorder(asker);
    asker.send(buildDadProbe(MAC.n2, VIP));
    await turns();
    assert.deepEqual(advertisements(heard).map((f) => [f.srcMac, f.ipv6.dst, f.icmp.target]), [[MAC.n1, ALL_NODES_IPV6, VIP]]);
    // Deregistered in yet another spelling: gone, and no one answers any more.
    n1.addresses.deregister([{ ifname: 'lan0', ip: '2001:db8:10::0050', prefix: 64 }]);
    assert.deepEqual(n1.held(), []);
    asker.send(buildDadProbe(MAC.n2, VIP));
    await turns();
    assert.equal(advertisements(heard).length, 1);
    assert.equal(lan.ndWire.filter((w) => w.frame.icmp.type === 'na').length, 1);
  });

  test('a solicitation from an address gets a solicited advertisement unicast to the asker; a unicast one (a reachability check) gets neither override nor option', async () => {
    const { n1, n2, n3 } = lanOf3();
    hold(n1, VIP);
    const asker = n3.openNd('lan0');
    const bystander = n2.openNd('lan0');
    const heard = recorder(asker);
    const heardByBystander = recorder(bystander);
    asker.send(buildSolicitation(MAC.n3, STATION6.n3, VIP));
    await turns();
    assert.deepEqual(advertisements(heard), [{
      dstMac: MAC.n3,
      srcMac: MAC.n1,
      vlan: null,
      ipv6: { src: VIP, dst: STATION6.n3, hopLimit: 255 },
      icmp: { type: 'na', target: VIP, router: false, solicited: true, override: true, targetLinkAddr: MAC.n1 },
    }]);
    // n2 joined neither VIP's group nor is it n3: it heard nothing of the exchange.
    assert.deepEqual(heardByBystander, []);

    heard.length = 0;
    const unicast: NdFrame = { ...buildSolicitation(MAC.n3, STATION6.n3, VIP), dstMac: MAC.n1, ipv6: { src: STATION6.n3, dst: VIP, hopLimit: 255 } };
    asker.send(unicast);
    await turns();
    assert.deepEqual(advertisements(heard).map((f) => f.icmp), [{ type: 'na', target: VIP, router: false, solicited: true, override: false, targetLinkAddr: null }]);
    assert.deepEqual(heardByBystander, []);
  });

  test('a solicited-node group reaches an interface whose kernel holds an address in it or whose socket listens for one, until it stops', async () => {
    const { n1, n2, n3 } = lanOf3();
    hold(n1, VIP);
    const holder = recorder(n1.openNd('lan0'));
    const listener = n2.openNd('lan0');
    const otherOnN2 = recorder(n2.openNd('lan0'));
    const heard = recorder(listener);
    const asker = n3.openNd('lan0');
    const probe = async (): Promise<void> => {
      asker.send(buildDadProbe(MAC.n3, VIP));
      await turns();
    };
    await probe();
    assert.equal(holder.filter((f) => f.icmp.type === 'ns').length, 1, 'the holder hears it without listening: its kernel joined the group');
    assert.equal(heard.filter((f) => f.icmp.type === 'ns').length, 0, 'n2 has not joined the group (it hears only the answer, to all nodes)');

    listener.listenFor(VIP_GROUP_MATE); // another address in the same group: the group is what counts
    assert.deepEqual(listener.groups(), [solicitedNodeAddress(VIP)]);
    await probe();
    assert.equal(heard.filter((f) => f.icmp.type === 'ns' && f.icmp.target === VIP).length, 1);
    // The membership is the interface's: every ND socket on n2 hears the group's frames.
    assert.equal(otherOnN2.filter((f) => f.icmp.type === 'ns').length, 1);
    // n2's kernel does not hold VIP: it does not answer.
    assert.equal(advertisements(heard).filter((f) => f.srcMac === MAC.n2).length, 0);

    listener.listenFor(VIP);
    listener.stopListeningFor(VIP_GROUP_MATE);
    await probe();
    assert.equal(heard.filter((f) => f.icmp.type === 'ns').length, 2, 'still in the group for VIP');
    listener.stopListeningFor(VIP);
    assert.deepEqual(listener.groups(), []);
    await probe();
    assert.equal(heard.filter((f) => f.icmp.type === 'ns').length, 2, 'left the group');
    assert.deepEqual(listener.listenCalls.map((c) => `${c.op} ${c.ip}`), [`listen ${VIP_GROUP_MATE}`, `listen ${VIP}`, `stop ${VIP_GROUP_MATE}`, `stop ${VIP}`]);
  });

  test('a port hears what another port sends to all nodes, as sent; a frame to a group nobody joined reaches only its sender', async () => {
    const { lan, n1, n2, n3 } = lanOf3();
    const sender = n1.openNd('lan0');
    const own = recorder(sender);
    const onN2 = recorder(n2.openNd('lan0'));
    const onN3 = recorder(n3.openNd('lan0'));
    const announcement = buildUnsolicitedAdvertisement(MAC.n1, VIP);
    sender.send(announcement);
    await turns();
    assert.deepEqual(onN2, [announcement]);
    assert.deepEqual(onN3, [announcement]);
    assert.deepEqual(own, [announcement]);
    assert.notEqual(onN2[0], onN3[0], 'each receiver decodes its own copy');
    assert.equal(sender.stats.sent, 1);
    assert.deepEqual([n2.openNdPorts()[0]!.stats.received, n2.openNdPorts()[0]!.stats.decoded], [1, 1]);

    const strayProbe = buildDadProbe(MAC.n1, '2001:db8:10::77');
    assert.equal(strayProbe.dstMac, solicitedNodeMac('2001:db8:10::77'));
    sender.send(strayProbe);
    await turns();
    assert.equal(onN2.length, 1);
    assert.equal(onN3.length, 1);
    assert.equal(own.length, 2);
    assert.equal(lan.ndWire.length, 2);
  });

  test("frames the codec refuses: send throws as NdSocket's does; raw bytes reach the others as 'malformed', and no kernel answers them", async () => {
    const { lan, n1, n2, n3 } = lanOf3();
    hold(n1, VIP);
    const asker = n3.openNd('lan0');
    const holderPort = n1.openNd('lan0');
    const malformed: NdCodecError[] = [];
    holderPort.on('malformed', (error) => malformed.push(error));
    const multicastTarget: NdFrame = { ...buildUnsolicitedAdvertisement(MAC.n3, VIP), icmp: { type: 'na', target: 'ff02::1', router: false, solicited: false, override: true, targetLinkAddr: MAC.n3 } };
    assert.throws(() => asker.send(multicastTarget), (error: NdCodecError) => error.name === 'NdCodecError' || /target/i.test(error.message));
    assert.equal(asker.stats.sent, 0);

    const bytes = encode(buildDadProbe(MAC.n3, VIP));
    bytes[bytes.length - 1]! ^= 0xff; // the last byte of the target: the checksum no longer matches
    asker.sendRaw(bytes);
    await turns();
    assert.equal(malformed.length, 1);
    assert.equal(holderPort.stats.malformed, 1);
    assert.deepEqual(Object.keys(holderPort.stats.malformedByCode), [malformed[0]!.code]);
    assert.equal(lan.ndMalformed.length, 1);
    assert.equal(lan.ndWire.length, 0, 'no answer went on the wire');
    void n2;
  });

  test("a full ring: the frames dropped are counted in the kernel's counters and never delivered", async () => {
    const { n1, n2 } = lanOf3();
    const port = n2.openNd('lan0');
    const heard = recorder(port);
    port.dropNext = 2;
    const sender = n1.openNd('lan0');
    for (const i of [1, 2, 3]) sender.send(buildUnsolicitedAdvertisement(MAC.n1, `2001:db8:10::${i}`));
    await turns();
    assert.deepEqual(heard.map((f) => f.icmp.target), ['2001:db8:10::3']);
    assert.deepEqual([port.refreshKernelStats().kernelReceived, port.stats.kernelDropped, port.stats.received], [3, 2, 1]);
  });

  test('the kernel ignores a solicitation with a hop limit other than 255 and a tagged one (a DAD probe to another destination the codec refuses to send)', async () => {
    const { lan, n1, n3 } = lanOf3();
    hold(n1, VIP);
    const asker = n3.openNd('lan0');
    const probe = buildDadProbe(MAC.n3, VIP);
    asker.send({ ...probe, ipv6: { ...probe.ipv6, hopLimit: 64 } });
    asker.send({ ...probe, vlan: 7 });
    assert.throws(() => asker.send({ ...probe, dstMac: ALL_NODES_MAC, ipv6: { ...probe.ipv6, dst: ALL_NODES_IPV6 } }), (error: NdCodecError) => error.code === 'BAD_DAD_DESTINATION');
    await turns();
    assert.deepEqual(lan.ndWire.map((w) => w.from), ['n3', 'n3']);
    asker.send(probe);
    await turns();
    assert.deepEqual(lan.ndWire.map((w) => w.from), ['n3', 'n3', 'n3', 'n1']);
  });

  test('a down interface delivers nothing and answers nothing: its sockets are lost, its IPv6 addresses flushed (keep_addr_on_down=0); up again, its station addresses come back, ours do not', async () => {
    const { lan, n1, n2, n3 } = lanOf3();
    hold(n1, VIP);
    const port = n1.openNd('lan0');
    const heard = recorder(port);
    const events: string[] = [];
    port.on('lost', (error: PacketIoError) => events.push(`lost ${error.code}`));
    port.on('close', () => events.push('close'));
    port.listenFor('2001:db8:10::99');

    n1.setDown();
    assert.deepEqual(events, ['lost CAPTURE_LOST', 'close']);
    assert.equal(port.isClosed, true);
    assert.deepEqual(port.groups(), []);
    assert.throws(() => port.send(buildUnsolicitedAdvertisement(MAC.n1, VIP)), (error: PacketIoError) => error.code === 'CLOSED');
    assert.throws(() => n1.openNd('lan0'), (error: PacketIoError) => error.code === 'OPEN_FAILED');
    assert.deepEqual(n1.held(), []);
    assert.deepEqual(n1.addresses.listAll('lan0', 'both').map((a) => a.ip), ['10.66.0.1']);

    const asker = n3.openNd('lan0');
    const answers = recorder(asker);
    asker.send(buildDadProbe(MAC.n3, VIP));
    n2.openNd('lan0').send(buildUnsolicitedAdvertisement(MAC.n2, '2001:db8:10::2'));
    await turns();
    assert.deepEqual(heard, []);
    assert.deepEqual(advertisements(answers).map((f) => f.srcMac), [MAC.n2]);

    n1.setUp();
    assert.deepEqual(n1.held(), []);
    assert.deepEqual(n1.addresses.listAll('lan0', 'both').map((a) => a.ip), ['10.66.0.1', STATION6.n1, linkLocalOf(MAC.n1)]);
    asker.send(buildDadProbe(MAC.n3, VIP));
    await turns();
    assert.equal(lan.ndWire.filter((w) => w.from === 'n1').length, 0);
  });

  test('with keep_addr_on_down=1 the address stays on a down interface, unanswered until it is up again', async () => {
    const { lan, n1, n3 } = lanOf3();
    n1.keepIpv6OnDown = true;
    hold(n1, VIP);
    n1.setDown();
    assert.deepEqual(n1.held(), [VIP]);
    const asker = n3.openNd('lan0');
    asker.send(buildDadProbe(MAC.n3, VIP));
    await turns();
    assert.equal(lan.ndWire.filter((w) => w.from === 'n1').length, 0);
    n1.setUp();
    asker.send(buildDadProbe(MAC.n3, VIP));
    await turns();
    assert.equal(lan.ndWire.filter((w) => w.from === 'n1').length, 1);
  });

  test('close stops events: nothing heard after it, its groups left, send and listenFor refused', async () => {
    const { n1, n2, n3 } = lanOf3();
    hold(n1, VIP);
    const port = n2.openNd('lan0');
    port.listenFor(VIP);
    const heard = recorder(port);
    let closes = 0;
    port.on('close', () => closes++);
    port.close();
    port.close();
    assert.equal(closes, 1);
    assert.equal(port.listenerCount('frame'), 0);
    assert.deepEqual(port.groups(), []);
    assert.deepEqual(n2.openNdPorts(), []);
    // Left with the socket: only the kernel's groups remain (the station's and the link-local's, one group here).
    assert.deepEqual([...n2.ndGroups()], [...new Set([solicitedNodeAddress(linkLocalOf(MAC.n2)), solicitedNodeAddress(STATION6.n2)])]);
    assert.throws(() => port.send(buildUnsolicitedAdvertisement(MAC.n2, VIP)), (error: PacketIoError) => error.code === 'CLOSED');
    assert.throws(() => port.listenFor(VIP), (error: PacketIoError) => error.code === 'CLOSED');
    const sender = n3.openNd('lan0');
    sender.send(buildDadProbe(MAC.n3, VIP));
    sender.send(buildUnsolicitedAdvertisement(MAC.n3, '2001:db8:10::3'));
    await turns();
    assert.deepEqual(heard, []);
    assert.equal(port.stats.received, 0);
    void n1;
  });

  test('the host seam around it: families in listings, the interface an IPv6 resource chooses, refusals', () => {
    const { n1 } = lanOf3();
    hold(n1, VIP);
    assert.deepEqual(n1.addresses.listAll().map((a) => a.ip), ['10.66.0.1']);
    const both = n1.addresses.listAll(undefined, 'both');
    assert.deepEqual(both.map((a) => [a.ip, a.prefix, a.owned]), [['10.66.0.1', 24, false], [STATION6.n1, 64, false], [VIP, 64, true], ['fe80::66:ff:fe00:1', 64, false]]);
    assert.equal(linkLocalOf(MAC.n1), 'fe80::66:ff:fe00:1');
    assert.deepEqual(n1.addresses.listOwned().map((a) => a.ip), [VIP]);
    assert.deepEqual(chooseInterface({ ip: '2001:db8:10::60', prefix: 64, interfaces: {} }, 'n1', both), { ok: true, ifname: 'lan0' });
    assert.equal(chooseInterface({ ip: '2001:db8:20::60', prefix: 64, interfaces: {} }, 'n1', both).ok, false);
    // The administrator's IPv6 addresses are not ours to take.
    assert.equal(n1.addresses.register([{ ifname: 'lan0', ip: STATION6.n1, prefix: 64 }])[0]?.ok, false);
    assert.equal(n1.addresses.register([{ ifname: 'lan0', ip: VIP, prefix: 64 }])[0]?.ok, true, 'registering again is idempotent');
    assert.deepEqual(n1.held(), [VIP]);

    assert.throws(() => n1.openNd('eth9'), (error: PacketIoError) => error.code === 'NO_SUCH_INTERFACE');
    n1.ndListenError = 'ENOBUFS';
    const port = n1.openNd('lan0');
    assert.throws(() => port.listenFor('2001:db8:10::61'), (error: Error & { code?: string }) => error.code === 'ENOBUFS');
    assert.deepEqual(port.groups(), []);
    n1.refuseNd = true;
    assert.throws(() => n1.openNd('lan0'), (error: PacketIoError) => error.code === 'UNSUPPORTED');
    port.close();
  });

  test('an interface deleted loses its ND sockets; re-created, a socket on it hears the LAN again', async () => {
    const { n1, n3 } = lanOf3();
    const port = n1.openNd('lan0');
    let lost = 0;
    port.on('lost', () => lost++);
    const previous = n1.remove();
    assert.equal(lost, 1);
    assert.throws(() => n1.openNd('lan0'), (error: PacketIoError) => error.code === 'NO_SUCH_INTERFACE');
    n1.recreate(previous);
    const heard = recorder(n1.openNd('lan0'));
    n3.openNd('lan0').send(buildUnsolicitedAdvertisement(MAC.n3, STATION6.n3));
    await turns();
    assert.equal(heard.length, 1);
  });
});
