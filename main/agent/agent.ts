// The node agent: joins the cluster, keeps its lease, and makes this node hold exactly the addresses
// the cluster gives it — nothing else. This file builds the parts and runs their lifecycle: start,
// the store's change stream into the local view (and a fresh view after a watch reset or a fence),
// the 50 ms tick, stop. The parts (see docs/ARCHITECTURE.md):
//   lease-keeper.ts   membership and fencing      reconciler.ts  the reconcile pass, resource-work.ts its pacing
//   claims.ts         acquire / hold / release    planned-moves.ts  handoffs (machine: cluster/move-machine.ts)
//   standby.ts        whom to watch, revocation   preflight.ts   the move dialog's probe
//   announcer.ts      re-announcements (refresh, announce-now)
//   health-monitor.ts the health checks      local-failures.ts  retries and bans after a failure here
//   interface-recovery.ts  interface faults       api-handler.ts the API's commands on this agent
// The machine itself is reached only through the Host (main/host/host.ts).
//
// Safety rules, in the order they are enforced:
// 1. Never serve an address without owning its key: a resource held locally whose owner key is not
//    ours any more is dropped at once (reconcile), and every address is dropped before the lease can
//    expire in the store (cluster/fencing.ts: fence at validUntil - FENCE_MARGIN_MS; the kernel's address
//    lifetime, renewed only after a confirmed keepalive, is the backstop when this process is frozen).
// 2. Take an unowned address only after winning its owner key, and only after probing it (claims.ts).
// 3. A planned move is a handoff: the target probes (trusted: only the owner's MAC may answer), the
//    owner deregisters, the target registers and announces — never two holders at once (planned-moves.ts).
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { AcdConfig } from '../arp/acd';
import type { NodeName, NodeRecord, ResourceName } from '../cluster/model';
import { lifetimeForTtl } from '../cluster/fencing';
import { MOVE_TIMEOUT_MS, movesAddresses, parseIntent, subjectsOf, type SilenceIntent } from '../cluster/intents';
import { systemClock } from '../engine/timers';
import { macsForRecord } from '../store/node-record';
import type { Host } from '../host/host';
import { linuxHost } from '../host/linux-host';
import type { AuditRecord, ClusterStore, StoreChange, Unsubscribe } from '../store/store';
import type { ConvergenceOptions } from '../watch/convergence';
import { ClusterArpWatch } from './arp-watch';
import { Claims, claimSettings } from './claims';
import { ClusterView } from './cluster-view';
import { ConvergenceMonitor } from './convergence-monitor';
import { HandoffChannel } from './handoff-channel';
import { HostAddressCache } from './host-address-cache';
import { stationsBehindOurs } from '../net/stations-behind-ours';
import { InterfaceRecovery } from './interface-recovery';
import { DEFAULT_LEASE_TTL_SEC, DEFAULT_STATE_DIR, DEFAULT_STATS_INTERVAL_SEC, LeaseDeadlineFile } from './lease-deadline';
import { LeaseKeeper } from './lease-keeper';
import { LocalAddresses } from './local-addresses';
import type { AgentEvent, NodeContext } from './node-context';
import { formatLoadLine } from './load-line';
import { PlannedMoves } from './planned-moves';
import { Preflight, probeFromHere } from './preflight';
import { Announcer } from './announcer';
import { HealthMonitor } from './health-monitor';
import { LocalFailures } from './local-failures';
import { describeFailure } from '../../preload/contract/failure-text';
import { Reconciler } from './reconciler';
import { DEFAULT_FAILOVER_PROFILE, detectionFor, freshVerdictMs, type FailoverProfile } from '../cluster/failover-profile';
import { RejectionReport } from './rejection-report';
import { ResourceRecords } from './resource-records';
import { ResourceWork } from './resource-work';
import { removeStaleSilence, revokeSilentOwner, standbyTargets } from './standby';
import { AgentMetrics } from '../metrics/agent-metrics';
import { tapAudit } from '../store/audit-tap';
import { stationsToTell } from '../watch/takeover-convergence';
import { StandbyMonitor, type Watched } from './standby-monitor';
import { plural } from '../../preload/contract/plural';
import { HookSender } from './hook-sender';
import { deliver as deliverHook } from '../hooks/deliver';

export type { AgentEvent } from './node-context';

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
  /** The state files' name (stateFileName: node and cluster); default the node's name. */
  stateName?: string;
  /** How soon a standby calls an owner dead (cluster/failover-profile.ts); default 'default'. */
  failoverProfile?: FailoverProfile;
  /** A standby revokes an owner that leaves ARP for its address unanswered this long (0 = never; default: the profile's). */
  ownerSilenceMs?: number;
  /** How often the agent logs its load line (resources, reconcile time, standby probes, memory); 0 = never. Default 10 min. */
  statsIntervalMs?: number;
  /** How the old owner proves a planned handoff converged (window, quiet time, GARP spacing). */
  convergence?: ConvergenceOptions;
  /** The cluster's name (the metrics' node_info; default "default"). */
  cluster?: string;
  log?: (line: string) => void;
}

const TICK_MS = 50;
/** A refresh pass (announcer.ts) every second: periods are whole seconds, and each pass is bounded. */
const REFRESH_PASS_MS = 1_000;
const DEFAULT_STATS_INTERVAL_MS = DEFAULT_STATS_INTERVAL_SEC * 1000;
/** Moves advance on store changes; one stalled without any (a lost notification, a timeout to enforce) is looked at again this often. */
const INTENT_POLL_MS = 500;

const DEFAULT_TAKEOVER_PROBE: Partial<AcdConfig> = { probeCount: 2, probeIntervalMs: 50, probeWaitMs: 100 };

const wallNow = (): number => performance.timeOrigin + performance.now();

export class Agent extends EventEmitter<{ event: [AgentEvent]; change: [StoreChange]; reset: [reason: string] }> {
  readonly node: NodeName;
  private readonly store: ClusterStore;
  private readonly host: Host;
  private readonly version: string;
  private readonly log: (line: string) => void;
  private view = new ClusterView();
  private unwatch: Unsubscribe | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly statsIntervalMs: number;
  private statsSince = { at: performance.now(), probes: 0 };
  private lastIntentPoll = 0;
  private stopping = false;
  private handoff: HandoffChannel | null = null;
  private readonly local: LocalAddresses;
  private readonly lease: LeaseKeeper;
  private readonly work: ResourceWork;
  private readonly reconciler: Reconciler;
  private readonly claims: Claims;
  private readonly moves: PlannedMoves;
  private readonly preflight: Preflight;
  private readonly announcer: Announcer;
  private readonly health: HealthMonitor;
  private readonly failures: LocalFailures;
  private readonly monitor: StandbyMonitor;
  private readonly arpWatch: ClusterArpWatch;
  private readonly convergence: ConvergenceMonitor;
  private readonly interfaces: InterfaceRecovery;
  private readonly addresses: HostAddressCache;
  private readonly rejections: RejectionReport;
  /** What Prometheus reads (`--metrics`; main/metrics/). */
  readonly metrics: AgentMetrics;
  /** Event hooks: delivered by the one agent that holds the sender key (hook-sender.ts). */
  private readonly hooks: HookSender;
  /** A fence not in the audit log yet: written when the store confirms the lease again. */
  private unrecordedFence: { at: number; reason: string; addresses: number } | null = null;

  /** The store as this agent writes to it: whoever writes audit entries for it (the API) goes through here, so they are counted. */
  get auditedStore(): ClusterStore {
    return this.store;
  }

  constructor(options: AgentOptions) {
    super();
    this.node = options.node;
    this.metrics = new AgentMetrics({
      node: this.node,
      cluster: options.cluster ?? 'default',
      resources: () => this.resourcesForMetrics(),
      nodes: () => this.view.nodeViews().map((n) => ({ name: n.name, state: n.state })),
      held: () => this.local.resources().length,
      leaseConfirmationAgeSec: () => {
        const membership = this.lease.membership();
        const until = membership?.validUntil() ?? Infinity;
        return membership === null || !Number.isFinite(until) ? null : Math.max(0, (performance.now() - (until - membership.ttlSec * 1000)) / 1000);
      },
      leaseHealthy: () => this.lease.healthy(),
      fenced: () => this.lease.fenced(),
      captures: () => this.local.captureStats(),
      healthVerdicts: () => this.health.verdictSummary(),
    });
    // Every audit entry this agent writes is counted as the store takes it.
    this.store = tapAudit(options.store, (record) => this.metrics.audited(record));
    this.host = options.host ?? linuxHost;
    this.version = options.version;
    this.log = options.log ?? (() => undefined);
    const ttlSec = options.leaseTtlSec ?? DEFAULT_LEASE_TTL_SEC;
    const detection = detectionFor(options.failoverProfile ?? DEFAULT_FAILOVER_PROFILE, options.ownerSilenceMs || undefined);
    const ownerSilenceMs = options.ownerSilenceMs === 0 ? 0 : detection.ownerSilenceMs;
    this.statsIntervalMs = options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS;
    // A lease that can expire (etcd) needs the kernel backstop; the file store's lease lives with this process.
    const lifetimeSec = this.store.kind === 'etcd' ? lifetimeForTtl(ttlSec) : null;
    this.local = new LocalAddresses({
      host: this.host,
      lifetimeSec,
      permitSend: () => this.lease.permitSend(),
      registrationDeadline: () => this.lease.registrationDeadline(),
    });
    this.local.on('warning', (text) => this.log(`warning: ${text}`));
    const context: NodeContext = {
      node: this.node,
      store: this.store,
      host: this.host,
      local: this.local,
      view: () => this.view,
      membership: () => this.lease.membership(),
      leaseHealthy: () => this.lease.healthy(),
      fenced: () => this.lease.fenced(),
      emit: (event) => {
        if (event.type === 'fenced') {
          this.metrics.fenced();
          // Recorded once the store can take it again (a fence means the store did not confirm our lease).
          this.unrecordedFence ??= { at: Date.now(), reason: event.reason, addresses: event.addresses };
        }
        if (event.type === 'lease-lost') this.metrics.leaseLost(event.reason);
        this.emit('event', event);
      },
      log: this.log,
    };
    this.lease = new LeaseKeeper({
      context,
      ttlSec,
      lifetimeSec,
      deadlineFile: lifetimeSec === null ? null : new LeaseDeadlineFile(options.stateDir ?? DEFAULT_STATE_DIR, options.stateName ?? this.node),
      nodeRecord: () => this.nodeRecord(),
      joined: () => this.resync(),
      unfenced: () => void this.resync('lease confirmed again after a fence').catch((error: unknown) => this.log(`resync failed: ${String(error)}`)),
      stopping: () => this.stopping,
      onRoundTrip: (ms) => this.metrics.keepaliveRoundTrip(ms),
    });
    const records = new ResourceRecords(context);
    this.rejections = new RejectionReport(context, records);
    this.addresses = new HostAddressCache(this.host, this.node);
    this.work = new ResourceWork(() => this.reconciler.reconcile(), this.log);
    this.monitor = new StandbyMonitor(this.local, (target, silence) => void revokeSilentOwner(context, records, target, silence, (evidence) => this.takeFromSilent(target, silence.resources, evidence)), { host: this.host, clock: systemClock, detection, log: this.log });
    this.arpWatch = new ClusterArpWatch({
      node: this.node,
      view: () => this.view,
      ownMacs: () => Object.values(this.host.macs()),
      append: (record) => this.store.appendAudit(record).then(() => undefined),
      saveBindings: (record) => this.store.putBindings(record).then(() => undefined),
      log: this.log,
    });
    this.local.observeFrames((ifname, frame, mono) => this.arpWatch.observe(ifname, frame, mono));
    this.local.observeRepeats((ifname, { frame, mono, requests, replies }) => this.arpWatch.observeRepeats(ifname, frame, mono, requests, replies));
    this.local.observeNdFrames((ifname, frame, mono) => this.arpWatch.observeNd(ifname, frame, mono));
    this.convergence = new ConvergenceMonitor({
      host: this.host,
      node: this.node,
      // Once the address is back here there is nothing to tell stragglers.
      currentMacOf: (resource) => (this.local.has(resource) ? null : (this.view.statuses.get(resource)?.ownerMac ?? null)),
      send: (ifname, frame) => this.local.send(ifname, frame),
      sendNd: (ifname, frame) => this.local.sendNd(ifname, frame),
      mayAnnounce: (resource) => this.local.isReady(resource) && this.lease.permitSend(),
      append: (record) => this.store.appendAudit(record).then(() => undefined),
      onReport: (report) => this.metrics.convergenceReport(report),
      onTakeoverReport: (report) => this.metrics.takeoverConvergenceReport(report),
      log: this.log,
      ...(options.convergence ? { convergence: options.convergence } : {}),
    });
    this.interfaces = new InterfaceRecovery({
      node: this.node,
      host: this.host,
      local: this.local,
      store: this.store,
      view: () => this.view,
      membership: () => this.lease.membership(),
      leaseHealthy: () => this.lease.healthy(),
      stopping: () => this.stopping,
      schedule: () => this.work.schedule(),
      released: (resources) => {
        for (const resource of resources) this.emit('event', { type: 'released', resource });
      },
      forgetStandby: (ifname) => this.monitor.forgetInterface(ifname),
      now: () => performance.now(),
      log: this.log,
    });
    this.failures = new LocalFailures({
      node: this.node,
      store: this.store,
      view: () => this.view,
      onChange: (listener) => {
        this.on('change', listener);
        return () => this.off('change', listener);
      },
      log: this.log,
      putStatus: (resource, fields) => records.putStatus(resource, fields),
      fail: (resource, failure) => records.fail(resource, failure),
      audit: (record) => records.audit(record),
      releaseKey: async (resource) => {
        await this.store.release(resource, this.node);
      },
      recordChanged: () => this.health.markChanged(),
      schedule: () => this.work.schedule(),
      now: () => performance.now(),
      wallNow,
    });
    const claims = (this.claims = new Claims({ context, records, addresses: this.addresses, interfaces: this.interfaces, failures: this.failures, takeoverProbe: options.takeoverProbe ?? DEFAULT_TAKEOVER_PROBE, ttlSec, tookOver: (held) => void this.tellStations(held), sawSilent: (owner, ifname) => (this.monitor.silentFor(owner, ifname) ?? Infinity) <= freshVerdictMs(detection) }));
    this.moves = new PlannedMoves({
      ...context,
      convergence: this.convergence,
      handoff: () => this.handoff,
      guard: (resource, work) => void this.work.guard(resource, work),
      guardMany: (key, resources, work) => void this.work.guardMany(key, resources, work),
      busy: (resource) => this.work.busy(resource),
      schedule: () => this.work.schedule(),
      ifnameFor: (spec) => this.addresses.interfaceFor(spec),
      ownMacs: () => Object.values(this.host.macs()),
      peerMacs: () => this.view.peerMacs(this.node),
      stationAddress: (ifname) => this.host.addresses.listAll(ifname).find((a) => !a.owned)?.ip ?? null,
      acquire: (resource, membership) => claims.acquire(resource, membership),
      claimSettings,
      audit: (record) => records.audit(record),
      putStatus: (resource, fields) => records.putStatus(resource, fields),
      failovers: { marks: () => this.failures.allMarks(), mark: (resource) => this.failures.markFailover(resource), takeFailed: (resource, failure) => this.failures.onFailedTake(resource, failure) },
      wallNow,
      stopping: () => this.stopping,
    });
    this.preflight = new Preflight({
      node: this.node,
      store: this.store,
      view: () => this.view,
      probeHere: (ip) => probeFromHere(context, ip),
      onChange: (listener) => {
        this.on('change', listener);
        return () => this.off('change', listener);
      },
      log: this.log,
    });
    this.announcer = new Announcer({
      node: this.node,
      store: this.store,
      view: () => this.view,
      reannounceHere: (resource) => this.local.reannounce(resource),
      maySend: () => this.lease.permitSend(),
      onChange: (listener) => {
        this.on('change', listener);
        return () => this.off('change', listener);
      },
      log: this.log,
      now: () => performance.now(),
    });
    this.health = new HealthMonitor({
      ...context,
      onCheckRun: (kind, ok) => this.metrics.checkRun(kind, ok),
      arpAnswered: async (ip, ifname, timeoutMs) => {
        // A question (sender 0.0.0.0): no cache on the LAN changes. The peers probe the same gateway at the
        // same moments: their questions are not answers (askingMacs), or a dead router would pass on every node.
        const intervalMs = Math.min(100, Math.floor(timeoutMs / 4));
        const acd = { probeCount: 2, probeIntervalMs: intervalMs, probeWaitMs: Math.max(20, timeoutMs - 2 * intervalMs), probeForm: 'question' as const, askingMacs: this.view.peerMacs(this.node) };
        const heard = await this.local.probe({ resource: `gateway ${ip}`, ip, ifname, trustedMac: null, acd });
        return heard.macs.length > 0;
      },
      ifnameFor: (spec) => {
        const choice = this.addresses.interfaceFor(spec);
        return choice.ok ? choice : { ok: false, reason: describeFailure(choice.failure) };
      },
      audit: (record) => records.audit(record),
      now: () => performance.now(),
      wallNow,
      policy: () => this.failures.recordParts(),
    });
    this.reconciler = new Reconciler({
      context,
      work: this.work,
      claims,
      moves: this.moves,
      preflight: this.preflight,
      announcer: this.announcer,
      failures: this.failures,
      monitor: this.monitor,
      interfaces: this.interfaces,
      records,
      addresses: this.addresses,
      ownerSilenceMs,
      stopping: () => this.stopping,
    });
    this.hooks = new HookSender({ node: this.node, store: this.store, membership: () => this.lease.membership(), deliver: deliverHook, log: this.log, onChange: (listener) => {
      this.on('change', listener);
      return () => this.off('change', listener);
    } });
    this.local.on('interface-fault', (ifname, fault, dropped) => this.interfaces.onFault(ifname, fault, dropped));
    this.local.on('event', (resource, event) => {
      this.announcer.onClaimEvent(resource, event);
      if (event.type === 'ready' || event.type === 'down') this.addresses.invalidate();
      if (event.type === 'conflict') this.onConflict(resource, event.mac, event.action);
      if (event.type === 'down' && event.reason !== 'released') this.work.schedule();
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
    await this.lease.join();
    this.hooks.start();
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.refreshTimer = setInterval(() => {
      // A bug in a pass must not end the agent (its addresses would go with it): said, and the next pass runs.
      try {
        this.failures.tick();
      } catch (error) {
        this.log(`failure policy: ${error instanceof Error ? error.message : String(error)}`);
      }
      removeStaleSilence({ store: this.store, view: () => this.view });
      try {
        this.putStationsFirst();
      } catch (error) {
        this.log(`putting station addresses first failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      try {
        this.announcer.refresh();
      } catch (error) {
        this.log(`announce refresh failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, REFRESH_PASS_MS);
    if (this.statsIntervalMs > 0) this.statsTimer = setInterval(() => this.logLoad(), this.statsIntervalMs).unref();
  }

  /**
   * A station address back behind one of ours (stations-behind-ours.ts): ours go behind it again, and
   * the store's connections, maybe opened from a virtual address meanwhile, are dialled anew.
   */
  private putStationsFirst(): void {
    const behind = stationsBehindOurs(this.addresses.listing());
    if (behind.length === 0 || this.local.putStationsFirst(behind) === 0) return;
    this.addresses.invalidateStations();
    this.store.reconnect();
  }

  /**
   * This node's standby found `target`'s owner silent: the addresses it stands by for are taken straight
   * from it (claims.ts takeFromSilent), but group members (their group moves as one, through placement)
   * and those with work of their own.
   */
  private takeFromSilent(target: Watched, resources: readonly ResourceName[], evidence: SilenceIntent): Promise<void> {
    const membership = this.lease.membership();
    if (membership === null || this.stopping || this.lease.fenced()) return Promise.resolve();
    const view = this.view;
    // Still this node's to take, as placement sees it now (a resource disabled or this node paused since the last pass is not).
    const standingBy = new Set(standbyTargets(view, this.node, () => this.addresses.stations()).filter((t) => t.ownerLeaseId === target.ownerLeaseId).map((t) => t.resource));
    const mine = resources.filter((r) => standingBy.has(r) && view.resources.get(r)?.group === undefined && !this.work.busy(r));
    if (mine.length === 0) return Promise.resolve();
    // Resolves once the keys have moved (or could not): the revocation waits for that, not for the claim.
    return new Promise((keysMoved) => {
      void this.work.guardMany(`silent:${evidence.id}`, mine, () => this.claims.takeFromSilent(mine, target.owner, evidence, membership, keysMoved)).finally(keysMoved);
    });
  }

  /**
   * After a takeover: the stations the cluster's binding tables know on each address's subnet are told the
   * new MAC (convergence-monitor.ts). The tables are read once for the whole batch.
   */
  private async tellStations(held: ReadonlyArray<{ resource: string; ip: string; prefix: number; ifname: string; mac: string; from: string }>): Promise<void> {
    let tables;
    try {
      tables = await this.store.bindings();
    } catch (error) {
      this.log(`convergence after the takeover of ${held.map((h) => h.resource).join(', ')}: binding tables not read: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const cluster = new Set([...Object.values(this.host.macs()), ...this.view.peerMacs(this.node)]);
    for (const h of held) {
      if (!this.local.has(h.resource)) continue;
      this.convergence.tookOver(h.resource, h.ip, h.ifname, h.mac, h.from, stationsToTell(tables, h.ip, h.prefix, cluster));
    }
  }

  /** Every resource's state and owner for the metrics (a resource without a status yet is offline). */
  private *resourcesForMetrics(): Iterable<{ name: string; ip: string; state: string; owner: string | null }> {
    for (const spec of this.view.resources.values()) {
      const status = this.view.statuses.get(spec.name);
      yield { name: spec.name, ip: spec.ip, state: status?.state ?? 'offline', owner: status?.owner ?? null };
    }
  }

  /**
   * The load line: what a cluster of this size costs this agent (docs/ARCHITECTURE.md, "A large cluster
   * stays light"). Reconcile times are the event loop's time per pass; probes are the standby's.
   */
  private logLoad(): void {
    const now = performance.now();
    const passes = this.work.passStats();
    const probes = this.monitor.probesSent;
    const perSecond = (probes - this.statsSince.probes) / Math.max(0.001, (now - this.statsSince.at) / 1000);
    this.statsSince = { at: now, probes };
    const memory = process.memoryUsage();
    this.log(
      formatLoadLine({
        resources: this.view.resources.size,
        heldHere: this.local.resources().length,
        passes: passes.passes,
        passMedianMs: passes.medianMs,
        passLongestMs: passes.longestMs,
        probesPerSecond: perSecond,
        ownersWatched: this.monitor.ownersWatched,
        rssBytes: memory.rss,
        heapBytes: memory.heapUsed,
      }),
    );
  }

  private nodeRecord(): NodeRecord {
    const record: NodeRecord = { name: this.node, state: 'up', agentVersion: this.version, lastSeen: Date.now(), macs: macsForRecord(this.host.macs()) };
    return this.handoff === null ? record : { ...record, handoffKey: this.handoff.publicKey };
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
    this.rejections.review();
    this.unwatch = await this.store.watch(
      snapshot.revision,
      (change) => this.onChange(change),
      (reason) => {
        this.log(`watch reset (${reason}): resynchronising`);
        void this.resync(`store watch reset: ${reason}`).catch((error: unknown) => this.log(`resync failed: ${String(error)}`));
      },
    );
    this.work.schedule();
    this.recordFence();
  }

  /** The audit entry of a fence, written after the lease is confirmed again (a resync follows every fence). */
  private recordFence(): void {
    const fence = this.unrecordedFence;
    if (fence === null) return;
    this.unrecordedFence = null;
    const detail = `dropped ${plural(fence.addresses, 'address')} (${fence.reason}); lease confirmed again ${Math.round((Date.now() - fence.at) / 100) / 10} s later`;
    this.store.appendAudit({ at: fence.at, actor: this.node, action: 'fence', target: this.node, outcome: 'ok', detail, handoffMs: null }).catch((error: unknown) => this.log(`fence not recorded: ${String(error)}`));
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
    const intentBefore = change.collection === 'intents' ? this.view.intents.get(change.name) : undefined;
    this.view.apply(change);
    if (change.kind === 'delete' && change.rejected !== undefined) this.rejections.review();
    this.arpWatch.viewChanged(change);
    if (change.collection === 'audit' && change.kind === 'put') this.onPeerConflict(change.value);
    this.emit('change', change);
    if (change.collection === 'intents' && change.kind === 'put' && movesAddresses(change.value)) for (const resource of subjectsOf(change.value)) this.monitor.setAside(resource);
    if (change.collection === 'intents' && change.kind === 'delete') this.moves.onDeleted(change.name, intentBefore ?? null);
    if (change.collection === 'intents' && change.kind === 'put' && change.value.kind === 'batch') this.moves.onBatchChanged(change.value);
    this.work.schedule();
  }

  /** Every 50 ms: interface faults, a look at stalled moves, and the fencing step. */
  private tick(): void {
    this.interfaces.poll();
    // A bug in the checks' bookkeeping must not end the agent (its addresses would go with it).
    try {
      this.health.tick();
    } catch (error) {
      this.log(`health checks: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.view.intents.size > 0 && performance.now() - this.lastIntentPoll > INTENT_POLL_MS) {
      this.lastIntentPoll = performance.now();
      this.work.schedule();
    }
    this.lease.check();
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

  /** The operator's announce-now, carried out by `node` (the holder): here, or through the store (announcer.ts). */
  announceOn(node: NodeName, resource: ResourceName, actor: string): ReturnType<Announcer['run']> {
    return this.announcer.run(node, resource, actor);
  }

  /** The operator's cleanup of the failure policy's bans and counts on `node` (local-failures.ts). */
  cleanupOn(node: NodeName, resource: ResourceName, actor: string): ReturnType<LocalFailures['cleanupOn']> {
    return this.failures.cleanupOn(node, resource, actor);
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

  /**
   * Graceful stop: say this node is leaving (peers then ask it for nothing and take nothing new from
   * it), hand every address to the best other node as planned moves, asking again as moves end (a
   * target that is stopping too refuses), then leave. When no live node remains, as when the whole
   * cluster stops at once, the addresses go down with the node at once instead of waiting for moves.
   */
  async stop(options: { handOff: boolean; timeoutMs?: number } = { handOff: true }): Promise<void> {
    this.stopping = true;
    const membership = this.lease.membership();
    if (options.handOff && membership && !this.lease.fenced()) {
      await this.store.markLeaving(membership).catch((error: unknown) => this.log(`stopping: could not tell the cluster (${error instanceof Error ? error.message : String(error)})`));
      const deadline = Date.now() + (options.timeoutMs ?? MOVE_TIMEOUT_MS);
      const owned = (): number => this.view.owners.ownedBy(this.node).size;
      const tries = new Map<ResourceName, number>();
      while (Date.now() < deadline && owned() > 0) {
        if ((await this.moves.requestAllAway(`${this.node} stopping`, tries)) === 0) {
          this.log(`stopping: no live node can take ${plural(owned(), 'address')}; they go down with this node`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await this.teardown({ keepAddresses: false });
    await this.lease.leave();
  }

  /** Crash-like stop for tests of re-adoption: addresses stay, the lease is left to expire. */
  async abandon(): Promise<void> {
    this.stopping = true;
    await this.teardown({ keepAddresses: true });
  }

  /** Ends every timer, capture and watch; the addresses go too unless they are to outlive this process. */
  private async teardown(options: { keepAddresses: boolean }): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.hooks.stop();
    this.lease.close();
    this.monitor.stop();
    this.arpWatch.close();
    this.convergence.close();
    this.handoff?.close();
    if (!options.keepAddresses) this.local.fenceAll();
    this.local.close();
    await this.unwatch?.();
  }
}

