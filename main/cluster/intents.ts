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
// A pre-flight probe: the console asks, before a move, whether the address is free or answered by its
// owner only — heard from the node that would take it. The agent the console is connected to writes
// the probe intent; the named node probes and writes the verdict back; the asker reads it and deletes it.
import { isCanonicalMac, isIpv4 } from '../arp/addresses';
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

export type Intent = MoveIntent | ProbeIntent;
export type IntentKind = Intent['kind'];

/** How long a move may take before the target gives up (the owner then keeps, or takes back, the address). */
export const MOVE_TIMEOUT_MS = 10_000;
/** How long the asker waits for a probe's outcome; the probing node ignores older probe intents. */
export const PROBE_TIMEOUT_MS = 5_000;

/** The key an intent is indexed by: a move by its resource, a probe by its node and address. */
export function subjectOf(intent: Intent): string {
  return intent.kind === 'move' ? intent.resource : `${intent.node}\u0000${intent.ip}`;
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
    if (typeof record.ip !== 'string' || !isIpv4(record.ip)) return { ok: false, reason: 'probe: ip is not an IPv4 address' };
    const outcome = record.outcome === null || record.outcome === undefined ? null : checkProbeOutcome(record.outcome);
    if (outcome === undefined) return { ok: false, reason: 'probe: outcome is malformed' };
    return { ok: true, intent: { ...base, kind: 'probe', node: record.node, ip: record.ip, outcome } };
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
