// The one seam between the agent and the machine it runs on: addresses, interfaces, ARP sockets and
// captures. The agent and its parts (local-addresses, standby-monitor, probe-answers,
// convergence-monitor) reach the host only through this, so they run the same on Linux
// (linux-host.ts), on Windows (windows-host.ts), and in unit tests on a fake LAN (test/unit/fake-host.ts).
import type { CheckRun, NetworkCheck } from './health-checks';
import type { EventEmitter } from 'node:events';
import type { ArpFrame, Mac } from '../arp/frame';
import type { Ipv6, NdFrame } from '../nd/frame';
import type { InterfaceState } from '../net/interfaces';
import type { FrameSource, PacketStats } from '../net/pcap';
import type { InterfaceInfo } from '../net/interfaces';
import type { NdSocketEvents } from '../net/nd-socket';
import type { TappedFrame } from '../net/frame-tap';
import type { InterfaceAddress, RegistrarResult, VirtualAddress } from './address-types';

/** A change register() or deregister() accepted that the host then refused (a host that applies changes later). */
export interface LateAddressFailure {
  action: 'register' | 'deregister';
  address: VirtualAddress;
  /** DEADLINE_PASSED, EPERM, EIO, ... as in RegistrarResult; GONE: the address left the host without us removing it. */
  code: string;
  message: string;
}

/** The code of a late failure for an address we wanted that a listing no longer shows (lifetime ran out, removed by hand). */
export const ADDRESS_GONE = 'GONE';

/**
 * The host's IPv4 and IPv6 addresses. Synchronous: on Linux each call is one netlink round trip, on the hot path
 * of a handoff, done when it returns. A host whose changes take longer (Windows: PowerShell,
 * host/windows-host.ts) accepts them at once, applies them in the background, and says when they have
 * reached the host (settled) or failed there (onLateFailure); its listings show the changes accepted.
 */
export interface HostAddresses {
  /**
   * Adds (or renews) addresses, marked as ours; one result per item, in order. `notAfterNs`
   * (process.hrtime.bigint() time): nothing reaches the host after it (items fail with DEADLINE_PASSED).
   */
  register(list: readonly VirtualAddress[], notAfterNs?: bigint): RegistrarResult[];
  /** Removes addresses we added; absent counts as removed. */
  deregister(list: readonly VirtualAddress[]): RegistrarResult[];
  /**
   * IPv4 addresses only unless `families` asks for IPv6 as well (the interface of an IPv6 resource,
   * issue 18): an IPv6 address, RFC 5952 text, is never what an IPv4 caller means. listOwned lists both.
   */
  listAll(ifname?: string, families?: 'ipv4' | 'both'): InterfaceAddress[];
  /** Only ours, found again after a restart. */
  listOwned(ifname?: string): InterfaceAddress[];
  /** Removes our addresses with these IPs on whatever interface they are now (a renamed one); returns how many. */
  removeOwnedAnywhere(addresses: ReadonlyArray<{ ip: string; prefix: number }>): number;
  /**
   * null when every change accepted so far has reached the host (Linux: always); else a promise that
   * resolves once they have (applied, or failed and reported through onLateFailure). Never rejects.
   */
  settled(): Promise<void> | null;
  /** Hears of changes that failed after register/deregister had accepted them; returns the unsubscribe. */
  onLateFailure(listener: (failure: LateAddressFailure) => void): () => void;
}

/**
 * An ARP socket on one interface: frames in (including the ones this host sends), frames out. A socket
 * that folds a storm's repeats (Linux, the capture addon: 'repeats' events) has unfoldSenders: the senders
 * whose frames must still come one by one (the addresses held, probed and watched here).
 */
export interface ArpPort extends FrameSource {
  send(frame: ArpFrame): void;
  unfoldSenders?(senders: Iterable<string>): void;
}

/**
 * A neighbour discovery socket on one interface (IPv6 resources, issue 18): NS and NA in (including the
 * ones this host sends), out, and the solicited-node groups of the addresses it probes or holds joined,
 * so that another node's DAD probe for one of them reaches it before its kernel holds the address.
 */
export interface NdPort extends EventEmitter<NdSocketEvents> {
  readonly iface: InterfaceInfo;
  readonly stats: PacketStats<string>;
  refreshKernelStats(): PacketStats<string>;
  send(frame: NdFrame): void;
  /**
   * Joins the solicited-node group of `ip` (once per group); throws when the kernel refuses. Counted:
   * the group is listened to until every listenFor of its addresses has had its stopListeningFor.
   */
  listenFor(ip: Ipv6): void;
  stopListeningFor(ip: Ipv6): void;
  close(): void;
}

/** A UDP endpoint bound on every IPv4 address of the host. */
export interface DatagramEndpoint {
  readonly port: number;
  send(bytes: Buffer, port: number, address: string): void;
  close(): void;
}

export interface Host {
  readonly addresses: HostAddresses;
  /** Index, MAC, admin state and carrier of an interface; null when there is none by that name. Never throws. */
  interfaceState(ifname: string): InterfaceState | null;
  /** The MAC of every Ethernet interface (the node record: peers recognise this node's ARP by them). */
  macs(): Record<string, Mac>;
  /**
   * Readies an interface to carry virtual addresses (Linux: a removed primary must not take its
   * secondaries along); true when removing a primary there now keeps the other addresses of its subnet.
   */
  prepareInterface(ifname: string): boolean;
  /** Opens an ARP socket; throws PacketIoError (no such interface, no permission, no libpcap/Npcap). */
  openArp(ifname: string): ArpPort;
  /** Opens a neighbour discovery socket; throws PacketIoError like openArp (UNSUPPORTED: a host that serves no IPv6 resources). */
  openNd(ifname: string): NdPort;
  /**
   * A receive-only capture of ARP replies to probes (target IP 0.0.0.0) with a ring of its own, for the
   * standby's liveness probes; null when this host has no such capture (the answers then come through
   * openArp's socket). Throws PacketIoError like openArp.
   */
  openProbeAnswers(ifname: string, bufferBytes: number): FrameSource | null;
  /** A UDP endpoint on a port the host picks (a move's release datagram, agent/handoff-channel.ts). */
  openDatagram(onMessage: (bytes: Buffer) => void, onError: (error: Error) => void): Promise<DatagramEndpoint>;
  /** IPv4 and IPv6 frames on `ifname` addressed to `mac` (a handoff's stragglers); throws when capture is impossible (always on Windows). */
  openFrameTap(ifname: string, mac: Mac, onFrame: (frame: TappedFrame) => void, onLost: (reason: string) => void): { close(): void };
  /** Runs a TCP, HTTP(S) or program health check within `timeoutMs` (health-checks.ts); never throws. */
  runCheck(check: NetworkCheck, timeoutMs: number): Promise<CheckRun>;
  /** The default route's gateway (on `ifname`), for the gateway check without an address; null when none is known. */
  defaultGateway(ifname: string): string | null;
}

/** carrier of an interface from its state: false when missing. */
export function carrierUp(host: Host, ifname: string): boolean {
  return host.interfaceState(ifname)?.carrier ?? false;
}
