// Failure policy (issue 14 §3): what a failure on one node does to a resource. A failure that is the
// node's own (its address cannot be registered there, its interface is missing) is tried again there
// `retries` times, then the node is banned from the resource for `banForSec` and the resource goes to
// another node, instead of being failed for the whole cluster. Moves caused by failures (a ban, the
// owner failing the health checks) are counted; beyond `failoverThreshold` in its window the resource
// stays where it is (or, with nowhere to stay, is failed) and says so. A conflict with a station outside
// the cluster stays a hard stop: the cluster never fights a stranger by moving.
//
// Bans and the count live in each node's own health record (health.ts, `health/<node>`, bound to its
// lease): written by the node they concern, read by every agent's placement (placement.ts) and by the
// console. A node lifts its own bans when they run out, so readers need no clock; a node that restarts
// starts with none (as Pacemaker's fail counts, which are transient node attributes).
import { z } from 'zod';
import type { NodeName, ResourceName } from './domain';

export interface FailoverThreshold {
  /** Moves caused by failures allowed within the window; the next one is not made. */
  count: number;
  windowSec: number;
}

export const RETRIES_MAX = 10;
export const BAN_FOR_MIN_SEC = 1;
export const BAN_FOR_MAX_SEC = 7 * 86_400;
export const THRESHOLD_COUNT_MAX = 100;
export const THRESHOLD_WINDOW_MIN_SEC = 60;
export const THRESHOLD_WINDOW_MAX_SEC = 7 * 86_400;
/** One local retry (a transient refusal passes), then a ban of ten minutes (Pacemaker's usual failure-timeout); no threshold. */
export const POLICY_DEFAULTS = { retries: 1, banForSec: 600 } as const;

export const FailoverThresholdSchema = z.strictObject({
  count: z.number().int().min(1).max(THRESHOLD_COUNT_MAX),
  windowSec: z.number().int().min(THRESHOLD_WINDOW_MIN_SEC).max(THRESHOLD_WINDOW_MAX_SEC),
});

/** This node may not hold `resource` until it lifts the ban (at `until`, or on `ipfo resource cleanup`). */
export interface NodeBan {
  resource: ResourceName;
  /** Wall-clock ms. */
  since: number;
  until: number;
  /** The failure that caused it. */
  reason: string;
}

/** This node handed `resource` on because of a failure here, at `at` (wall-clock ms). */
export interface FailoverMark {
  resource: ResourceName;
  at: number;
}

/** Most bans and marks one record carries (the oldest marks go first). */
export const MAX_BANS = 4_096;
export const MAX_FAILOVER_MARKS = 4_096;
export const MAX_BAN_REASON_LENGTH = 200;

const ResourceNameSchema = z.string().min(1).max(128);
const TimeSchema = z.number().int().nonnegative();

export const NodeBanSchema = z
  .strictObject({ resource: ResourceNameSchema, since: TimeSchema, until: TimeSchema, reason: z.string().max(MAX_BAN_REASON_LENGTH) })
  .refine((ban) => ban.until >= ban.since, { message: 'until must not be before since', path: ['until'] });
export const FailoverMarkSchema = z.strictObject({ resource: ResourceNameSchema, at: TimeSchema });

// --- Spelling -------------------------------------------------------------------------------------

const UNIT_SEC: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `5/1h`, `3/30m`, `10/86400s` (a bare number of seconds too): the threshold, or what is wrong. */
export function parseThreshold(text: string): { ok: true; threshold: FailoverThreshold } | { ok: false; error: string } {
  const match = /^(\d{1,3})\/(\d{1,6})([smhd]?)$/.exec(text.trim());
  const usage = 'expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d)';
  if (match === null) return { ok: false, error: usage };
  const count = Number(match[1]);
  const windowSec = Number(match[2]) * (UNIT_SEC[match[3] || 's'] ?? 1);
  const parsed = FailoverThresholdSchema.safeParse({ count, windowSec });
  if (!parsed.success) {
    if (count < 1 || count > THRESHOLD_COUNT_MAX) return { ok: false, error: `the count must be 1..${THRESHOLD_COUNT_MAX}` };
    return { ok: false, error: `the window must be ${THRESHOLD_WINDOW_MIN_SEC / 60} minute to ${THRESHOLD_WINDOW_MAX_SEC / 86_400} days` };
  }
  return { ok: true, threshold: parsed.data };
}

/** The shortest spelling parseThreshold reads back: `5/1h`. */
export function formatThreshold(threshold: FailoverThreshold): string {
  const { count, windowSec } = threshold;
  for (const [unit, sec] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (windowSec % sec === 0) return `${count}/${windowSec / sec}${unit}`;
  }
  return `${count}/${windowSec}s`;
}

// --- Reading the records --------------------------------------------------------------------------

const NO_BANS: ReadonlySet<ResourceName> = new Set();
const bansCache = new WeakMap<readonly NodeBan[], ReadonlySet<ResourceName>>();

/** The resources a node's record bans it from (cached per list: records are replaced, never changed). */
export function bannedResources(bans: readonly NodeBan[] | undefined): ReadonlySet<ResourceName> {
  if (bans === undefined || bans.length === 0) return NO_BANS;
  let set = bansCache.get(bans);
  if (set === undefined) {
    set = new Set(bans.map((ban) => ban.resource));
    bansCache.set(bans, set);
  }
  return set;
}

/** Moves of `resource` caused by failures since `since` (wall-clock ms), counted over every node's marks. */
export function failoversSince(resource: ResourceName, records: Iterable<{ failovers?: readonly FailoverMark[] }>, since: number): number {
  let count = 0;
  for (const record of records) {
    for (const mark of record.failovers ?? []) if (mark.resource === resource && mark.at >= since) count++;
  }
  return count;
}

/** The failure-caused moves of the resource have reached its threshold: the next one is not made. */
export function failoverLimitReached(spec: { name: ResourceName; failoverThreshold?: FailoverThreshold }, records: Iterable<{ failovers?: readonly FailoverMark[] }>, now: number): boolean {
  const threshold = spec.failoverThreshold;
  if (threshold === undefined) return false;
  return failoversSince(spec.name, records, now - threshold.windowSec * 1000) >= threshold.count;
}

/** The nodes banned from `resource`, with their bans, in name order (for the CLI and the console). */
export function bansOf(resource: ResourceName, nodes: ReadonlyArray<{ name: NodeName; bans?: readonly NodeBan[] }>): Array<{ node: NodeName; ban: NodeBan }> {
  const found: Array<{ node: NodeName; ban: NodeBan }> = [];
  for (const node of nodes) {
    const ban = node.bans?.find((b) => b.resource === resource);
    if (ban !== undefined) found.push({ node: node.name, ban });
  }
  return found.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}
