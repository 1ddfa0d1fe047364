// Event hooks (issue 15 §2), as the agent, the CLI and the console share them (pure: zod only).
//
// A hook names the audit events it wants (`--on move,failover,arp.*`) and one target: a program run
// with an argument array (never a shell), a webhook (POST JSON, HMAC-SHA256 signed), or a syslog
// receiver (RFC 5424 over UDP). One agent of the cluster — the elected sender — delivers every matching
// audit entry to every hook in audit order, at least once, with the entry's seq as idempotency key.
// The store keeps the hook (HookRecordSchema) and its delivery state (HookStateSchema); both are checked
// in full when written and when read (a hostile record is left out and reported, never run).
import { z } from 'zod';
import { MAX_TEXT_LENGTH, TimestampSchema } from './domain';
import { USER_NAME_PATTERN } from './users';

/**
 * Event names: the audit log's `action` up to its first blank ("failover from n1" is `failover`).
 * Every action the agent writes (docs: README "Event hooks").
 */
export const HOOK_EVENTS = [
  'online', 'failover', 'takeover', 'fence', 'move', 'release', 'fail',
  'resource.add', 'resource.edit', 'resource.remove', 'resource.online', 'resource.offline', 'resource.cleanup', 'resource.announce', 'resource.import', 'resource.retry', 'resource.banned',
  'group.add', 'group.remove', 'group.move',
  'node.pause', 'node.resume', 'node.maintenance',
  'user.added', 'user.removed', 'user.rotated',
  'arp.conflict', 'arp.handoff', 'arp.duplicate', 'arp.convergence', 'arp.straggler',
  'check.failed', 'check.recovered', 'check.no-healthy-node', 'failover.limit',
  'store.rejected', 'hook.added', 'hook.removed',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** The event name of an audit action: its first word ("failover from n1" → "failover"). */
export function eventNameOf(action: string): string {
  const blank = action.indexOf(' ');
  return blank < 0 ? action : action.slice(0, blank);
}

const PATTERN_TEXT = /^(\*|[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*(\.\*)?)$/;

/** Whether a pattern names something: "*", a known event, or "prefix.*" where some known event starts with "prefix.". */
export function isKnownPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return HOOK_EVENTS.some((event) => event.startsWith(prefix));
  }
  return (HOOK_EVENTS as readonly string[]).includes(pattern);
}

export const HookPatternSchema = z
  .string()
  .max(64)
  .regex(PATTERN_TEXT, 'must be an event name, "prefix.*" or "*"')
  .refine(isKnownPattern, { message: `is not an event (events: ${HOOK_EVENTS.join(', ')}; or "prefix.*", "*")` });

/** Whether an audit action matches one of the hook's patterns ("*" all, "arp.*" every arp.<x>, else the event name exactly). */
export function hookMatches(patterns: readonly string[], action: string): boolean {
  const event = eventNameOf(action);
  return patterns.some((pattern) => pattern === '*' || (pattern.endsWith('.*') ? event.startsWith(pattern.slice(0, -1)) : event === pattern));
}

export const HOOK_NAME_PATTERN = USER_NAME_PATTERN;
export const HookNameSchema = z.string().regex(HOOK_NAME_PATTERN, "must be 1-32 characters: lowercase letters, digits, '_', '.', '-', starting with a letter or '_'");

export const MAX_HOOKS = 64;
export const MAX_HOOK_EVENTS = 32;
export const MAX_EXEC_ARGS = 32;
const MAX_PATH = 1024;
const MAX_ARG = 1024;
export const MAX_HOOK_TIMEOUT_MS = 120_000;
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;

/** An absolute, normalised path: no "." or ".." parts, no NUL, no empty part. */
export function isAbsoluteCleanPath(path: string): boolean {
  if (!path.startsWith('/') || path.includes('\0') || path.length > MAX_PATH) return false;
  const parts = path.slice(1).split('/');
  return path === '/' ? false : parts.every((part) => part !== '' && part !== '.' && part !== '..');
}
const AbsolutePathSchema = z.string().max(MAX_PATH).refine(isAbsoluteCleanPath, { message: 'must be an absolute path without "." or ".." parts' });

/** http(s)://host[:port]/path — no credentials in the URL, nothing else. */
export function isWebhookUrl(text: string): boolean {
  if (text.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
}
const WebhookUrlSchema = z.string().max(2048).refine(isWebhookUrl, { message: 'must be an http:// or https:// URL without user or password' });

/** A syslog receiver: udp://HOST:PORT (RFC 5424 over UDP, RFC 5426). */
export function parseSyslogTarget(text: string): { host: string; port: number } | null {
  const match = /^udp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(text);
  if (match === null) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return null;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}
export const DEFAULT_SYSLOG_TARGET = 'udp://127.0.0.1:514';
const SyslogTargetSchema = z.string().max(300).refine((text) => parseSyslogTarget(text) !== null, { message: 'must be udp://HOST:PORT' });

const TimeoutSchema = z.number().int().min(100).max(MAX_HOOK_TIMEOUT_MS);

export const HookTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exec'), path: AbsolutePathSchema, args: z.array(z.string().max(MAX_ARG).refine((arg) => !arg.includes('\0'), 'must not hold NUL')).max(MAX_EXEC_ARGS), timeoutMs: TimeoutSchema }),
  /** secretFile: read by the sending agent at each delivery (the secret itself is never stored): absent = unsigned. */
  z.strictObject({ kind: z.literal('webhook'), url: WebhookUrlSchema, secretFile: AbsolutePathSchema.nullable(), timeoutMs: TimeoutSchema }),
  z.strictObject({ kind: z.literal('syslog'), target: SyslogTargetSchema }),
]);
export type HookTarget = z.infer<typeof HookTargetSchema>;

/** A hook as the store keeps it (key ipfo/<cluster>/hooks/<name>). */
export const HookRecordSchema = z.strictObject({
  name: HookNameSchema,
  events: z.array(HookPatternSchema).min(1).max(MAX_HOOK_EVENTS),
  target: HookTargetSchema,
  /** Delivery starts after this audit seq (the log's last entry when the hook was added). */
  afterSeq: z.number().int().nonnegative(),
  createdAt: TimestampSchema,
  createdBy: z.string().max(256),
});
export type HookRecord = z.infer<typeof HookRecordSchema>;

/** A hook's delivery state (key ipfo/<cluster>/hookstate/<name>), written by the sending agent. */
export const HookStateSchema = z.strictObject({
  name: HookNameSchema,
  /** Every audit entry up to this seq is handled (delivered, or not matching). */
  cursor: z.number().int().nonnegative(),
  lastDeliveredSeq: z.number().int().positive().nullable(),
  lastDeliveredAt: TimestampSchema.nullable(),
  lastAttemptAt: TimestampSchema.nullable(),
  lastError: z.string().max(MAX_TEXT_LENGTH).nullable(),
  /** Failed attempts in a row at the entry after the cursor. */
  failures: z.number().int().nonnegative(),
  /** When the next attempt is due after a failure (wall-clock ms); null = now. */
  nextAttemptAt: TimestampSchema.nullable(),
  /** Matching entries after the cursor, as the sender last counted them (at most the entries it reads at once). */
  pending: z.number().int().nonnegative(),
  /** The agent that wrote this state. */
  sender: z.string().max(128),
});
export type HookState = z.infer<typeof HookStateSchema>;

/** A hook as the API lists it: the record (which holds no secret: only the secret file's path) and its delivery state. */
export const HookInfoSchema = z.strictObject({
  hook: HookRecordSchema,
  state: HookStateSchema.nullable(),
});
export type HookInfo = z.infer<typeof HookInfoSchema>;

/** What hook.add takes: the record without what the agent fills in. */
export const HookSpecSchema = HookRecordSchema.pick({ name: true, events: true, target: true });
export type HookSpec = z.infer<typeof HookSpecSchema>;

/** The outcome of one delivery attempt (hook.test's answer). */
export const HookDeliveryResultSchema = z.strictObject({
  ok: z.boolean(),
  /** What went wrong, or what the target said (exit code, HTTP status). */
  detail: z.string().max(MAX_TEXT_LENGTH),
  durationMs: z.number().nonnegative(),
});
export type HookDeliveryResult = z.infer<typeof HookDeliveryResultSchema>;
