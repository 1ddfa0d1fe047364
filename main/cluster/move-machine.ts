// The planned move as a pure machine: one handler per input, effects returned, never performed.
// The agent (main/agent/moves.ts) feeds it what it sees — a move record and the facts around it, the
// end of a probe, a release datagram, the end of a take-over — and carries out what comes back.
//
// One holder at a time, by construction: the owner deregisters before it records "released" (or says so
// by datagram), and the target registers only after reading that. Every failure leaves the address with
// exactly one node: a probe answered by anyone but the owner fails the move before the owner let go; a
// target that dies or stalls after the owner let go is replaced by the owner itself (abort).
import type { AcdConfig } from '../arp/acd';
import type { NodeName } from './model';
import { MOVE_TIMEOUT_MS, type FailedMove, type HandoffNotify, type MoveIntent, type PreparedMove, type ReleasedMove, type RequestedMove } from './intents';

/** The target's trusted probe before a handoff: quick, the owner is expected to answer. */
export const TRUSTED_PROBE: Partial<AcdConfig> = { probeCount: 2, probeIntervalMs: 30, probeWaitMs: 60 };

/** What the node knows about a move's surroundings when it looks at the move. */
export interface MoveFacts {
  /** This node. */
  me: NodeName;
  /** Wall-clock ms (moves are timed across nodes, so by the wall clock). */
  now: number;
  /** Who holds the resource's owner key now. */
  owner: NodeName | null;
  /** This node has work in flight for the resource (the move waits for it). */
  busy: boolean;
  /** This node, as the owner, has already let the address go in this move. */
  handedOff: boolean;
  /** The target's membership is alive. */
  targetAlive: boolean;
  /** This node is stopping: as a target it takes nothing more. */
  stopping: boolean;
}

export type MoveEffect =
  /** Target: probe in trusted mode (only the owner's MAC may answer), then afterProbe. */
  | { type: 'probe'; move: RequestedMove }
  /** Target: nobody holds the address; take it as after a failover, then end the move. */
  | { type: 'take-unowned'; move: RequestedMove }
  /** Owner: deregister now, send the release datagram (notify), record `released` (the given record). */
  | { type: 'let-go'; move: PreparedMove; released: Omit<ReleasedMove, 'releasedAt'> }
  /** Target: register and announce at once and take the key over from `from`, then afterTake. */
  | { type: 'take'; move: ReleasedMove; from: NodeName | null }
  /** Write this record of the move. */
  | { type: 'write'; intent: MoveIntent }
  /** End the move: audit the failure (if any), delete the record. */
  | { type: 'end'; move: MoveIntent; failure: string | null }
  /** Owner: the target never took the address: end the move and serve the address again. */
  | { type: 'abort'; move: ReleasedMove; failure: string };

export function expired(move: MoveIntent, now: number): boolean {
  return now - move.createdAt > MOVE_TIMEOUT_MS;
}

/**
 * What this node does about an open move now (null: nothing, it waits for the other side or for its
 * own work in flight). Called for every open move on every reconcile.
 */
export function nextStep(move: MoveIntent, facts: MoveFacts): MoveEffect | null {
  if (move.toNode === facts.me && !facts.busy) return targetStep(move, facts);
  if (facts.owner === facts.me && move.fromNode === facts.me) return ownerStep(move, facts);
  return null;
}

function targetStep(move: MoveIntent, facts: MoveFacts): MoveEffect | null {
  if (move.phase === 'failed') return { type: 'end', move, failure: move.detail };
  if (expired(move, facts.now)) return { type: 'end', move, failure: 'timed out' };
  // The key is ours: the move is done (our own take-over, or the owner's record caught up).
  if (facts.owner === facts.me) return { type: 'end', move, failure: null };
  switch (move.phase) {
    case 'requested':
      // A stopping node would only have to hand the address on again (or drop it): the owner keeps it and asks another.
      if (facts.stopping) return { type: 'end', move, failure: `${facts.me} is stopping` };
      return facts.owner === null ? { type: 'take-unowned', move } : { type: 'probe', move };
    case 'prepared':
      return null; // the owner's turn
    case 'released':
      return { type: 'take', move, from: move.fromNode ?? facts.owner };
  }
}

function ownerStep(move: MoveIntent, facts: MoveFacts): MoveEffect | null {
  switch (move.phase) {
    case 'prepared':
      if (facts.handedOff) return null;
      return { type: 'let-go', move, released: { ...withoutPhaseFields(move), phase: 'released' } };
    case 'released':
      // The target died or stalled after we let go: take the move back and serve again.
      if (expired(move, facts.now) || !facts.targetAlive) return { type: 'abort', move, failure: `${move.toNode} did not take the address; it stays on ${facts.me}` };
      return null;
    case 'requested':
    case 'failed':
      return null; // the target's turn
  }
}

/** What the target's trusted probe heard. */
export type ProbeHeard =
  | { kind: 'quiet' }
  | { kind: 'answered'; ip: string; macs: readonly string[] }
  | { kind: 'interrupted'; ifname: string };

/** What a probe of `ip` on `ifname` heard, from its verdict (the MACs other than the trusted one; an interface fault). */
export function heardFrom(verdict: { macs: readonly string[]; interrupted: boolean }, ip: string, ifname: string): ProbeHeard {
  if (verdict.interrupted) return { kind: 'interrupted', ifname };
  return verdict.macs.length > 0 ? { kind: 'answered', ip, macs: verdict.macs } : { kind: 'quiet' };
}

/**
 * Target, after its trusted probe: silence but the owner means the owner may let go (`prepared`, with
 * where to send the datagram); anyone else failed the move before anything changed hands.
 */
export function afterProbe(move: RequestedMove, heard: ProbeHeard, me: NodeName, notify: HandoffNotify | null): Extract<MoveEffect, { type: 'write' | 'end' }> {
  const stays = `stays on ${move.fromNode ?? 'its owner'}`;
  switch (heard.kind) {
    case 'quiet':
      return { type: 'write', intent: { ...withoutPhaseFields(move), phase: 'prepared', notify } };
    case 'answered': {
      const failed: FailedMove = { ...withoutPhaseFields(move), phase: 'failed', detail: `conflict: ${heard.ip} answered by ${heard.macs.join(', ')}; ${stays}` };
      return { type: 'write', intent: failed };
    }
    case 'interrupted':
      return { type: 'end', move, failure: `interface ${heard.ifname} on ${me} failed during the probe; ${stays}` };
  }
}

/** A release datagram, already parsed (handoff-channel.ts). */
export interface ReleaseNotice {
  id: string;
  nonce: string;
  releasedAt: number;
}

/**
 * Target: the owner says by datagram that it let go. It counts only for a move this node prepared, with
 * the nonce it chose for it; the result is the record the store would bring a moment later.
 */
export function onReleaseNotice(prepared: PreparedMove | undefined, notice: ReleaseNotice): ReleasedMove | null {
  if (!prepared || prepared.id !== notice.id || prepared.notify === null || prepared.notify.nonce !== notice.nonce) return null;
  return { ...withoutPhaseFields(prepared), phase: 'released', releasedAt: notice.releasedAt };
}

/** How the target's take-over went: the key transfer and the local claim, both started at once. */
export type TakeOutcome =
  | { kind: 'transfer-lost'; current: NodeName | null }
  | { kind: 'not-held'; reason: string }
  | { kind: 'held'; mac: string };

export type TakeEffect =
  /** Drop the local claim (the key went elsewhere meanwhile). */
  | { type: 'drop-local' }
  /** Let the key go (we could not hold the address). */
  | { type: 'release-key' }
  /** Record the address online here, and the move in the audit log with its handoff time. */
  | { type: 'record-online'; mac: string; handoffMs: number | null }
  | Extract<MoveEffect, { type: 'end' }>;

/** Target, after register + announce + transfer: what to undo or record, and the move's end. */
export function afterTake(move: ReleasedMove, outcome: TakeOutcome, now: number): TakeEffect[] {
  switch (outcome.kind) {
    case 'transfer-lost':
      return [{ type: 'drop-local' }, { type: 'end', move, failure: `ownership changed meanwhile (now ${outcome.current ?? 'nobody'})` }];
    case 'not-held':
      return [{ type: 'release-key' }, { type: 'end', move, failure: outcome.reason }];
    case 'held':
      return [{ type: 'record-online', mac: outcome.mac, handoffMs: Math.round(Math.max(0, now - move.releasedAt) * 100) / 100 }, { type: 'end', move, failure: null }];
  }
}

/** The fields every phase shares: a phase change starts from these, so no field of the old phase lingers. */
function withoutPhaseFields(move: MoveIntent): Omit<RequestedMove, 'phase'> {
  return { id: move.id, kind: 'move', resource: move.resource, fromNode: move.fromNode, toNode: move.toNode, actor: move.actor, createdAt: move.createdAt };
}
