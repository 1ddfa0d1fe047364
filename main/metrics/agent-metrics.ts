// What an agent tells Prometheus. Events are counted as the agent records them — every audit entry it
// writes passes through audited(), so a takeover, a move or a conflict is counted exactly when the audit
// log says it happened — and the state of things (resources, the lease, captures) is read at scrape
// time from `sources`. Names follow Prometheus's conventions: the unit in the name (seconds, bytes), `_total`
// for counters, labels from small fixed sets (a resource's name is the only open one, bounded by the
// cluster's resources; never a MAC or a frame).
import type { AuditRecord, LeaseLossReason } from '../store/store';
import type { ConvergenceReport } from '../watch/convergence';
import type { TakeoverReport } from '../watch/takeover-convergence';
import { Registry, type Sample } from './registry';

/** What is read at scrape time. */
export interface AgentMetricSources {
  node: string;
  cluster: string;
  /** Every resource as this agent's view of the store has it. */
  resources(): Iterable<{ name: string; ip: string; state: string; owner: string | null }>;
  /** Every node and whether its lease is alive (and its administrative state). */
  nodes(): Iterable<{ name: string; state: string }>;
  /** Addresses this node holds now. */
  held(): number;
  /** Seconds since the send time of the last keepalive the store confirmed; null without a lease. */
  leaseConfirmationAgeSec(): number | null;
  leaseHealthy(): boolean;
  fenced(): boolean;
  /** The capture sockets open now (ARP, and neighbour discovery for IPv6), with their counters since they opened. */
  captures(): Iterable<CaptureReading>;
  /** Health profiles this node runs, by verdict. */
  healthVerdicts(): { passing: number; failing: number };
}

/** The frames a capture socket takes: ARP, or IPv6 neighbour discovery (NS and NA). */
export type CaptureProtocol = 'arp' | 'nd';

export interface CaptureReading {
  ifname: string;
  protocol: CaptureProtocol;
  received: number;
  malformed: number;
  kernelDropped: number | null;
}

/** Seconds: from a LAN's sub-millisecond handoff to a takeover that waited a lease out. */
const GAP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ROUND_TRIP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const CONVERGENCE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/**
 * Per-resource series a scrape carries at most. A scrape renders on the agent's event loop: 10,000 take
 * ~12 ms, 100,000 took 330 ms (`npm run bench:metrics`) — a stall the standby and the lease would feel —
 * and 9 MB per agent per scrape. Beyond it the resources that are not online come first (what the
 * owner-lost alert needs); ipfo_resources{state} always counts them all.
 */
export const MAX_RESOURCE_SERIES = 10_000;
const MAX_NODES = 1_000;

/** Audit actions that count as an ARP conflict, by kind (the label's whole set). */
const CONFLICT_KINDS: Readonly<Record<string, string>> = { 'arp.conflict': 'claim', 'arp.duplicate': 'duplicate' };

const LEASE_LOSS_REASONS: readonly LeaseLossReason[] = ['revoked', 'expired'];

/**
 * A kernel counter that restarts at 0 when its socket is opened again (an interface fault closes it):
 * the total over every socket, so the exported counter never goes down.
 */
export class MonotonicTotals {
  private readonly last = new Map<string, number>();
  private readonly totals = new Map<string, number>();

  /** Feeds the current reading of `key`; returns the total so far. */
  advance(key: string, reading: number): number {
    const last = this.last.get(key) ?? 0;
    const total = (this.totals.get(key) ?? 0) + (reading >= last ? reading - last : reading);
    this.last.set(key, reading);
    this.totals.set(key, total);
    return total;
  }

  /** The totals, also of keys not read this time. */
  entries(): IterableIterator<[string, number]> {
    return this.totals.entries();
  }
}

// A socket's key in the totals: an interface's name never holds a NUL (Linux and Windows alike).
function captureKey(capture: Pick<CaptureReading, 'ifname' | 'protocol'>): string {
  return `${capture.protocol}\0${capture.ifname}`;
}

function captureLabels(key: string): { interface: string; protocol: string } {
  const at = key.indexOf('\0');
  return { interface: key.slice(at + 1), protocol: key.slice(0, at) };
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly audit = this.registry.counter({ name: 'ipfo_audit_entries_total', help: 'Audit entries this agent wrote, by action and outcome.', labelNames: ['action', 'outcome'], maxSeries: 500 });
  private readonly takeovers = this.registry.counter({ name: 'ipfo_takeovers_total', help: 'Addresses this node took over from a node that failed (unplanned failover).' }).init();
  private readonly moves = this.registry.counter({ name: 'ipfo_moves_total', help: 'Planned moves (single or batch) this node completed as the target.' }).init();
  private readonly revocations = this.registry.counter({ name: 'ipfo_owner_revocations_total', help: 'Leases of silent owners this node revoked as their standby.' }).init();
  private readonly fences = this.registry.counter({ name: 'ipfo_fences_total', help: 'Times this node dropped every address for want of a confirmed lease.' }).init();
  private readonly leaseLosses = this.registry.counter({ name: 'ipfo_lease_losses_total', help: 'Leases this node lost, by reason (revoked: by a peer or the store; expired: renewals not confirmed in time).', labelNames: ['reason'], maxSeries: 10 });
  private readonly conflicts = this.registry.counter({ name: 'ipfo_arp_conflicts_total', help: 'ARP conflicts recorded by this node: claim (a station claims an address of the cluster), duplicate (two MACs answer for one address).', labelNames: ['kind'], maxSeries: 10 });
  private readonly stragglers = this.registry.counter({ name: 'ipfo_arp_stragglers_total', help: 'Stations that still used the old MAC of an address after it moved (sent unicast gratuitous ARP).' }).init();
  private readonly unconverged = this.registry.counter({ name: 'ipfo_convergence_unconverged_stations_total', help: 'Stations still using an old MAC when the convergence watch ended.' }).init();
  private readonly stationsTold = this.registry.counter({ name: 'ipfo_takeover_stations_told_total', help: 'Stations told the new MAC by unicast gratuitous ARP after takeovers by this node (from the binding tables).' }).init();
  private readonly stationsSeen = this.registry.counter({ name: 'ipfo_takeover_stations_seen_total', help: 'Of those, stations then seen sending to the address at the new MAC.' }).init();
  private readonly checkRuns = this.registry.counter({ name: 'ipfo_health_check_runs_total', help: 'Health check runs on this node, by kind and result.', labelNames: ['kind', 'result'], maxSeries: 50 });
  private readonly handoffGap = this.registry.histogram({ name: 'ipfo_handoff_gap_seconds', help: 'Client-visible gap of planned moves completed here: from the old owner letting go to this node answering.', buckets: GAP_BUCKETS }).init();
  private readonly takeoverGap = this.registry.histogram({ name: 'ipfo_takeover_gap_seconds', help: "Client-visible gap of takeovers by this node: from the old owner's last answer its standby heard to this node's announcement.", buckets: GAP_BUCKETS }).init();
  private readonly convergence = this.registry.histogram({ name: 'ipfo_convergence_seconds', help: 'From a handoff to the last frame a straggler sent to the old MAC (handoffs with stragglers only).', buckets: CONVERGENCE_BUCKETS }).init();
  private readonly storeRoundTrip = this.registry.histogram({ name: 'ipfo_store_round_trip_seconds', help: "Round trip of the lease's keepalives to the cluster store.", buckets: ROUND_TRIP_BUCKETS }).init();
  private readonly captureFrames = new MonotonicTotals();
  private readonly captureMalformed = new MonotonicTotals();
  private readonly captureDropped = new MonotonicTotals();

  constructor(private readonly sources: AgentMetricSources) {
    const r = this.registry;
    for (const kind of Object.values(CONFLICT_KINDS)) this.conflicts.init({ kind });
    for (const reason of LEASE_LOSS_REASONS) this.leaseLosses.init({ reason });
    r.gauge({ name: 'ipfo_node_info', help: 'This agent: its node and cluster names (always 1).', labelNames: ['node', 'cluster'] }, () => [{ labels: { node: sources.node, cluster: sources.cluster }, value: 1 }]);
    r.gauge({ name: 'ipfo_resource_info', help: 'Every resource as this agent sees it: address, state and owner (always 1; owner "" when none).', labelNames: ['resource', 'ip', 'state', 'owner'], maxSeries: MAX_RESOURCE_SERIES }, () => this.resourceInfo());
    r.gauge({ name: 'ipfo_resources', help: 'Resources by state, as this agent sees them.', labelNames: ['state'], maxSeries: 10 }, () => this.resourcesByState());
    r.gauge({ name: 'ipfo_node_up', help: "Cluster nodes: 1 while the node's lease lives, by administrative state (down: no lease).", labelNames: ['node', 'state'], maxSeries: MAX_NODES }, () => [...sources.nodes()].map((n) => ({ labels: { node: n.name, state: n.state }, value: n.state === 'down' ? 0 : 1 })));
    r.gauge({ name: 'ipfo_addresses_held', help: 'Addresses this node holds now.' }, () => [{ value: sources.held() }]);
    r.gauge({ name: 'ipfo_lease_confirmation_age_seconds', help: 'Since the send time of the last keepalive the store confirmed (absent without a lease).' }, () => {
      const age = sources.leaseConfirmationAgeSec();
      return age === null ? [] : [{ value: Math.round(age * 1000) / 1000 }];
    });
    r.gauge({ name: 'ipfo_lease_healthy', help: '1 while the lease is confirmed recently enough to act as a member.' }, () => [{ value: sources.leaseHealthy() ? 1 : 0 }]);
    r.gauge({ name: 'ipfo_fenced', help: '1 while this node has dropped its addresses for want of a confirmed lease.' }, () => [{ value: sources.fenced() ? 1 : 0 }]);
    r.gauge({ name: 'ipfo_health_profiles', help: 'Health profiles this node runs, by verdict.', labelNames: ['verdict'], maxSeries: 2 }, () => {
      const { passing, failing } = sources.healthVerdicts();
      return [{ labels: { verdict: 'passing' }, value: passing }, { labels: { verdict: 'failing' }, value: failing }];
    });
    const perSocket = (totals: MonotonicTotals): Sample[] => [...totals.entries()].map(([key, value]) => ({ labels: captureLabels(key), value }));
    const labelNames = ['interface', 'protocol'];
    r.collectedCounter({ name: 'ipfo_capture_frames_total', help: 'Frames the capture sockets received, by interface and protocol (arp; nd: IPv6 neighbour discovery).', labelNames, maxSeries: 512 }, () => {
      this.readCaptures();
      return perSocket(this.captureFrames);
    });
    r.collectedCounter({ name: 'ipfo_capture_malformed_frames_total', help: 'Captured frames that were not valid ARP or neighbour discovery (counted and dropped), by interface and protocol.', labelNames, maxSeries: 512 }, () => perSocket(this.captureMalformed));
    r.collectedCounter({ name: 'ipfo_capture_kernel_dropped_frames_total', help: "Frames the kernel dropped because a capture socket's ring was full, by interface and protocol.", labelNames, maxSeries: 512 }, () => perSocket(this.captureDropped));
  }

  /** An audit entry this agent wrote: counted, and what it says of takeovers, moves, stragglers and conflicts. */
  audited(record: AuditRecord): void {
    this.audit.inc({ action: record.action, outcome: record.outcome });
    const ok = record.outcome === 'ok';
    switch (record.action) {
      case 'failover':
        if (!ok) return;
        this.takeovers.inc();
        if (record.handoffMs !== null) this.takeoverGap.observe(record.handoffMs / 1000);
        return;
      case 'move':
        if (!ok) return;
        this.moves.inc();
        if (record.handoffMs !== null) this.handoffGap.observe(record.handoffMs / 1000);
        return;
      case 'takeover':
        if (ok) this.revocations.inc();
        return;
      case 'arp.straggler':
        this.stragglers.inc();
        return;
      default: {
        const kind = CONFLICT_KINDS[record.action];
        if (kind !== undefined) this.conflicts.inc({ kind });
      }
    }
  }

  convergenceReport(report: ConvergenceReport): void {
    if (report.afterMs !== null) this.convergence.observe(report.afterMs / 1000);
    if (report.stale.length > 0) this.unconverged.inc(undefined, report.stale.length);
  }

  takeoverConvergenceReport(report: TakeoverReport): void {
    this.stationsTold.inc(undefined, report.told.length);
    this.stationsSeen.inc(undefined, report.seen.length);
  }

  fenced(): void {
    this.fences.inc();
  }

  leaseLost(reason: string): void {
    this.leaseLosses.inc({ reason });
  }

  keepaliveRoundTrip(ms: number): void {
    this.storeRoundTrip.observe(ms / 1000);
  }

  checkRun(kind: string, ok: boolean): void {
    this.checkRuns.inc({ kind, result: ok ? 'pass' : 'fail' });
  }

  /** The exposition text (read at scrape time). */
  render(): string {
    return this.registry.render();
  }

  private readCaptures(): void {
    for (const capture of this.sources.captures()) {
      const key = captureKey(capture);
      this.captureFrames.advance(key, capture.received);
      this.captureMalformed.advance(key, capture.malformed);
      if (capture.kernelDropped !== null) this.captureDropped.advance(key, capture.kernelDropped);
    }
  }

  /** The resources that are not online first: past the bound, those are the ones worth a series. */
  private *resourceInfo(): Iterable<Sample> {
    const sample = (r: { name: string; ip: string; state: string; owner: string | null }): Sample => ({ labels: { resource: r.name, ip: r.ip, state: r.state, owner: r.owner ?? '' }, value: 1 });
    for (const r of this.sources.resources()) if (r.state !== 'online') yield sample(r);
    for (const r of this.sources.resources()) if (r.state === 'online') yield sample(r);
  }

  private resourcesByState(): Sample[] {
    const counts = new Map<string, number>();
    for (const r of this.sources.resources()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    return [...counts].map(([state, value]) => ({ labels: { state }, value }));
  }
}
