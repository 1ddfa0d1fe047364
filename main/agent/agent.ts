// The node agent: joins the cluster, keeps its lease, and makes this node hold exactly the addresses
// the cluster gives it — nothing else. Decisions come from the pure planners in main/cluster/; this
// file sequences them against the store (ownership by compare-and-swap) and the local addresses.
// Planned moves are planned-moves.ts (the machine: cluster/move-machine.ts), the pre-flight is
// preflight.ts; the machine itself is reached only through the Host (main/host/host.ts).
//
// Safety rules, in the order they are enforced:
// 1. Never serve an address without owning its key: a resource held locally whose owner key is not
//    ours any more is dropped at once (reconcile), and every address is dropped before the lease can
//    expire in the store (cluster/fencing.ts: fence at validUntil - FENCE_MARGIN_MS; the kernel's address
//    lifetime, renewed only after a confirmed keepalive, is the backstop when this process is frozen).
// 2. Take an unowned address only after winning its owner key, and only after probing it.
// 3. A planned move is a handoff: the target probes (trusted: only the owner's MAC may answer), the
//    owner deregisters, the target registers and announces — never two holders at once (planned-moves.ts).
import { EventEmitter } from 'node:events';
import { describeFailure } from '../../preload/contract/failure-text';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { AcdConfig } from '../arp/acd';
import { isStationMac } from '../arp/acd-config';
import type { NodeName, NodeRecord, ResourceName, ResourceSpec, ResourceStatus, FailureReason } from '../cluster/model';
import { bestNode } from '../cluster/placement';
import { planReconcile, type ReleaseReason } from '../cluster/reconcile';
import { isStoreError, type AuditRecord, type ClusterStore, type Membership, type StoreChange, type Unsubscribe } from '../store/store';
import { ClusterArpWatch } from './arp-watch';
import { ConvergenceMonitor } from './convergence-monitor';
import { HandoffChannel } from './handoff-channel';
import { PlannedMoves, TRUSTED_PROBE } from './planned-moves';
import { InterfaceRecovery } from './interface-recovery';
import { Preflight } from './preflight';
import type { ConvergenceOptions } from '../watch/convergence';
import { ClusterView } from './cluster-view';
import { chooseInterface } from './interface-choice';
import { MOVE_TIMEOUT_MS, parseIntent, type ProbeOutcome } from '../cluster/intents';
import { LEASE_UNCONFIRMED, LocalAddresses, type HoldOutcome } from './local-addresses';
import { StandbyMonitor, type Watched } from './standby-monitor';
import type { Host } from '../host/host';
import { linuxHost } from '../host/linux-host';
import type { InterfaceAddress } from '../host/address-types';
import { PacketIoError } from '../net/pcap';
import { systemClock } from '../engine/timers';
import { DEFAULT_LEASE_TTL_SEC, DEFAULT_STATE_DIR, LeaseDeadlineFile, monotonicNsAt } from './lease-deadline';
import { addressesFresh, checkLease, fenced, joinedState, leaseHealthy, lifetimeForTtl, renewed, type FenceState, type LeaseView } from '../cluster/fencing';

export interface AgentOptions {
  node: NodeName;
  /** The machine: addresses, interfaces, ARP (default: this Linux host). */
  host?: Host;
  store: ClusterStore;
  version: string;
  /** Membership lease TTL (etcd's minimum is 2 s). */
  leaseTtlSec?: number;
  /** Probe settings when taking over an unowned address (failover, first start). */
  takeoverProbe?: Partial<AcdConfig>;
  /** Where the lease deadline is kept for a restarted agent (tmpfs). */
  stateDir?: string;
  /** A standby revokes an owner that leaves ARP for its address unanswered this long (0 = never). */
  ownerSilenceMs?: number;
  /** How the old owner proves a planned handoff converged (window, quiet time, GARP spacing). */
  convergence?: ConvergenceOptions;
  log?: (line: string) => void;
}

export type AgentEvent =
  | { type: 'fenced'; reason: string; addresses: number }
  | { type: 'joined'; leaseId: string }
  | { type: 'holding'; resource: ResourceName }
  | { type: 'released'; resource: ResourceName };

const LEASE_CHECK_MS = 50;
const ADDRESS_CACHE_MS = 100;
const REJOIN_DELAY_MS = 1000;

const DEFAULT_TAKEOVER_PROBE: Partial<AcdConfig> = { probeCount: 2, probeIntervalMs: 50, probeWaitMs: 100 };
/** After a failover the address has usually been silent for a while already: one quick confirmation. */
const QUIET_CHECK_PROBE: Partial<AcdConfig> = { probeCount: 1, probeIntervalMs: 20, probeWaitMs: 60 };

/** The longest a reconcile waits because the previous one ran long (schedule). */
const MAX_RECONCILE_SPACING_MS = 100;
/** How long a resource whose work threw is left alone before the next try. */
const FAILED_WORK_BACKOFF_MS = 1000;

const wallNow = (): number => performance.timeOrigin + performance.now();

export class Agent extends EventEmitter<{ event: [AgentEvent]; change: [StoreChange]; reset: [reason: string] }> {
  readonly node: NodeName;
  private readonly store: ClusterStore;
  private readonly ttlSec: number;
  private readonly takeoverProbe: Partial<AcdConfig>;
  private readonly log: (line: string) => void;
  private readonly local: LocalAddresses;
  private view = new ClusterView();
  private membership: Membership | null = null;
  private unwatch: Unsubscribe | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  /** Resources with an operation in flight: reconcile leaves them alone. */
  private readonly busy = new Set<ResourceName>();
  /** Resources whose last work threw, and until when no new work starts for them (guard). */
  private readonly backoffUntil = new Map<ResourceName, number>();
  private reconcileQueued = false;
  /** performance.now() before which the next reconcile does not start (schedule). */
  private nextReconcileAt = 0;
  /** Fenced or not, and how long the kernel keeps our addresses (cluster/fencing.ts). */
  private fencing: FenceState = joinedState(0, null);
  private stopping = false;
  /** This process's event-loop delay since the last renewal: tells a stalled process from late keepalives when addresses run out. */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private lastIntentPoll = 0;
  private readonly lifetimeSec: number | null;
  private readonly ownerSilenceMs: number;
  private readonly version: string;
  private readonly deadlineFile: LeaseDeadlineFile | null;
  private readonly monitor: StandbyMonitor;
  private readonly arpWatch: ClusterArpWatch;
  private readonly convergence: ConvergenceMonitor;
  private addressCache: { at: number; all: InterfaceAddress[] } | null = null;
  private readonly host: Host;
  private handoff: HandoffChannel | null = null;
  private readonly moves: PlannedMoves;
  private readonly preflight: Preflight;
  /** The resources' addresses and interfaces when the watched interfaces were last worked out. */
  private watchedSpecsKey: string | null = null;
  private readonly interfaces: InterfaceRecovery;

  constructor(options: AgentOptions) {
    super();
    this.node = options.node;
    this.store = options.store;
    this.host = options.host ?? linuxHost;
    this.version = options.version;
    this.ttlSec = options.leaseTtlSec ?? DEFAULT_LEASE_TTL_SEC;
    this.takeoverProbe = options.takeoverProbe ?? DEFAULT_TAKEOVER_PROBE;
    this.log = options.log ?? (() => undefined);
    // A lease that can expire (etcd) needs the kernel backstop; the file store's lease lives with this process.
    this.lifetimeSec = this.store.kind === 'etcd' ? lifetimeForTtl(this.ttlSec) : null;
    this.local = new LocalAddresses({
      host: this.host,
      lifetimeSec: this.lifetimeSec,
      permitSend: () => this.leaseHealthy() && addressesFresh(this.fencing, this.lifetimeSec, performance.now()),
      registrationDeadline: () => (this.lifetimeSec === null || !this.membership ? undefined : monotonicNsAt(this.membership.validUntil())),
    });
    this.deadlineFile = this.lifetimeSec === null ? null : new LeaseDeadlineFile(options.stateDir ?? DEFAULT_STATE_DIR, this.node);
    this.local.on('warning', (text) => this.log(`warning: ${text}`));
    this.monitor = new StandbyMonitor(this.local, (target, silentMs, evidence) => void this.onOwnerSilent(target, silentMs, evidence), { host: this.host, clock: systemClock, silenceMs: options.ownerSilenceMs ?? 250, log: this.log });
    this.ownerSilenceMs = options.ownerSilenceMs ?? 250;
    this.arpWatch = new ClusterArpWatch({
      node: this.node,
      view: () => this.view,
      ownMacs: () => Object.values(this.host.macs()),
      append: (record) => this.store.appendAudit(record).then(() => undefined),
      saveBindings: (record) => this.store.putBindings(record).then(() => undefined),
      log: this.log,
    });
    this.local.observeFrames((ifname, frame, mono) => this.arpWatch.observe(ifname, frame, mono));
    this.convergence = new ConvergenceMonitor({
      host: this.host,
      node: this.node,
      // Once the address is back here there is nothing to tell stragglers.
      currentMacOf: (resource) => (this.local.has(resource) ? null : (this.view.statuses.get(resource)?.ownerMac ?? null)),
      send: (ifname, frame) => this.local.send(ifname, frame),
      append: (record) => this.store.appendAudit(record).then(() => undefined),
      log: this.log,
      ...(options.convergence ? { convergence: options.convergence } : {}),
    });
    this.moves = new PlannedMoves({
      node: this.node,
      store: this.store,
      local: this.local,
      convergence: this.convergence,
      view: () => this.view,
      membership: () => this.membership,
      leaseHealthy: () => this.leaseHealthy(),
      handoff: () => this.handoff,
      guard: (resource, work) => void this.guard(resource, work),
      busy: (resource) => this.busy.has(resource),
      schedule: () => this.schedule(),
      ifnameFor: (spec) => this.ifnameFor(spec),
      ownMacs: () => Object.values(this.host.macs()),
      peerMacs: () => this.peerMacs(),
      stationAddress: (ifname) => this.host.addresses.listAll(ifname).find((a) => !a.owned)?.ip ?? null,
      acquire: (resource, membership) => this.acquireResource(resource, membership),
      claimSettings: (spec) => claimSettings(spec),
      audit: (record) => this.audit(record),
      wallNow,
      log: this.log,
    });
    this.preflight = new Preflight({
      node: this.node,
      store: this.store,
      view: () => this.view,
      probeHere: (ip) => this.probeHere(ip),
      onChange: (listener) => {
        this.on('change', listener);
        return () => this.off('change', listener);
      },
      log: this.log,
    });
    this.interfaces = new InterfaceRecovery({
      node: this.node,
      host: this.host,
      local: this.local,
      store: this.store,
      view: () => this.view,
      membership: () => this.membership,
      leaseHealthy: () => this.leaseHealthy(),
      stopping: () => this.stopping,
      schedule: () => this.schedule(),
      released: (resources) => {
        for (const resource of resources) this.emit('event', { type: 'released', resource });
      },
      forgetStandby: (ifname) => this.monitor.forgetInterface(ifname),
      now: () => performance.now(),
      log: this.log,
    });
    this.local.on('interface-fault', (ifname, fault, dropped) => this.interfaces.onFault(ifname, fault, dropped));
    this.local.on('event', (resource, event) => {
      if (event.type === 'ready' || event.type === 'down') this.addressCache = null;
      if (event.type === 'conflict') this.onConflict(resource, event.mac, event.action);
      if (event.type === 'down' && event.reason !== 'released') this.schedule();
    });
  }

  get clusterView(): ClusterView {
    return this.view;
  }

  get localAddresses(): LocalAddresses {
    return this.local;
  }

  async start(): Promise<void> {
    this.handoff = await HandoffChannel.open(this.host, (notice) => this.moves.onReleasedNotice(notice), this.log).catch((error: unknown) => {
      this.log(`handoff channel unavailable (moves go through the store only): ${String(error)}`);
      return null;
    });
    await this.join();
    this.loopDelay.enable();
    this.leaseTimer = setInterval(() => this.checkLease(), LEASE_CHECK_MS);
  }

  private nodeRecord(): NodeRecord {
    return { name: this.node, state: 'up', agentVersion: this.version, lastSeen: Date.now(), macs: this.host.macs() };
  }

  private async join(): Promise<void> {
    // Renew eight times per TTL: the lease's known deadline then stays close to a full TTL ahead, which is the
    // time a restarted agent has to take over the addresses of its predecessor.
    const membership = await this.store.join(this.nodeRecord(), { ttlSec: this.ttlSec, keepaliveIntervalMs: (this.ttlSec * 1000) / 8 });
    this.membership = membership;
    this.fencing = joinedState(performance.now(), this.lifetimeSec);
    membership.onLost((reason) => this.onLeaseLost(reason));
    this.emit('event', { type: 'joined', leaseId: membership.leaseId });
    this.log(`joined as ${this.node} (lease ${membership.leaseId}, ttl ${membership.ttlSec} s)`);
    await this.resync();
  }

  /**
   * A fresh snapshot and a watch from its revision: nothing is missed between the two. The changes in
   * between are not known one by one, so listeners (the API's streams) are told to start over ('reset').
   */
  private async resync(reason = 'joined'): Promise<void> {
    await this.unwatch?.();
    const snapshot = await this.store.snapshot();
    this.view = ClusterView.fromSnapshot(snapshot, (id, reason) => this.log(`intent ${id} ignored: ${reason}`));
    this.arpWatch.viewReplaced();
    this.emit('reset', reason);
    this.unwatch = await this.store.watch(
      snapshot.revision,
      (change) => this.onChange(change),
      (reason) => {
        this.log(`watch reset (${reason}): resynchronising`);
        void this.resync(`store watch reset: ${reason}`).catch((error: unknown) => this.log(`resync failed: ${String(error)}`));
      },
    );
    this.schedule();
  }

  private onChange(change: StoreChange): void {
    if (change.collection === 'intents' && change.kind === 'put') {
      // Another agent wrote it: the machine sees only records that are what they claim to be.
      const parsed = parseIntent(change.value);
      if (parsed.ok) change = { ...change, value: parsed.intent };
      else {
        this.log(`intent ${change.name} ignored: ${parsed.reason}`);
        change = { revision: change.revision, collection: 'intents', name: change.name, kind: 'delete', value: null };
      }
    }
    this.view.apply(change);
    this.arpWatch.viewChanged(change);
    if (change.collection === 'audit' && change.kind === 'put') this.onPeerConflict(change.value);
    this.emit('change', change);
    if (change.collection === 'intents' && change.kind === 'put' && change.value.kind === 'move') this.monitor.setAside(change.value.resource);
    if (change.collection === 'intents' && change.kind === 'delete') this.moves.onDeleted(change.name, resourceOfMoveId(change.name));
    this.schedule();
  }

  // ---- lease and fencing -----------------------------------------------------------------------

  private lease(): LeaseView | null {
    const membership = this.membership;
    return membership ? { ended: membership.ended, validUntil: membership.validUntil(), ttlMs: membership.ttlSec * 1000 } : null;
  }

  private get fenced(): boolean {
    return this.fencing.fenced;
  }

  private leaseHealthy(): boolean {
    return leaseHealthy(this.lease(), performance.now());
  }

  private checkLease(): void {
    this.interfaces.poll();
    // Moves advance on store changes; one stalled without any (a lost notification, a timeout to
    // enforce) is looked at again twice a second.
    if (this.view.intents.size > 0 && performance.now() - this.lastIntentPoll > 500) {
      this.lastIntentPoll = performance.now();
      this.schedule();
    }
    const lease = this.lease();
    const now = performance.now();
    const { state, effects } = checkLease(this.fencing, lease, { now, holding: this.local.resources().length, lifetimeSec: this.lifetimeSec });
    this.fencing = state;
    for (const effect of effects) {
      switch (effect.type) {
        case 'fence':
          this.dropAll(
            effect.cause === 'stalled'
              ? `addresses not renewed for ${Math.round(effect.sinceRenewMs)} ms (process stalled, or keepalives confirmed too late: the last confirmed one was sent ${Math.round(effect.lastConfirmedSendAgoMs)} ms ago; longest event-loop delay meanwhile ${Math.round(this.loopDelay.max / 1e6)} ms)`
              : `lease not confirmed since ${Math.round(effect.lastConfirmedSendAgoMs)} ms`,
          );
          if (effect.cause === 'stalled') this.loopDelay.reset();
          break;
        case 'unfence':
          // What we saw while cut off may be stale: act only on a fresh snapshot.
          this.log('lease confirmed again: resynchronising before reclaiming addresses');
          this.resync('lease confirmed again after a fence').catch((error: unknown) => this.log(`resync failed: ${String(error)}`));
          break;
        case 'renew':
          if (!this.local.renew(effect.lifetimeSec, monotonicNsAt(effect.notAfter))) {
            this.log(`renewal not sent: it came ${Math.round(performance.now() - effect.notAfter)} ms after its deadline (the process was held up after deciding it)`);
            break;
          }
          this.fencing = renewed(this.fencing, now, effect.lifetimeSec);
          this.loopDelay.reset();
          if (lease) this.deadlineFile?.write(lease.validUntil);
          break;
      }
    }
  }

  /** The fence's effect: every address goes at once, without defending anything. */
  private dropAll(reason: string): void {
    const count = this.local.resources().length;
    this.local.fenceAll();
    this.emit('event', { type: 'fenced', reason, addresses: count });
    this.log(`fenced (${reason}): dropped ${count} address(es)`);
  }

  private onLeaseLost(reason: string): void {
    this.fencing = fenced(this.fencing, performance.now());
    this.dropAll(`lease ${reason}`);
    this.membership = null;
    if (this.stopping) return;
    const retry = (): void => {
      if (this.stopping) return;
      this.join().catch((error: unknown) => {
        this.log(`rejoin failed: ${(error as Error).message}`);
        setTimeout(retry, REJOIN_DELAY_MS);
      });
    };
    setTimeout(retry, REJOIN_DELAY_MS);
  }

  // ---- reconcile -------------------------------------------------------------------------------

  /**
   * Reconciles soon, once for any number of calls. Every end of work asks for one, and a reconcile over
   * 1,000 resources costs tens of milliseconds on a loaded host: back to back they took most of the
   * event loop during a drain. The next one waits at least as long as the last one ran (at most half
   * the loop's time goes to reconciling).
   */
  private schedule(): void {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    const run = (): void => {
      this.reconcileQueued = false;
      const started = performance.now();
      this.reconcile().catch((error: unknown) => this.log(`reconcile: ${error instanceof Error ? error.message : String(error)}`));
      const now = performance.now();
      this.nextReconcileAt = now + Math.min(now - started, MAX_RECONCILE_SPACING_MS);
    };
    const wait = this.nextReconcileAt - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  private async reconcile(): Promise<void> {
    const membership = this.membership;
    if (!membership || this.fenced || !this.leaseHealthy()) return;
    const view = this.view;
    const plan = planReconcile(this.node, view.specs(), view.ownerMap(), view.statusList(), view.nodeViews());

    // Ownerships this node left bound to an earlier lease (an agent restarted at once) move to the new one
    // before that lease can expire and take them along.
    for (const [resource, owner] of view.owners) {
      if (owner.node === this.node && owner.leaseId !== membership.leaseId && !this.busy.has(resource)) {
        void this.guard(resource, async () => {
          const moved = await this.store.transfer(resource, this.node, membership);
          if (moved.ok) view.owners.set(resource, { node: this.node, leaseId: membership.leaseId });
        });
      }
    }
    // Rule 1: nothing is served without ownership (an incoming handoff holds before the transfer lands).
    for (const resource of this.local.resources()) {
      if (view.ownerOf(resource) !== this.node && !this.busy.has(resource)) this.drop(resource, 'not owner');
    }
    for (const action of plan.actions) {
      if (this.busy.has(action.resource)) continue;
      if (action.kind === 'release') void this.guard(action.resource, () => this.releaseResource(action.resource, action.reason));
      else void this.guard(action.resource, () => this.acquireResource(action.resource, membership));
    }
    for (const resource of plan.hold) {
      if (this.local.has(resource) || this.busy.has(resource) || this.moves.handedOver(resource)) continue;
      void this.guard(resource, () => this.holdOwned(resource));
    }
    for (const resource of plan.unplaceable) {
      if (view.statuses.get(resource)?.failure?.kind !== 'no-eligible-node') {
        await this.putStatus(resource, { state: 'failed', owner: null, ownerMac: null, failure: { kind: 'no-eligible-node' } });
      }
    }
    this.moves.advance(membership);
    if (!this.stopping) this.moves.planOwn();
    this.preflight.serve();
    this.monitor.update(this.ownerSilenceMs > 0 && !this.stopping ? this.watchTargets() : []);
    if (!this.stopping) this.watchResourceInterfaces();
  }

  /** The ARP watch covers every interface this node would carry a virtual address on. */
  private watchResourceInterfaces(): void {
    const specs = this.view.specs();
    const key = specs.map((spec) => `${spec.ip}/${spec.prefix}/${spec.interfaces[this.node] ?? ''}`).join(',');
    if (key === this.watchedSpecsKey) return;
    this.watchedSpecsKey = key;
    const addresses = this.hostAddresses();
    const ifnames = new Set<string>();
    for (const spec of specs) {
      const choice = chooseInterface(spec, this.node, addresses);
      if (choice.ok) ifnames.add(choice.ifname);
    }
    this.interfaces.watch(ifnames);
  }

  /** The owners this node is first standby for, to be watched on the wire. */
  private watchTargets(): Watched[] {
    const view = this.view;
    const nodes = view.nodeViews();
    const targets: Watched[] = [];
    let addresses: InterfaceAddress[] | null = null;
    for (const [resource, owner] of view.owners) {
      if (owner.node === this.node || view.moveOf(resource)) continue;
      const spec = view.resources.get(resource);
      const status = view.statuses.get(resource);
      if (!spec?.enabled || status?.state !== 'online' || status.owner !== owner.node) continue;
      if (bestNode(spec, nodes, { exclude: [owner.node] }) !== this.node) continue;
      addresses ??= this.hostAddresses();
      const choice = chooseInterface(spec, this.node, addresses);
      if (choice.ok) targets.push({ resource, ip: spec.ip, ifname: choice.ifname, owner: owner.node, ownerLeaseId: owner.leaseId });
    }
    return targets;
  }

  /** The owner stopped answering for an address: end its lease now rather than when it expires. */
  private async onOwnerSilent(target: Watched, silentMs: number, evidence: string): Promise<void> {
    if (!this.leaseHealthy() || this.view.owners.get(target.resource)?.leaseId !== target.ownerLeaseId) return;
    this.log(`${target.owner} silent on ARP for ${target.ip} for ${Math.round(silentMs)} ms (${evidence}): revoking its lease`);
    const revoked = await this.store.revokeMembership(target.ownerLeaseId).catch((error: unknown) => {
      this.log(`could not revoke ${target.owner}'s lease: ${String(error)}`);
      return false;
    });
    if (revoked) await this.audit({ actor: this.node, action: 'takeover', target: target.resource, outcome: 'ok', detail: `${target.owner} left ${target.ip} unanswered for ${Math.round(silentMs)} ms; its lease was revoked`, handoffMs: null });
  }

  private async guard(resource: ResourceName, work: () => Promise<void>): Promise<void> {
    // Work that failed is not tried again at once: every end of work schedules a reconcile, and a step
    // that throws before its first await (a stale record it cannot act on) looped at thousands a second.
    const until = this.backoffUntil.get(resource);
    if (until !== undefined && performance.now() < until) return;
    this.backoffUntil.delete(resource);
    this.busy.add(resource);
    try {
      await work();
    } catch (error) {
      this.log(`${resource}: ${error instanceof Error ? error.message : String(error)} (tried again in ${FAILED_WORK_BACKOFF_MS} ms)`);
      this.backoffUntil.set(resource, performance.now() + FAILED_WORK_BACKOFF_MS);
      setTimeout(() => this.schedule(), FAILED_WORK_BACKOFF_MS).unref();
    } finally {
      this.busy.delete(resource);
      this.schedule();
    }
  }

  private drop(resource: ResourceName, why: string): void {
    this.local.release(resource);
    this.emit('event', { type: 'released', resource });
    this.log(`${resource}: dropped (${why})`);
  }

  /**
   * The host's addresses, read at most once per ADDRESS_CACHE_MS and again after any of our own
   * changes: a mass operation (a drain, a failback of 1,000) asks for them once per resource, and each
   * read is a netlink dump of every address.
   */
  private hostAddresses(): InterfaceAddress[] {
    const now = performance.now();
    if (this.addressCache === null || now - this.addressCache.at > ADDRESS_CACHE_MS) this.addressCache = { at: now, all: this.host.addresses.listAll() };
    return this.addressCache.all;
  }

  private ifnameFor(spec: ResourceSpec): { ok: true; ifname: string } | { ok: false; failure: FailureReason } {
    const choice = chooseInterface(spec, this.node, this.hostAddresses());
    return choice.ok ? choice : { ok: false, failure: { kind: 'interface-missing', node: this.node, detail: choice.detail } };
  }

  private isPresent(spec: ResourceSpec, ifname: string): boolean {
    return this.hostAddresses().some((a) => a.owned && a.ifname === ifname && a.ip === spec.ip);
  }

  /** Holds an address whose key is ours: re-adopted without probing when still registered (agent restart). */
  private async holdOwned(resource: ResourceName): Promise<void> {
    const spec = this.view.resources.get(resource);
    if (!spec) return;
    const iface = this.ifnameFor(spec);
    if (!iface.ok) {
      if (!this.interfaces.recovering()) return this.fail(resource, iface.failure);
      // Our interface is down or being re-created: not the address's fault. Let the key go so a node
      // that can serve it takes it; a failed resource would wait for the operator.
      this.log(`${resource}: not held here while our interface recovers (${iface.failure.kind === 'interface-missing' ? iface.failure.detail : iface.failure.kind}); released`);
      await this.store.release(resource, this.node);
      return;
    }
    // One read of the interface for carrier and MAC: this runs once per resource in a mass takeover.
    const link = this.host.interfaceState(iface.ifname);
    if (!link?.carrier || !this.interfaces.confirmedSinceLoss(iface.ifname)) return; // held again when the link returns
    if (!this.interfaces.macKnown(iface.ifname, link.mac)) return; // held again once our record names the MAC we would claim with
    if (this.isPresent(spec, iface.ifname)) {
      await this.hold(spec, iface.ifname, { skipProbe: true }, 're-adopted');
      return;
    }
    // Taking an address back (after a fence): our belief may be the stale one — a standby that heard us
    // silent may be revoking our lease and taking the address over. A peer's claim-probe is a conflict
    // here (we stand aside), and after a silent probe the store has the last word: the key must still be
    // ours, read after the probe, right before we register. A revocation the probe did not hear about
    // (its probe fell before ours, or was still queued behind our capture's backlog) then stops us.
    const acd: Partial<AcdConfig> = { ...this.takeoverProbe, askingMacs: this.peerMacs(), peerProbes: 'claim' };
    const heard = await this.local.probe({ resource: spec.name, ip: spec.ip, ifname: iface.ifname, trustedMac: null, acd });
    if (heard.interrupted) return; // the interface failed under the probe: held again when it is back
    if (heard.macs.length > 0) {
      await this.onProbeAnswered(spec, iface.ifname, heard.macs, 'online', 'stand-aside');
      return;
    }
    const membership = this.membership;
    if (!membership || this.fenced || !this.leaseHealthy()) return;
    const still = await this.store.transfer(spec.name, this.node, membership);
    if (!still.ok) {
      this.log(`${spec.name}: not taken back: the key is ${still.current?.node ?? 'nobody'}'s now (our lease was revoked while we probed)`);
      return;
    }
    await this.hold(spec, iface.ifname, { skipProbe: true }, 'online');
  }

  private async acquireResource(resource: ResourceName, membership: Membership): Promise<void> {
    const spec = this.view.resources.get(resource);
    if (!spec) return;
    const iface = this.ifnameFor(spec);
    if (!iface.ok) {
      // While our interface recovers, the address waits (placement gives it to us again when it is back).
      if (this.interfaces.recovering()) return;
      // Not ours to take: another node may be able to; record why for the operator.
      return this.fail(resource, iface.failure);
    }
    const link = this.host.interfaceState(iface.ifname);
    if (!link?.carrier || !this.interfaces.macKnown(iface.ifname, link.mac)) return;
    const result = await this.store.acquire(resource, membership);
    if (!result.ok) return;
    this.view.owners.set(resource, { node: this.node, leaseId: membership.leaseId });
    const previousStatus = this.view.statuses.get(resource);
    const previous = previousStatus?.owner ?? null;
    const previousMac = previous !== null && previous !== this.node ? previousStatus?.ownerMac ?? null : null;
    await this.putStatus(resource, { state: 'online-pending', owner: this.node, ownerMac: null, failure: null });
    if (this.isPresent(spec, iface.ifname)) {
      await this.hold(spec, iface.ifname, { skipProbe: true }, 're-adopted');
      return;
    }
    let goingQuiet = previousMac;
    if (goingQuiet === null) {
      // The key is ours (compare-and-swap): a peer's probe is a question, or a stale belief that yields to ours.
      const peers = this.peerMacs();
      const outcome = await this.hold(spec, iface.ifname, { ...this.takeoverProbe, askingMacs: peers }, 'online', 'report');
      if (outcome.kind !== 'used-by' || !outcome.macs.every((mac) => peers.includes(mac))) return;
      // A peer answered: it still holds the address on a belief that ended with its lease (fenced, then
      // revoked by a standby) and goes quiet within a lease TTL. Wait for that as after a failover.
      goingQuiet = outcome.macs[0]!;
      this.log(`${spec.name}: ${this.nodeOfMac(goingQuiet) ?? goingQuiet} still answers for ${spec.ip} though the key is ours: waiting until it goes quiet`);
    }
    // Failover: the previous owner may still be going quiet (its fence runs on its own clock). Its
    // answers, and any other peer's, are expected until then; a stranger's is a conflict.
    const quiet = await this.waitForSilence(spec, iface.ifname, goingQuiet);
    if (quiet.kind === 'interrupted') {
      // Our interface failed while listening: not the address's fault. Let it go; placement decides again.
      await this.store.release(spec.name, this.node);
      return;
    }
    if (quiet.kind !== 'quiet') {
      await this.store.release(spec.name, this.node);
      return this.fail(spec.name, { kind: 'conflict', mac: quiet.kind === 'conflict' ? quiet.mac : goingQuiet });
    }
    await this.hold(spec, iface.ifname, { skipProbe: true }, previousMac === null ? 'online' : `failover from ${previous ?? '?'}`);
  }

  /**
   * Probes until only silence answers — at most one lease TTL, the fencing bound of the node that answers.
   * Only peers may answer meanwhile: the old owner, or a node holding the address on a belief that ended
   * with its lease (possibly under another MAC of its own: its interface just took a new one).
   */
  private async waitForSilence(spec: ResourceSpec, ifname: string, oldMac: string): Promise<{ kind: 'quiet' } | { kind: 'conflict'; mac: string } | { kind: 'timeout' } | { kind: 'interrupted' }> {
    const deadline = performance.now() + this.ttlSec * 1000 + 500;
    while (performance.now() < deadline) {
      const peers = this.peerMacs();
      const answer = await this.local.probe({ resource: spec.name, ip: spec.ip, ifname, trustedMac: oldMac, acd: { ...QUIET_CHECK_PROBE, askingMacs: peers } });
      if (answer.interrupted) return { kind: 'interrupted' };
      const strangers = answer.macs.filter((mac) => !peers.includes(mac));
      if (strangers.length > 0) return { kind: 'conflict', mac: strangers[0]! };
      if (answer.macs.length > 0) continue;
      if (!answer.trustedAnswered) return { kind: 'quiet' };
    }
    return { kind: 'timeout' };
  }

  /** The peer node one of whose interfaces has `mac`, if any. */
  private nodeOfMac(mac: string): NodeName | null {
    for (const [name, record] of this.view.nodes) if (name !== this.node && Object.values(record.macs).includes(mac)) return name;
    return null;
  }

  /**
   * The other nodes' MACs (ACD askingMacs): RFC 5227's simultaneous-probe rule, made to know the store.
   * A peer asks who holds an address with a probe marked as a question (the standby watching the owner,
   * a move's pre-flight): never a conflict — taken as one, it failed a move naming the standby, and after
   * a long store outage it failed every owner re-taking its addresses. A peer's plain probe precedes a
   * registration: the node that won the key by compare-and-swap ignores it (the prober acts on a stale
   * belief and yields), the node that takes back an address after a fence treats it as a conflict and
   * stands aside (its own belief may be the stale one). A peer that *answers* for the address is
   * acting on a stale belief that ends with its lease: waited for (acquireResource), stood aside for (hold).
   */
  private peerMacs(): string[] {
    const macs = new Set<string>();
    for (const [name, record] of this.view.nodes) {
      if (name === this.node) continue;
      for (const mac of Object.values(record.macs)) if (isStationMac(mac)) macs.add(mac);
    }
    return [...macs];
  }

  /**
   * Claims the address here and records the outcome. A conflict with a stranger fails the resource; one
   * with a peer (acting on a stale belief, or taking it over) does not: `onPeer` 'stand-aside' lets the key
   * go so placement decides again, 'report' leaves it to the caller.
   */
  private async hold(spec: ResourceSpec, ifname: string, acd: Partial<AcdConfig>, action: string, onPeer: 'stand-aside' | 'report' = 'stand-aside'): Promise<HoldOutcome> {
    const started = wallNow();
    let outcome: HoldOutcome;
    try {
      outcome = await this.local.hold({
        resource: spec.name,
        ip: spec.ip,
        prefix: spec.prefix,
        ifname,
        acd: { ...acd, ...claimSettings(spec) },
      });
    } catch (error) {
      // The interface failed between choosing it and opening its capture: a fault of the link, not of the address.
      const linkFault = error instanceof PacketIoError && ['NO_SUCH_INTERFACE', 'OPEN_FAILED', 'CAPTURE_LOST'].includes(error.code);
      outcome = { kind: 'failed', reason: linkFault ? 'link-down' : error instanceof Error ? error.message : String(error) };
      if (linkFault) this.log(`${spec.name}: not held: ${(error as Error).message}`);
    }
    switch (outcome.kind) {
      case 'ready':
        await this.putStatus(spec.name, { state: 'online', owner: this.node, ownerMac: outcome.mac, failure: null });
        await this.audit({ actor: this.node, action, target: spec.name, outcome: 'ok', detail: `${spec.ip}/${spec.prefix} on ${this.node} ${ifname} (${outcome.mac}) after ${Math.round(wallNow() - started)} ms`, handoffMs: null });
        this.emit('event', { type: 'holding', resource: spec.name });
        break;
      case 'used-by':
        await this.onProbeAnswered(spec, ifname, outcome.macs, action, onPeer);
        break;
      case 'failed':
        if (!(await this.store.release(spec.name, this.node)).ok) break;
        // The interface failed under the claim (InterfaceRecovery.onFault): the address is not at fault, and a
        // failed resource would wait for the operator. Unowned, it is placed again. The same when the
        // registration came after our lease may have ended (the process was held up): not the address's fault.
        if (outcome.reason === 'link-down' || outcome.reason === LEASE_UNCONFIRMED) break;
        await this.fail(spec.name, /No such|no such/.test(outcome.reason) ? { kind: 'interface-missing', node: this.node, detail: outcome.reason } : { kind: 'register-failed', node: this.node, detail: outcome.reason });
        break;
    }
    return outcome;
  }

  /** Our probe for the address met `macs`: a peer's claim or answer (see hold's onPeer), or a stranger's (a conflict). */
  private async onProbeAnswered(spec: ResourceSpec, ifname: string, macs: readonly string[], action: string, onPeer: 'stand-aside' | 'report'): Promise<void> {
    const mac = macs[0] ?? 'unknown';
    const peers = this.peerMacs();
    const byPeers = macs.every((m) => peers.includes(m));
    this.log(`${spec.name}: ${action}: the probe on ${ifname} met ${macs.map((m) => this.nodeOfMac(m) ?? m).join(', ')}`);
    if (byPeers && onPeer === 'report') return;
    const released = await this.store.release(spec.name, this.node);
    // Only an owner may declare the resource failed: if the key is not ours any more (our lease was
    // revoked while we could not hear about it), whoever answered is the rightful new owner.
    if (!released.ok) this.log(`${spec.name}: ${mac} answered and the key is ${released.current?.node ?? 'nobody'}'s: standing down`);
    else if (byPeers) this.log(`${spec.name}: a peer claims it: key let go, placement decides again`);
    else await this.fail(spec.name, { kind: 'conflict', mac });
  }

  private async releaseResource(resource: ResourceName, reason: ReleaseReason): Promise<void> {
    this.local.release(resource);
    await this.store.release(resource, this.node);
    if (reason === 'removed') await this.store.deleteStatus(resource);
    else if (reason === 'disabled') await this.putStatus(resource, { state: 'offline', owner: null, ownerMac: null, failure: null });
    await this.audit({ actor: this.node, action: 'release', target: resource, outcome: 'ok', detail: reason, handoffMs: null });
    this.emit('event', { type: 'released', resource });
  }

  private async fail(resource: ResourceName, failure: FailureReason): Promise<void> {
    this.log(`${resource}: failed: ${describeFailure(failure)}`);
    await this.putStatus(resource, { state: 'failed', owner: null, ownerMac: null, failure });
    await this.audit({ actor: this.node, action: 'fail', target: resource, outcome: 'failed', detail: describeFailure(failure), handoffMs: null });
  }

  /** Another node saw a station claim an address this node holds, in frames only it saw: defend per policy. */
  private onPeerConflict(entry: AuditRecord): void {
    const conflict = entry.arp?.kind === 'conflict' ? entry.arp.conflict : null;
    if (conflict === null || conflict.node === this.node || conflict.resource === null) return;
    if (this.local.isReady(conflict.resource)) this.local.peerReport(conflict.resource, conflict.theirMac);
  }

  /** Our claim on a held address saw another MAC (and defended or yielded): one episode in the log, not a line per frame. */
  private onConflict(resource: ResourceName, mac: string, action: string): void {
    const spec = this.view.resources.get(resource);
    if (!spec) return;
    this.arpWatch.ownConflict(resource, spec.ip, this.local.macOf(resource), mac, action === 'defended');
  }

  private async putStatus(resource: ResourceName, fields: Pick<ResourceStatus, 'state' | 'owner' | 'ownerMac' | 'failure'>): Promise<void> {
    const previous = this.view.statuses.get(resource);
    const status: ResourceStatus = {
      name: resource,
      ...fields,
      since: previous?.state === fields.state && previous.owner === fields.owner ? previous.since : Date.now(),
      lastHandoffMs: previous?.lastHandoffMs ?? null,
    };
    this.view.statuses.set(resource, status);
    await this.store.putStatus(status);
  }

  private async audit(record: Omit<AuditRecord, 'at'>): Promise<void> {
    try {
      await this.store.appendAudit({ at: Date.now(), ...record });
    } catch (error) {
      if (!isStoreError(error)) throw error;
      this.log(`audit not written: ${error.message}`);
    }
  }

  /** A planned move asked for through the API. */
  requestMove(resource: ResourceName, to: NodeName, actor: string): Promise<string> {
    return this.moves.request(resource, to, actor);
  }

  /**
   * The move dialog's pre-flight, run on `node` (the one that would take the address): here, or through
   * the store on another node (preflight.ts). Resolves with a timeout when that node does not answer.
   */
  probeOn(node: NodeName, ip: string, actor: string, timeoutMs?: number): ReturnType<Preflight['run']> {
    return this.preflight.run(node, ip, actor, timeoutMs);
  }

  /** Who answers ARP for `ip` on this node's segment? The owner's MAC is expected, not a conflict. */
  private async probeHere(ip: string): Promise<ProbeOutcome> {
    const started = performance.now();
    const spec = [...this.view.resources.values()].find((r) => r.ip === ip) ?? null;
    const ownerMac = spec ? this.view.statuses.get(spec.name)?.ownerMac ?? null : null;
    const choice = chooseInterface(spec ?? { ip, prefix: 32, interfaces: {} }, this.node, this.host.addresses.listAll());
    if (!choice.ok) return { ok: false, message: choice.detail };
    // Our own answers never reach the probe (the capture's echoes of our frames are ignored), so when this
    // node is the owner, "the owner answered" is known without asking.
    const ownedHere = spec !== null && this.local.isReady(spec.name);
    const heard = await this.local.probe({ resource: spec?.name ?? ip, ip, ifname: choice.ifname, trustedMac: ownedHere ? null : ownerMac, acd: { ...TRUSTED_PROBE, probeForm: 'question', askingMacs: this.peerMacs() } });
    if (heard.interrupted) return { ok: false, message: `interface ${choice.ifname} failed during the probe` };
    const ownerAnswered = ownedHere || heard.trustedAnswered;
    return {
      ok: true,
      verdict: heard.macs.length > 0 ? 'conflict' : ownerAnswered ? 'owner-only' : 'free',
      answeredBy: [...(ownerAnswered && ownerMac ? [ownerMac] : []), ...heard.macs],
      ownerMac,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
  }

  // ---- stop ------------------------------------------------------------------------------------

  /** Graceful stop: hand every address to the best other node as planned moves, then leave. */
  async stop(options: { handOff: boolean; timeoutMs?: number } = { handOff: true }): Promise<void> {
    this.stopping = true;
    if (options.handOff && this.membership && !this.fenced) {
      await this.moves.requestAllAway(`${this.node} stopping`);
      const deadline = Date.now() + (options.timeoutMs ?? MOVE_TIMEOUT_MS);
      while (Date.now() < deadline && [...this.view.owners.values()].some((o) => o.node === this.node) && this.view.intents.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await this.teardown({ keepAddresses: false });
    await this.membership?.revoke().catch(() => undefined);
  }

  /** Crash-like stop for tests of re-adoption: addresses stay, the lease is left to expire. */
  async abandon(): Promise<void> {
    this.stopping = true;
    await this.teardown({ keepAddresses: true });
  }

  /** Ends every timer, capture and watch; the addresses go too unless they are to outlive this process. */
  private async teardown(options: { keepAddresses: boolean }): Promise<void> {
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.loopDelay.disable();
    this.monitor.stop();
    this.arpWatch.close();
    this.convergence.close();
    this.handoff?.close();
    if (!options.keepAddresses) this.local.fenceAll();
    this.local.close();
    await this.unwatch?.();
  }
}

/** The claim settings a resource asks for: announce form and policy, and its own GARP count and spacing where set. */
function claimSettings(spec: ResourceSpec): Partial<AcdConfig> {
  return {
    announceForm: spec.announceForm,
    defendPolicy: spec.defendPolicy,
    ...(spec.announceCount === undefined ? {} : { announceCount: spec.announceCount }),
    ...(spec.announceIntervalMs === undefined ? {} : { announceIntervalMs: spec.announceIntervalMs }),
  };
}

/** Move ids are "move:<resource>:<n>" (PlannedMoves.request): the resource survives the record's delete. */
function resourceOfMoveId(id: string): ResourceName | null {
  return /^move:(.+):[^:]+$/.exec(id)?.[1] ?? null;
}

