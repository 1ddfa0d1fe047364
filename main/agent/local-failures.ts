// This node's side of the failure policy (issue 14 §3; decisions in cluster/failure-policy.ts): a failure
// of its own with a resource (the address cannot be registered here, the interface is missing) is tried
// again here, then this node bans itself from the resource and lets it go, so placement gives it to
// another node; with the resource's failover threshold reached it is failed instead. The bans, and a mark
// for every move a failure here caused (a ban, a health move), go into this node's health record
// (health-monitor.ts publishes it), bound to its lease; every agent's placement passes over a banned node.
// A ban is lifted here when it ends, or by `ipfo resource cleanup` through a cleanup intent.
import { randomBytes } from 'node:crypto';
import { describeFailure } from '../../preload/contract/failure-text';
import { bannedResources, type FailoverMark, type NodeBan } from '../../preload/contract/failure-policy';
import { decideLocalFailure, pruneRecord, withoutResource, type LocalFailure, type LocalFailureDecision } from '../cluster/failure-policy';
import type { CleanupOutcome } from '../cluster/intents';
import type { FailureReason, NodeName, ResourceName } from '../cluster/model';
import type { AuditRecord } from '../store/store';
import { AskedIntents, type AskedIntentsContext } from './asked-intents';
import type { StatusFields } from './resource-records';

/** How long the asker of a cleanup waits for each node's answer. */
export const CLEANUP_TIMEOUT_MS = 5_000;

export interface LocalFailuresContext extends AskedIntentsContext {
  putStatus(resource: ResourceName, fields: StatusFields): Promise<void>;
  /** Fails the resource for the whole cluster (records.fail: status, log, audit). */
  fail(resource: ResourceName, failure: Extract<FailureReason, { kind: 'failover-limit' }>): Promise<void>;
  audit(record: Omit<AuditRecord, 'at'>): Promise<void>;
  /** Lets this node's owner key of the resource go (nothing when it is not ours). */
  releaseKey(resource: ResourceName): Promise<void>;
  /** The health record must be written again (bans or marks changed). */
  recordChanged(): void;
  /** A reconcile soon (a retry is due, a ban ended). */
  schedule(): void;
  /** Monotonic ms, and wall-clock ms. */
  now(): number;
  wallNow(): number;
}

export class LocalFailures {
  /** Failures of each resource here since it was last held here. */
  private readonly attempts = new Map<ResourceName, number>();
  /** Resources waiting for their retry here, until (monotonic ms). */
  private readonly retryAt = new Map<ResourceName, number>();
  private bans: NodeBan[] = [];
  private marks: FailoverMark[] = [];
  private readonly asked: AskedIntents<'cleanup'>;

  constructor(private readonly context: LocalFailuresContext) {
    this.asked = new AskedIntents(context, 'cleanup', CLEANUP_TIMEOUT_MS);
  }

  /** What the health record carries of the policy. */
  recordParts(): { bans: NodeBan[]; failovers: FailoverMark[] } {
    return { bans: this.bans, failovers: this.marks };
  }

  /** This node must not take the resource now: its retry is not due yet, or it is banned here. */
  refuses(resource: ResourceName): boolean {
    const at = this.retryAt.get(resource);
    if (at !== undefined && at > this.context.now()) return true;
    return bannedResources(this.bans).has(resource);
  }

  /** The resource is held here: its failures here are forgotten. */
  held(resource: ResourceName): void {
    this.attempts.delete(resource);
    this.retryAt.delete(resource);
  }

  /**
   * A failure of this node's own with `resource`: tried again here, or this node banned from it and the
   * key let go, or (threshold reached) the resource failed. The caller has not failed it.
   */
  async onFailure(resource: ResourceName, failure: LocalFailure): Promise<void> {
    const { context } = this;
    const decision = this.count(resource, failure);
    if (decision === null) return;
    const why = describeFailure(failure);
    switch (decision.kind) {
      case 'retry': {
        this.retryAt.set(resource, context.now() + decision.delayMs);
        setTimeout(() => context.schedule(), decision.delayMs + 10).unref();
        context.log(`${resource}: ${why}; trying again here in ${decision.delayMs} ms (retry ${decision.attempt} of ${decision.of})`);
        await context.releaseKey(resource);
        await context.putStatus(resource, { state: 'online-pending', owner: null, ownerMac: null, failure: null });
        await context.audit({ actor: context.node, action: 'resource.retry', target: resource, outcome: 'failed', detail: `${why}; retry ${decision.attempt} of ${decision.of} on ${context.node} in ${decision.delayMs} ms`, handoffMs: null });
        return;
      }
      case 'ban': {
        // The key goes and another node takes the resource: a move this failure caused, marked.
        this.marks = [...this.marks, { resource, at: decision.ban.since }];
        this.banHere(decision.ban);
        const length = banLength(decision.ban);
        context.log(`${resource}: ${why}; ${context.node} banned from it for ${length} after ${decision.after} failures; another node takes it`);
        await context.releaseKey(resource);
        await context.putStatus(resource, { state: 'online-pending', owner: null, ownerMac: null, failure: null });
        await context.audit({ actor: context.node, action: 'resource.banned', target: resource, outcome: 'failed', detail: `${context.node} banned for ${length} after ${decision.after} failures: ${why}`, handoffMs: null });
        return;
      }
      case 'fail':
        this.attempts.delete(resource);
        this.retryAt.delete(resource);
        await context.releaseKey(resource);
        await context.fail(resource, decision.failure);
    }
  }

  /**
   * A planned move to this node failed because this node could not carry the address (its registration
   * refused, its interface missing): the move's own path gives the address back to its owner, so only the
   * count is kept here; beyond the retries this node is banned, and failback or a drain stop choosing it.
   */
  async onFailedTake(resource: ResourceName, failure: LocalFailure): Promise<void> {
    const { context } = this;
    const decision = this.count(resource, failure);
    if (decision?.kind !== 'ban') return; // a retry is the next move asked; at the threshold nothing moves here anyway
    // Not marked: the address stays with its owner, so this failure moved nothing.
    this.banHere(decision.ban);
    context.log(`${resource}: ${describeFailure(failure)}; ${context.node} banned from it after ${decision.after} failed moves here`);
    await context.audit({ actor: context.node, action: 'resource.banned', target: resource, outcome: 'failed', detail: `${context.node} banned for ${banLength(decision.ban)} after ${decision.after} failed moves here: ${describeFailure(failure)}`, handoffMs: null });
  }

  /** This node takes the ban: its count and any retry for the resource end, and the record is written again. */
  private banHere(ban: NodeBan): void {
    this.attempts.delete(ban.resource);
    this.retryAt.delete(ban.resource);
    this.bans = [...this.bans.filter((other) => other.resource !== ban.resource), ban];
    this.context.recordChanged();
  }

  /** One more failure of `resource` here, and what the policy makes of it (null: the resource is gone). */
  private count(resource: ResourceName, failure: LocalFailure): LocalFailureDecision | null {
    const spec = this.context.view().resources.get(resource);
    if (spec === undefined) return null;
    const attempt = (this.attempts.get(resource) ?? 0) + 1;
    this.attempts.set(resource, attempt);
    return decideLocalFailure({ spec, failure, attempt, marks: this.allMarks(), now: Math.round(this.context.wallNow()) });
  }

  /** This node hands `resource` on because it fails the health checks: counted towards the threshold. */
  markFailover(resource: ResourceName): void {
    this.marks = [...this.marks, { resource, at: Math.round(this.context.wallNow()) }];
    this.context.recordChanged();
  }

  /** Every node's marks as they stand, this node's as it has them now. */
  allMarks(): Array<{ failovers?: readonly FailoverMark[] }> {
    const { context } = this;
    const others = [...context.view().health.values()].filter((record) => record.node !== context.node);
    return [...others, { failovers: this.marks }];
  }

  /** Every second or so: ended bans lifted, old marks dropped; a reconcile when a ban ended. */
  tick(): void {
    const pruned = pruneRecord(this.bans, this.marks, this.context.wallNow());
    if (!pruned.changed) return;
    const lifted = this.bans.filter((ban) => !pruned.bans.includes(ban));
    this.bans = pruned.bans;
    this.marks = pruned.marks;
    this.context.recordChanged();
    for (const ban of lifted) this.context.log(`${ban.resource}: the ban of ${this.context.node} ended`);
    if (lifted.length > 0) this.context.schedule();
  }

  /** Lifts this node's bans and drops its marks and failures for `resource`. */
  clear(resource: ResourceName): { bans: number; failovers: number } {
    const bans = withoutResource(this.bans, resource);
    const marks = withoutResource(this.marks, resource);
    this.bans = bans.kept;
    this.marks = marks.kept;
    this.attempts.delete(resource);
    this.retryAt.delete(resource);
    if (bans.dropped + marks.dropped > 0) {
      this.context.recordChanged();
      this.context.schedule();
    }
    return { bans: bans.dropped, failovers: marks.dropped };
  }

  /** A cleanup on `node`: here, or through a cleanup intent that node answers. */
  async cleanupOn(node: NodeName, resource: ResourceName, actor: string): Promise<CleanupOutcome | { ok: false; timedOut: true }> {
    if (node === this.context.node) return { ok: true, ...this.clear(resource) };
    const id = `cleanup:${node}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    return this.asked.ask({ id, kind: 'cleanup', node, resource, outcome: null, actor, createdAt: Date.now() });
  }

  /** Answers the cleanup intents naming this node (every reconcile). */
  serve(): void {
    this.asked.serve((intent) => Promise.resolve({ ok: true, ...this.clear(intent.resource) }));
  }
}

/** "10 min", "90 s": how long a ban lasts, for the log and the audit. */
function banLength(ban: NodeBan): string {
  const seconds = Math.round((ban.until - ban.since) / 1000);
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
