// What a hook's sender does next (pure): given the hook, its stored delivery state, the audit entries
// after its cursor and the time, the next step — deliver an entry, wait for its retry, move the cursor
// past entries the hook does not want, or nothing. Delivery is in audit order and at least once: the
// cursor passes an entry the hook wants only once that entry was delivered, and a failed delivery is
// tried again (backoff doubling from baseMs up to maxMs) before anything after it.
import { hookMatches, type HookRecord, type HookState } from '../../preload/contract/hooks';
import { MAX_TEXT_LENGTH } from '../../preload/contract/domain';

/** The part of an audit entry the plan reads. */
export interface PlannedEntry {
  seq: number;
  action: string;
}

export interface BackoffPolicy {
  /** The wait after the first failure. */
  baseMs: number;
  /** The longest wait between two attempts (the backoff is bounded; attempts go on). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 60_000 };

/** How long to wait after `failures` failed attempts in a row (1 → baseMs, doubling, at most maxMs). */
export function backoffMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/** The state of a hook nothing was delivered to yet: its cursor where the hook was added. */
export function initialState(hook: HookRecord, sender: string): HookState {
  return { name: hook.name, cursor: hook.afterSeq, lastDeliveredSeq: null, lastDeliveredAt: null, lastAttemptAt: null, lastError: null, failures: 0, nextAttemptAt: null, pending: 0, sender };
}

export type Step<E extends PlannedEntry = PlannedEntry> =
  /** Nothing after the cursor (or only entries not read yet). */
  | { kind: 'idle' }
  /** The entries read are none of the hook's: the cursor moves to `cursor`. */
  | { kind: 'advance'; cursor: number }
  /** The audit log no longer holds the entries after the cursor (its retention deleted them): move on, and say so. */
  | { kind: 'lost'; cursor: number; from: number; to: number }
  /** The next entry the hook wants waits for its retry time. */
  | { kind: 'wait'; untilMs: number; entry: E }
  /** Deliver `entry` now; the entries between the cursor and it are not the hook's. */
  | { kind: 'deliver'; entry: E };

/**
 * The next step for `hook` at `now` (wall-clock ms). `entries`: audit entries with seq above the state's
 * cursor, oldest first, as read (possibly only the first part of what there is).
 */
export function nextStep<E extends PlannedEntry>(hook: HookRecord, state: HookState, entries: readonly E[], now: number): Step<E> {
  const first = entries[0];
  if (first === undefined) return { kind: 'idle' };
  if (first.seq > state.cursor + 1) return { kind: 'lost', cursor: first.seq - 1, from: state.cursor + 1, to: first.seq - 1 };
  const wanted = entries.find((entry) => hookMatches(hook.events, entry.action));
  if (wanted === undefined) return { kind: 'advance', cursor: entries[entries.length - 1]!.seq };
  if (state.nextAttemptAt !== null && state.failures > 0 && now < state.nextAttemptAt) return { kind: 'wait', untilMs: state.nextAttemptAt, entry: wanted };
  return { kind: 'deliver', entry: wanted };
}

/** How many of the entries read the hook wants (the state's `pending`). */
export function pendingOf(hook: HookRecord, entries: readonly PlannedEntry[]): number {
  return entries.reduce((count, entry) => count + (hookMatches(hook.events, entry.action) ? 1 : 0), 0);
}

/** The state after `seq` was delivered at `now`: the cursor passes it, the failures are forgotten. */
export function afterDelivered(state: HookState, seq: number, now: number, pending: number): HookState {
  return { ...state, cursor: Math.max(state.cursor, seq), lastDeliveredSeq: seq, lastDeliveredAt: now, lastAttemptAt: now, lastError: null, failures: 0, nextAttemptAt: null, pending: Math.max(0, pending) };
}

/** The state after an attempt at `seq` failed at `now`: the cursor stays before it, the next attempt after the backoff. */
export function afterFailed(state: HookState, seq: number, now: number, error: string, pending: number, policy: BackoffPolicy = DEFAULT_BACKOFF): HookState {
  const failures = state.failures + 1;
  const text = `seq ${seq}: ${error}`;
  return {
    ...state,
    cursor: Math.max(state.cursor, seq - 1),
    lastAttemptAt: now,
    lastError: text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH - 3)}...` : text,
    failures,
    nextAttemptAt: now + backoffMs(failures, policy),
    pending: Math.max(0, pending),
  };
}

/** The state after the cursor moved over entries the hook does not want (or lost ones). */
export function afterAdvanced(state: HookState, cursor: number, pending: number, error?: string): HookState {
  return { ...state, cursor: Math.max(state.cursor, cursor), pending: Math.max(0, pending), ...(error === undefined ? {} : { lastError: error }) };
}
