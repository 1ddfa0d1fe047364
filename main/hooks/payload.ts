// What a hook receives (pure): the event as one JSON object (stdin of a program, a webhook's body, a
// syslog message's text), and the environment of a program. The audit seq is the idempotency key: an
// event delivered again (at least once) carries the same seq.
import { eventNameOf } from '../../preload/contract/hooks';
import type { AuditEntry, AuditLine, AuditOutcome } from '../../preload/contract/domain';

/** The part of an audit entry a hook is told: the line as written, and its seq. */
export type HookEventEntry = AuditLine & Pick<AuditEntry, 'seq'>;

export interface HookPayload {
  /** The payload's version. */
  version: 1;
  hook: string;
  /** The audit seq: the idempotency key. 0 for `ipfo hook test`. */
  seq: number;
  /** The event name (the action's first word). */
  event: string;
  /** The audit action in full ("failover from n1"). */
  action: string;
  /** ISO 8601, UTC, ms. */
  at: string;
  actor: string;
  target: string | null;
  outcome: AuditOutcome;
  detail: string | null;
  handoffMs: number | null;
  /** True only for `ipfo hook test`. */
  test: boolean;
}

export function buildPayload(hook: string, entry: HookEventEntry, test = false): HookPayload {
  return {
    version: 1,
    hook,
    seq: entry.seq,
    event: eventNameOf(entry.action),
    action: entry.action,
    at: new Date(entry.at).toISOString(),
    actor: entry.actor,
    target: entry.target,
    outcome: entry.outcome,
    detail: entry.detail,
    handoffMs: entry.handoffMs,
    test,
  };
}

/** The payload as sent: one line of JSON (a program's stdin gets a newline after it). */
export function payloadBody(payload: HookPayload): string {
  return JSON.stringify(payload);
}

/** The test event `ipfo hook test` sends (seq 0: no audit entry has it). */
export function testEntry(at: number, actor: string): HookEventEntry {
  return { seq: 0, at, actor, action: 'hook.test', target: null, outcome: 'ok', detail: 'a test event sent by `ipfo hook test`', handoffMs: null };
}

/**
 * A program's environment: PATH and these only (nothing of the agent's own environment, which may hold
 * store credentials). Values are single-line.
 */
export function execEnvironment(payload: HookPayload): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    IPFO_HOOK: payload.hook,
    IPFO_EVENT: payload.event,
    IPFO_ACTION: oneLine(payload.action),
    IPFO_SEQ: String(payload.seq),
    IPFO_TARGET: oneLine(payload.target ?? ''),
    IPFO_OUTCOME: payload.outcome,
    IPFO_ACTOR: oneLine(payload.actor),
    IPFO_AT: payload.at,
    IPFO_TEST: payload.test ? '1' : '0',
  };
}

// eslint-disable-next-line no-control-regex
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]/g, ' ');
