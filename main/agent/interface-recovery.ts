// An interface fault, ridden out: every interface in use is looked at each pass; one that is down,
// without carrier, gone, re-created or has a new MAC loses its addresses and its capture at once
// (LocalAddresses.checkInterfaces, reported to onFault). When it is usable again the ARP watch's capture
// reopens, the node reconciles to hold its addresses there again — but only after a keepalive sent since
// the fault was confirmed (its lease may have been revoked meanwhile) — and a new MAC goes into the node
// record so peers still recognise this node.
import { macsForRecord } from '../store/node-record';
import type { NodeName } from '../cluster/model';
import type { Host } from '../host/host';
import { describeInterfaceFault, interfaceFault, type InterfaceFault } from '../net/interface-fault';
import type { ClusterStore, Membership } from '../store/store';
import type { ClusterView } from './cluster-view';
import type { LocalAddresses } from './local-addresses';
import { plural } from '../../preload/contract/plural';

/** How long after an interface fault a missing interface counts as passing (down, re-created, renamed back). */
const INTERFACE_RECOVERY_MS = 30_000;
/** Interfaces that came back are looked for this often (no store change need arrive to say so). */
const RECOVERY_POLL_MS = 200;

export interface InterfaceRecoveryContext {
  node: NodeName;
  host: Host;
  local: LocalAddresses;
  store: ClusterStore;
  view(): ClusterView;
  membership(): Membership | null;
  leaseHealthy(): boolean;
  stopping(): boolean;
  schedule(): void;
  /** The fault dropped these held resources. */
  released(resources: readonly string[]): void;
  /** The standby's probes went out on the closed capture. */
  forgetStandby(ifname: string): void;
  now(): number;
  log(line: string): void;
}

export class InterfaceRecovery {
  /** When each interface with a fault not yet recovered from had it. */
  private readonly lostAt = new Map<string, number>();
  /** The interfaces the ARP watch should capture on (re-opened when one comes back after a fault). */
  private watched = new Set<string>();
  /** Those of them that would carry an IPv6 resource: watched over neighbour discovery too. */
  private watchedNd: ReadonlySet<string> = new Set<string>();
  private lastPoll = 0;
  /** A fault may have changed our MACs: the node record is compared (and updated) once usable. */
  private macsMayHaveChanged = false;

  constructor(private readonly context: InterfaceRecoveryContext) {}

  /** One pass (every 50 ms): faults found now, interfaces back since. */
  poll(): void {
    this.context.local.checkInterfaces();
    this.recover();
  }

  /** LocalAddresses dropped what `ifname` held: remember when, and reconcile. */
  onFault(ifname: string, fault: InterfaceFault, dropped: string[]): void {
    this.lostAt.set(ifname, this.context.now());
    this.macsMayHaveChanged = true;
    this.context.log(`${describeInterfaceFault(ifname, fault)}: dropped ${plural(dropped.length, 'address')}${dropped.length > 0 ? ` (${dropped.join(', ')})` : ''}; capture closed until it is back`);
    this.context.released(dropped);
    this.context.forgetStandby(ifname);
    this.context.schedule();
  }

  /**
   * The ARP watch covers exactly these interfaces from now on (those usable now open at once), those of
   * `nd` over neighbour discovery as well.
   */
  watch(ifnames: Set<string>, nd: ReadonlySet<string> = new Set()): void {
    this.watched = ifnames;
    this.watchedNd = nd;
    for (const ifname of ifnames) if (this.usable(ifname)) this.context.local.watchInterface(ifname, nd.has(ifname));
  }

  /**
   * True while one of our interfaces had a fault in the last INTERFACE_RECOVERY_MS (looked at afresh
   * first: the reconcile may run before the periodic check noticed). A missing interface is then taken
   * for a passing fault, not a misconfiguration; after that window it is reported as before.
   */
  recovering(): boolean {
    this.context.local.checkInterfaces();
    const now = this.context.now();
    for (const lostAt of this.lostAt.values()) if (now - lostAt < INTERFACE_RECOVERY_MS) return true;
    return false;
  }

  /**
   * After a link was down, what this node believes may be stale (a standby may have revoked its lease
   * meanwhile): it holds addresses on that link again only after a keepalive sent since the link was
   * lost came back confirmed.
   */
  confirmedSinceLoss(ifname: string): boolean {
    const lostAt = this.lostAt.get(ifname);
    const membership = this.context.membership();
    if (lostAt === undefined || !membership) return true;
    const lastConfirmedSend = membership.validUntil() - membership.ttlSec * 1000;
    if (lastConfirmedSend <= lostAt) return false;
    this.lostAt.delete(ifname);
    return true;
  }

  /**
   * Peers recognise this node's ARP by the MACs of its node record: a probe or an announcement from a MAC
   * they do not know yet is a stranger's, and the node taking the address over fails it as a conflict
   * (lab: n1's interface took a new MAC, n1 probed to take its addresses back a moment before its record
   * said so, and n2 failed all three). False until the record shows `mac` (the interface's MAC now) for
   * it; the record is then brought up to date by the next pass.
   */
  macKnown(ifname: string, mac: string): boolean {
    const known = this.context.view().nodes.get(this.context.node)?.macs[ifname] === mac;
    if (!known) this.macsMayHaveChanged = true;
    return known;
  }

  private usable(ifname: string): boolean {
    return interfaceFault(null, this.context.host.interfaceState(ifname)) === null;
  }

  private recover(): void {
    const now = this.context.now();
    if (this.context.stopping() || now - this.lastPoll < RECOVERY_POLL_MS) return;
    this.lastPoll = now;
    const inUse = new Set(this.context.local.interfaces());
    for (const ifname of this.watched) if (!inUse.has(ifname) && this.usable(ifname)) this.context.local.watchInterface(ifname, this.watchedNd.has(ifname));
    for (const ifname of this.lostAt.keys()) {
      if (!this.usable(ifname)) continue;
      if (this.context.membership() && this.confirmedSinceLoss(ifname)) this.context.log(`interface ${ifname} is usable again`);
      this.context.schedule();
    }
    if (this.macsMayHaveChanged && this.context.leaseHealthy()) this.updateOwnMacs();
  }

  /** Peers recognise this node's ARP by the MACs of its record (handoffs, peers' probes): keep them true. */
  private updateOwnMacs(): void {
    const { host, store, node } = this.context;
    const macs = macsForRecord(host.macs());
    const recorded = this.context.view().nodes.get(node)?.macs ?? {};
    // An interface still recovering may change again before it is back: look again until none is.
    this.macsMayHaveChanged = this.lostAt.size > 0;
    // Mid-fault (an interface deleted, renamed) the list is not the node's: wait until every one is back.
    if (this.macsMayHaveChanged || Object.keys(macs).length === 0) return;
    if (JSON.stringify(Object.entries(macs).sort()) === JSON.stringify(Object.entries(recorded).sort())) return;
    this.context.log(`interface MACs changed: telling the cluster (${Object.entries(macs).map(([i, m]) => `${i} ${m}`).join(', ')})`);
    store.setNodeMacs(node, macs).catch((error: unknown) => {
      this.context.log(`could not record the new MACs: ${String(error)}`);
      this.macsMayHaveChanged = true;
    });
  }
}
