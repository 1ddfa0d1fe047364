// Intents: what agents ask of each other through the store. Each kind is a tagged record, and a move
// carries its phase as a tag as well, so a reader can only reach a field its phase defines.
//
// A planned move, as the two agents carry it out (the machine is move-machine.ts):
//   requested — written by the API or the owner (drain, failback, stop); the target probes in trusted
//               mode (only the owner's MAC may answer)
//   prepared  — the target heard the address answered by the owner only; the owner may let go
//               (`notify`: where the owner sends its release datagram, handoff-channel.ts)
//   released  — the owner deregistered the address at `releasedAt`: the target registers and announces
//   failed    — the target's probe met another MAC; the owner keeps serving
// The target deletes the intent when the move ends (after writing the audit entry).
//
// A batch move: many addresses between the same two nodes (a drain, a failback), as one intent with the
// same phases; the target probes them all at once and leaves out (`excluded`) any another station
// answers for; the owner deregisters the others in one netlink batch and says so once; the target
// registers them in one batch and takes their keys in transactions of up to 100.
//
// A pre-flight probe: the console asks, before a move, whether the address is free or answered by its
// owner only — heard from the node that would take it. The agent the console is connected to writes
// the probe intent; the named node probes and writes the verdict back; the asker reads it and deletes it.
//
// An announce-now: the operator asks for the address to be announced again (stale caches on the LAN).
// Only its holder can; the agent asked writes the announce intent naming that node, which announces and
// writes the outcome back; the asker reads it and deletes it (as a probe).
//
// A cleanup: the operator lifts a node's bans and failure counts for a resource (failure-policy.ts). They
// live in that node's own health record, which only it writes, so it is asked as an announce-now is.
//
// A silence: a standby's evidence, written just before it revokes a silent owner's lease — when it last
// heard the owner answer. The nodes that take the owner's addresses over measure the gap clients saw from
// it (last answer to their announcement: the takeover's handoffMs). Its writer deletes it after a minute;
// any node removes one older than two (its writer died).
import { isCanonicalMac, isIpv4 } from '../arp/addresses';
import { isResourceIp } from '../../preload/contract/ip-address';
import type { NodeName, ResourceName } from './model';

export type MovePhase = 'requested' | 'prepared' | 'released' | 'failed';

/** Where the target wants to hear that the owner let go: its address, a UDP port, a one-time nonce. */
export interface HandoffNotify {
  address: string;
  port: number;
  nonce: string;
}

interface IntentBase {
  /** Unique; the intent's key in the store. */
  id: string;
  /** Who asked (user, console, CLI, "drain", "failback", "<node> stopping"). */
  actor: string;
  /** Wall-clock ms. */
  createdAt: number;
}

interface MoveBase extends IntentBase {
  kind: 'move';
  resource: ResourceName;
  /** The owner when the move was requested (null: nobody held it). */
  fromNode: NodeName | null;
  /** The node that takes the address. */
  toNode: NodeName;
}

export interface RequestedMove extends MoveBase {
  phase: 'requested';
}

export interface PreparedMove extends MoveBase {
  phase: 'prepared';
  notify: HandoffNotify | null;
}

export interface ReleasedMove extends MoveBase {
  phase: 'released';
  /** Wall-clock ms at which the old owner deregistered. */
  releasedAt: number;
}

export interface FailedMove extends MoveBase {
  phase: 'failed';
  detail: string;
}

export type MoveIntent = RequestedMove | PreparedMove | ReleasedMove | FailedMove;

export type ProbeVerdict = 'free' | 'owner-only' | 'conflict';

/** The outcome a probing node writes back: what answered, or why it could not probe. */
export type ProbeOutcome =
  | { ok: true; verdict: ProbeVerdict; answeredBy: string[]; ownerMac: string | null; durationMs: number }
  | { ok: false; message: string };

export interface ProbeIntent extends IntentBase {
  kind: 'probe';
  /** The node that probes (the one that would take the address). */
  node: NodeName;
  ip: string;
  /** Written by `node` when it has probed. */
  outcome: ProbeOutcome | null;
}

/** What the holder writes back into an announce intent: the frames went out from `mac` on `ifname`, or why not. */
export type AnnounceOutcome = { ok: true; mac: string; ifname: string } | { ok: false; message: string };

export interface AnnounceIntent extends IntentBase {
  kind: 'announce';
  /** The node asked to announce: the address's holder when the intent was written. */
  node: NodeName;
  resource: ResourceName;
  /** Written by `node` once it has announced (or found it could not). */
  outcome: AnnounceOutcome | null;
}

/** What a node writes back into a cleanup intent: how many of its bans and failover marks it dropped. */
export type CleanupOutcome = { ok: true; bans: number; failovers: number } | { ok: false; message: string };

export interface CleanupIntent extends IntentBase {
  kind: 'cleanup';
  /** The node whose bans and counts for `resource` go. */
  node: NodeName;
  resource: ResourceName;
  outcome: CleanupOutcome | null;
}

export interface SilenceIntent extends IntentBase {
  kind: 'silence';
  /** The owner that went silent. */
  node: NodeName;
  /** Wall-clock ms of the last answer the standby heard from it; null: none since it watched. */
  lastHeardAt: number | null;
}

/** How long a silence intent helps the nodes taking over (their claims end well within it). */
export const SILENCE_EVIDENCE_MS = 60_000;

interface BatchBase extends IntentBase {
  kind: 'batch';
  /** The addresses moving, at most MAX_BATCH, no name twice. */
  resources: ResourceName[];
  /** The owner of every one of them when the batch was requested (it asks). */
  fromNode: NodeName;
  toNode: NodeName;
}

/** A resource the target left out of a batch (its probe met another station, or it cannot carry it). */
export interface BatchExclusion {
  resource: ResourceName;
  detail: string;
}

export interface RequestedBatch extends BatchBase {
  phase: 'requested';
}

export interface PreparedBatch extends BatchBase {
  phase: 'prepared';
  notify: HandoffNotify | null;
  /** Left out by the target: the owner keeps these; every other resource of the batch moves. */
  excluded: BatchExclusion[];
}

export interface ReleasedBatch extends BatchBase {
  phase: 'released';
  excluded: BatchExclusion[];
  /** Wall-clock ms at which the owner deregistered every resource not excluded. */
  releasedAt: number;
}

export type BatchMove = RequestedBatch | PreparedBatch | ReleasedBatch;

/** A move or a batch: an intent that moves addresses (a probe or an announce-now moves none). */
export function movesAddresses(intent: Intent): intent is MoveIntent | BatchMove {
  return intent.kind === 'move' || intent.kind === 'batch';
}

/** The resources of a batch that move (not excluded). */
export function movingOf(batch: BatchMove): ResourceName[] {
  if (batch.phase === 'requested' || batch.excluded.length === 0) return batch.resources;
  const excluded = new Set(batch.excluded.map((e) => e.resource));
  return batch.resources.filter((resource) => !excluded.has(resource));
}

export type Intent = MoveIntent | BatchMove | ProbeIntent | AnnounceIntent | CleanupIntent | SilenceIntent;
export type IntentKind = Intent['kind'];

/** How long a move may take before the target gives up (the owner then keeps, or takes back, the address). */
export const MOVE_TIMEOUT_MS = 10_000;
/** How long the asker waits for a probe's outcome; the probing node ignores older probe intents. */
export const PROBE_TIMEOUT_MS = 5_000;

/** The most addresses one batch moves (its record stays far below etcd's 1.5 MiB request limit). */
export const MAX_BATCH = 1024;

/**
 * The keys an intent is indexed by: a move by its resource, a batch by each of its resources, a probe by
 * its node and address, an announce-now by a key no resource name can be (it moves nothing).
 */
export function subjectsOf(intent: Intent): readonly string[] {
  switch (intent.kind) {
    case 'move': return [intent.resource];
    case 'batch': return intent.resources;
    case 'probe': return [`${intent.node}\u0000${intent.ip}`];
    case 'announce': return [`announce\u0000${intent.resource}`];
    case 'cleanup': return [`cleanup\u0000${intent.resource}\u0000${intent.node}`];
    case 'silence': return [silenceSubject(intent.node)];
  }
}

/** The subject a silence intent about `node` is indexed by. */
export function silenceSubject(node: NodeName): string {
  return `silence\u0000${node}`;
}

// ---- reading what another agent wrote ---------------------------------------------------------------

/** A release datagram's nonce: 16 random bytes, hex. */
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;
const MAX_TEXT = 4096;

/** A stored notify field (another agent wrote it): checked, or null. */
export function checkNotify(value: unknown): HandoffNotify | null {
  if (typeof value !== 'object' || value === null) return null;
  const { address, port, nonce } = value as Record<string, unknown>;
  if (typeof address !== 'string' || !isIpv4(address)) return null;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) return null;
  return { address, port, nonce };
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * An intent read from the store, checked field by field: the intent, or why it is not one. Another
 * agent (another version, or something that is not an agent at all) wrote it; the move machine and the
 * probe handler see only records that passed here.
 */
export function parseIntent(value: unknown): { ok: true; intent: Intent } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not an object' };
  const record = value as Record<string, unknown>;
  if (!isText(record.id)) return { ok: false, reason: 'id is not a string' };
  if (!isText(record.actor)) return { ok: false, reason: 'actor is not a string' };
  if (!isTime(record.createdAt)) return { ok: false, reason: 'createdAt is not a time' };
  const base = { id: record.id, actor: record.actor, createdAt: record.createdAt };
  if (record.kind === 'probe') {
    if (!isText(record.node)) return { ok: false, reason: 'probe: node is not a string' };
    // A resource's address, of either family, in its stored spelling only: it is compared with the specs' as text.
    if (!isResourceIp(record.ip)) return { ok: false, reason: 'probe: ip is not an IPv4 or RFC 5952 IPv6 address' };
    const outcome = record.outcome === null || record.outcome === undefined ? null : checkProbeOutcome(record.outcome);
    if (outcome === undefined) return { ok: false, reason: 'probe: outcome is malformed' };
    return { ok: true, intent: { ...base, kind: 'probe', node: record.node, ip: record.ip, outcome } };
  }
  if (record.kind === 'announce') return parseAskedOfResource(base, record, 'announce', checkAnnounceOutcome);
  if (record.kind === 'cleanup') return parseAskedOfResource(base, record, 'cleanup', checkCleanupOutcome);
  if (record.kind === 'batch') return parseBatch(base, record);
  if (record.kind === 'silence') {
    if (!isText(record.node)) return { ok: false, reason: 'silence: node is not a string' };
    if (record.lastHeardAt !== null && !isTime(record.lastHeardAt)) return { ok: false, reason: 'silence: lastHeardAt is neither a time nor null' };
    return { ok: true, intent: { ...base, kind: 'silence', node: record.node, lastHeardAt: record.lastHeardAt } };
  }
  if (record.kind !== 'move') return { ok: false, reason: `unknown kind ${JSON.stringify(record.kind)}` };
  if (!isText(record.resource)) return { ok: false, reason: 'move: resource is not a string' };
  if (!isText(record.toNode)) return { ok: false, reason: 'move: toNode is not a string' };
  if (record.fromNode !== null && !isText(record.fromNode)) return { ok: false, reason: 'move: fromNode is neither a node nor null' };
  const move = { ...base, kind: 'move' as const, resource: record.resource, toNode: record.toNode, fromNode: record.fromNode };
  switch (record.phase) {
    case 'requested':
      return { ok: true, intent: { ...move, phase: 'requested' } };
    case 'prepared': {
      const notify = record.notify === null || record.notify === undefined ? null : checkNotify(record.notify);
      if (record.notify != null && notify === null) return { ok: false, reason: 'move: notify is malformed' };
      return { ok: true, intent: { ...move, phase: 'prepared', notify } };
    }
    case 'released':
      if (!isTime(record.releasedAt)) return { ok: false, reason: 'move: releasedAt is not a time' };
      return { ok: true, intent: { ...move, phase: 'released', releasedAt: record.releasedAt } };
    case 'failed':
      if (!isText(record.detail)) return { ok: false, reason: 'move: detail is not a string' };
      return { ok: true, intent: { ...move, phase: 'failed', detail: record.detail } };
    default:
      return { ok: false, reason: `move: unknown phase ${JSON.stringify(record.phase)}` };
  }
}

function parseBatch(base: IntentBase, record: Record<string, unknown>): { ok: true; intent: BatchMove } | { ok: false; reason: string } {
  const { resources } = record;
  if (!Array.isArray(resources) || resources.length === 0 || resources.length > MAX_BATCH) return { ok: false, reason: `batch: resources is not a list of 1 to ${MAX_BATCH} names` };
  if (!resources.every(isText)) return { ok: false, reason: 'batch: a resource is not a string' };
  if (new Set(resources).size !== resources.length) return { ok: false, reason: 'batch: a resource is named twice' };
  if (!isText(record.fromNode)) return { ok: false, reason: 'batch: fromNode is not a string' };
  if (!isText(record.toNode)) return { ok: false, reason: 'batch: toNode is not a string' };
  if (record.fromNode === record.toNode) return { ok: false, reason: 'batch: fromNode and toNode are the same node' };
  const batch = { ...base, kind: 'batch' as const, resources, fromNode: record.fromNode, toNode: record.toNode };
  if (record.phase === 'requested') return { ok: true, intent: { ...batch, phase: 'requested' } };
  const excluded = checkExclusions(record.excluded, new Set(batch.resources));
  if (excluded === null) return { ok: false, reason: 'batch: excluded is malformed' };
  switch (record.phase) {
    case 'prepared': {
      const notify = record.notify === null || record.notify === undefined ? null : checkNotify(record.notify);
      if (record.notify != null && notify === null) return { ok: false, reason: 'batch: notify is malformed' };
      return { ok: true, intent: { ...batch, phase: 'prepared', notify, excluded } };
    }
    case 'released':
      if (!isTime(record.releasedAt)) return { ok: false, reason: 'batch: releasedAt is not a time' };
      return { ok: true, intent: { ...batch, phase: 'released', excluded, releasedAt: record.releasedAt } };
    default:
      return { ok: false, reason: `batch: unknown phase ${JSON.stringify(record.phase)}` };
  }
}

/** A batch's exclusions: each names a resource of the batch once, with a reason; null when malformed. */
function checkExclusions(value: unknown, resources: ReadonlySet<string>): BatchExclusion[] | null {
  if (!Array.isArray(value) || value.length > resources.size) return null;
  const seen = new Set<string>();
  const excluded: BatchExclusion[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) return null;
    const { resource, detail } = item as Record<string, unknown>;
    if (!isText(resource) || !resources.has(resource) || seen.has(resource) || !isText(detail)) return null;
    seen.add(resource);
    excluded.push({ resource, detail });
  }
  return excluded;
}

const VERDICTS: readonly ProbeVerdict[] = ['free', 'owner-only', 'conflict'];

/** A probe outcome, or undefined when malformed. */
function checkProbeOutcome(value: unknown): ProbeOutcome | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.ok === false) return isText(record.message) ? { ok: false, message: record.message } : undefined;
  if (record.ok !== true) return undefined;
  const { verdict, answeredBy, ownerMac, durationMs } = record;
  if (typeof verdict !== 'string' || !VERDICTS.includes(verdict as ProbeVerdict)) return undefined;
  if (!Array.isArray(answeredBy) || answeredBy.length > 64 || !answeredBy.every(isCanonicalMac)) return undefined;
  if (ownerMac !== null && !isCanonicalMac(ownerMac)) return undefined;
  if (!isTime(durationMs)) return undefined;
  return { ok: true, verdict: verdict as ProbeVerdict, answeredBy, ownerMac, durationMs };
}

/** An intent asking `node` to do something about `resource` (announce-now, cleanup): node, resource, outcome. */
function parseAskedOfResource<K extends 'announce' | 'cleanup'>(
  base: IntentBase,
  record: Record<string, unknown>,
  kind: K,
  checkOutcome: (value: unknown) => Extract<Intent, { kind: K }>['outcome'] | undefined,
): { ok: true; intent: Intent } | { ok: false; reason: string } {
  if (!isText(record.node)) return { ok: false, reason: `${kind}: node is not a string` };
  if (!isText(record.resource)) return { ok: false, reason: `${kind}: resource is not a string` };
  const outcome = record.outcome === null || record.outcome === undefined ? null : checkOutcome(record.outcome);
  if (outcome === undefined) return { ok: false, reason: `${kind}: outcome is malformed` };
  return { ok: true, intent: { ...base, kind, node: record.node, resource: record.resource, outcome } as Extract<Intent, { kind: K }> };
}

/** An announce outcome, or undefined when malformed. */
function checkAnnounceOutcome(value: unknown): AnnounceOutcome | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.ok === false) return isText(record.message) ? { ok: false, message: record.message } : undefined;
  if (record.ok !== true) return undefined;
  const { mac, ifname } = record;
  if (typeof mac !== 'string' || !isCanonicalMac(mac) || !isText(ifname) || ifname.length > 15) return undefined;
  return { ok: true, mac, ifname };
}

/** A cleanup outcome, or undefined when malformed. */
function checkCleanupOutcome(value: unknown): CleanupOutcome | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.ok === false) return isText(record.message) ? { ok: false, message: record.message } : undefined;
  if (record.ok !== true) return undefined;
  const { bans, failovers } = record;
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000;
  if (!isCount(bans) || !isCount(failovers)) return undefined;
  return { ok: true, bans, failovers };
}
