// A fake Host (main/host/host.ts) on a fake LAN, for unit tests of the agent without root, namespaces or
// libpcap. What it keeps of a real host is what the agent relies on:
// - addresses: register/deregister/list, marked as ours, refused on a missing interface, deadlines;
// - interfaces: index, MAC, admin state, carrier — set down, deleted and re-created by the test;
// - ARP: every socket on the LAN hears every frame (its own too, as libpcap delivers them), one event-loop
//   turn later; the "kernel" of each host answers requests and probes for the addresses it holds, as
//   Linux does (a reply to a probe goes back with target IP 0.0.0.0);
// - IPv6 neighbour discovery (issue 18): frames go on the wire as the ND codec's bytes and are decoded
//   by each receiver (a frame the codec would not take is 'malformed' there, as on a real capture), one
//   turn later. A multicast frame reaches an interface only if it joined the group: all-nodes always, a
//   solicited-node group if the host holds an address in it or one of its ND sockets listens for one
//   (as an MLD-snooping switch and the NIC's filter do; the membership is the interface's, so every ND
//   socket on it then hears the frame); a unicast frame reaches the interface whose MAC it names. A
//   sender's sockets hear what it sends. The "kernel" answers a solicitation for an address it holds as
//   Linux does (nd.ts-level detail in hearNd); an admin down flushes the interface's IPv6 addresses
//   (Linux's default, keep_addr_on_down=0), and an up gives back its link-local and station addresses;
// - a socket on an interface that goes down or away is lost ('lost'), like the patched `cap`;
// - datagrams (a move's release notice) go to the host whose station address they name, in memory:
//   nothing leaves this process, whatever the addresses.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { formatMac } from '../../main/arp/addresses';
import { reply } from '../../main/arp/codec';
import type { ArpFrame, Mac } from '../../main/arp/frame';
import { ZERO_IP } from '../../main/arp/frame';
import { DEADLINE_PASSED, type InterfaceAddress, type RegistrarResult } from '../../main/host/address-types';
import type { ArpPort, DatagramEndpoint, Host, HostAddresses, NdPort } from '../../main/host/host';
import { canonicalIpv6, isSolicitedNodeIpv6, multicastMac, solicitedNodeAddress } from '../../main/nd/addresses';
import { GroupListeners } from '../../main/nd/group-listeners';
import { buildSolicitedAdvertisement } from '../../main/nd/builders';
import { decode as decodeNd, encode as encodeNd, NdCodecError } from '../../main/nd/codec';
import { ALL_NODES_IPV6, ALL_NODES_MAC, ND_HOP_LIMIT, UNSPECIFIED_IPV6, type Ipv6, type NdFrame } from '../../main/nd/frame';
import type { InterfaceState } from '../../main/net/interfaces';
import type { NdSocketEvents } from '../../main/net/nd-socket';
import { PacketIoError, type ArpSocketEvents, type PacketStats } from '../../main/net/pcap';
import type { InterfaceInfo } from '../../main/net/interfaces';
import type { CheckRun, NetworkCheck } from '../../main/host/health-checks';
import { foldsAsRepeat } from './fold-model';

const OUR_PROTO = 0x99;

interface FakeInterface {
  name: string;
  index: number;
  mac: Mac;
  adminUp: boolean;
  carrier: boolean;
  /** The host's own address on it (not ours to move). */
  station: { ip: string; prefix: number };
  /** Its IPv6 station addresses (RFC 5952 text), the administrator's: addStation6. */
  station6: Array<{ ip: Ipv6; prefix: number }>;
  /** fe80::/64 from the MAC it was created with (EUI-64), as the kernel makes it; kept when the MAC changes. */
  linkLocal: Ipv6;
  /** Set down since its IPv6 addresses were flushed: none listed or held until it is up again. */
  ipv6Flushed: boolean;
}

/** The EUI-64 link-local address (RFC 4291 appendix A) of a MAC. */
export function linkLocalOf(mac: Mac): Ipv6 {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const word = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return canonicalIpv6(`fe80::${word(b[0]! ^ 2, b[1]!)}:${word(b[2]!, 0xff)}:${word(0xfe, b[3]!)}:${word(b[4]!, b[5]!)}`);
}

function isIpv6Text(ip: string): boolean {
  return ip.includes(':');
}

/** The one spelling the kernel lists an address in (RFC 5952 for IPv6). */
function listedIp(ip: string): string {
  return isIpv6Text(ip) ? canonicalIpv6(ip) : ip;
}

interface FakeAddress {
  ifname: string;
  ip: string;
  prefix: number;
  owned: boolean;
}

let nextIndex = 10;

export class FakeLan {
  readonly hosts: FakeHost[] = [];
  /** Every frame that went on the wire, in order (tests read it like a capture). */
  readonly wire: Array<{ from: string; frame: ArpFrame }> = [];

  /** A host with one interface `lan0` on this LAN (its station address in a /`prefix` subnet). */
  host(name: string, station: string, mac: Mac, prefix = 24): FakeHost {
    const host = new FakeHost(this, name, { name: 'lan0', index: nextIndex++, mac, adminUp: true, carrier: true, station: { ip: station, prefix }, station6: [], linkLocal: linkLocalOf(mac), ipv6Flushed: false });
    this.hosts.push(host);
    return host;
  }

  /** Datagrams sent and lost on the way (a test sets `loseDatagrams`). */
  readonly datagrams = { sent: 0, lost: 0 };
  loseDatagrams = false;

  /** A datagram to `address`:`port`: delivered on the next turn if a host has that station address and an endpoint on that port. */
  sendDatagram(bytes: Buffer, port: number, address: string): void {
    this.datagrams.sent++;
    if (this.loseDatagrams) {
      this.datagrams.lost++;
      return;
    }
    const copy = Buffer.from(bytes);
    setImmediate(() => this.hosts.find((host) => host.station === address)?.receiveDatagram(copy, port));
  }

  /** One frame on the wire: every open socket of every host whose link is up hears it on the next turn. */
  transmit(from: FakeHost, frame: ArpFrame): void {
    this.wire.push({ from: from.name, frame });
    setImmediate(() => {
      for (const host of this.hosts) host.hear(frame);
    });
  }

  /** Every ND frame that went on the wire, in order, as the codec reads its bytes. */
  readonly ndWire: Array<{ from: string; frame: NdFrame }> = [];
  /** ND bytes sent raw that the codec refuses (FakeNdPort.sendRaw). */
  readonly ndMalformed: Array<{ from: string; bytes: Buffer; error: NdCodecError }> = [];

  /** ND bytes on the wire: each host whose link is up takes them on the next turn if they reach it (FakeHost.hearNd). */
  transmitNd(from: FakeHost, bytes: Buffer): void {
    try {
      this.ndWire.push({ from: from.name, frame: decodeNd(bytes) });
    } catch (error) {
      if (!(error instanceof NdCodecError)) throw error;
      this.ndMalformed.push({ from: from.name, bytes, error });
    }
    setImmediate(() => {
      for (const host of this.hosts) host.hearNd(bytes, host === from);
    });
  }
}

class FakeArpPort extends EventEmitter<ArpSocketEvents> implements ArpPort {
  readonly stats: PacketStats = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0 };
  private closed = false;
  /** Folding: the MAC each sender (VLAN + IP) was last handed over with; the senders never folded. */
  private readonly lastMac = new Map<string, Mac>();
  private unfolded: ReadonlySet<string> = new Set();

  constructor(
    readonly iface: InterfaceInfo,
    private readonly host: FakeHost,
    /** Only these frames reach it (a capture's kernel filter). */
    private readonly accepts: (frame: ArpFrame) => boolean = () => true,
    /**
     * Folds as the Linux agent's socket does (main/native/fold.h), each repeat a summary of one frame: a
     * request or reply whose sender was last handed over with the same MAC is a 'repeats' event, unless
     * its sender is on the unfolded list. Every agent test on the fake LAN then runs the folded path.
     */
    private readonly folds = false,
  ) {
    super();
  }

  unfoldSenders(senders: Iterable<string>): void {
    this.unfolded = new Set(senders);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: ArpFrame): void {
    if (this.closed) throw new PacketIoError('CLOSED', 'socket closed');
    this.stats.sent++;
    this.host.transmitFrom(this.iface.name, frame);
  }

  deliver(frame: ArpFrame): void {
    if (this.closed || !this.accepts(frame)) return;
    this.stats.received++;
    this.stats.decoded++;
    const captured = { frame, at: Date.now(), mono: performance.now() };
    if (this.folds && foldsAsRepeat(frame, this.lastMac, this.unfolded)) {
      const request = frame.arp.op === 'request';
      this.emit('repeats', { ...captured, requests: request ? 1 : 0, replies: request ? 0 : 1 });
      return;
    }
    this.emit('frame', captured);
  }

  lose(reason: string): void {
    if (this.closed) return;
    this.close();
    this.emit('lost', new PacketIoError('CAPTURE_LOST', reason));
  }

  refreshKernelStats(): PacketStats {
    return this.stats;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.forget(this);
    this.emit('close');
  }
}

/**
 * An ND socket on the fake LAN (NdPort, like net/nd-socket.ts's NdSocket): it sends the codec's bytes
 * (a frame the codec refuses throws here, as it does there), decodes what reaches it, and keeps the
 * solicited-node groups it listens to, which let those groups' frames reach its interface.
 */
export class FakeNdPort extends EventEmitter<NdSocketEvents> implements NdPort {
  readonly stats: PacketStats<string> = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0 };
  /** The solicited-node groups listened to, counted per address (NdSocket's own bookkeeping). */
  private readonly listening = new GroupListeners();
  /** Every listenFor and stopListeningFor, in order (tests read it). */
  readonly listenCalls: Array<{ op: 'listen' | 'stop'; ip: Ipv6 }> = [];
  /** The next this many frames that reach it are dropped by the "kernel" (its ring full): counted in kernelDropped, never delivered. */
  dropNext = 0;
  private closed = false;

  constructor(
    readonly iface: InterfaceInfo,
    private readonly host: FakeHost,
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: NdFrame): void {
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    const bytes = encodeNd(frame); // throws NdCodecError on a frame the codec refuses, as NdSocket does
    this.host.transmitNdFrom(this.iface.name, bytes);
    this.stats.sent++;
  }

  /** Bytes as they are, valid or not (FrameSocket.sendRaw). */
  sendRaw(bytes: Buffer): void {
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    this.host.transmitNdFrom(this.iface.name, Buffer.from(bytes));
    this.stats.sent++;
  }

  listenFor(ip: Ipv6): void {
    this.listenCalls.push({ op: 'listen', ip });
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    this.listening.listen(ip, () => this.host.checkJoin(this.iface.name, ip));
  }

  stopListeningFor(ip: Ipv6): void {
    this.listenCalls.push({ op: 'stop', ip });
    this.listening.stop(ip, () => undefined);
  }

  /** The solicited-node groups it listens to now. */
  groups(): Ipv6[] {
    return this.listening.groups();
  }

  deliver(bytes: Buffer): void {
    if (this.closed) return;
    // PACKET_STATISTICS: tp_packets counts what passed the filter, the dropped frames included.
    this.stats.kernelReceived = (this.stats.kernelReceived ?? 0) + 1;
    if (this.dropNext > 0) {
      this.dropNext--;
      this.stats.kernelDropped = (this.stats.kernelDropped ?? 0) + 1;
      return;
    }
    this.stats.received++;
    let frame: NdFrame;
    try {
      frame = decodeNd(bytes);
    } catch (error) {
      if (!(error instanceof NdCodecError)) throw error;
      this.stats.malformed++;
      this.stats.malformedByCode[error.code] = (this.stats.malformedByCode[error.code] ?? 0) + 1;
      if (this.listenerCount('malformed') > 0) this.emit('malformed', error, Buffer.from(bytes));
      return;
    }
    this.stats.decoded++;
    const mono = performance.now();
    this.emit('frame', { frame, at: performance.timeOrigin + mono, mono });
  }

  /** The capture failed for good (the interface went down or away): 'lost', then 'close', as FrameSocket does. */
  lose(reason: string): void {
    if (this.closed) return;
    this.shut();
    this.emit('lost', new PacketIoError('CAPTURE_LOST', `capture on "${this.iface.name}" lost: ${reason}`));
    this.emit('close');
    this.removeAllListeners();
  }

  refreshKernelStats(): PacketStats<string> {
    return this.stats;
  }

  close(): void {
    if (this.closed) return;
    this.shut();
    this.emit('close');
    this.removeAllListeners();
  }

  /** Closed, and its memberships left with its multicast socket. */
  private shut(): void {
    this.closed = true;
    this.listening.clear();
    this.host.forgetNd(this);
  }
}

export class FakeHost implements Host {
  readonly interfaces = new Map<string, FakeInterface>();
  readonly table: FakeAddress[] = [];
  private readonly ports = new Set<FakeArpPort>();
  private readonly ndPorts = new Set<FakeNdPort>();
  /** openNd refuses with UNSUPPORTED (a host that serves no IPv6 resources, as Windows for now). */
  refuseNd = false;
  /** When set, an ND socket's listenFor throws this errno (the kernel refused the membership: ENOBUFS...). */
  ndListenError: string | null = null;
  /** net.ipv6.conf.*.keep_addr_on_down=1: an admin down keeps the IPv6 addresses (Linux's default flushes them). */
  keepIpv6OnDown = false;
  private readonly taps = new Set<{ ifname: string; onLost: (reason: string) => void; closed: boolean }>();
  private readonly endpoints = new Map<number, (bytes: Buffer) => void>();
  private nextPort = 40000;
  /** Interfaces readied for virtual addresses (prepareInterface). */
  readonly prepared = new Set<string>();

  constructor(private readonly lan: FakeLan, readonly name: string, lan0: FakeInterface) {
    this.interfaces.set(lan0.name, lan0);
  }

  get mac(): Mac {
    return this.interfaces.get('lan0')!.mac;
  }

  get station(): string {
    return this.interfaces.get('lan0')!.station.ip;
  }

  /** An IPv6 address of the administrator's on `ifname` (a station address: it decides an IPv6 resource's interface). */
  addStation6(ip: Ipv6, prefix: number, ifname = 'lan0'): void {
    this.interfaces.get(ifname)!.station6.push({ ip: canonicalIpv6(ip), prefix });
  }

  /** The interface's link-local address (EUI-64 of the MAC it was created with). */
  linkLocal(ifname = 'lan0'): Ipv6 {
    return this.interfaces.get(ifname)!.linkLocal;
  }

  /** The virtual addresses this host holds now (its kernel's word). */
  held(): string[] {
    return this.table.filter((a) => a.owned).map((a) => a.ip).sort();
  }

  // ---- faults, made the way they happen on a node ----------------------------------------------

  /**
   * `ip link set dev lan0 down`: carrier goes with it, captures are lost, IPv4 addresses stay (as on
   * Linux); the IPv6 ones are flushed, ours included (Linux's keep_addr_on_down=0) unless keepIpv6OnDown.
   */
  setDown(ifname = 'lan0'): void {
    const iface = this.interfaces.get(ifname)!;
    iface.adminUp = false;
    iface.carrier = false;
    if (!this.keepIpv6OnDown) {
      iface.ipv6Flushed = true;
      for (let i = this.table.length - 1; i >= 0; i--) if (this.table[i]!.ifname === ifname && isIpv6Text(this.table[i]!.ip)) this.table.splice(i, 1);
    }
    this.loseCaptures(ifname, 'interface went down');
  }

  /** Up again: the kernel makes the link-local address again, and the network's configuration its IPv6 station addresses; ours stay gone. */
  setUp(ifname = 'lan0'): void {
    const iface = this.interfaces.get(ifname)!;
    iface.adminUp = true;
    iface.carrier = true;
    iface.ipv6Flushed = false;
  }

  /** `ip link set dev lan0 address …`: the link stays up, captures opened on the old MAC see a new one. */
  setMac(mac: Mac, ifname = 'lan0'): void {
    this.interfaces.get(ifname)!.mac = mac;
  }

  /** `ip link del`: the interface and its addresses are gone. */
  remove(ifname = 'lan0'): FakeInterface {
    const iface = this.interfaces.get(ifname)!;
    this.interfaces.delete(ifname);
    for (let i = this.table.length - 1; i >= 0; i--) if (this.table[i]!.ifname === ifname) this.table.splice(i, 1);
    this.loseCaptures(ifname, 'no such device');
    return iface;
  }

  /** Re-created under the same name: a new index, the same MAC and station address. */
  recreate(previous: FakeInterface): void {
    this.interfaces.set(previous.name, { ...previous, station6: [...previous.station6], index: nextIndex++, adminUp: true, carrier: true, ipv6Flushed: false });
  }

  private loseCaptures(ifname: string, reason: string): void {
    for (const port of [...this.ports]) if (port.iface.name === ifname) port.lose(reason);
    for (const port of [...this.ndPorts]) if (port.iface.name === ifname) port.lose(reason);
    for (const tap of this.taps) if (tap.ifname === ifname && !tap.closed) {
      tap.closed = true;
      tap.onLost(reason);
    }
  }

  // ---- the wire ---------------------------------------------------------------------------------

  transmitFrom(ifname: string, frame: ArpFrame): void {
    const iface = this.interfaces.get(ifname);
    if (!iface?.adminUp || !iface.carrier) return; // nothing leaves a link that is down
    this.lan.transmit(this, frame);
  }

  /** A frame on the wire reaches lan0 (if it is up): our sockets first, then our "kernel" answers. */
  hear(frame: ArpFrame): void {
    const iface = this.interfaces.get('lan0');
    if (!iface?.adminUp || !iface.carrier) return;
    for (const port of [...this.ports]) if (port.iface.name === 'lan0') port.deliver(frame);
    const { arp } = frame;
    if (arp.op !== 'request' || frame.src === iface.mac) return;
    const ours = arp.targetIp === iface.station.ip || this.table.some((a) => a.ifname === 'lan0' && a.ip === arp.targetIp);
    if (ours) this.transmitFrom('lan0', reply(iface.mac, arp.targetIp, arp.senderMac, arp.senderIp === ZERO_IP ? ZERO_IP : arp.senderIp));
  }

  // ---- neighbour discovery ----------------------------------------------------------------------

  /** The IPv6 addresses the kernel holds on `ifname` (link-local, station, ours), RFC 5952 text. */
  ipv6Held(ifname = 'lan0'): Set<Ipv6> {
    const iface = this.interfaces.get(ifname);
    const held = new Set<Ipv6>();
    if (!iface || iface.ipv6Flushed) return held;
    held.add(iface.linkLocal);
    for (const s6 of iface.station6) held.add(s6.ip);
    for (const a of this.table) if (a.ifname === ifname && isIpv6Text(a.ip)) held.add(canonicalIpv6(a.ip));
    return held;
  }

  /** The solicited-node groups `ifname` has joined: the kernel's for the addresses it holds, and those its ND sockets listen to. */
  ndGroups(ifname = 'lan0'): Set<Ipv6> {
    const groups = new Set<Ipv6>();
    for (const ip of this.ipv6Held(ifname)) groups.add(solicitedNodeAddress(ip));
    for (const port of this.ndPorts) if (port.iface.name === ifname) for (const group of port.groups()) groups.add(group);
    return groups;
  }

  /** The NIC's filter: its own MAC, broadcast, all-nodes, and the Ethernet addresses of the groups it joined. */
  private ndReaches(ifname: string, iface: FakeInterface, dstMac: Mac): boolean {
    if (dstMac === iface.mac || dstMac === 'ff:ff:ff:ff:ff:ff' || dstMac === ALL_NODES_MAC) return true;
    for (const group of this.ndGroups(ifname)) if (multicastMac(group) === dstMac) return true;
    return false;
  }

  transmitNdFrom(ifname: string, bytes: Buffer): void {
    const iface = this.interfaces.get(ifname);
    if (!iface?.adminUp || !iface.carrier) return; // nothing leaves a link that is down
    this.lan.transmitNd(this, bytes);
  }

  /**
   * ND bytes on the wire reach lan0 (if it is up and they are for it, or this host sent them): our
   * sockets first, then our "kernel", which answers a solicitation for an address it holds as Linux's
   * ndisc_recv_ns does — from the address itself, hop limit 255, target link-layer option its MAC:
   * - a DAD probe (from ::, to the target's solicited-node group; with a nonce or not, the address
   *   never being tentative here) with an advertisement to all nodes, override set, solicited clear;
   * - a solicitation from an address with a solicited advertisement to the asker (at its source
   *   link-layer option, else the frame's source MAC); override set and the option only when the
   *   solicitation was multicast (a unicast one, a reachability check, gets neither).
   * Its own frames, tagged frames, hop limits other than 255 and frames the codec refuses it ignores.
   */
  hearNd(bytes: Buffer, own: boolean): void {
    const iface = this.interfaces.get('lan0');
    if (!iface?.adminUp || !iface.carrier) return;
    let frame: NdFrame | null = null;
    try {
      frame = decodeNd(bytes);
    } catch (error) {
      if (!(error instanceof NdCodecError)) throw error;
    }
    // The NIC reads the destination MAC whatever follows it (a frame too short to have one reaches no one else).
    if (!own && (bytes.length < 6 || !this.ndReaches('lan0', iface, formatMac(bytes, 0)))) return;
    for (const port of [...this.ndPorts]) if (port.iface.name === 'lan0') port.deliver(bytes);
    if (own || frame === null) return;
    const { ipv6, icmp } = frame;
    if (frame.vlan !== null || ipv6.hopLimit !== ND_HOP_LIMIT || icmp.type !== 'ns') return;
    const held = this.ipv6Held('lan0');
    if (!held.has(icmp.target)) return;
    const dad = ipv6.src === UNSPECIFIED_IPV6;
    const multicast = ipv6.dst.startsWith('ff');
    if (dad && !isSolicitedNodeIpv6(ipv6.dst)) return; // RFC 4861 §7.1.1, as Linux checks it
    const forUs = multicast ? ipv6.dst === ALL_NODES_IPV6 || this.ndGroups('lan0').has(ipv6.dst) : held.has(ipv6.dst);
    if (!forUs) return;
    const answer = buildSolicitedAdvertisement(iface.mac, frame);
    if (!multicast && answer.icmp.type === 'na') answer.icmp = { ...answer.icmp, override: false, targetLinkAddr: null };
    this.transmitNdFrom('lan0', encodeNd(answer));
  }

  /** Whether the kernel lets `ifname` join a group now (MulticastListener.join's errors). */
  checkJoin(ifname: string, ip: Ipv6): void {
    const fail = (code: string, message: string): never => {
      throw Object.assign(new Error(`cannot join the solicited-node group of ${ip} on "${ifname}": ${message}`), { code });
    };
    if (!this.interfaces.has(ifname)) fail('ENODEV', 'no such device');
    if (this.ndListenError !== null) fail(this.ndListenError, 'refused');
  }

  forgetNd(port: FakeNdPort): void {
    this.ndPorts.delete(port);
  }

  receiveDatagram(bytes: Buffer, port: number): void {
    const iface = this.interfaces.get('lan0');
    if (iface?.adminUp && iface.carrier) this.endpoints.get(port)?.(bytes);
  }

  forget(port: FakeArpPort): void {
    this.ports.delete(port);
  }

  // ---- Host ---------------------------------------------------------------------------------------

  readonly addresses: HostAddresses = {
    register: (list, notAfterNs) => list.map((address): RegistrarResult => {
      if (notAfterNs !== undefined && process.hrtime.bigint() > notAfterNs) return { address, ok: false, code: DEADLINE_PASSED, message: 'deadline passed' };
      if (!this.interfaces.has(address.ifname)) return { address, ok: false, code: 'ENODEV', message: `no such interface "${address.ifname}"` };
      const ip = listedIp(address.ip);
      const iface = this.interfaces.get(address.ifname)!;
      const existing = this.table.find((a) => a.ip === ip && a.ifname === address.ifname);
      const station = isIpv6Text(ip) && !iface.ipv6Flushed && (ip === iface.linkLocal || iface.station6.some((s6) => s6.ip === ip));
      if ((existing && !existing.owned) || station) return { address, ok: false, code: 'ENOTOWNED', message: `${address.ip} is the administrator's` };
      if (!existing) this.table.push({ ifname: address.ifname, ip, prefix: address.prefix, owned: true });
      return { address, ok: true };
    }),
    deregister: (list) => list.map((address): RegistrarResult => {
      const ip = listedIp(address.ip);
      const at = this.table.findIndex((a) => a.owned && a.ip === ip && a.ifname === address.ifname);
      if (at >= 0) this.table.splice(at, 1);
      return { address, ok: true };
    }),
    listAll: (ifname, families = 'ipv4') => this.list(ifname, families),
    listOwned: (ifname) => this.list(ifname, 'both').filter((a) => a.owned),
    removeOwnedAnywhere: (addresses) => {
      let removed = 0;
      for (const address of addresses) {
        const ip = listedIp(address.ip);
        const at = this.table.findIndex((a) => a.owned && a.ip === ip);
        if (at >= 0) {
          this.table.splice(at, 1);
          removed++;
        }
      }
      return removed;
    },
    settled: () => null,
    onLateFailure: () => () => undefined,
  };

  /** As registrar.ts listAll: IPv4 only unless `families` is 'both', then the IPv6 ones after them (link-local included). */
  private list(ifname: string | undefined, families: 'ipv4' | 'both'): InterfaceAddress[] {
    const rows: InterfaceAddress[] = [];
    for (const iface of this.interfaces.values()) {
      if (ifname !== undefined && iface.name !== ifname) continue;
      const row = (ip: string, prefix: number, owned: boolean): InterfaceAddress => ({ ifname: iface.name, ifindex: iface.index, ip, prefix, proto: owned ? OUR_PROTO : 0, owned, label: iface.name, validLftSec: null, preferredLftSec: null, flags: 0 });
      rows.push(row(iface.station.ip, iface.station.prefix, false));
      for (const a of this.table) if (a.ifname === iface.name && !isIpv6Text(a.ip)) rows.push(row(a.ip, a.prefix, a.owned));
    }
    if (families === 'both') {
      for (const iface of this.interfaces.values()) {
        if ((ifname !== undefined && iface.name !== ifname) || iface.ipv6Flushed) continue;
        const row = (ip: string, prefix: number, owned: boolean): InterfaceAddress => ({ ifname: iface.name, ifindex: iface.index, ip, prefix, proto: owned ? OUR_PROTO : 0, owned, label: iface.name, validLftSec: null, preferredLftSec: null, flags: 0 });
        for (const s6 of iface.station6) rows.push(row(s6.ip, s6.prefix, false));
        for (const a of this.table) if (a.ifname === iface.name && isIpv6Text(a.ip)) rows.push(row(a.ip, a.prefix, a.owned));
        rows.push(row(iface.linkLocal, 64, false));
      }
    }
    return rows;
  }

  interfaceState(ifname: string): InterfaceState | null {
    const iface = this.interfaces.get(ifname);
    return iface ? { index: iface.index, mac: iface.mac, adminUp: iface.adminUp, carrier: iface.carrier } : null;
  }

  macs(): Record<string, Mac> {
    return Object.fromEntries([...this.interfaces.values()].map((iface) => [iface.name, iface.mac]));
  }

  prepareInterface(ifname: string): boolean {
    this.prepared.add(ifname);
    return true;
  }

  openArp(ifname: string): ArpPort {
    return this.open(ifname, () => true, true);
  }

  openNd(ifname: string): FakeNdPort {
    if (this.refuseNd) throw new PacketIoError('UNSUPPORTED', `this host serves no IPv6 resources (${ifname})`);
    const iface = this.interfaces.get(ifname);
    if (!iface) throw new PacketIoError('NO_SUCH_INTERFACE', `no such interface "${ifname}"`);
    if (!iface.adminUp) throw new PacketIoError('OPEN_FAILED', `${ifname}: interface is down`);
    const port = new FakeNdPort({ name: iface.name, index: iface.index, mac: iface.mac, up: true }, this);
    this.ndPorts.add(port);
    return port;
  }

  /** The ND sockets open now (tests look at their groups). */
  openNdPorts(): FakeNdPort[] {
    return [...this.ndPorts];
  }

  openProbeAnswers(ifname: string): FakeArpPort {
    // The Linux host's kernel filter: ARP replies whose target IP is 0.0.0.0 (answers to probes).
    return this.open(ifname, (frame) => frame.arp.op === 'reply' && frame.arp.targetIp === ZERO_IP);
  }

  private open(ifname: string, accepts: (frame: ArpFrame) => boolean, folds = false): FakeArpPort {
    const iface = this.interfaces.get(ifname);
    if (!iface) throw new PacketIoError('NO_SUCH_INTERFACE', `no such interface "${ifname}"`);
    if (!iface.adminUp) throw new PacketIoError('OPEN_FAILED', `${ifname}: interface is down`);
    const port = new FakeArpPort({ name: iface.name, index: iface.index, mac: iface.mac, up: true }, this, accepts, folds);
    this.ports.add(port);
    return port;
  }

  openDatagram(onMessage: (bytes: Buffer) => void): Promise<DatagramEndpoint> {
    const port = this.nextPort++;
    this.endpoints.set(port, onMessage);
    return Promise.resolve({
      port,
      send: (bytes: Buffer, to: number, address: string) => {
        const iface = this.interfaces.get('lan0');
        if (iface?.adminUp && iface.carrier) this.lan.sendDatagram(bytes, to, address);
      },
      close: () => this.endpoints.delete(port),
    });
  }

  openFrameTap(ifname: string, _mac: Mac, _onFrame: unknown, onLost: (reason: string) => void): { close(): void } {
    // No IPv4 traffic on the fake LAN: the tap hears nothing, but it is lost like a real one.
    const tap = { ifname, onLost, closed: false };
    this.taps.add(tap);
    return { close: () => { tap.closed = true; this.taps.delete(tap); } };
  }

  // ---- health checks: the services a test says run here -----------------------------------------

  /** TCP ports (and http URLs, exec programs by path) that answer on this host; anything else fails. */
  readonly services = new Set<string>();
  /** Checks run so far, by the service's name (tcp:HOST:PORT, the URL, the program). */
  readonly checksRun: string[] = [];
  gateway: string | null = null;

  runCheck(check: NetworkCheck): Promise<CheckRun> {
    const name = check.kind === 'tcp' ? `tcp:${check.host}:${check.port}` : check.kind === 'http' ? check.url : check.argv[0]!;
    this.checksRun.push(name);
    return Promise.resolve(this.services.has(name) ? { ok: true, reason: `${name}: up` } : { ok: false, reason: `${name}: down` });
  }

  defaultGateway(): string | null {
    return this.gateway;
  }
}
