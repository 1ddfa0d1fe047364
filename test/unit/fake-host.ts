// A fake Host (main/host/host.ts) on a fake LAN, for unit tests of the agent without root, namespaces or
// libpcap. What it keeps of a real host is what the agent relies on:
// - addresses: register/deregister/list, marked as ours, refused on a missing interface, deadlines;
// - interfaces: index, MAC, admin state, carrier — set down, deleted and re-created by the test;
// - ARP: every socket on the LAN hears every frame (its own too, as libpcap delivers them), one event-loop
//   turn later; the "kernel" of each host answers requests and probes for the addresses it holds, as
//   Linux does (a reply to a probe goes back with target IP 0.0.0.0);
// - a socket on an interface that goes down or away is lost ('lost'), like the patched `cap`;
// - datagrams (a move's release notice) go to the host whose station address they name, in memory:
//   nothing leaves this process, whatever the addresses.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { reply } from '../../main/arp/codec';
import type { ArpFrame, Mac } from '../../main/arp/frame';
import { ZERO_IP } from '../../main/arp/frame';
import { DEADLINE_PASSED, type InterfaceAddress, type RegistrarResult } from '../../main/host/address-types';
import type { ArpPort, DatagramEndpoint, Host, HostAddresses, NdPort } from '../../main/host/host';
import type { InterfaceState } from '../../main/net/interfaces';
import { PacketIoError, type ArpSocketEvents, type PacketStats } from '../../main/net/pcap';
import type { InterfaceInfo } from '../../main/net/interfaces';
import type { CheckRun, NetworkCheck } from '../../main/host/health-checks';

const OUR_PROTO = 0x99;

interface FakeInterface {
  name: string;
  index: number;
  mac: Mac;
  adminUp: boolean;
  carrier: boolean;
  /** The host's own address on it (not ours to move). */
  station: { ip: string; prefix: number };
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
    const host = new FakeHost(this, name, { name: 'lan0', index: nextIndex++, mac, adminUp: true, carrier: true, station: { ip: station, prefix } });
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
}

class FakeArpPort extends EventEmitter<ArpSocketEvents> implements ArpPort {
  readonly stats: PacketStats = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0 };
  private closed = false;

  constructor(
    readonly iface: InterfaceInfo,
    private readonly host: FakeHost,
    /** Only these frames reach it (a capture's kernel filter). */
    private readonly accepts: (frame: ArpFrame) => boolean = () => true,
  ) {
    super();
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
    this.emit('frame', { frame, at: Date.now(), mono: performance.now() });
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

export class FakeHost implements Host {
  readonly interfaces = new Map<string, FakeInterface>();
  readonly table: FakeAddress[] = [];
  private readonly ports = new Set<FakeArpPort>();
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

  /** The virtual addresses this host holds now (its kernel's word). */
  held(): string[] {
    return this.table.filter((a) => a.owned).map((a) => a.ip).sort();
  }

  // ---- faults, made the way they happen on a node ----------------------------------------------

  /** `ip link set dev lan0 down`: carrier goes with it, captures are lost, addresses stay (as on Linux). */
  setDown(ifname = 'lan0'): void {
    const iface = this.interfaces.get(ifname)!;
    iface.adminUp = false;
    iface.carrier = false;
    this.loseCaptures(ifname, 'interface went down');
  }

  setUp(ifname = 'lan0'): void {
    const iface = this.interfaces.get(ifname)!;
    iface.adminUp = true;
    iface.carrier = true;
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
    this.interfaces.set(previous.name, { ...previous, index: nextIndex++, adminUp: true, carrier: true });
  }

  private loseCaptures(ifname: string, reason: string): void {
    for (const port of [...this.ports]) if (port.iface.name === ifname) port.lose(reason);
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
      const existing = this.table.find((a) => a.ip === address.ip && a.ifname === address.ifname);
      if (existing && !existing.owned) return { address, ok: false, code: 'ENOTOWNED', message: `${address.ip} is the administrator's` };
      if (!existing) this.table.push({ ifname: address.ifname, ip: address.ip, prefix: address.prefix, owned: true });
      return { address, ok: true };
    }),
    deregister: (list) => list.map((address): RegistrarResult => {
      const at = this.table.findIndex((a) => a.owned && a.ip === address.ip && a.ifname === address.ifname);
      if (at >= 0) this.table.splice(at, 1);
      return { address, ok: true };
    }),
    listAll: (ifname) => this.list(ifname),
    listOwned: (ifname) => this.list(ifname).filter((a) => a.owned),
    removeOwnedAnywhere: (addresses) => {
      let removed = 0;
      for (const { ip } of addresses) {
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

  private list(ifname?: string): InterfaceAddress[] {
    const rows: InterfaceAddress[] = [];
    for (const iface of this.interfaces.values()) {
      if (ifname !== undefined && iface.name !== ifname) continue;
      const row = (ip: string, prefix: number, owned: boolean): InterfaceAddress => ({ ifname: iface.name, ifindex: iface.index, ip, prefix, proto: owned ? OUR_PROTO : 0, owned, label: iface.name, validLftSec: null, preferredLftSec: null, flags: 0 });
      rows.push(row(iface.station.ip, iface.station.prefix, false));
      for (const a of this.table) if (a.ifname === iface.name) rows.push(row(a.ip, a.prefix, a.owned));
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

  prepareInterface(ifname: string): void {
    this.prepared.add(ifname);
  }

  openArp(ifname: string): ArpPort {
    return this.open(ifname, () => true);
  }

  openNd(ifname: string): NdPort {
    throw new PacketIoError('UNSUPPORTED', `the fake LAN carries no neighbour discovery (${ifname})`);
  }

  openProbeAnswers(ifname: string): FakeArpPort {
    // The Linux host's kernel filter: ARP replies whose target IP is 0.0.0.0 (answers to probes).
    return this.open(ifname, (frame) => frame.arp.op === 'reply' && frame.arp.targetIp === ZERO_IP);
  }

  private open(ifname: string, accepts: (frame: ArpFrame) => boolean): FakeArpPort {
    const iface = this.interfaces.get(ifname);
    if (!iface) throw new PacketIoError('NO_SUCH_INTERFACE', `no such interface "${ifname}"`);
    if (!iface.adminUp) throw new PacketIoError('OPEN_FAILED', `${ifname}: interface is down`);
    const port = new FakeArpPort({ name: iface.name, index: iface.index, mac: iface.mac, up: true }, this, accepts);
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
