// The addresses this node holds: one AddressClaim per resource, one ARP socket per interface shared by
// every claim on it (frames routed by IP) — and, once an IPv6 address is used there, one neighbour
// discovery socket beside it (issue 18: the same claims over DAD probes and unsolicited advertisements,
// the solicited-node group of every address probed or held joined) —, and the kernel-side dead-man
// switch: each registered address carries a short valid lifetime that is renewed only while the node's
// membership is confirmed, so a frozen or dead agent loses its addresses even if nothing else acts.
import { EventEmitter } from 'node:events';
import type { AcdConfig, AcdEvent } from '../arp/acd';
import type { ArpFrame, Ipv4, Mac } from '../arp/frame';
import { AddressClaim, type AddressRegistrar, type ClaimPort } from '../engine/address-claim';
import { buildDadQuestion } from '../nd/builders';
import { isOnLink } from '../nd/rules';
import type { NdFrame } from '../nd/frame';
import { PacketIoError } from '../net/packet-io-error';
import type { CapturedRepeats, PacketStats } from '../net/pcap';
import type { CaptureProtocol, CaptureReading } from '../metrics/agent-metrics';
import { question } from '../arp/codec';
import { DEADLINE_PASSED, type RegistrarResult, type VirtualAddress } from '../host/address-types';
import type { InterfaceState } from '../net/interfaces';
import { AnswerCapturePool } from './answer-capture-pool';
import type { ArpPort, Host, LateAddressFailure, NdPort } from '../host/host';
import { describeInterfaceFault, interfaceFault, type InterfaceFault } from '../net/interface-fault';
import { maxPrefixOf } from '../../preload/contract/ip-address';
import type { StationBehindOurs } from '../net/stations-behind-ours';

export interface HoldRequest {
  resource: string;
  ip: Ipv4;
  prefix: number;
  ifname: string;
  acd: Partial<AcdConfig>;
}

/**
 * Who answered a probe. `interrupted`: the interface failed while probing, so silence means nothing
 * (the probe is not evidence that the address is free).
 */
export interface ProbeVerdict {
  macs: Mac[];
  trustedAnswered: boolean;
  interrupted: boolean;
}

export type HoldOutcome =
  | { kind: 'ready'; mac: Mac }
  | { kind: 'used-by'; macs: Mac[] }
  | { kind: 'failed'; reason: string };

/** The reason of a hold whose registration came too late: the lease may have ended while the process was held up. */
export const LEASE_UNCONFIRMED = 'lease-unconfirmed';
/** The reason of a hold whose interface failed between choosing it and opening its capture: the link's fault, not the address's. */
export const LINK_DOWN = 'link-down';

/** Why a hold could not start: a link fault (LINK_DOWN) or the error's message. */
export function holdFailureReason(error: unknown): string {
  if (error instanceof PacketIoError && ['NO_SUCH_INTERFACE', 'OPEN_FAILED', 'CAPTURE_LOST'].includes(error.code)) return LINK_DOWN;
  return error instanceof Error ? error.message : String(error);
}

/** One interface: its socket and the claims (held addresses and running probes) its frames go to. */
interface Route {
  socket: ArpPort;
  /** Neighbour discovery, opened by the first IPv6 address held, probed or watched on the interface. */
  nd: NdPort | null;
  byIp: Map<Ipv4, Held>;
  probes: Map<Ipv4, Set<AddressClaim>>;
  /** Standby monitors: told of every ARP frame whose sender IP is the address they watch. */
  watchers: Map<Ipv4, Set<(mac: Mac) => void>>;
  /** The socket's list of senders never folded is to be brought up to date (at the end of this turn). */
  unfoldQueued: boolean;
}

interface Held {
  request: HoldRequest;
  claim: AddressClaim;
  ready: boolean;
  /** Registered, waiting for the host to apply it (a host that applies changes later: Windows). */
  settling?: boolean;
  /** What the host said when it refused the registration meanwhile. */
  lateFailure?: LateAddressFailure;
  /** Deregistered with others in one batch (releaseMany): the claim's own removal has nothing left to do. */
  removal: { inBatch: boolean };
}

export interface LocalAddressesEvents {
  /** Every event of every claim, tagged with its resource. */
  event: [resource: string, event: AcdEvent];
  warning: [string];
  /**
   * An interface became unusable or is not the one the capture was opened on: its addresses were
   * dropped (without defending), its probes ended and its capture closed. `dropped` names the resources.
   */
  'interface-fault': [ifname: string, fault: InterfaceFault, dropped: string[]];
}

export interface LocalAddressesOptions {
  host: Host;
  /** Kernel valid lifetime of registered addresses in seconds; null = forever (single host, no lease). */
  lifetimeSec: number | null;
  /** False while this node may not be the owner of anything (lease unconfirmed): claims then send nothing. */
  permitSend?: () => boolean;
  /**
   * The latest moment (process.hrtime.bigint() ns) a new address may reach the kernel: the end of the
   * lease as last confirmed. A claim decided before the process froze must not register after it thaws.
   */
  registrationDeadline?: () => bigint | undefined;
}

/** Sees every ARP frame of every interface this node has a socket on (the cluster's ARP watch). */
export type FrameObserver = (ifname: string, frame: ArpFrame, mono: number) => void;
/** Sees the repeats a folding socket counted instead of handing them over one by one (the same watch). */
export type RepeatsObserver = (ifname: string, repeats: CapturedRepeats) => void;
/** Sees every ND frame of every interface this node has an ND socket on (the same watch, IPv6). */
export type NdFrameObserver = (ifname: string, frame: NdFrame, mono: number) => void;

export class LocalAddresses extends EventEmitter<LocalAddressesEvents> {
  private readonly sockets = new Map<string, Route>();
  private frameObserver: FrameObserver | null = null;
  private repeatsObserver: RepeatsObserver | null = null;
  private ndFrameObserver: NdFrameObserver | null = null;
  private readonly held = new Map<string, Held>();
  private lifetimeSec: number | null;
  private readonly permitSend: () => boolean;
  private readonly registrationDeadline: () => bigint | undefined;
  private readonly host: Host;
  private readonly unsubscribeLate: () => void;
  /** The batch probe's answer captures, kept open between batches; closed with their interface's route. */
  readonly probeAnswers: AnswerCapturePool;

  constructor(options: LocalAddressesOptions) {
    super();
    this.host = options.host;
    this.probeAnswers = new AnswerCapturePool((ifname, bufferBytes) => this.host.openProbeAnswers(ifname, bufferBytes));
    this.lifetimeSec = options.lifetimeSec;
    this.permitSend = options.permitSend ?? (() => true);
    this.registrationDeadline = options.registrationDeadline ?? (() => undefined);
    this.unsubscribeLate = this.host.addresses.onLateFailure((failure) => this.onLateFailure(failure));
  }

  /**
   * The host refused a change after accepting it (Windows applies them later; Linux never calls this).
   * Nothing may go on believing it holds an address the host does not carry: a registration that fails
   * while its hold waits for the host fails the hold; a held address the host no longer carries ends
   * its claim as after a link fault (the agent holds it again under the usual rules). A failed renewal
   * of an address still there is only a warning: its current lifetime is the bound.
   */
  private onLateFailure(failure: LateAddressFailure): void {
    const { address } = failure;
    this.emit('warning', `${failure.action} of ${address.ip}/${address.prefix} on ${address.ifname} failed on the host: ${failure.message}`);
    if (failure.action !== 'register') return;
    const entry = [...this.held.values()].find((e) => e.request.ip === address.ip && e.request.prefix === address.prefix);
    if (entry === undefined) return;
    if (entry.settling) {
      entry.lateFailure ??= failure;
      return;
    }
    if (!entry.ready || this.carries(entry.request.ifname, entry.request.ip)) return;
    entry.claim.linkDown();
  }

  /** Whether the host's listing shows our address `ip` on `ifname` (with the changes it accepted). */
  carries(ifname: string, ip: Ipv4): boolean {
    try {
      return this.host.addresses.listOwned(ifname).some((a) => a.ip === ip);
    } catch {
      return false;
    }
  }

  /** null when every address change so far has reached the host (Linux: always); else when it has. */
  settled(): Promise<void> | null {
    return this.host.addresses.settled();
  }

  /** Marked addresses present on this host now (after a restart: candidates for re-adoption). */
  present(): Array<{ ifname: string; ip: Ipv4; prefix: number }> {
    return this.host.addresses.listOwned().flatMap((a) => (a.ifname === null ? [] : [{ ifname: a.ifname, ip: a.ip, prefix: a.prefix }]));
  }

  private socketFor(ifname: string): Route {
    let route = this.sockets.get(ifname);
    if (!route) {
      // A capture opened on an interface that is down fails at once; one that is missing cannot open.
      // Refusing here keeps callers from looping open -> lost -> open while the interface is away.
      const fault = interfaceFault(null, this.host.interfaceState(ifname));
      if (fault !== null) throw new PacketIoError(fault.kind === 'missing' ? 'NO_SUCH_INTERFACE' : 'OPEN_FAILED', describeInterfaceFault(ifname, fault));
      const socket = this.host.openArp(ifname);
      const created: Route = { socket, nd: null, byIp: new Map(), probes: new Map(), watchers: new Map(), unfoldQueued: false };
      socket.on('frame', ({ frame, mono }) => {
        LocalAddresses.route(created, frame);
        this.frameObserver?.(ifname, frame, mono);
      });
      // A folding socket (Linux) hands a storm's repeats over as counts. Senders the claims and watchers
      // listen to are never folded (sendersChanged), so only a summary begun before one started listening
      // can concern them: its frame goes to them once.
      socket.on('repeats', (repeats) => {
        LocalAddresses.route(created, repeats.frame);
        this.repeatsObserver?.(ifname, repeats);
      });
      socket.on('lost', (error) => {
        if (this.sockets.get(ifname) === created) this.loseInterface(ifname, { kind: 'capture-lost', detail: error.message });
      });
      this.host.prepareInterface(ifname);
      route = created;
      this.sockets.set(ifname, route);
    }
    return route;
  }

  /**
   * The claims, probes and watchers of `route` changed: at the end of this turn (a thousand claims started
   * together make one update), tell the socket which senders must reach them frame by frame. Frame
   * batches come from the event loop, never within a turn, so none is folded against a stale list.
   */
  private static sendersChanged(route: Route): void {
    if (route.unfoldQueued || route.socket.unfoldSenders === undefined) return;
    route.unfoldQueued = true;
    queueMicrotask(() => {
      route.unfoldQueued = false;
      route.socket.unfoldSenders?.([...route.byIp.keys(), ...route.probes.keys(), ...route.watchers.keys()]);
    });
  }

  /** A frame concerns the claims of its sender IP and of its target IP (a probe has sender 0.0.0.0). */
  private static route(route: Route, frame: ArpFrame): void {
    const { senderIp, targetIp } = frame.arp;
    for (const ip of senderIp === targetIp ? [senderIp] : [senderIp, targetIp]) LocalAddresses.feed(route, ip, frame);
    const watchers = route.watchers.get(senderIp);
    if (watchers && frame.src !== route.socket.iface.mac) for (const watcher of watchers) watcher(frame.arp.senderMac);
  }

  private static feed(route: Route, ip: string, frame: ArpFrame | NdFrame): void {
    route.byIp.get(ip)?.claim.feedFrame(frame);
    const probes = route.probes.get(ip);
    if (probes) for (const probe of probes) probe.feedFrame(frame);
  }

  /**
   * An ND frame concerns the claims of its target (a solicitation or advertisement for the address) and
   * of its IPv6 source (a station using the address; a DAD probe's source is ::). A watcher hears the
   * station a frame names as the address's holder: an advertisement's target link-layer option, or a
   * solicitation's source option when it comes from the address — only from on the link (hop limit 255).
   */
  private static routeNd(route: Route, frame: NdFrame): void {
    const { target } = frame.icmp;
    const source = frame.ipv6.src;
    LocalAddresses.feed(route, target, frame);
    if (source !== target) LocalAddresses.feed(route, source, frame);
    if (frame.srcMac === route.nd?.iface.mac || !isOnLink(frame)) return;
    const holder = frame.icmp.type === 'na' ? { ip: target, mac: frame.icmp.targetLinkAddr ?? frame.srcMac } : { ip: source, mac: frame.icmp.sourceLinkAddr ?? frame.srcMac };
    const watchers = route.watchers.get(holder.ip);
    if (watchers) for (const watcher of watchers) watcher(holder.mac);
  }

  /** The interface's ND socket, opened on first use; throws PacketIoError like the ARP socket. */
  private ndFor(ifname: string, route: Route): NdPort {
    if (route.nd !== null) return route.nd;
    const nd = this.host.openNd(ifname);
    nd.on('frame', ({ frame, mono }) => {
      LocalAddresses.routeNd(route, frame);
      this.ndFrameObserver?.(ifname, frame, mono);
    });
    nd.on('lost', (error) => {
      if (this.sockets.get(ifname) === route && route.nd === nd) this.loseInterface(ifname, { kind: 'capture-lost', detail: error.message });
    });
    route.nd = nd;
    return nd;
  }

  /**
   * The socket a claim of `ip` runs on; for IPv6, its solicited-node group listened to until unlisten()
   * (the ND socket counts the claims of each address: a probe and a held claim of one address overlap).
   */
  private claimPort(ifname: string, route: Route, ip: string): ClaimPort {
    if (!ip.includes(':')) return route.socket;
    const nd = this.ndFor(ifname, route);
    nd.listenFor(ip);
    return nd;
  }

  /** A claim of `ip` on this route ended (a no-op for IPv4). */
  private static unlisten(route: Route, ip: string): void {
    if (!ip.includes(':')) return;
    try {
      route.nd?.stopListeningFor(ip);
    } catch {
      // The interface went away with its memberships.
    }
  }

  /** Hands every captured ARP frame to `observer` as well (one observer; null removes it). */
  observeFrames(observer: FrameObserver | null): void {
    this.frameObserver = observer;
  }

  /** Hands the repeats a folding socket counted to `observer` (one observer; null removes it). */
  observeRepeats(observer: RepeatsObserver | null): void {
    this.repeatsObserver = observer;
  }

  /**
   * Hands every captured ND frame to `observer` as well (one observer; null removes it). Only interfaces
   * where an IPv6 address is held, probed or watched, or that would carry an IPv6 resource
   * (watchInterface), have an ND socket; what it hears is what reaches
   * this host: advertisements to all nodes, solicitations to the groups it listens to, frames to its MAC.
   */
  observeNdFrames(observer: NdFrameObserver | null): void {
    this.ndFrameObserver = observer;
  }

  /**
   * Captures on `ifname` even with nothing held there (the ARP watch covers every interface of a
   * resource); `nd`: neighbour discovery as well (an interface that would carry an IPv6 resource), so
   * the watch there hears the advertisements of a handoff or a rogue, whichever node it is on.
   */
  watchInterface(ifname: string, nd = false): void {
    const open = this.sockets.get(ifname);
    if (open !== undefined && (!nd || open.nd !== null)) return;
    try {
      const route = open ?? this.socketFor(ifname);
      if (nd) this.ndFor(ifname, route);
    } catch (error) {
      this.emit('warning', `${nd ? 'ARP and ND' : 'ARP'} watch on ${ifname}: ${(error as Error).message}`);
    }
  }

  /** Sends one frame on an interface this node captures on (false when it has no socket there). */
  send(ifname: string, frame: ArpFrame): boolean {
    const route = this.sockets.get(ifname);
    if (!route) return false;
    route.socket.send(frame);
    return true;
  }

  /**
   * Sends one ND frame on an interface this node captures on, through its ND socket (opened now if no
   * IPv6 address used it yet); false when the node has no socket there. Throws what the socket throws.
   */
  sendNd(ifname: string, frame: NdFrame): boolean {
    const route = this.sockets.get(ifname);
    if (!route) return false;
    this.ndFor(ifname, route).send(frame);
    return true;
  }

  /** Interfaces this node captures on or holds addresses on. */
  interfaces(): string[] {
    const names = new Set(this.sockets.keys());
    for (const entry of this.held.values()) names.add(entry.request.ifname);
    return [...names];
  }

  /**
   * Looks at every interface in use (one read of each per call): any that became unusable or is not the
   * one its capture was opened on loses its addresses and its capture (see loseInterface). Returns the
   * faults found. `read` is the state reader (the host's, unless a caller has read the states already).
   */
  checkInterfaces(read: (ifname: string) => InterfaceState | null = (ifname) => this.host.interfaceState(ifname)): Array<{ ifname: string; fault: InterfaceFault }> {
    const faults: Array<{ ifname: string; fault: InterfaceFault }> = [];
    for (const ifname of this.interfaces()) {
      const opened = this.sockets.get(ifname)?.socket.iface ?? null;
      const fault = interfaceFault(opened, read(ifname));
      if (fault === null) continue;
      faults.push({ ifname, fault });
      this.loseInterface(ifname, fault);
    }
    return faults;
  }

  /**
   * The interface cannot carry our addresses now: drop every address held there at once (no defence:
   * nobody can hear it, or it would be announced with a stale MAC), end the probes running there (they
   * would report silence as "free"), close the capture. A renamed interface keeps its addresses under its
   * new name, so they are also removed by our kernel mark wherever they are. Addresses and capture come
   * back through hold() and watchInterface() once the interface is usable again.
   */
  private loseInterface(ifname: string, fault: InterfaceFault): void {
    const route = this.sockets.get(ifname);
    this.sockets.delete(ifname);
    const entries = [...this.held.values()].filter((entry) => entry.request.ifname === ifname);
    for (const entry of entries) entry.claim.linkDown();
    try {
      this.host.addresses.removeOwnedAnywhere(entries.map((entry) => ({ ip: entry.request.ip, prefix: entry.request.prefix })));
    } catch (error) {
      this.emit('warning', `removing addresses of ${ifname}: ${(error as Error).message}`);
    }
    if (route) {
      for (const probes of route.probes.values()) for (const claim of probes) claim.linkDown();
      route.watchers.clear();
      route.socket.close();
      route.nd?.close();
    }
    this.probeAnswers.forget(ifname);
    this.emit('interface-fault', ifname, fault, entries.map((entry) => entry.request.resource));
  }

  /**
   * Frames the kernel dropped on this node's capture socket of `ifname` (ARP, or ND for `ipv6`) since it opened (its ring was
   * full), up to date; null when unknown (no socket there, counters unreadable).
   */
  kernelDropped(ifname: string, family: 'ipv4' | 'ipv6' = 'ipv4'): number | null {
    const route = this.sockets.get(ifname);
    const socket = family === 'ipv4' ? route?.socket : route?.nd;
    return socket?.refreshKernelStats().kernelDropped ?? null;
  }

  /** The counters of every capture socket open now, ARP and ND (since it opened: a socket opened again starts at 0). */
  captureStats(): CaptureReading[] {
    const readings: CaptureReading[] = [];
    const read = (ifname: string, protocol: CaptureProtocol, socket: { refreshKernelStats(): PacketStats<string> }): void => {
      const stats = socket.refreshKernelStats();
      readings.push({ ifname, protocol, received: stats.received, malformed: stats.malformed, kernelDropped: stats.kernelDropped });
    };
    for (const [ifname, route] of this.sockets) {
      read(ifname, 'arp', route.socket);
      if (route.nd !== null) read(ifname, 'nd', route.nd);
    }
    return readings;
  }

  macOfInterface(ifname: string): Mac | null {
    return this.sockets.get(ifname)?.socket.iface.mac ?? null;
  }

  /**
   * Watches who answers for `ip` on `ifname` (a standby watching the owner): `onAnswer` hears the sender
   * MAC of every ARP frame claiming the address. `ask()` sends one probe marked as a question
   * (codec.question: sender 0.0.0.0, so no cache on the LAN changes, and peers do not take it for a claim)
   * that makes the holder answer. Returns the controls; stop() ends the watch.
   */
  watchAddress(ifname: string, ip: string, onAnswer: (mac: Mac) => void): { ask: () => void; stop: () => void } {
    const route = this.socketFor(ifname);
    // IPv6: the question is a DAD probe carrying the nonce ipfo?? (nd/builders.ts buildDadQuestion); the
    // holder's kernel answers it with an advertisement to all nodes, which every node hears unjoined.
    const nd = ip.includes(':') ? this.ndFor(ifname, route) : null;
    const set = route.watchers.get(ip) ?? new Set<(mac: Mac) => void>();
    route.watchers.set(ip, set.add(onAnswer));
    LocalAddresses.sendersChanged(route);
    return {
      ask: () => {
        try {
          if (nd !== null) nd.send(buildDadQuestion(nd.iface.mac, ip));
          else route.socket.send(question(route.socket.iface.mac, ip));
        } catch (error) {
          this.emit('warning', `watch ${ip}: ${(error as Error).message}`);
        }
      },
      stop: () => {
        set.delete(onAnswer);
        if (set.size === 0 && route.watchers.get(ip) === set) {
          route.watchers.delete(ip);
          LocalAddresses.sendersChanged(route);
        }
      },
    };
  }

  /**
   * `onTooLate`: the registration was refused for coming after registrationDeadline. `registered`: how a
   * batch registration of this address went (holdMany), taken as the claim's first registration.
   */
  private registrarFor(onTooLate: () => void, registered?: RegistrarResult, removedInBatch: () => boolean = () => false): AddressRegistrar {
    let batched = registered;
    return {
      add: (ifname, ip, prefix) => {
        const [result] = batched !== undefined ? [batched] : this.host.addresses.register([this.virtualAddress(ifname, ip, prefix)], this.registrationDeadline());
        batched = undefined;
        if (result && !result.ok) {
          if (result.code === DEADLINE_PASSED) onTooLate();
          throw new Error(result.message);
        }
      },
      remove: (ifname, ip, prefix) => {
        // Each removal on its own reads the interface's address list: after a batch, 1,000 of them
        // read a list of thousands each and blocked the loop for seconds.
        if (removedInBatch()) return;
        const [result] = this.host.addresses.deregister([{ ifname, ip, prefix }]);
        if (result && !result.ok) throw new Error(result.message);
      },
    };
  }

  private virtualAddress(ifname: string, ip: Ipv4, prefix: number, lifetimeSec = this.lifetimeSec): VirtualAddress {
    return lifetimeSec === null ? { ifname, ip, prefix } : { ifname, ip, prefix, validLftSec: lifetimeSec, preferredLftSec: lifetimeSec };
  }

  has(resource: string): boolean {
    return this.held.has(resource);
  }

  isReady(resource: string): boolean {
    return this.held.get(resource)?.ready ?? false;
  }

  macOf(resource: string): Mac | null {
    return this.held.get(resource)?.claim.mac ?? null;
  }

  ifnameOf(resource: string): string | null {
    return this.held.get(resource)?.request.ifname ?? null;
  }

  resources(): string[] {
    return [...this.held.keys()];
  }

  /**
   * A batch move's take-over: every address registered in one netlink batch first (the handoff-critical
   * part), then each claim starts as hold() does (`acd.skipProbe`: announce at once) with its
   * registration already made. Requests whose interface cannot be opened fail alone.
   */
  holdMany(requests: readonly HoldRequest[]): Array<Promise<HoldOutcome>> {
    const usable = requests.map((request) => {
      if (this.held.has(request.resource)) return `internal: ${request.resource} is already held`;
      try {
        this.socketFor(request.ifname);
        return null;
      } catch (error) {
        return holdFailureReason(error);
      }
    });
    const toRegister = requests.filter((_, i) => usable[i] === null);
    const results = toRegister.length === 0 ? [] : this.host.addresses.register(toRegister.map((r) => this.virtualAddress(r.ifname, r.ip, r.prefix)), this.registrationDeadline());
    let next = 0;
    return requests.map((request, i) => {
      const unusable = usable[i];
      if (unusable !== null && unusable !== undefined) return Promise.resolve({ kind: 'failed' as const, reason: unusable });
      return this.hold(request, results[next++]);
    });
  }

  /** Probe (per request.acd), register, announce; resolves when the address is ready or the claim ended. */
  hold(request: HoldRequest, registered?: RegistrarResult): Promise<HoldOutcome> {
    if (this.held.has(request.resource)) throw new Error(`internal: ${request.resource} is already held`);
    const route = this.socketFor(request.ifname);
    const socket = this.claimPort(request.ifname, route, request.ip);
    const { byIp } = route;
    let registeredTooLate = false;
    const removal = { inBatch: false };
    const registrar = this.registrarFor(() => (registeredTooLate = true), registered, () => removal.inBatch);
    const claim = new AddressClaim({ ip: request.ip, prefix: request.prefix, socket, registrar, config: request.acd, subscribe: false, permitSend: this.permitSend });
    const entry: Held = { request, claim, ready: false, removal };
    this.held.set(request.resource, entry);
    byIp.set(request.ip, entry);
    LocalAddresses.sendersChanged(route);
    claim.on('warning', (text) => this.emit('warning', `${request.resource}: ${text}`));
    return new Promise((resolve) => {
      claim.on('event', (event) => {
        if (event.type === 'ready') {
          const settling = this.host.addresses.settled();
          if (settling === null) {
            entry.ready = true;
            resolve({ kind: 'ready', mac: claim.mac });
          } else {
            // Ready once the host carries it: a registration it refuses later fails the hold, as at once on Linux.
            entry.settling = true;
            void settling.then(() => {
              entry.settling = false;
              if (this.held.get(request.resource) !== entry) return; // the claim ended meanwhile
              const failure = entry.lateFailure;
              if (failure === undefined && this.carries(request.ifname, request.ip)) {
                entry.ready = true;
                resolve({ kind: 'ready', mac: claim.mac });
                return;
              }
              resolve({ kind: 'failed', reason: failure === undefined ? 'the host does not carry the address' : failure.code === DEADLINE_PASSED ? LEASE_UNCONFIRMED : failure.message });
              claim.stop();
            });
          }
        }
        if (event.type === 'used-by' || event.type === 'down') {
          this.forget(entry, route);
          if (event.type === 'used-by') resolve({ kind: 'used-by', macs: event.macs });
          else resolve({ kind: 'failed', reason: registeredTooLate ? LEASE_UNCONFIRMED : (event.detail ?? event.reason) });
        }
        this.emit('event', request.resource, event);
      });
      claim.start();
    });
  }

  /**
   * Probe only (a move's pre-flight): who answers for the address? Answers from trustedMac (the current
   * owner) are expected and left out. Never registers anything.
   */
  probe(request: { resource: string; ip: Ipv4; ifname: string; trustedMac: Mac | null; acd: Partial<AcdConfig> }): Promise<ProbeVerdict> {
    const route = this.socketFor(request.ifname);
    const socket = this.claimPort(request.ifname, route, request.ip);
    const { probes } = route;
    const neverRegisters: AddressRegistrar = {
      add: () => {
        throw new Error('internal: a probe must not register an address');
      },
      remove: () => undefined,
    };
    const claim = new AddressClaim({ ip: request.ip, prefix: maxPrefixOf(request.ip), socket, registrar: neverRegisters, config: { ...request.acd, mode: 'probe-only', trustedMac: request.trustedMac }, subscribe: false });
    const running = probes.get(request.ip) ?? new Set<AddressClaim>();
    probes.set(request.ip, running.add(claim));
    LocalAddresses.sendersChanged(route);
    let trustedAnswered = false;
    return new Promise((resolve) => {
      claim.on('event', (event) => {
        if (event.type === 'trusted-answer') trustedAnswered = true;
        if (event.type === 'free' || event.type === 'used-by' || event.type === 'down') {
          running.delete(claim);
          if (running.size === 0 && probes.get(request.ip) === running) {
            probes.delete(request.ip);
            LocalAddresses.sendersChanged(route);
          }
          LocalAddresses.unlisten(route, request.ip);
          resolve({ macs: event.type === 'used-by' ? event.macs : [], trustedAnswered, interrupted: event.type === 'down' });
        }
      });
      claim.start();
    });
  }

  private forget(entry: Held, route: Route): void {
    if (this.held.get(entry.request.resource) !== entry) return;
    this.held.delete(entry.request.resource);
    if (route.byIp.get(entry.request.ip) === entry) {
      route.byIp.delete(entry.request.ip);
      LocalAddresses.sendersChanged(route);
    }
    LocalAddresses.unlisten(route, entry.request.ip);
  }

  /** Another node saw `mac` claim the held address of `resource` (frames this node could not see). */
  peerReport(resource: string, mac: Mac): void {
    const entry = this.held.get(resource);
    if (entry?.ready) entry.claim.peerReport(mac);
  }

  /**
   * Announces a held, ready address once more (a cache refresh, the operator's "announce now"): its MAC
   * and interface when the frames went out, null when it is not held ready here or may not be sent for.
   */
  reannounce(resource: string): { mac: Mac; ifname: string } | null {
    const entry = this.held.get(resource);
    if (entry === undefined || !entry.ready || !entry.claim.reannounce()) return null;
    return { mac: entry.claim.mac, ifname: entry.claim.ifname };
  }

  /** Deregisters and ends the claim (idempotent). */
  release(resource: string): void {
    this.held.get(resource)?.claim.stop();
  }

  /** Drops many addresses in one netlink batch first (the handoff-critical part), then ends their claims. */
  releaseMany(resources: readonly string[]): void {
    const entries = resources.flatMap((r) => this.held.get(r) ?? []);
    const results = this.host.addresses.deregister(entries.map((e) => ({ ifname: e.request.ifname, ip: e.request.ip, prefix: e.request.prefix })));
    entries.forEach((entry, i) => {
      entry.removal.inBatch = results[i]?.ok === true;
      entry.claim.stop();
    });
  }

  /** Fencing: every address goes, at once, without defending anything. */
  fenceAll(): void {
    this.releaseMany(this.resources());
  }

  /**
   * Puts the station addresses of `subnets` (stations-behind-ours.ts) first again: the addresses of
   * ours there that this node holds are removed and registered again in two netlink batches, so the
   * kernel promotes the station address to primary and ours follow it as secondaries. They are gone
   * for the microseconds between the batches (a frame to them then is retried by its sender; their
   * MAC does not change, so no announcement is due). Done only where removing a primary keeps the
   * secondaries (prepareInterface): elsewhere it would take the station address along. Returns how
   * many addresses were registered again.
   */
  putStationsFirst(subnets: readonly StationBehindOurs[]): number {
    let moved = 0;
    for (const { ifname, station, ours } of subnets) {
      const listed = new Set(ours.map((a) => `${a.ip}/${a.prefix}`));
      const mine = [...this.held.values()].filter((e) => e.request.ifname === ifname && listed.has(`${e.request.ip}/${e.request.prefix}`));
      if (mine.length === 0) continue;
      if (!this.host.prepareInterface(ifname)) {
        this.emit('warning', `${station.ip} on ${ifname} comes after our ${ours[0]?.ip ?? 'address'}, which the host uses as its source address; not reordered: ${ifname} would drop its secondaries with the primary`);
        continue;
      }
      const addresses = mine.map((e) => this.virtualAddress(e.request.ifname, e.request.ip, e.request.prefix));
      const removed = this.host.addresses.deregister(addresses);
      const added = this.host.addresses.register(addresses.filter((_, i) => removed[i]?.ok === true));
      for (const result of [...removed, ...added]) if (!result.ok) this.emit('warning', `putting ${station.ip} first on ${ifname}: ${result.address.ip}: ${result.message}`);
      const count = added.filter((r) => r.ok).length;
      moved += count;
      this.emit('warning', `${station.ip} on ${ifname} is the primary address again (it had come back behind our ${ours.map((a) => a.ip).join(', ')}, and the host sent its own traffic from a virtual address): ${count} of ours registered again behind it`);
    }
    return moved;
  }

  /**
   * Renews the kernel lifetime of every ready address (the membership was just confirmed), unless the
   * kernel would only see it after `notAfterNs`: then nothing is renewed and false comes back.
   */
  renew(lifetimeSec: number, notAfterNs?: bigint): boolean {
    const ready = [...this.held.values()].filter((e) => e.ready);
    if (ready.length === 0) {
      this.lifetimeSec = lifetimeSec;
      return true;
    }
    const results = this.host.addresses.register(ready.map((e) => this.virtualAddress(e.request.ifname, e.request.ip, e.request.prefix, lifetimeSec)), notAfterNs);
    if (results.some((r) => !r.ok && r.code === DEADLINE_PASSED)) return false;
    this.lifetimeSec = lifetimeSec;
    for (const result of results) if (!result.ok) this.emit('warning', `renew ${result.address.ip}: ${result.message}`);
    return true;
  }

  close(): void {
    this.unsubscribeLate();
    this.probeAnswers.close();
    const routes = [...this.sockets.values()];
    this.sockets.clear();
    for (const { socket, nd } of routes) {
      socket.close();
      nd?.close();
    }
  }
}
