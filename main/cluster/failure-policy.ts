// The failure policy's decisions (issue 14 §3; the records and their reading are the contract's,
// preload/contract/failure-policy.ts). Pure: the agent (main/agent/local-failures.ts) passes the counts and
// the time in and carries out what comes back.
//
// A failure of the node's own (its address cannot be registered there, its interface is missing):
//   - tried again on the same node while attempts ≤ retries, after a delay that grows with each attempt;
//   - then, unless the resource's moves caused by failures reached its threshold, the node is banned from
//     the resource for banForSec and the resource goes to another node (placement passes over the ban);
//   - with the threshold reached, the resource is failed (it has nowhere to stay) and waits for a cleanup.
// A conflict with a foreign MAC is never decided here: it stays a hard stop.
import {
  failoverLimitReached,
  MAX_BAN_REASON_LENGTH,
  MAX_BANS,
  MAX_FAILOVER_MARKS,
  POLICY_DEFAULTS,
  THRESHOLD_WINDOW_MAX_SEC,
  type FailoverMark,
  type NodeBan,
} from '../../preload/contract/failure-policy';
import { describeFailure } from '../../preload/contract/failure-text';
import type { FailureReason, ResourceName, ResourceSpec } from './model';

export type LocalFailure = Extract<FailureReason, { kind: 'interface-missing' | 'register-failed' }>;

export function isLocalFailure(failure: FailureReason): failure is LocalFailure {
  return failure.kind === 'interface-missing' || failure.kind === 'register-failed';
}

/** The first retry waits this long, the next twice as long, and so on up to RETRY_DELAY_MAX_MS. */
export const RETRY_DELAY_MS = 1_000;
export const RETRY_DELAY_MAX_MS = 10_000;

export type LocalFailureDecision =
  | { kind: 'retry'; attempt: number; of: number; delayMs: number }
  | { kind: 'ban'; ban: NodeBan; after: number }
  | { kind: 'fail'; failure: Extract<FailureReason, { kind: 'failover-limit' }> };

export interface LocalFailureInput {
  spec: Pick<ResourceSpec, 'name' | 'retries' | 'banForSec' | 'failoverThreshold'>;
  failure: LocalFailure;
  /** Failures of the resource on this node since it last held it, this one included (1 = the first). */
  attempt: number;
  /** Every node's failover marks (this node's as it has them now, not as the store last said). */
  marks: Iterable<{ failovers?: readonly FailoverMark[] }>;
  /** Wall-clock ms. */
  now: number;
}

export function decideLocalFailure(input: LocalFailureInput): LocalFailureDecision {
  const { spec, failure, attempt, now } = input;
  const retries = spec.retries ?? POLICY_DEFAULTS.retries;
  if (attempt <= retries) {
    return { kind: 'retry', attempt, of: retries, delayMs: Math.min(RETRY_DELAY_MAX_MS, RETRY_DELAY_MS * 2 ** (attempt - 1)) };
  }
  const detail = describeFailure(failure);
  if (spec.failoverThreshold !== undefined && failoverLimitReached(spec, input.marks, now)) {
    const { count, windowSec } = spec.failoverThreshold;
    return { kind: 'fail', failure: { kind: 'failover-limit', count, windowSec, detail } };
  }
  const banForSec = spec.banForSec ?? POLICY_DEFAULTS.banForSec;
  // Whole ms: every reader's schema wants them (a clock read from performance.now() has fractions).
  const since = Math.round(now);
  return { kind: 'ban', ban: { resource: spec.name, since, until: since + banForSec * 1000, reason: detail.slice(0, MAX_BAN_REASON_LENGTH) }, after: attempt };
}

/**
 * A node's bans and marks as it should publish them at `now`: ended bans lifted, marks older than the
 * longest window any threshold may have dropped, both within the record's bounds (the oldest marks go).
 * `changed`: whether anything was dropped.
 */
export function pruneRecord(bans: readonly NodeBan[], marks: readonly FailoverMark[], now: number): { bans: NodeBan[]; marks: FailoverMark[]; changed: boolean } {
  const liveBans = bans.filter((ban) => ban.until > now).slice(-MAX_BANS);
  const oldest = now - THRESHOLD_WINDOW_MAX_SEC * 1000;
  const liveMarks = marks.filter((mark) => mark.at >= oldest).slice(-MAX_FAILOVER_MARKS);
  return { bans: liveBans, marks: liveMarks, changed: liveBans.length !== bans.length || liveMarks.length !== marks.length };
}

/** A resource's failover marks dropped (a cleanup), with how many there were. */
export function withoutResource<T extends { resource: ResourceName }>(list: readonly T[], resource: ResourceName): { kept: T[]; dropped: number } {
  const kept = list.filter((item) => item.resource !== resource);
  return { kept, dropped: list.length - kept.length };
}
