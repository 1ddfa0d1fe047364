// `ipfo watch --audit <cidr>`, the pure part: which addresses a sweep asks for, how it is paced, and the
// ledger that turns the binding tracker's events (bindings.ts: duplicate-address, flip-flop, new-station)
// into the audit's findings for the addresses of the CIDR, once per address and pair of MACs, with vendors.
import { formatIpv4, parseIpv4, prefixMask } from '../arp/addresses';
import type { Ipv4, Mac } from '../arp/frame';
import type { WatchEvent } from './events';
import type { VendorLookup } from './oui';

/** The sweep never sends faster than this (frames per second), whatever the CIDR and --every. */
export const MAX_SWEEP_RATE = 5000;
/** The sweep's timer period, ms: each tick sends one batch. */
export const SWEEP_TICK_MS = 10;

/** Every address of network/prefix a station can hold: without the network and broadcast addresses below a /31. */
export function sweepAddresses(network: Ipv4, prefix: number): Ipv4[] {
  const base = (parseIpv4(network) & prefixMask(prefix)) >>> 0;
  const size = 2 ** (32 - prefix);
  const [first, last] = prefix >= 31 ? [0, size - 1] : [1, size - 2];
  const addresses: Ipv4[] = [];
  for (let i = first; i <= last; i++) addresses.push(formatIpv4(base + i));
  return addresses;
}

export interface SweepPlan {
  /** Requests per tick. */
  batch: number;
  tickMs: number;
  /** How long one sweep takes, ms. */
  sweepMs: number;
}

/**
 * Paces a sweep of `count` addresses every `everyMs`: spread over half the period (the other half is
 * quiet for late answers), in batches every SWEEP_TICK_MS, never faster than MAX_SWEEP_RATE. A /24 every
 * second: 6 requests per 10 ms, 430 ms a sweep. A /16 cannot be swept in a second at that rate: it takes
 * 13.1 s, and the next sweep starts when it ends.
 */
export function sweepPlan(count: number, everyMs: number): SweepPlan {
  const ticks = Math.max(1, Math.floor(everyMs / 2 / SWEEP_TICK_MS));
  const maxBatch = Math.max(1, Math.floor((MAX_SWEEP_RATE * SWEEP_TICK_MS) / 1000));
  const batch = Math.min(maxBatch, Math.max(1, Math.ceil(count / ticks)));
  return { batch, tickMs: SWEEP_TICK_MS, sweepMs: Math.ceil(count / batch) * SWEEP_TICK_MS };
}

export interface AuditFinding {
  type: 'duplicate' | 'flip-flop';
  at: number;
  ip: Ipv4;
  /** Sorted. */
  macs: Mac[];
  vendors: Array<string | null>;
}

export interface AuditSummary {
  /** Addresses of the CIDR that some station claimed (sent ARP from, answered for). */
  stations: number;
  duplicates: Array<{ ip: Ipv4; macs: Mac[]; vendors: Array<string | null> }>;
  flipFlops: Array<{ ip: Ipv4; macs: Mac[]; vendors: Array<string | null> }>;
}

/** The audit's findings in one CIDR, each address and pair of MACs reported once. */
export class AuditLedger {
  private readonly base: number;
  private readonly mask: number;
  private readonly stations = new Set<Ipv4>();
  private readonly duplicates = new Map<Ipv4, Set<Mac>>();
  private readonly flipFlops = new Map<Ipv4, Set<Mac>>();
  private readonly reported = new Set<string>();

  constructor(network: Ipv4, prefix: number, private readonly vendorOf: VendorLookup = () => null) {
    this.mask = prefixMask(prefix);
    this.base = (parseIpv4(network) & this.mask) >>> 0;
  }

  contains(ip: Ipv4): boolean {
    return ((parseIpv4(ip) & this.mask) >>> 0) === this.base;
  }

  /** The findings `event` brings (none for addresses outside the CIDR, other kinds, or a pair already reported). */
  observe(event: WatchEvent): AuditFinding[] {
    switch (event.type) {
      case 'new-station':
        if (this.contains(event.ip)) this.stations.add(event.ip);
        return [];
      case 'duplicate-address':
        return this.note('duplicate', this.duplicates, event.at, event.ip, event.macs);
      case 'flip-flop':
        return this.note('flip-flop', this.flipFlops, event.at, event.ip, event.macs);
      default:
        return [];
    }
  }

  summary(): AuditSummary {
    const list = (map: Map<Ipv4, Set<Mac>>) => [...map]
      .sort(([a], [b]) => parseIpv4(a) - parseIpv4(b))
      .map(([ip, macs]) => {
        const sorted = [...macs].sort();
        return { ip, macs: sorted, vendors: sorted.map((mac) => this.vendorOf(mac)) };
      });
    return { stations: this.stations.size, duplicates: list(this.duplicates), flipFlops: list(this.flipFlops) };
  }

  private note(type: AuditFinding['type'], map: Map<Ipv4, Set<Mac>>, at: number, ip: Ipv4, pair: readonly [Mac, Mac]): AuditFinding[] {
    if (!this.contains(ip)) return [];
    this.stations.add(ip);
    const macs = [...pair].sort();
    const key = `${type} ${ip} ${macs.join(' ')}`;
    const known = map.get(ip) ?? new Set<Mac>();
    for (const mac of macs) known.add(mac);
    map.set(ip, known);
    if (this.reported.has(key)) return [];
    this.reported.add(key);
    return [{ type, at, ip, macs, vendors: macs.map((mac) => this.vendorOf(mac)) }];
  }
}
