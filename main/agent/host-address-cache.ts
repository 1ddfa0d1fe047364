// The host's addresses as the reconcile reads them: at most once per MAX_AGE_MS, and again after any
// of our own changes (invalidate). A mass operation (a drain, a failback of 1,000) asks once per
// resource, and each read is a netlink dump of every address.
import { performance } from 'node:perf_hooks';
import type { FailureReason, NodeName, ResourceSpec } from '../cluster/model';
import type { InterfaceAddress } from '../host/address-types';
import type { Host } from '../host/host';
import { chooseInterface, stationAddresses } from './interface-choice';

const MAX_AGE_MS = 100;
/**
 * The station addresses (an administrator's, never ours) change rarely, and reading them is a dump of
 * every address — 3,333 of ours on a node of a 10,000-address cluster — so they are read at most once
 * a second, and our own changes do not make them stale.
 */
const STATIONS_MAX_AGE_MS = 1000;

export type InterfaceForResource = { ok: true; ifname: string } | { ok: false; failure: FailureReason };

export class HostAddressCache {
  private cached: { at: number; all: InterfaceAddress[] } | null = null;
  private cachedStations: { at: number; stations: InterfaceAddress[]; both: InterfaceAddress[] } | null = null;
  /** "ifname ip" of every address of ours in the listing `all` (isPresent). */
  private ownedKeys: { all: InterfaceAddress[]; keys: Set<string> } | null = null;

  constructor(
    private readonly host: Host,
    private readonly node: NodeName,
    private readonly now: () => number = () => performance.now(),
  ) {}

  all(): InterfaceAddress[] {
    if (this.cached === null || this.now() - this.cached.at > MAX_AGE_MS) return this.fresh().all;
    return this.cached.all;
  }

  /** The host's own addresses that decide interfaces (interface-choice.ts): not the virtual ones it holds. */
  stations(): InterfaceAddress[] {
    if (this.cachedStations === null || this.now() - this.cachedStations.at > STATIONS_MAX_AGE_MS) return this.fresh().stations;
    return this.cachedStations.stations;
  }

  /** Every address of the host, both families, station and ours, as read with stations(): at most a second old. */
  listing(): InterfaceAddress[] {
    if (this.cachedStations === null || this.now() - this.cachedStations.at > STATIONS_MAX_AGE_MS) return this.fresh().both;
    return this.cachedStations.both;
  }

  /** Reads the host's addresses now. */
  private fresh(): { all: InterfaceAddress[]; stations: InterfaceAddress[]; both: InterfaceAddress[] } {
    const now = this.now();
    // One dump of both families: IPv6 station addresses choose an IPv6 resource's interface, and
    // everything else here (ours, isPresent) stays the IPv4 list it always was.
    const both = this.host.addresses.listAll(undefined, 'both');
    const all = both.some((a) => a.ip.includes(':')) ? both.filter((a) => !a.ip.includes(':')) : both;
    const stations = stationAddresses(both);
    this.cached = { at: now, all };
    this.cachedStations = { at: now, stations, both };
    return { all, stations, both };
  }

  invalidate(): void {
    this.cached = null;
  }

  /** Forgets the station addresses too: the next question reads the host again. */
  invalidateStations(): void {
    this.cached = null;
    this.cachedStations = null;
  }

  /** The interface this node would carry the resource's address on, or why there is none. */
  interfaceFor(spec: ResourceSpec): InterfaceForResource {
    let choice = chooseInterface(spec, this.node, this.stations());
    // No interface by a listing up to a second old: an interface deleted and re-created meanwhile
    // would fail the resource for good on a stale listing, so the host is asked again first — unless
    // the listing is as fresh as all() keeps it (1,000 resources on a missing interface asked once each).
    if (!choice.ok && this.now() - (this.cachedStations?.at ?? -Infinity) > MAX_AGE_MS) choice = chooseInterface(spec, this.node, this.fresh().stations);
    return choice.ok ? choice : { ok: false, failure: { kind: 'interface-missing', node: this.node, detail: choice.detail } };
  }

  /** Our address for the resource is registered on `ifname` (left by a predecessor, or still ours). */
  isPresent(spec: ResourceSpec, ifname: string): boolean {
    const all = this.all();
    // Asked for each of thousands of resources between two reads: one set per read, not a walk per question.
    if (this.ownedKeys?.all !== all) this.ownedKeys = { all, keys: new Set(all.filter((a) => a.owned).map((a) => `${a.ifname ?? ''} ${a.ip}`)) };
    return this.ownedKeys.keys.has(`${ifname} ${spec.ip}`);
  }
}
