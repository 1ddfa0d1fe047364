// The ARP watch's binding tracker: pure logic that turns decoded ARP frames from one
// interface into an IP <-> MAC table and events (see events.ts). No I/O and no timers: the
// caller passes the time with every frame and calls tick() now and then so that a storm
// that stops dead is still declared over.
//
// Built to keep up with 100,000 frames/s on one core: per frame it does one Map lookup
// (two on a VLAN-tagged frame), string comparisons and field updates; it allocates nothing
// unless the frame causes an event or a new binding. Recency for eviction is an intrusive
// doubly-linked list through the records, so "touch" is a few pointer moves, not a Map
// delete + set.
//
// IPv6 neighbour discovery goes through the same table (observeNd; what a frame says is nd-meaning.ts),
// keyed by RFC 5952 text beside the dotted quads, so a station's IPv4 and IPv6 addresses are two
// bindings of one MAC and every event reads the same for both. ND arrives frame by frame (the capture
// folds only ARP), and once read, a frame of either family takes one path (seen) that takes plain values,
// so the ARP path, the hot path of a flood, allocates no more than before.
import { classifyArp, type ArpKind } from '../arp/codec';
import { ZERO_IP, type ArpFrame, type Mac } from '../arp/frame';
import { canonicalIpv6, isIpv6 } from '../nd/addresses';
import { classifyNd, type NdKind } from '../nd/builders';
import type { NdFrame } from '../nd/frame';
import type { WatchedIp, WatchEvent, WatchFrameKind } from './events';
import { isClaim } from './frame-kind';
import { ndMeaning } from './nd-meaning';
import type { VendorLookup } from './oui';
import { StormDetector } from './storm';

/**
 * Addresses this host holds: a list, or a map to the MAC of the interface that holds each. IPv6 ones in
 * any RFC 4291 spelling (kept in RFC 5952 form, the form frames decode to).
 */
export type HeldAddresses = Iterable<WatchedIp> | ReadonlyMap<WatchedIp, Mac | null>;

export interface BindingTrackerOptions {
  /** MACs of this host's interfaces: their frames are recorded but never raise conflicts. */
  ownMacs?: Iterable<Mac>;
  /** Addresses this host holds at start; change later with setHeld(). */
  held?: HeldAddresses;
  /** A change back to a MAC seen for the IP within this many ms is a flip-flop. Default 60000. */
  flipFlopWindowMs?: number;
  /** Two MACs replying/announcing for one IP within this many ms is a duplicate address. Default 5000. */
  duplicateWindowMs?: number;
  /** More frames than this in the last second starts a storm. Default 500. */
  stormThresholdPerSec?: number;
  /** Fewer frames than this in the last second ends it (hysteresis). Default half the threshold. */
  stormQuietPerSec?: number;
  /** Table size; beyond it the least recently seen binding is evicted. Default 65536. */
  maxBindings?: number;
  /** Vendor names for MACs (the packaged table: main/agent/oui-directory.ts). */
  vendorOf: VendorLookup;
}

export interface PreviousMac {
  mac: Mac;
  /** Last frame from this MAC for the IP before another MAC took over. */
  lastSeen: number;
}

export interface Binding {
  ip: WatchedIp;
  /** 802.1Q VLAN of the frames, null when untagged. */
  vlan: number | null;
  /** The MAC of the most recent frame with this sender IP. */
  mac: Mac;
  vendor: string | null;
  /** First frame with this sender IP (any MAC) since the binding was created. */
  firstSeen: number;
  lastSeen: number;
  /** When the current MAC took the IP over. */
  macSince: number;
  /** Frames with this sender IP (any MAC). */
  count: number;
  /** How many times the MAC changed. */
  changes: number;
  /** Earlier MACs, most recent first, at most MAX_PREVIOUS_MACS. */
  previousMacs: readonly PreviousMac[];
}

export interface WatchStats {
  /** ARP frames (folded repeats counted one by one). */
  frames: number;
  byKind: Record<ArpKind, number>;
  /** Neighbour discovery frames, on the link or not; offLink: hop limit not 255, bound to nothing. */
  nd: { frames: number; byKind: Record<NdKind, number>; offLink: number };
  /** Both protocols' bindings: one table, one bound. */
  bindings: number;
  evictions: number;
  /** The storm is of ARP and ND frames together: both resolve addresses on the one link. */
  storming: boolean;
}

function emptyNdByKind(): Record<NdKind, number> {
  return { 'dad-probe': 0, solicitation: 0, 'unsolicited-advertisement': 0, 'solicited-advertisement': 0 };
}

/** Enough history to see an address alternate among a few MACs; older ones fall off. */
export const MAX_PREVIOUS_MACS = 4;

const NO_EVENTS: readonly WatchEvent[] = Object.freeze([]);

type GratuitousForm = Extract<WatchEvent, { type: 'gratuitous' }>['form'];

/** Mutable table entry; a class so every record shares one V8 shape. */
class BindingRecord {
  vendor: string | null;
  lastSeen: number;
  macSince: number;
  count = 1;
  changes = 0;
  previous: PreviousMac[] | null = null;
  /** Last claimant (reply/announcement) and when, for duplicate detection. */
  claimMac: Mac | null = null;
  claimAt = Number.NEGATIVE_INFINITY;
  /** Current flip-flop / duplicate episode, null until the first one is reported. */
  flipFlop: Episode | null = null;
  duplicate: Episode | null = null;
  /** This host holds the IP; ownMac is our MAC for it when known. */
  held = false;
  ownMac: Mac | null = null;
  older: BindingRecord | null = null;
  newer: BindingRecord | null = null;

  constructor(
    readonly ip: WatchedIp,
    readonly vlan: number | null,
    readonly table: Map<WatchedIp, BindingRecord>,
    public mac: Mac,
    vendor: string | null,
    readonly firstSeen: number,
  ) {
    this.vendor = vendor;
    this.lastSeen = firstSeen;
    this.macSince = firstSeen;
  }

  snapshot(): Binding {
    return {
      ip: this.ip, vlan: this.vlan, mac: this.mac, vendor: this.vendor,
      firstSeen: this.firstSeen, lastSeen: this.lastSeen, macSince: this.macSince,
      count: this.count, changes: this.changes,
      previousMacs: this.previous ? this.previous.map((p) => ({ ...p })) : [],
    };
  }
}

/** A reported flip-flop or duplicate: the two MACs, and the last frame that continued it. */
interface Episode {
  lastAt: number;
  readonly macs: readonly [Mac, Mac];
}

function samePair(pair: readonly [Mac, Mac], a: Mac, b: Mac): boolean {
  return (pair[0] === a && pair[1] === b) || (pair[0] === b && pair[1] === a);
}

/**
 * Once-per-episode reporting for flip-flops and duplicates. Between the same two MACs
 * within `windowMs` of the episode's last frame, the episode just goes on (returns null:
 * nothing to report); otherwise returns a new episode [a, b] to store and report.
 */
function nextEpisode(current: Episode | null, now: number, windowMs: number, a: Mac, b: Mac): Episode | null {
  if (current !== null && now - current.lastAt <= windowMs && samePair(current.macs, a, b)) {
    current.lastAt = now;
    return null;
  }
  return { lastAt: now, macs: [a, b] };
}

/** A held or asked-for address as the table keys it: IPv6 in RFC 5952 form, anything else as given. */
function heldKey(ip: WatchedIp): WatchedIp {
  return ip.includes(':') && isIpv6(ip) ? canonicalIpv6(ip) : ip;
}

function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!(result > 0) || !Number.isFinite(result)) throw new RangeError(`${name} must be a positive number, got ${result}`);
  return result;
}

export class BindingTracker {
  private readonly untagged = new Map<WatchedIp, BindingRecord>();
  private readonly tagged = new Map<number, Map<WatchedIp, BindingRecord>>();
  private readonly ownMacs: Set<Mac>;
  private held = new Map<WatchedIp, Mac | null>();
  private readonly flipFlopWindowMs: number;
  private readonly duplicateWindowMs: number;
  private readonly maxBindings: number;
  private readonly vendorOf: VendorLookup;
  private readonly storm: StormDetector;
  /** Least and most recently seen records: the ends of the recency list. */
  private oldest: BindingRecord | null = null;
  private newest: BindingRecord | null = null;
  private size = 0;
  private evictions = 0;
  private frames = 0;
  private readonly byKind: Record<ArpKind, number> = { probe: 0, announcement: 0, 'gratuitous-reply': 0, request: 0, reply: 0 };
  private ndFrames = 0;
  private ndOffLink = 0;
  private readonly ndByKind = emptyNdByKind();
  private latest = Number.NEGATIVE_INFINITY;

  constructor(options: BindingTrackerOptions) {
    this.ownMacs = new Set([...(options.ownMacs ?? [])].map((mac) => mac.toLowerCase()));
    this.flipFlopWindowMs = positiveNumber('flipFlopWindowMs', options.flipFlopWindowMs, 60_000);
    this.duplicateWindowMs = positiveNumber('duplicateWindowMs', options.duplicateWindowMs, 5_000);
    this.maxBindings = positiveNumber('maxBindings', options.maxBindings, 65_536);
    if (!Number.isInteger(this.maxBindings)) throw new RangeError(`maxBindings must be an integer, got ${this.maxBindings}`);
    const threshold = options.stormThresholdPerSec ?? 500;
    this.storm = new StormDetector(threshold, options.stormQuietPerSec ?? Math.max(1, Math.floor(threshold / 2)));
    this.vendorOf = options.vendorOf;
    if (options.held) this.setHeld(options.held);
  }

  /**
   * Feeds one frame seen at `now` (ms). Returns the events it caused, in this order:
   * storm transition; new-station / changed-mac / flip-flop; duplicate-address;
   * gratuitous / probe; conflict. Time never runs backwards: an earlier `now` counts as
   * the latest time seen.
   */
  observe(now: number, frame: ArpFrame): readonly WatchEvent[] {
    if (now > this.latest) this.latest = now;
    else now = this.latest;
    const arp = frame.arp;
    const kind = classifyArp(arp);
    this.frames++;
    this.byKind[kind]++;
    // A probe's sender is 0.0.0.0, and a reply from 0.0.0.0 is malformed: neither names a station to bind.
    const ip = arp.senderIp === ZERO_IP ? null : arp.senderIp;
    // Every claim but a plain reply is gratuitous: an announcement is a request's, a gratuitous reply a reply's.
    const gratuitous = kind === 'announcement' ? 'request' : kind === 'gratuitous-reply' ? 'reply' : null;
    return this.seen(now, frame.vlan, kind, arp.senderMac, ip, kind === 'probe' ? arp.targetIp : null, isClaim(kind), gratuitous);
  }

  /**
   * Feeds `requests` ARP requests and `replies` replies seen at `now` that repeat `frame`'s sender IP and
   * MAC (VLAN too): what the watch's capture folded (main/native/fold.h). State and events are those of
   * observing them one by one — counts, last-seen, claim time, the storm's rate, a duplicate-address event
   * at the first reply, a conflict per frame when another host holds the address — listed storm first, then
   * duplicate, then conflicts (one by one, the storm event would sit at the frame that crossed the line; all
   * share `now`). The capture folds only frames whose sender's binding already names the MAC; if the binding
   * is gone meanwhile (evicted), the first frame goes the whole way (a new station) and the rest add up.
   */
  observeRepeats(now: number, frame: ArpFrame, requests: number, replies: number): readonly WatchEvent[] {
    if (now > this.latest) this.latest = now;
    else now = this.latest;
    const count = requests + replies;
    if (!(count > 0)) return NO_EVENTS;
    const arp = frame.arp;
    const kind = classifyArp(arp);
    if (kind !== 'request' && kind !== 'reply') {
      // Never folded by the capture: one by one, all as the frame's own kind.
      const events: WatchEvent[] = [];
      for (let i = 0; i < count; i++) events.push(...this.observe(now, frame));
      return events;
    }
    const table = frame.vlan === null ? this.untagged : this.tableFor(frame.vlan);
    const record = table.get(arp.senderIp);
    if (record === undefined || record.mac !== arp.senderMac) {
      const first = this.observe(now, frame);
      const rest = kind === 'request' && requests > 0 ? this.observeRepeats(now, frame, requests - 1, replies) : this.observeRepeats(now, frame, requests, replies - 1);
      return first.length === 0 ? rest : rest.length === 0 ? first : [...first, ...rest];
    }
    this.frames += count;
    this.byKind.request += requests;
    this.byKind.reply += replies;
    let events: WatchEvent[] | null = null;
    const storm = this.storm.frames(now, count);
    if (storm.length > 0) events = [...storm];
    this.touch(record);
    record.lastSeen = now;
    record.count += count;
    if (replies > 0) {
      const duplicate = this.noteClaim(record, arp.senderMac, now);
      if (duplicate) (events ??= []).push(duplicate);
    }
    if (record.held) {
      events = this.noteHeldUse(record, arp.senderMac, 'request', requests, now, events);
      events = this.noteHeldUse(record, arp.senderMac, 'reply', replies, now, events);
    }
    return events ?? NO_EVENTS;
  }

  /**
   * Feeds one neighbour discovery frame seen at `now` (ms; the same clock as observe). Events in the order
   * of observe's: storm transition; new-station / changed-mac / flip-flop; duplicate-address (two MACs
   * advertising the address); gratuitous (an unsolicited advertisement) / probe (DAD); conflict. A frame
   * from off the link (hop limit not 255) counts toward the storm and the stats, and nothing else.
   */
  observeNd(now: number, frame: NdFrame): readonly WatchEvent[] {
    if (now > this.latest) this.latest = now;
    else now = this.latest;
    const frameKind = classifyNd(frame);
    this.ndFrames++;
    this.ndByKind[frameKind]++;
    const meaning = ndMeaning(frame, frameKind);
    const vlan = frame.vlan;
    switch (meaning.kind) {
      case 'bind':
        return this.seen(now, vlan, frameKind, meaning.mac, meaning.ip, null, meaning.claim, meaning.gratuitous ? 'advertisement' : null);
      case 'probe':
        return this.seen(now, vlan, frameKind, meaning.mac, null, meaning.target, false, null);
      case 'off-link':
        this.ndOffLink++;
        break;
      case 'nothing':
        break;
    }
    // Counted toward the storm, bound to nothing.
    const storm = this.storm.frame(now);
    return storm ? [storm] : NO_EVENTS;
  }

  /**
   * A frame of either family once observe or observeNd has read it: the storm's count (its transition the
   * first event), then a probe for `probeTarget`, or else `ip` bound to `mac` — the binding created or
   * touched (new-station / changed-mac / flip-flop), a claim noted (duplicate-address, then gratuitous when
   * `gratuitous` names its form), a held address's use (conflicts) —, or nothing more when `ip` is null.
   * One path for both families, with plain arguments: the ARP path allocates nothing unless there is an
   * event, and this function, not its callers, is where V8 inlines the per-frame work (the storm, the
   * recency list, the claim), as it did in observe when observe had it all.
   */
  private seen(
    now: number,
    vlan: number | null,
    frameKind: WatchFrameKind,
    mac: Mac,
    ip: WatchedIp | null,
    probeTarget: WatchedIp | null,
    claim: boolean,
    gratuitous: GratuitousForm | null,
  ): readonly WatchEvent[] {
    let events: WatchEvent[] | null = null;
    const storm = this.storm.frame(now);
    if (storm) events = [storm];
    if (probeTarget !== null) {
      (events ??= []).push({ type: 'probe', at: now, vlan, targetIp: probeTarget, mac });
      return events;
    }
    if (ip === null) return events ?? NO_EVENTS;
    const table = vlan === null ? this.untagged : this.tableFor(vlan);
    let record = table.get(ip);
    if (record === undefined) {
      record = this.insert(table, ip, vlan, mac, now);
      (events ??= []).push({ type: 'new-station', at: now, vlan, ip, mac, vendor: record.vendor });
    } else {
      this.touch(record);
      if (record.mac !== mac) {
        const change = this.changeMac(record, mac, now);
        if (change) (events ??= []).push(change);
      }
      record.lastSeen = now;
      record.count++;
    }
    if (claim) {
      const duplicate = this.noteClaim(record, mac, now);
      if (duplicate) (events ??= []).push(duplicate);
      if (gratuitous !== null) (events ??= []).push({ type: 'gratuitous', at: now, vlan, ip, mac, form: gratuitous });
    }
    if (record.held) events = this.noteHeldUse(record, mac, frameKind, 1, now, events);
    return events ?? NO_EVENTS;
  }

  /**
   * `frames` frames of `frameKind` from `mac` using an address this host holds: ours (the MAC becomes the
   * binding's own) or a conflict each, appended to `events` (allocated only when there is one).
   */
  private noteHeldUse(record: BindingRecord, mac: Mac, frameKind: WatchFrameKind, frames: number, now: number, events: WatchEvent[] | null): WatchEvent[] | null {
    if (this.ownMacs.has(mac)) {
      record.ownMac = mac;
      return events;
    }
    const ourMac = this.held.get(record.ip) ?? record.ownMac;
    for (let i = 0; i < frames; i++) (events ??= []).push({ type: 'conflict', at: now, vlan: record.vlan, ip: record.ip, ourMac, theirMac: mac, frameKind });
    return events;
  }

  /** Lets time pass without frames (call every few hundred ms): ends a storm that stopped dead. */
  tick(now: number): readonly WatchEvent[] {
    if (now > this.latest) this.latest = now;
    const storm = this.storm.tick(this.latest);
    return storm ? [storm] : NO_EVENTS;
  }

  /** Replaces the set of addresses this host holds (frames from other MACs using them are conflicts). */
  /** This host's interface took another MAC (frames from it are ours too from now on). */
  addOwnMac(mac: Mac): void {
    this.ownMacs.add(mac.toLowerCase());
  }

  setHeld(held: HeldAddresses): void {
    for (const ip of this.held.keys()) this.forEachRecord(ip, (record) => { record.held = false; });
    const next = new Map<WatchedIp, Mac | null>();
    if (held instanceof Map) {
      for (const [ip, mac] of held as ReadonlyMap<WatchedIp, Mac | null>) next.set(heldKey(ip), mac === null ? null : mac.toLowerCase());
    } else {
      for (const ip of held as Iterable<WatchedIp>) next.set(heldKey(ip), null);
    }
    this.held = next;
    for (const ip of next.keys()) {
      this.forEachRecord(ip, (record) => {
        record.held = true;
        record.ownMac = this.lastOwnMac(record);
      });
    }
  }

  /** The binding for one address (IPv6 in any spelling), or null. */
  binding(ip: WatchedIp, vlan: number | null = null): Binding | null {
    const table = vlan === null ? this.untagged : this.tagged.get(vlan);
    return table?.get(heldKey(ip))?.snapshot() ?? null;
  }

  /** Snapshot of the table, most recently seen first. */
  bindings(): Binding[] {
    const result: Binding[] = [];
    for (let record = this.newest; record !== null; record = record.older) result.push(record.snapshot());
    return result;
  }

  stats(): WatchStats {
    return {
      frames: this.frames,
      byKind: { ...this.byKind },
      nd: { frames: this.ndFrames, byKind: { ...this.ndByKind }, offLink: this.ndOffLink },
      bindings: this.size,
      evictions: this.evictions,
      storming: this.storm.storming,
    };
  }

  private tableFor(vlan: number): Map<WatchedIp, BindingRecord> {
    let table = this.tagged.get(vlan);
    if (table === undefined) this.tagged.set(vlan, (table = new Map<WatchedIp, BindingRecord>()));
    return table;
  }

  private insert(table: Map<WatchedIp, BindingRecord>, ip: WatchedIp, vlan: number | null, mac: Mac, now: number): BindingRecord {
    if (this.size >= this.maxBindings && this.oldest) {
      const evicted = this.oldest;
      this.unlink(evicted);
      evicted.table.delete(evicted.ip);
      this.size--;
      this.evictions++;
    }
    const record = new BindingRecord(ip, vlan, table, mac, this.vendorOf(mac), now);
    if (this.held.size > 0 && this.held.has(ip)) record.held = true;
    table.set(ip, record);
    this.append(record);
    this.size++;
    return record;
  }

  /** Moves the IP to `mac`; returns the changed-mac or flip-flop event, or null when a flip-flop is folded. */
  private changeMac(record: BindingRecord, mac: Mac, now: number): WatchEvent | null {
    const oldMac = record.mac;
    const history = (record.previous ??= []);
    const index = history.findIndex((p) => p.mac === mac);
    const returning = index >= 0 ? history[index] : undefined;
    if (index >= 0) history.splice(index, 1);
    history.unshift({ mac: oldMac, lastSeen: record.lastSeen });
    if (history.length > MAX_PREVIOUS_MACS) history.length = MAX_PREVIOUS_MACS;

    record.mac = mac;
    record.vendor = this.vendorOf(mac);
    record.macSince = now;
    record.changes++;

    if (returning === undefined || now - returning.lastSeen > this.flipFlopWindowMs) {
      return { type: 'changed-mac', at: now, vlan: record.vlan, ip: record.ip, oldMac, newMac: mac };
    }
    const episode = nextEpisode(record.flipFlop, now, this.flipFlopWindowMs, oldMac, mac);
    if (episode === null) return null;
    record.flipFlop = episode;
    return { type: 'flip-flop', at: now, vlan: record.vlan, ip: record.ip, macs: episode.macs };
  }

  /** Records a reply/announcement; returns a duplicate-address event unless none or folded. */
  private noteClaim(record: BindingRecord, mac: Mac, now: number): WatchEvent | null {
    const previousClaimant = record.claimMac;
    const elapsed = now - record.claimAt;
    record.claimMac = mac;
    record.claimAt = now;
    if (previousClaimant === null || previousClaimant === mac || elapsed > this.duplicateWindowMs) return null;
    const episode = nextEpisode(record.duplicate, now, this.duplicateWindowMs, previousClaimant, mac);
    if (episode === null) return null;
    record.duplicate = episode;
    return { type: 'duplicate-address', at: now, vlan: record.vlan, ip: record.ip, macs: episode.macs };
  }

  private lastOwnMac(record: BindingRecord): Mac | null {
    if (this.ownMacs.has(record.mac)) return record.mac;
    return record.previous?.find((p) => this.ownMacs.has(p.mac))?.mac ?? record.ownMac;
  }

  private forEachRecord(ip: WatchedIp, visit: (record: BindingRecord) => void): void {
    const untagged = this.untagged.get(ip);
    if (untagged) visit(untagged);
    for (const table of this.tagged.values()) {
      const record = table.get(ip);
      if (record) visit(record);
    }
  }

  private touch(record: BindingRecord): void {
    if (record === this.newest) return;
    this.unlink(record);
    this.append(record);
  }

  private append(record: BindingRecord): void {
    record.older = this.newest;
    record.newer = null;
    if (this.newest) this.newest.newer = record;
    else this.oldest = record;
    this.newest = record;
  }

  private unlink(record: BindingRecord): void {
    if (record.older) record.older.newer = record.newer;
    else this.oldest = record.newer;
    if (record.newer) record.newer.older = record.older;
    else this.newest = record.older;
    record.older = null;
    record.newer = null;
  }
}
