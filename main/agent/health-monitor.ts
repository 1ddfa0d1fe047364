// This node's health checks (issue 14 §1): every resource with checks that this node may hold has its
// profile run here once per interval — once per profile, however many resources share it — and the
// verdicts (cluster/health-verdict.ts) are published in this node's health record, bound to its lease,
// which every agent's placement reads (preload/contract/placement.ts). A verdict that turns is audited
// (`check.failed`, `check.recovered`); the move it causes is the owner's planned move (planned-moves.ts).
import type { AuditRecord } from '../store/store';
import type { ResourceName, ResourceSpec } from '../cluster/model';
import { afterRun, combineRuns, type RunOutcome, type Verdict, type VerdictChange } from '../cluster/health-verdict';
import { isAllowed } from '../cluster/placement';
import { formatCheck, healthKey, MAX_HEALTH_PROFILES, MAX_HEALTH_REASON_LENGTH, type HealthCheck, type HealthResult, type HealthSpec, type NodeHealth } from '../../preload/contract/health';
import type { ClusterView } from './cluster-view';
import type { NodeContext } from './node-context';

/** Most resources named one by one in a verdict's audit entry; the rest are counted. */
const AUDIT_NAMES = 10;
/** A new reason under the same verdict (a program's changing message) is published at most this often. */
const REASON_REPUBLISH_MS = 5_000;
/** A check that has not settled this long after its timeout is counted as failed (a hung probe must not stop its profile for good). */
const RUN_GRACE_MS = 1_000;

export interface HealthMonitorContext extends Pick<NodeContext, 'node' | 'store' | 'host' | 'view' | 'membership' | 'log'> {
  /** Each check's run as it ends: its kind and whether it passed (the metrics). */
  onCheckRun?: (kind: string, ok: boolean) => void;
  /** Who answers an ARP probe of `ip` on `ifname` (the gateway check): at least one MAC = answered. */
  arpAnswered(ip: string, ifname: string, timeoutMs: number): Promise<boolean>;
  /** The interface the resource's address would use here, or why there is none. */
  ifnameFor(spec: ResourceSpec): { ok: true; ifname: string } | { ok: false; reason: string };
  audit(record: Omit<AuditRecord, 'at'>): Promise<void>;
  /** Monotonic ms. */
  now(): number;
  wallNow(): number;
  /** The failure policy's part of the record: this node's bans and failover marks (local-failures.ts). */
  policy(): Pick<NodeHealth, 'bans' | 'failovers'>;
}

interface Profile {
  key: string;
  health: HealthSpec;
  /** The resources sharing it that this node may hold, in the view's order. */
  resources: ResourceName[];
  /** One of them: its interface is the gateway check's. */
  sample: ResourceSpec;
}

export class HealthMonitor {
  private profiles = new Map<string, Profile>();
  private readonly verdicts = new Map<string, Verdict>();
  private readonly nextRunAt = new Map<string, number>();
  private readonly running = new Set<string>();
  /** What the profiles were worked out from: the same view and spec count give the same profiles. */
  private seen: { view: ClusterView; changes: number } | null = null;
  private dirty = false;
  private publishing = false;
  /** Only reasons changed since the last write: written once REASON_REPUBLISH_MS passed. */
  private reasonsOnly = false;
  private publishedAt = Number.NEGATIVE_INFINITY;
  /** After a failed write, not before this (monotonic ms): a store that is down is not asked 20 times a second. */
  private retryAt = 0;
  /** The lease the record was last written under: a new membership needs it written again. */
  private publishedLease: string | null = null;

  constructor(private readonly context: HealthMonitorContext) {}

  /** The profiles to run: those of enabled resources with checks that this node may hold. */
  private refreshProfiles(): void {
    const view = this.context.view();
    if (this.seen?.view === view && this.seen.changes === view.resources.changes) return;
    this.seen = { view, changes: view.resources.changes };
    const profiles = new Map<string, Profile>();
    for (const spec of view.resources.values()) {
      if (spec.health === undefined || !spec.enabled || !isAllowed(spec, this.context.node)) continue;
      const key = healthKey(spec.health);
      const profile = profiles.get(key);
      if (profile !== undefined) profile.resources.push(spec.name);
      else if (profiles.size < MAX_HEALTH_PROFILES) profiles.set(key, { key, health: spec.health, resources: [spec.name], sample: spec });
    }
    for (const key of this.verdicts.keys()) {
      if (!profiles.has(key)) {
        this.verdicts.delete(key);
        this.nextRunAt.delete(key);
        this.dirty = true;
        this.reasonsOnly = false;
      }
    }
    this.profiles = profiles;
  }

  /** Every agent tick: the runs that are due start, and a changed record is published. */
  tick(): void {
    this.refreshProfiles();
    const now = this.context.now();
    for (const profile of this.profiles.values()) {
      if (this.running.has(profile.key) || (this.nextRunAt.get(profile.key) ?? 0) > now) continue;
      this.nextRunAt.set(profile.key, now + profile.health.intervalMs);
      this.running.add(profile.key);
      void this.runProfile(profile).finally(() => this.running.delete(profile.key));
    }
    const membership = this.context.membership();
    if (membership !== null && membership.leaseId !== this.publishedLease) {
      this.dirty = true;
      this.reasonsOnly = false;
    }
    const due = this.dirty && (!this.reasonsOnly || now - this.publishedAt >= REASON_REPUBLISH_MS);
    if (due && !this.publishing && membership !== null && now >= this.retryAt) void this.publish();
  }

  /** The profiles this node runs, by their current verdict (the metrics). */
  verdictSummary(): { passing: number; failing: number } {
    let failing = 0;
    for (const verdict of this.verdicts.values()) if (!verdict.healthy) failing++;
    return { passing: this.verdicts.size - failing, failing };
  }

  private async runProfile(profile: Profile): Promise<void> {
    const runs = await Promise.all(profile.health.checks.map((check) => this.bounded(check, profile)));
    // The profile may have gone while the checks ran (its resources removed or edited).
    if (!this.profiles.has(profile.key)) return;
    const before = this.verdicts.get(profile.key) ?? null;
    const { verdict, change } = afterRun(before, combineRuns(runs), profile.health, Math.round(this.context.wallNow()));
    this.verdicts.set(profile.key, verdict);
    // The record carries the verdict and its reason: a new reason is news for the consoles, a repeated one is not.
    if (change !== null) {
      this.dirty = true;
      this.reasonsOnly = false;
    } else if (verdict.reason !== before?.reason) {
      if (!this.dirty) this.reasonsOnly = true;
      this.dirty = true;
    }
    if (change !== null) this.onChange(profile, verdict, change);
  }

  /** A check's run, failed when it has not settled shortly after its timeout. */
  private bounded(check: HealthCheck, profile: Profile): Promise<RunOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<RunOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `${formatCheck(check)}: did not finish within ${profile.health.timeoutMs} ms` }), profile.health.timeoutMs + RUN_GRACE_MS);
    });
    return Promise.race([this.runCheck(check, profile), late]).then((outcome) => {
      this.context.onCheckRun?.(check.kind, outcome.ok);
      return outcome;
    }).finally(() => clearTimeout(timer));
  }

  private async runCheck(check: HealthCheck, profile: Profile): Promise<RunOutcome> {
    const timeoutMs = profile.health.timeoutMs;
    try {
      if (check.kind !== 'gateway') return await this.context.host.runCheck(check, timeoutMs);
      const iface = this.context.ifnameFor(profile.sample);
      if (!iface.ok) return { ok: false, reason: `gateway: ${iface.reason}` };
      const ip = check.ip ?? this.context.host.defaultGateway(iface.ifname);
      if (ip === null) return { ok: false, reason: `gateway: no default route on ${iface.ifname}` };
      const answered = await this.context.arpAnswered(ip, iface.ifname, timeoutMs);
      return { ok: answered, reason: answered ? `gateway ${ip} answered ARP on ${iface.ifname}` : `gateway ${ip}: no ARP answer on ${iface.ifname} within ${timeoutMs} ms` };
    } catch (error) {
      return { ok: false, reason: `${formatCheck(check)}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  private onChange(profile: Profile, verdict: Verdict, change: Exclude<VerdictChange, null>): void {
    const { node } = this.context;
    const listed = profile.resources.slice(0, AUDIT_NAMES).join(', ') + (profile.resources.length > AUDIT_NAMES ? ` and ${profile.resources.length - AUDIT_NAMES} more` : '');
    if (change === 'first-healthy') return; // the usual start: not news
    const failed = change === 'failed' || change === 'first-unhealthy';
    this.context.log(`health: ${failed ? 'failing' : 'passing'} on ${node} for ${listed}: ${verdict.reason}`);
    // One entry per resource named (a resource's history shows why it moved), at most AUDIT_NAMES.
    for (const resource of profile.resources.slice(0, AUDIT_NAMES)) {
      void this.context
        .audit({
          actor: `agent:${node}`,
          action: failed ? 'check.failed' : 'check.recovered',
          target: resource,
          outcome: failed ? 'failed' : 'ok',
          detail: `on ${node}: ${verdict.reason}${profile.resources.length > 1 ? ` (profile shared by ${profile.resources.length} resources)` : ''}`,
          handoffMs: null,
        })
        .catch((error: unknown) => this.context.log(`health: audit not written: ${String(error)}`));
    }
  }

  /** The failure policy's part changed: the record is written again at the next tick. */
  markChanged(): void {
    this.dirty = true;
    this.reasonsOnly = false;
  }

  /** The record as it stands: one result per profile with a verdict, and the policy's bans and marks. */
  record(): NodeHealth {
    const results: HealthResult[] = [];
    for (const [key, verdict] of this.verdicts) {
      results.push({ key, healthy: verdict.healthy, reason: verdict.reason.slice(0, MAX_HEALTH_REASON_LENGTH), since: verdict.since });
    }
    const { bans, failovers } = this.context.policy();
    return { node: this.context.node, results, ...(bans !== undefined && bans.length > 0 ? { bans } : {}), ...(failovers !== undefined && failovers.length > 0 ? { failovers } : {}) };
  }

  private async publish(): Promise<void> {
    const membership = this.context.membership();
    if (membership === null) return;
    this.dirty = false;
    this.reasonsOnly = false;
    this.publishedAt = this.context.now();
    this.publishing = true;
    try {
      await this.context.store.putHealth(membership, this.record());
      this.publishedLease = membership.leaseId;
    } catch (error) {
      // Written again a second later (a new lease, the store back).
      this.dirty = true;
      this.retryAt = this.context.now() + 1_000;
      this.context.log(`health: record not written: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.publishing = false;
    }
  }
}
