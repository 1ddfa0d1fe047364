// Convergence after a takeover. After a planned move the old owner watches for stations that still send to
// its MAC (convergence.ts); after a takeover the old owner is dead and frames to its MAC reach nobody who
// listens. So the new owner works from what the cluster knew before: the stations every node's ARP watch
// recorded on the address's subnet (the binding tables in the store). Each is told the new MAC with a
// unicast gratuitous ARP, again after `garpSpacingMs` (up to `garps` times) until it is seen sending to the
// address at the new MAC; the report names who was told, who has been seen using the new MAC, and who has
// not been heard from (idle, or a cache that ignores gratuitous ARP). An IPv6 address's stations are the
// tables' IPv6 entries in its prefix (the ND watch's), told by unicast neighbour advertisement instead.
// Pure: stations, frames and times in; sends and the report out.
import type { Ipv4, Mac } from '../arp/frame';
import type { SendGarpEffect } from './convergence';
import { sameSubnet } from '../arp/addresses';
import { parseIpv6 } from '../nd/addresses';
import { plural } from '../../preload/contract/plural';

export interface KnownStation {
  mac: Mac;
  ip: Ipv4;
  vendor: string | null;
}

export interface TakeoverConvergenceOptions {
  /** How long stations are waited for. Default 10 s. */
  windowMs?: number;
  /** Unicast gratuitous ARPs per station at most. Default 3. */
  garps?: number;
  /** Between two of them to a station not seen yet. Default 1000 ms. */
  garpSpacingMs?: number;
}

export interface TakeoverReport {
  ip: Ipv4;
  /** The node the address was taken from. */
  from: string;
  told: KnownStation[];
  /** Stations seen sending to the address at the new MAC. */
  seen: Mac[];
  /** Stations not heard from within the window. */
  unheard: Mac[];
  /** From the takeover to the last station first seen; null when none was. */
  afterMs: number | null;
  reason: 'all-seen' | 'window-ended';
}

interface Told {
  station: KnownStation;
  garps: number;
  lastGarpAt: number;
  seenAt: number | null;
}

export class TakeoverConvergence {
  private readonly stations = new Map<Mac, Told>();
  private readonly windowMs: number;
  private readonly garps: number;
  private readonly garpSpacingMs: number;
  private ended = false;

  constructor(
    readonly ip: Ipv4,
    readonly from: string,
    readonly startedAt: number,
    stations: readonly KnownStation[],
    options: TakeoverConvergenceOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 10_000;
    this.garps = options.garps ?? 3;
    this.garpSpacingMs = options.garpSpacingMs ?? 1000;
    for (const station of stations) if (!this.stations.has(station.mac) && station.ip !== ip) this.stations.set(station.mac, { station, garps: 0, lastGarpAt: Number.NEGATIVE_INFINITY, seenAt: null });
  }

  get done(): boolean {
    return this.ended;
  }

  /** A frame from `mac` to the address at the new MAC: that station uses it. */
  onFrame(mac: Mac, now: number): void {
    const told = this.stations.get(mac);
    if (told && told.seenAt === null && !this.ended) told.seenAt = now;
  }

  /** Time passes (the first call sends the first round): the sends due, and the report once it is over. */
  tick(now: number): { sends: SendGarpEffect[]; report: TakeoverReport | null } {
    if (this.ended) return { sends: [], report: null };
    const all = [...this.stations.values()];
    if (all.every((t) => t.seenAt !== null)) return { sends: [], report: this.end('all-seen') };
    if (now - this.startedAt >= this.windowMs) return { sends: [], report: this.end('window-ended') };
    const sends: SendGarpEffect[] = [];
    for (const told of all) {
      if (told.seenAt !== null || told.garps >= this.garps || now - told.lastGarpAt < this.garpSpacingMs) continue;
      told.garps += 1;
      told.lastGarpAt = now;
      sends.push({ kind: 'send-garp', toMac: told.station.mac, toIp: told.station.ip });
    }
    return { sends, report: null };
  }

  private end(reason: TakeoverReport['reason']): TakeoverReport {
    this.ended = true;
    const all = [...this.stations.values()];
    const seen = all.filter((t) => t.seenAt !== null);
    const lastSeen = seen.reduce((latest, t) => Math.max(latest, t.seenAt!), Number.NEGATIVE_INFINITY);
    return {
      ip: this.ip,
      from: this.from,
      told: all.map((t) => t.station),
      seen: seen.map((t) => t.station.mac).sort(),
      unheard: all.filter((t) => t.seenAt === null).map((t) => t.station.mac).sort(),
      afterMs: seen.length === 0 ? null : Math.round(lastSeen - this.startedAt),
      reason,
    };
  }
}

/** The takeover's record in words. */
export function describeTakeoverConvergence(report: TakeoverReport): string {
  const told = report.told.length;
  if (told === 0) return `after the takeover from ${report.from}: no station of ${report.ip}'s subnet in the binding tables to tell`;
  const named = (macs: readonly Mac[]): string => macs.map((mac) => {
    const station = report.told.find((s) => s.mac === mac);
    // The OUI table words some vendors in parentheses already ("(locally administered)").
    const vendor = station?.vendor?.replace(/^\((.*)\)$/, '$1') ?? null;
    return station ? `${mac} (${station.ip}${vendor ? `, ${vendor}` : ''})` : mac;
  }).join(', ');
  const ipv6 = report.ip.includes(':');
  const how = ipv6 ? 'neighbour advertisement' : 'gratuitous ARP';
  const head = `after the takeover from ${report.from}: told ${plural(told, 'station')} the new MAC of ${report.ip} by unicast ${how}`;
  if (report.unheard.length === 0) return `${head}; all seen using it after ${report.afterMs} ms: ${named(report.seen)}`;
  return `${head}; seen using it: ${report.seen.length === 0 ? 'none' : named(report.seen)}; not heard from since: ${named(report.unheard)} (idle, or a cache that ignores ${ipv6 ? 'unsolicited advertisements' : how})`;
}

/** Stations told after one takeover at most (the most recently seen first). */
export const MAX_STATIONS_TOLD = 256;

/** What a binding table holds of a station (the store's NodeBindings entries). */
interface BindingEntry {
  ip: Ipv4;
  mac: Mac;
  vendor: string | null;
  lastSeen: number;
}

/** Whether the first `prefix` bits of two IPv6 addresses (16 bytes each) agree. */
function samePrefix6(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const whole = Math.floor(prefix / 8);
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const bits = prefix % 8;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
}

/** `ip`'s subnet test for stations of the same family (the tables hold IPv4 and IPv6 stations side by side). */
function subnetOf(ip: string, prefix: number): (station: string) => boolean {
  if (!ip.includes(':')) return (station) => !station.includes(':') && sameSubnet(station, ip, prefix);
  const bytes = parseIpv6(ip);
  return (station) => station.includes(':') && samePrefix6(parseIpv6(station), bytes, prefix);
}

/**
 * The stations to tell after a takeover of `ip`/`prefix`: every station of its subnet in the nodes' binding
 * tables (of its family: an IPv6 address's stations are the ND watch's entries in its prefix, link-local
 * ones never), once per MAC (its latest address), none of `exclude` (the cluster's own MACs), the most
 * recently seen first, at most `max`.
 */
export function stationsToTell(tables: ReadonlyArray<{ bindings: readonly BindingEntry[] }>, ip: string, prefix: number, exclude: ReadonlySet<Mac>, max = MAX_STATIONS_TOLD): KnownStation[] {
  const latest = new Map<Mac, BindingEntry>();
  const inSubnet = subnetOf(ip, prefix);
  for (const table of tables) {
    for (const binding of table.bindings) {
      if (exclude.has(binding.mac) || binding.ip === ip || !inSubnet(binding.ip)) continue;
      const known = latest.get(binding.mac);
      if (!known || binding.lastSeen > known.lastSeen) latest.set(binding.mac, binding);
    }
  }
  return [...latest.values()].sort((a, b) => b.lastSeen - a.lastSeen || a.mac.localeCompare(b.mac)).slice(0, max).map(({ mac, ip: stationIp, vendor }) => ({ mac, ip: stationIp, vendor }));
}
