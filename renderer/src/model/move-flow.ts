// The move dialog as a state machine: pick a target, the target probes the address (pre-flight),
// the operator commits, the move runs until the address answers from the new node, then the
// handoff time. Pure: the dialog feeds it events and renders its state.
import type { ActionResult, ProbeResult } from '../../../preload/contract/protocol';
import { formatDuration } from './format';

/** What the pre-flight found before the commit; it stays on screen while the move runs. */
export type Preflight = { kind: 'probe'; probe: ProbeResult } | { kind: 'unavailable'; probeNode: string; message: string } | { kind: 'none' };

export type MoveState =
  /** Nothing to probe: no target could be found ("best" with no eligible node). */
  | { phase: 'idle'; target: string }
  | { phase: 'probing'; target: string; probeNode: string; ticket: number }
  | { phase: 'probed'; target: string; probe: ProbeResult }
  | { phase: 'probe-failed'; target: string; probeNode: string; message: string }
  | { phase: 'moving'; target: string; startedAt: number; preflight: Preflight }
  | { phase: 'moved'; target: string; result: ActionResult; preflight: Preflight }
  | { phase: 'failed'; target: string; message: string; preflight: Preflight };

export type MoveEvent =
  | { type: 'target'; target: string; probeNode: string | null; ticket: number }
  | { type: 'probe-result'; ticket: number; probe: ProbeResult }
  | { type: 'probe-error'; ticket: number; message: string }
  | { type: 'commit'; at: number }
  | { type: 'move-result'; result: ActionResult }
  | { type: 'move-error'; message: string };

export function initialMove(target: string, probeNode: string | null, ticket: number): MoveState {
  return probeNode === null ? { phase: 'idle', target } : { phase: 'probing', target, probeNode, ticket };
}

export function moveReducer(state: MoveState, event: MoveEvent): MoveState {
  switch (event.type) {
    case 'target':
      if (state.phase === 'moving' || state.phase === 'moved') return state;
      return initialMove(event.target, event.probeNode, event.ticket);
    case 'probe-result':
      // A probe for a target the operator has since changed is stale.
      if (state.phase !== 'probing' || state.ticket !== event.ticket) return state;
      return { phase: 'probed', target: state.target, probe: event.probe };
    case 'probe-error':
      if (state.phase !== 'probing' || state.ticket !== event.ticket) return state;
      return { phase: 'probe-failed', target: state.target, probeNode: state.probeNode, message: event.message };
    case 'commit':
      if (!canCommit(state)) return state;
      return { phase: 'moving', target: state.target, startedAt: event.at, preflight: preflightOf(state) };
    case 'move-result':
      if (state.phase !== 'moving') return state;
      return { phase: 'moved', target: state.target, result: event.result, preflight: state.preflight };
    case 'move-error':
      if (state.phase !== 'moving') return state;
      return { phase: 'failed', target: state.target, message: event.message, preflight: state.preflight };
  }
}

/** The pre-flight outcome a state holds, whatever its phase. */
export function preflightOf(state: MoveState): Preflight {
  switch (state.phase) {
    case 'probed':
      return { kind: 'probe', probe: state.probe };
    case 'probe-failed':
      return { kind: 'unavailable', probeNode: state.probeNode, message: state.message };
    case 'moving':
    case 'moved':
    case 'failed':
      return state.preflight;
    default:
      return { kind: 'none' };
  }
}

/** The move may be committed once the pre-flight has answered (or could not run), and again after a failure. */
export function canCommit(state: MoveState): boolean {
  return state.phase === 'idle' || state.phase === 'probed' || state.phase === 'probe-failed' || state.phase === 'failed';
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info';

export interface Verdict {
  tone: Tone;
  headline: string;
  detail: string;
}

/** The pre-flight verdict in an operator's words. */
export function describeProbe(probe: ProbeResult): Verdict {
  const took = `probed from ${probe.node} in ${formatDuration(probe.durationMs)}`;
  switch (probe.verdict) {
    case 'free':
      return { tone: 'ok', headline: 'Free', detail: `nobody answered for ${probe.ip}; ${took}` };
    case 'owner-only':
      return {
        tone: 'ok',
        headline: 'Answered by the current owner only',
        detail: `${probe.ownerMac ?? 'the owner'} answered, as expected before a planned move; ${took}`,
      };
    case 'conflict': {
      const foreign = probe.answeredBy.filter((mac) => mac !== probe.ownerMac);
      return {
        tone: 'bad',
        headline: `Conflict with ${foreign.join(', ') || 'another station'}`,
        detail: `another station answers for ${probe.ip}: the target would refuse the address; ${took}`,
      };
    }
  }
}

/** The move's outcome line; the handoff time itself is shown apart, as the figure that matters. */
export function describeMoveResult(result: ActionResult, target: string): Verdict {
  if (result.outcome === 'accepted') {
    return { tone: 'info', headline: `Move to ${target} accepted`, detail: result.detail ?? 'the agents carry it out now; follow the table' };
  }
  const owner = result.resource?.status.owner ?? target;
  const total = result.durationMs === null ? '' : ` · total ${formatDuration(result.durationMs)}`;
  return { tone: 'ok', headline: `Moved to ${owner}`, detail: `the address answers from ${owner}${total}` };
}
