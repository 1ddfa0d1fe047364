// The phases of an operator's move as the two agents carry it out through the store.
//   requested  — written by the API; the target probes in trusted-handoff mode (only the owner's MAC may answer)
//   prepared   — the target found the address answered by the owner only: the owner may let go
//   released   — the owner deregistered the address (releasedAt): the target registers and announces at once
//                (told first by a datagram when the target left an address in `notify`, then by the store)
//   failed     — the target's probe met another MAC, or the move timed out; the owner keeps serving
// The target deletes the intent when the move ends (after writing the audit entry).
import type { Intent } from '../store/store';
import type { HandoffNotify } from './handoff-channel';

export type MovePhase = 'requested' | 'prepared' | 'released' | 'failed';

export interface MoveIntent extends Intent {
  kind: 'move';
  phase?: MovePhase;
  /** Owner node when the move was requested. */
  fromNode?: string | null;
  /** Wall-clock ms at which the old owner deregistered. */
  releasedAt?: number;
  /** Written by the target with "prepared": where the owner sends its release datagram (handoff-channel.ts). */
  notify?: HandoffNotify;
  detail?: string;
}

export const MOVE_TIMEOUT_MS = 10_000;

export function phaseOf(intent: Intent): MovePhase {
  return (intent as MoveIntent).phase ?? 'requested';
}
