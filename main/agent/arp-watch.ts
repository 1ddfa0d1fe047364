// The agent's passive ARP watch, tied to the cluster: every frame on every interface that carries a
// virtual address goes through a binding tracker (main/watch/bindings.ts), and what the tracker
// reports is read against the cluster's facts (main/watch/classify.ts). A MAC change to the node
// that now holds the address is an expected handoff; any other station claiming one of our
// addresses is a conflict; two stations answering for a plain address is a duplicate. Results are
// appended to the cluster's audit log ("arp.*" entries with a structured `arp` part), so every agent
// — and through it every console — sees them, and they stay with the log's bounded retention.
//
// IPv6 resources are watched the same way through neighbour discovery (observeNd): the frames of the
// node's ND sockets go into the same binding tracker (BindingTracker.observeNd, keyed by RFC 5952 text),
// their events are read by the same classify(), and a foreign MAC advertising one of our IPv6 addresses,
// or using it as its source, is a conflict as an ARP sender is (what a frame claims: watch/nd-meaning.ts).
//
// One agent records each fact, so a cluster of N nodes does not log it N times: conflicts on an
// address that a node holds are that node's to record (its claim sees them and defends); the rest
// is recorded by the first live node by name that is not the new holder.
import { performance } from 'node:perf_hooks';
import type { ArpFrame, Ipv4, Mac } from '../arp/frame';
import type { NdFrame } from '../nd/frame';
import { ndMeaning } from '../watch/nd-meaning';
import type { ConflictRecord, NodeName } from '../cluster/model';
import { MAX_STORED_BINDINGS, type ArpRecord, type AuditRecord, type BindingsRecord, type StoreChange, type StoredBinding } from '../store/store';
import { BindingTracker } from '../watch/bindings';
import { classify, type ClusterFacts, type VirtualAddressFacts, type Verdict } from '../watch/classify';
import { ConflictEpisodes, type ConflictEpisode } from '../watch/conflict-episodes';
import type { WatchEvent } from '../watch/events';
import { withVendor, type VendorLookup } from '../watch/oui';
import { defaultOuiDirectory } from './oui-directory';
import type { ClusterView } from './cluster-view';
import { movesAddresses, subjectsOf } from '../cluster/intents';
import { plural } from '../../preload/contract/plural';

/** A frame of a node's MAC may overtake the store's news that the node now holds the address. */
export const UNSETTLED_GRACE_MS = 1500;
const TICK_MS = 250;

export interface ArpWatchOptions {
  node: NodeName;
  view: () => ClusterView;
  /** MACs of this host's interfaces. */
  ownMacs: () => Iterable<Mac>;
  append: (record: AuditRecord) => Promise<void>;
  /** Keeps the binding table in the cluster store (history that outlives the agent). */
  saveBindings: (record: BindingsRecord) => Promise<void>;
  log: (line: string) => void;
  vendorOf?: VendorLookup;
}

/** The binding table is saved this often while frames arrive (one small write per node, not per frame). */
const BINDINGS_SAVE_MS = 10_000;

interface Pending {
  event: WatchEvent;
  deadline: number;
}

/** Handoffs recorded one entry each per tick; beyond that (a drain of 1,000) one summary entry. */
const HANDOFF_ENTRIES_PER_TICK = 5;

const wallOf = (mono: number): number => Math.round(performance.timeOrigin + mono);

export class ClusterArpWatch {
  private readonly trackers = new Map<string, BindingTracker>();
  private readonly episodes = new ConflictEpisodes();
  /** Held-back verdicts by resource: looked at again when that resource's owner or moves change. */
  private readonly pending = new Map<string, Pending[]>();
  private readonly vendorOf: VendorLookup;
  private readonly timer: NodeJS.Timeout;
  private ownMacs: Set<Mac> | null = null;
  // The facts, kept up to date change by change: a drain makes thousands of changes and frames, and
  // rebuilding everything per change would cost O(resources) each time.
  private resourceOfIp: Map<Ipv4, string> | null = null;
  private nodeOfMacMap: Map<Mac, string> | null = null;
  private liveNodeList: NodeName[] | null = null;
  /** Resources of each open move or batch: a deleted intent's change carries only its id. */
  private readonly resourcesOfMove = new Map<string, readonly string[]>();
  private readonly facts: ClusterFacts;
  private handoffsThisTick: Array<Extract<Verdict, { kind: 'expected-handoff' }>> = [];
  /** Frames since the table was last saved, and when that was. */
  private bindingsDirty = false;
  private bindingsSavedAt = Number.NEGATIVE_INFINITY;
  private bindingsSaving = false;

  constructor(private readonly options: ArpWatchOptions) {
    const oui = options.vendorOf ? null : defaultOuiDirectory();
    this.vendorOf = options.vendorOf ?? ((mac) => oui?.vendorOf(mac) ?? null);
    const virtualOf = (ip: Ipv4): VirtualAddressFacts | undefined => {
      const resource = this.ipIndex().get(ip);
      if (resource === undefined) return undefined;
      return { resource, owner: this.options.view().ownerOf(resource), moveTarget: this.moveTargetOf(resource) };
    };
    this.facts = {
      virtualByIp: { get: virtualOf, has: (ip) => this.ipIndex().has(ip) },
      nodeOfMac: { get: (mac) => this.macIndex().get(mac), has: (mac) => this.macIndex().has(mac) },
    };
    this.timer = setInterval(() => this.tick(performance.now()), TICK_MS);
    this.timer.unref();
  }

  /** A new view (resync): every fact is rebuilt on next use. */
  viewReplaced(): void {
    this.resourceOfIp = null;
    this.nodeOfMacMap = null;
    this.liveNodeList = null;
    this.resourcesOfMove.clear();
    for (const [id, intent] of this.options.view().intents) if (movesAddresses(intent)) this.resourcesOfMove.set(id, subjectsOf(intent));
    for (const resource of [...this.pending.keys()]) this.settle(resource, performance.now());
  }

  /** One change of the cluster's records. */
  viewChanged(change: StoreChange): void {
    switch (change.collection) {
      case 'resources':
        this.resourceOfIp = null;
        break;
      case 'nodes':
        this.nodeOfMacMap = null;
        this.liveNodeList = null;
        break;
      case 'members':
        this.liveNodeList = null;
        break;
      case 'intents': {
        const before = this.resourcesOfMove.get(change.name);
        const moving = change.kind === 'put' && movesAddresses(change.value) ? subjectsOf(change.value) : undefined;
        if (moving !== undefined) this.resourcesOfMove.set(change.name, moving);
        else this.resourcesOfMove.delete(change.name);
        const now = performance.now();
        for (const resource of moving ?? before ?? []) this.settle(resource, now);
        break;
      }
      case 'owners':
        this.settle(change.name, performance.now());
        break;
      case 'status':
      case 'audit':
      case 'bindings':
      case 'users':
        break;
    }
  }

  private ipIndex(): Map<Ipv4, string> {
    if (this.resourceOfIp) return this.resourceOfIp;
    const index = new Map<Ipv4, string>();
    for (const spec of this.options.view().resources.values()) index.set(spec.ip, spec.name);
    return (this.resourceOfIp = index);
  }

  private macIndex(): Map<Mac, string> {
    if (this.nodeOfMacMap) return this.nodeOfMacMap;
    const index = new Map<Mac, string>();
    for (const node of this.options.view().nodes.values()) for (const mac of Object.values(node.macs)) index.set(mac, node.name);
    return (this.nodeOfMacMap = index);
  }

  private moveTargetOf(resource: string): string | null {
    return this.options.view().movingTo(resource);
  }

  private trackerOf(ifname: string): BindingTracker {
    let tracker = this.trackers.get(ifname);
    if (!tracker) {
      tracker = new BindingTracker({ ownMacs: this.options.ownMacs(), vendorOf: this.vendorOf });
      this.trackers.set(ifname, tracker);
    }
    return tracker;
  }

  /** Every ARP frame seen on `ifname`, with its monotonic receive time. The hot path: kept as it was before ND. */
  observe(ifname: string, frame: ArpFrame, mono: number): void {
    let tracker = this.trackers.get(ifname);
    if (!tracker) {
      tracker = new BindingTracker({ ownMacs: this.options.ownMacs(), vendorOf: this.vendorOf });
      this.trackers.set(ifname, tracker);
    }
    const events = tracker.observe(mono, frame);
    this.bindingsDirty = true;
    for (const event of events) this.judge(event, mono);
    this.checkClaim(frame, mono);
  }

  /**
   * A storm's repeats the capture counted instead of handing them over (main/native/fold.h): `requests` and
   * `replies` frames like `frame`, whose sender's binding already names its MAC. The same events and
   * conflicts as the frames one by one would give.
   */
  observeRepeats(ifname: string, frame: ArpFrame, mono: number, requests: number, replies: number): void {
    const events = this.trackerOf(ifname).observeRepeats(mono, frame, requests, replies);
    this.bindingsDirty = true;
    for (const event of events) this.judge(event, mono);
    this.checkClaim(frame, mono, requests + replies);
  }

  /** Every neighbour discovery frame seen on `ifname` (IPv6), with its monotonic receive time. */
  observeNd(ifname: string, frame: NdFrame, mono: number): void {
    const events = this.trackerOf(ifname).observeNd(mono, frame);
    this.bindingsDirty = true;
    for (const event of events) this.judge(event, mono);
    // What the frame claims, read as a neighbour cache reads it: an advertisement's target at its
    // link-layer option, a solicitation's source at its own; a DAD probe and an off-link frame claim nothing.
    const meaning = ndMeaning(frame);
    if (meaning.kind === 'bind') this.checkNdSender(meaning.ip, meaning.mac, frame.dstMac, frame.vlan, mono);
  }

  /**
   * Frame by frame, not per watch event, so an intruder that keeps going is counted and keeps being
   * reported: a station outside the cluster using one of our addresses as its sender address.
   */
  private checkClaim(frame: ArpFrame, mono: number, frames = 1): void {
    const facts = this.facts;
    const { senderIp, senderMac } = frame.arp;
    const virtual = facts.virtualByIp.get(senderIp);
    if (virtual === undefined || facts.nodeOfMac.has(senderMac)) return;
    const view = this.options.view();
    const owner = virtual.owner !== null && view.isAlive(virtual.owner) ? virtual.owner : null;
    if (owner === this.options.node) return; // our claim sees the same frame, and defends
    // The holder sees broadcast frames itself; a reply unicast to this node only this node saw.
    const onlyWeSaw = this.ownMacSet().has(frame.dst);
    if (owner !== null ? !onlyWeSaw : !this.isRecorder(null)) return;
    this.publishConflict({ resource: virtual.resource, ip: senderIp, vlan: frame.vlan, ourMac: null, theirMac: senderMac, theirVendor: this.vendorOf(senderMac), defended: false }, mono, frames);
  }

  /** checkClaim for what an ND frame binds: `senderMac` says it is `senderIp` in a frame to `dst` (the same rules). */
  private checkNdSender(senderIp: string, senderMac: Mac, dst: Mac, vlan: number | null, mono: number): void {
    const facts = this.facts;
    const virtual = facts.virtualByIp.get(senderIp);
    if (virtual === undefined || facts.nodeOfMac.has(senderMac)) return;
    const view = this.options.view();
    const owner = virtual.owner !== null && view.isAlive(virtual.owner) ? virtual.owner : null;
    if (owner === this.options.node) return; // our claim sees the same frame, and defends
    // The holder sees advertisements to all nodes itself; one unicast to this node only this node saw.
    const onlyWeSaw = this.ownMacSet().has(dst);
    if (owner !== null ? !onlyWeSaw : !this.isRecorder(null)) return;
    this.publishConflict({ resource: virtual.resource, ip: senderIp, vlan, ourMac: null, theirMac: senderMac, theirVendor: this.vendorOf(senderMac), defended: false }, mono);
  }

  private ownMacSet(): Set<Mac> {
    return (this.ownMacs ??= new Set(this.options.ownMacs()));
  }

  /** The address's holder saw another MAC claim it (its claim's conflict detection) and acted. */
  ownConflict(resource: string, ip: string, ourMac: Mac | null, theirMac: Mac, defended: boolean): void {
    this.publishConflict({ resource, ip, vlan: null, ourMac, theirMac, theirVendor: this.vendorOf(theirMac), defended }, performance.now());
  }

  private judge(event: WatchEvent, mono: number): void {
    const verdict = classify(event, this.facts);
    if (verdict === null) return;
    if (verdict.kind === 'unsettled') {
      const list = this.pending.get(verdict.resource);
      const entry = { event, deadline: mono + UNSETTLED_GRACE_MS };
      if (list) list.push(entry);
      else this.pending.set(verdict.resource, [entry]);
      return;
    }
    this.record(verdict, mono);
  }

  /** Re-reads a resource's held-back events with the facts as they are now; past their grace they count as they stand. */
  private settle(resource: string, now: number): void {
    const list = this.pending.get(resource);
    if (!list) return;
    const kept = list.filter((pending) => {
      const verdict = classify(pending.event, this.facts);
      if (verdict !== null && verdict.kind === 'unsettled') {
        if (now < pending.deadline) return true;
        this.record({ kind: 'conflict', resource: verdict.resource, ip: verdict.ip, theirMac: verdict.toMac, theirNode: verdict.toNode }, now);
      } else if (verdict !== null) {
        this.record(verdict, now);
      }
      return false;
    });
    if (kept.length > 0) this.pending.set(resource, kept);
    else this.pending.delete(resource);
  }

  private liveNodes(): NodeName[] {
    if (this.liveNodeList) return this.liveNodeList;
    const view = this.options.view();
    return (this.liveNodeList = [...view.nodes.keys()].filter((name) => view.isAlive(name)).sort());
  }

  /**
   * The first live node by name other than the `except` ones; this node records only if it is that one
   * (with no other node live: the first `except`). A handoff is recorded by neither of its ends: the node
   * it came from may be the dead one, still live in the view for the moment its successor has taken its
   * keys and not yet revoked its lease (claims.ts takeFromSilent).
   */
  private isRecorder(...except: Array<NodeName | null>): boolean {
    const recorder = this.liveNodes().find((name) => !except.includes(name)) ?? except[0] ?? null;
    return recorder === this.options.node;
  }

  private record(verdict: Exclude<Verdict, { kind: 'unsettled' }>, mono: number): void {
    switch (verdict.kind) {
      case 'expected-handoff': {
        if (!this.isRecorder(verdict.toNode, verdict.fromNode)) return;
        if (this.handoffsThisTick.length < HANDOFF_ENTRIES_PER_TICK) {
          const arp: ArpRecord = { kind: 'handoff', ip: verdict.ip, fromMac: verdict.fromMac, toMac: verdict.toMac, fromNode: verdict.fromNode, toNode: verdict.toNode };
          const from = verdict.fromNode ?? verdict.fromMac;
          this.append({ at: wallOf(mono), actor: this.options.node, action: 'arp.handoff', target: verdict.resource, outcome: 'ok', detail: `expected handoff of ${verdict.ip}: ${from} (${verdict.fromMac}) -> ${verdict.toNode} (${verdict.toMac})`, handoffMs: null, arp });
        }
        this.handoffsThisTick.push(verdict);
        return;
      }
      case 'conflict': {
        // Stations outside the cluster are caught frame by frame (checkClaim). What is left here is a
        // cluster node answering for an address the store never gave it: the holder's claim sees that
        // too, so only an address without a live holder is recorded here.
        if (verdict.theirNode === null) return;
        const owner = this.options.view().ownerOf(verdict.resource);
        if (owner !== null && this.options.view().isAlive(owner)) return;
        if (!this.isRecorder(null)) return;
        this.publishConflict({ resource: verdict.resource, ip: verdict.ip, vlan: null, ourMac: null, theirMac: verdict.theirMac, theirVendor: this.vendorOf(verdict.theirMac), defended: false }, mono);
        return;
      }
      case 'duplicate-address': {
        if (!this.isRecorder(null)) return;
        const vendors = verdict.macs.map((mac) => this.vendorOf(mac));
        const arp: ArpRecord = { kind: 'duplicate', ip: verdict.ip, macs: [...verdict.macs], vendors };
        const named = verdict.macs.map((mac, i) => withVendor(mac, vendors[i] ?? null)).join(' and ');
        const muted = this.isMuted(null, null, wallOf(mono)) ? '; muted (maintenance)' : '';
        this.append({ at: wallOf(mono), actor: this.options.node, action: 'arp.duplicate', target: verdict.ip, outcome: 'failed', detail: `duplicate address ${verdict.ip}: ${named} both answer${muted}`, handoffMs: null, arp });
        return;
      }
    }
  }

  private publishConflict(sighting: Parameters<ConflictEpisodes['observe']>[0], mono: number, frames = 1): void {
    const episode = this.episodes.observe(sighting, wallOf(mono), frames);
    if (episode) this.appendConflict(episode);
  }

  /**
   * Alarms for a resource under maintenance, or seen by, held by or coming from a node under
   * maintenance, are muted: recorded all the same, but not an alarm for the console.
   */
  private isMuted(resource: string | null, theirMac: Mac | null, wallNow: number): boolean {
    const view = this.options.view();
    const spec = resource === null ? undefined : view.resources.get(resource);
    if ((spec?.maintenanceUntil ?? 0) > wallNow) return true;
    const nodes = [this.options.node, resource === null ? null : view.ownerOf(resource), theirMac === null ? null : (this.macIndex().get(theirMac) ?? null)];
    return nodes.some((node) => node !== null && (view.nodes.get(node)?.maintenanceUntil ?? 0) > wallNow);
  }

  private appendConflict(episode: ConflictEpisode): void {
    const conflict: ConflictRecord = {
      node: this.options.node,
      address: episode.ip,
      vlan: episode.vlan,
      ourMac: episode.ourMac,
      theirMac: episode.theirMac,
      theirVendor: episode.theirVendor,
      resource: episode.resource === episode.ip ? null : episode.resource,
      firstSeen: episode.firstSeen,
      lastSeen: episode.lastSeen,
      count: episode.count,
      defended: episode.defended,
      muted: this.isMuted(episode.resource === episode.ip ? null : episode.resource, episode.theirMac, episode.lastSeen),
    };
    const outcome = `${episode.defended ? 'defended' : 'not defended'}${conflict.muted ? '; muted (maintenance)' : ''}`;
    this.append({
      at: episode.lastSeen,
      actor: this.options.node,
      action: 'arp.conflict',
      target: conflict.resource ?? episode.ip,
      outcome: 'failed',
      detail: `conflict on ${episode.ip}: ${withVendor(episode.theirMac, episode.theirVendor)} claims it; ${plural(episode.count, 'frame')}, ${outcome}`,
      handoffMs: null,
      arp: { kind: 'conflict', conflict },
    });
  }

  private append(record: AuditRecord): void {
    this.options.append(record).catch((error: unknown) => this.options.log(`arp watch: could not record ${record.action}: ${error instanceof Error ? error.message : String(error)}`));
  }

  private tick(now: number): void {
    for (const tracker of this.trackers.values()) for (const event of tracker.tick(now)) this.judge(event, now);
    for (const resource of [...this.pending.keys()]) this.settle(resource, now);
    for (const episode of this.episodes.due(wallOf(now))) this.appendConflict(episode);
    this.summariseHandoffs(now);
    if (this.bindingsDirty && !this.bindingsSaving && now - this.bindingsSavedAt >= BINDINGS_SAVE_MS) this.saveBindings(now);
  }

  /** Every interface's table, the most recently seen first, bounded. */
  bindingsRecord(now: number): BindingsRecord {
    const all: StoredBinding[] = [];
    for (const tracker of this.trackers.values()) {
      for (const b of tracker.bindings()) {
        all.push({ ip: b.ip, vlan: b.vlan, mac: b.mac, vendor: b.vendor, firstSeen: wallOf(b.firstSeen), lastSeen: wallOf(b.lastSeen), count: b.count, changes: b.changes });
      }
    }
    all.sort((a, b) => b.lastSeen - a.lastSeen);
    return { node: this.options.node, at: wallOf(now), bindings: all.slice(0, MAX_STORED_BINDINGS) };
  }

  private saveBindings(now: number): void {
    this.bindingsDirty = false;
    this.bindingsSavedAt = now;
    this.bindingsSaving = true;
    this.options
      .saveBindings(this.bindingsRecord(now))
      .catch((error: unknown) => this.options.log(`arp watch: binding table not saved: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => (this.bindingsSaving = false));
  }

  /** The handoffs of a busy tick beyond the first few, as one entry. */
  private summariseHandoffs(now: number): void {
    const extra = this.handoffsThisTick.slice(HANDOFF_ENTRIES_PER_TICK);
    this.handoffsThisTick = [];
    if (extra.length === 0) return;
    const shown = extra.slice(0, 10).map((v) => `${v.resource} -> ${v.toNode}`).join(', ');
    this.append({ at: wallOf(now), actor: this.options.node, action: 'arp.handoff', target: null, outcome: 'ok', detail: `expected handoffs of ${plural(extra.length, 'address')} more: ${shown}${extra.length > 10 ? ', ...' : ''}`, handoffMs: null });
  }

  close(): void {
    clearInterval(this.timer);
  }
}
