// The resource form's values, its quick local checks, and the mapping of the agent's 'invalid' and
// 'bad-request' issues back onto form fields. The agent's validate.ts is the authority; the local
// checks only catch what is plainly wrong before a round trip, and are never stricter than it.
import {
  ANNOUNCE_FORMS,
  ANNOUNCE_REFRESH_MAX_SEC,
  ANNOUNCE_REFRESH_MIN_SEC,
  DEFEND_POLICIES,
  type AnnounceForm,
  type DefendPolicy,
  type FailbackPolicy,
  type ResourceSpecInput,
  type ResourceSpecPatch,
  type ResourceView,
} from '../../../preload/contract/domain';
import type { FieldIssue } from '../../../preload/contract/protocol';
import { isIpv4 } from '../../../preload/contract/ipv4';
import { formatIpv6Words, ipv6Words } from '../../../preload/contract/ip-address';
import { formatCheck, HEALTH_DEFAULTS, parseCheck, type HealthCheck, type HealthSpec } from '../../../preload/contract/health';
import { BAN_FOR_MAX_SEC, BAN_FOR_MIN_SEC, formatThreshold, parseThreshold, POLICY_DEFAULTS, RETRIES_MAX, type FailoverThreshold } from '../../../preload/contract/failure-policy';

export const FAILBACK_MODES = ['never', 'immediate', 'window'] as const;
export type FailbackMode = (typeof FAILBACK_MODES)[number];

/** Form fields, named by the spec path the agent reports them under (without "spec."/"patch."). */
export const FORM_FIELDS = [
  'name',
  'ip',
  'prefix',
  'possibleOwners',
  'preferredOwners',
  'failback',
  'failback.startHour',
  'failback.endHour',
  'interfaces',
  'enabled',
  'announceForm',
  'announceRefreshSec',
  'defendPolicy',
  'health',
  'retries',
  'banForSec',
  'failoverThreshold',
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

/** What the inputs hold: text as typed, parsed on submit. */
export interface ResourceFormValues {
  name: string;
  /** "10.0.0.50" or "10.0.0.50/24". */
  ip: string;
  prefix: string;
  /** Node names separated by commas or spaces; empty = every node. */
  possibleOwners: string;
  /** In order of preference. */
  preferredOwners: string;
  failbackMode: FailbackMode;
  startHour: string;
  endHour: string;
  /** "node=ifname" pairs separated by commas or spaces. */
  interfaces: string;
  enabled: boolean;
  announceForm: AnnounceForm;
  /** Seconds between the holder's re-announcements; empty = never. */
  announceRefreshSec: string;
  defendPolicy: DefendPolicy;
  /** Health checks, one per line as `--check` takes them (tcp:HOST:PORT, http://…, exec:/PROGRAM ARGS, gateway[:IP]); empty = none. */
  checks: string;
  /** Milliseconds and counts as typed; empty = the default. */
  checkIntervalMs: string;
  checkTimeoutMs: string;
  checkFall: string;
  checkRise: string;
  /** The failure policy as typed: retries and seconds (empty = the defaults, 1 and 600), a threshold such as 5/1h (empty = none). */
  retries: string;
  banForSec: string;
  failoverThreshold: string;
}

export type FieldErrors = Partial<Record<FormField, string>>;

export interface FormErrors {
  fields: FieldErrors;
  /** Problems that belong to no single field. */
  general: string[];
}

export const NO_ERRORS: FormErrors = { fields: {}, general: [] };

export function hasErrors(errors: FormErrors): boolean {
  return errors.general.length > 0 || Object.keys(errors.fields).length > 0;
}

export function emptyForm(): ResourceFormValues {
  return {
    name: '',
    ip: '',
    prefix: '24',
    possibleOwners: '',
    preferredOwners: '',
    failbackMode: 'never',
    startHour: '22',
    endHour: '6',
    interfaces: '',
    enabled: true,
    announceForm: 'request',
    announceRefreshSec: '',
    defendPolicy: 'always',
    checks: '',
    checkIntervalMs: '',
    checkTimeoutMs: '',
    checkFall: '',
    checkRise: '',
    retries: '',
    banForSec: '',
    failoverThreshold: '',
  };
}

export function formFromResource(resource: ResourceView): ResourceFormValues {
  const failback = resource.failback;
  return {
    name: resource.name,
    ip: resource.ip,
    prefix: String(resource.prefix),
    possibleOwners: resource.possibleOwners.join(', '),
    preferredOwners: resource.preferredOwners.join(', '),
    failbackMode: failback.mode,
    startHour: failback.mode === 'window' ? String(failback.startHour) : '22',
    endHour: failback.mode === 'window' ? String(failback.endHour) : '6',
    interfaces: Object.entries(resource.interfaces)
      .map(([node, ifname]) => `${node}=${ifname}`)
      .join(', '),
    enabled: resource.enabled,
    announceForm: resource.announceForm,
    announceRefreshSec: resource.announceRefreshSec === undefined ? '' : String(resource.announceRefreshSec),
    defendPolicy: resource.defendPolicy,
    checks: resource.health?.checks.map(formatCheck).join('\n') ?? '',
    checkIntervalMs: resource.health === undefined ? '' : String(resource.health.intervalMs),
    checkTimeoutMs: resource.health === undefined ? '' : String(resource.health.timeoutMs),
    checkFall: resource.health === undefined ? '' : String(resource.health.fall),
    checkRise: resource.health === undefined ? '' : String(resource.health.rise),
    retries: resource.retries === undefined ? '' : String(resource.retries),
    banForSec: resource.banForSec === undefined ? '' : String(resource.banForSec),
    failoverThreshold: resource.failoverThreshold === undefined ? '' : formatThreshold(resource.failoverThreshold),
  };
}

export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter((word) => word !== '');
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** An integer typed as text; a number the agent then checks against its range. */
function parseInteger(text: string): number | null {
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : null;
}

function parseInterfaces(text: string): Parsed<Record<string, string>> {
  const map: Record<string, string> = {};
  for (const pair of splitList(text)) {
    const separator = pair.indexOf('=');
    const node = pair.slice(0, separator);
    const ifname = pair.slice(separator + 1);
    if (separator <= 0 || ifname === '') return { ok: false, message: `"${pair}" is not node=interface (e.g. n1=eth1)` };
    if (Object.hasOwn(map, node)) return { ok: false, message: `node "${node}" is given twice` };
    map[node] = ifname;
  }
  return { ok: true, value: map };
}

/** "a.b.c.d/nn" in the address field carries the prefix; otherwise the prefix field does. */
function splitAddress(values: ResourceFormValues): { ip: string; prefixText: string } {
  const ip = values.ip.trim();
  const slash = ip.indexOf('/');
  return slash < 0 ? { ip, prefixText: values.prefix } : { ip: ip.slice(0, slash), prefixText: ip.slice(slash + 1) };
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAME_MAX = 63;

export interface FormContext {
  /** Resources already defined (to spot a duplicate name or address before asking). */
  existing: readonly ResourceView[];
  /** Name of the resource being edited, if any. */
  editing: string | null;
}

/**
 * The address as the agent stores it (an IPv6 address in RFC 5952 form), or null when it is neither
 * family. Any RFC 4291 spelling passes: the agent reads them all, and says what else is wrong with one
 * (link-local, multicast...) against the field.
 */
function storedAddress(ip: string): string | null {
  if (isIpv4(ip)) return ip;
  const words = ipv6Words(ip);
  return words === null ? null : formatIpv6Words(words);
}

function addressProblem(ip: string): string {
  if (ip.includes(':')) {
    if (ip.includes('%')) return 'a zone id ("%eth0") is not allowed: the address moves between nodes';
    return `"${ip}" is not an IPv6 address such as 2001:db8::50`;
  }
  return `"${ip}" is not an IPv4 address such as 10.0.0.50 (nor IPv6, such as 2001:db8::50)`;
}

/** Quick local checks; an empty result lets the agent judge the rest. */
export function checkForm(values: ResourceFormValues, context: FormContext): FormErrors {
  const fields: FieldErrors = {};
  const name = values.name.trim();
  if (context.editing === null) {
    if (name === '') fields.name = 'a name is required';
    else if (name.length > NAME_MAX) fields.name = `at most ${NAME_MAX} characters`;
    else if (!NAME_PATTERN.test(name)) fields.name = 'letters, digits, ".", "_" and "-", starting with a letter or digit';
    else if (context.existing.some((r) => r.name.toLowerCase() === name.toLowerCase())) fields.name = `a resource named "${name}" exists already`;
  }

  const { ip, prefixText } = splitAddress(values);
  const stored = storedAddress(ip);
  if (ip === '') fields.ip = 'an address is required';
  else if (stored === null) fields.ip = addressProblem(ip);
  else {
    // Compared in the stored spelling: "2001:DB8::0:50" is the address of a resource holding 2001:db8::50.
    const holder = context.existing.find((r) => r.ip === stored && r.name !== context.editing);
    if (holder !== undefined) fields.ip = `${stored} belongs to resource "${holder.name}" already`;
  }

  const prefix = parseInteger(prefixText);
  const prefixField: FormField = values.ip.includes('/') ? 'ip' : 'prefix';
  const maxPrefix = ip.includes(':') ? 128 : 32;
  if (prefix === null || prefix < 1 || prefix > maxPrefix) fields[prefixField] ??= prefixField === 'prefix' ? `a whole number 1..${maxPrefix}` : `the prefix length must be a whole number 1..${maxPrefix}`;

  const possible = splitList(values.possibleOwners);
  const preferred = splitList(values.preferredOwners);
  const repeated = (list: string[]): string | undefined => list.find((entry, index) => list.indexOf(entry) !== index);
  const possibleRepeat = repeated(possible);
  if (possibleRepeat !== undefined) fields.possibleOwners = `node "${possibleRepeat}" is listed twice`;
  const preferredRepeat = repeated(preferred);
  if (preferredRepeat !== undefined) fields.preferredOwners = `node "${preferredRepeat}" is listed twice`;
  else if (possible.length > 0) {
    const outsider = preferred.find((node) => !possible.includes(node));
    if (outsider !== undefined) fields.preferredOwners = `"${outsider}" is preferred but not a possible owner`;
  }

  if (values.failbackMode === 'window') {
    const start = parseInteger(values.startHour);
    const end = parseInteger(values.endHour);
    if (start === null || start < 0 || start > 23) fields['failback.startHour'] = 'an hour 0..23';
    if (end === null || end < 0 || end > 23) fields['failback.endHour'] = 'an hour 0..23';
    else if (start === end) fields['failback.endHour'] = 'the window must not start and end at the same hour';
  }

  const interfaces = parseInterfaces(values.interfaces);
  if (!interfaces.ok) fields.interfaces = interfaces.message;

  const refresh = refreshOf(values);
  if (refresh !== null && !(refresh >= ANNOUNCE_REFRESH_MIN_SEC && refresh <= ANNOUNCE_REFRESH_MAX_SEC)) {
    fields.announceRefreshSec = `whole seconds ${ANNOUNCE_REFRESH_MIN_SEC}..${ANNOUNCE_REFRESH_MAX_SEC}, or empty for never`;
  }
  const health = healthOf(values);
  if (!health.ok) fields.health = health.message;
  const policy = policyOf(values);
  if (Number.isNaN(policy.retries) || (policy.retries !== null && !(policy.retries >= 0 && policy.retries <= RETRIES_MAX))) fields.retries = `a whole number 0..${RETRIES_MAX}, or empty for ${POLICY_DEFAULTS.retries}`;
  if (Number.isNaN(policy.banForSec) || (policy.banForSec !== null && !(policy.banForSec >= BAN_FOR_MIN_SEC && policy.banForSec <= BAN_FOR_MAX_SEC))) fields.banForSec = `whole seconds ${BAN_FOR_MIN_SEC}..${BAN_FOR_MAX_SEC}, or empty for ${POLICY_DEFAULTS.banForSec}`;
  if (!policy.threshold.ok) fields.failoverThreshold = policy.threshold.error;
  return { fields, general: [] };
}

/** The failure policy typed: null = empty (the default); NaN = not a whole number. */
function policyOf(values: ResourceFormValues): { retries: number | null; banForSec: number | null; threshold: { ok: true; value: FailoverThreshold | null } | { ok: false; error: string } } {
  const integer = (text: string): number | null => (text.trim() === '' ? null : (parseInteger(text) ?? Number.NaN));
  const text = values.failoverThreshold.trim();
  const parsed = text === '' ? null : parseThreshold(text);
  return {
    retries: integer(values.retries),
    banForSec: integer(values.banForSec),
    threshold: parsed === null ? { ok: true, value: null } : parsed.ok ? { ok: true, value: parsed.threshold } : { ok: false, error: parsed.error },
  };
}

/** The checks typed, one per line; the timing fields as whole numbers (the agent checks their ranges). */
function healthOf(values: ResourceFormValues): Parsed<HealthSpec | null> {
  const checks: HealthCheck[] = [];
  for (const line of values.checks.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = parseCheck(line);
    if (!parsed.ok) return { ok: false, message: parsed.error };
    checks.push(parsed.check);
  }
  const number = (text: string, fallback: number): number | null => (text.trim() === '' ? fallback : parseInteger(text));
  const intervalMs = number(values.checkIntervalMs, HEALTH_DEFAULTS.intervalMs);
  const timeoutMs = number(values.checkTimeoutMs, Math.min(HEALTH_DEFAULTS.timeoutMs, intervalMs ?? HEALTH_DEFAULTS.timeoutMs));
  const fall = number(values.checkFall, HEALTH_DEFAULTS.fall);
  const rise = number(values.checkRise, HEALTH_DEFAULTS.rise);
  if (intervalMs === null || timeoutMs === null || fall === null || rise === null) return { ok: false, message: 'interval, timeout, fall and rise are whole numbers (or empty for the defaults)' };
  if (checks.length === 0) return { ok: true, value: null };
  return { ok: true, value: { checks, intervalMs, timeoutMs, fall, rise } };
}

function failbackOf(values: ResourceFormValues): FailbackPolicy {
  if (values.failbackMode !== 'window') return { mode: values.failbackMode };
  return { mode: 'window', startHour: parseInteger(values.startHour) ?? -1, endHour: parseInteger(values.endHour) ?? -1 };
}

/** The refresh period typed (seconds), null when the field is empty (never); NaN when it is not a whole number. */
function refreshOf(values: ResourceFormValues): number | null {
  if (values.announceRefreshSec.trim() === '') return null;
  return parseInteger(values.announceRefreshSec) ?? Number.NaN;
}

/** The definition to send with resource.add (call after checkForm found nothing). */
export function toSpecInput(values: ResourceFormValues): ResourceSpecInput {
  const { ip, prefixText } = splitAddress(values);
  const interfaces = parseInterfaces(values.interfaces);
  const refresh = refreshOf(values);
  const health = healthOf(values);
  const policy = policyOf(values);
  return {
    name: values.name.trim(),
    // The stored spelling, so an edit that only respelt the address patches nothing.
    ip: storedAddress(ip) ?? ip,
    prefix: parseInteger(prefixText) ?? Number.NaN,
    possibleOwners: splitList(values.possibleOwners),
    preferredOwners: splitList(values.preferredOwners),
    failback: failbackOf(values),
    interfaces: interfaces.ok ? interfaces.value : {},
    enabled: values.enabled,
    announceForm: values.announceForm,
    defendPolicy: values.defendPolicy,
    ...(refresh === null ? {} : { announceRefreshSec: refresh }),
    ...(health.ok && health.value !== null ? { health: health.value } : {}),
    ...(policy.retries === null ? {} : { retries: policy.retries }),
    ...(policy.banForSec === null ? {} : { banForSec: policy.banForSec }),
    ...(policy.threshold.ok && policy.threshold.value !== null ? { failoverThreshold: policy.threshold.value } : {}),
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Only the fields that differ from `original`, for resource.edit (empty when nothing changed). */
export function toPatch(values: ResourceFormValues, original: ResourceView): ResourceSpecPatch {
  const spec = toSpecInput(values);
  const patch: ResourceSpecPatch = {};
  if (spec.ip !== original.ip) patch.ip = spec.ip;
  if (spec.prefix !== original.prefix) patch.prefix = spec.prefix;
  if (!sameJson(spec.possibleOwners, original.possibleOwners)) patch.possibleOwners = spec.possibleOwners;
  if (!sameJson(spec.preferredOwners, original.preferredOwners)) patch.preferredOwners = spec.preferredOwners;
  if (!sameJson(spec.failback, original.failback)) patch.failback = spec.failback;
  if (!sameJson(spec.interfaces, original.interfaces)) patch.interfaces = spec.interfaces;
  if (spec.enabled !== original.enabled) patch.enabled = spec.enabled;
  if (spec.announceForm !== original.announceForm) patch.announceForm = spec.announceForm;
  if (spec.defendPolicy !== original.defendPolicy) patch.defendPolicy = spec.defendPolicy;
  // Cleared in the form: null turns the refresh off (an absent key would leave it as it was).
  const refresh = spec.announceRefreshSec ?? null;
  if (refresh !== (original.announceRefreshSec ?? null)) patch.announceRefreshSec = refresh;
  // No checks left in the form: null removes them.
  if (!sameJson(spec.health ?? null, original.health ?? null)) patch.health = spec.health ?? null;
  // Emptied: null is the default again (retries, ban) or no threshold.
  if ((spec.retries ?? null) !== (original.retries ?? null)) patch.retries = spec.retries ?? null;
  if ((spec.banForSec ?? null) !== (original.banForSec ?? null)) patch.banForSec = spec.banForSec ?? null;
  if (!sameJson(spec.failoverThreshold ?? null, original.failoverThreshold ?? null)) patch.failoverThreshold = spec.failoverThreshold ?? null;
  return patch;
}

/** "spec.failback.startHour" -> "failback.startHour"; "spec.interfaces.n1" -> "interfaces"; else null. */
export function formFieldOf(path: string): FormField | null {
  const parts = path.split('.');
  if (parts[0] === 'spec' || parts[0] === 'patch') parts.shift();
  const [head, next] = parts;
  if (head === undefined || head === '') return null;
  if (head === 'failback' && (next === 'startHour' || next === 'endHour')) return `failback.${next}`;
  if (head === 'failback' && next === 'mode') return 'failback';
  if (head === 'interfaces') return 'interfaces';
  if (head === 'health') return 'health';
  if (head === 'failoverThreshold') return 'failoverThreshold';
  return (FORM_FIELDS as readonly string[]).includes(head) ? (head as FormField) : null;
}

/** The message without a leading "spec.ip: " (bad-request issues repeat their path). */
function bareMessage(issue: FieldIssue): string {
  const prefix = `${issue.field}: `;
  return issue.field !== '' && issue.message.startsWith(prefix) ? issue.message.slice(prefix.length) : issue.message;
}

/**
 * The agent's issues placed on the form: each on its field (the first message per field wins, the
 * others are appended), whatever names no field in `general`. With no issues, `fallback` (the
 * error's one-line message) goes to `field` or to general.
 */
export function issuesToFormErrors(issues: readonly FieldIssue[], fallback: { message: string; field?: string | undefined }): FormErrors {
  const fields: FieldErrors = {};
  const general: string[] = [];
  const list = issues.length > 0 ? issues : [{ field: fallback.field ?? '', message: fallback.message }];
  for (const issue of list) {
    const field = formFieldOf(issue.field);
    const message = bareMessage(issue);
    if (field === null) general.push(issue.field === '' || issue.field === 'spec' || issue.field === 'patch' ? message : `${issue.field}: ${message}`);
    else fields[field] = fields[field] === undefined ? message : `${fields[field]}; ${message}`;
  }
  return { fields, general };
}

export const ANNOUNCE_FORM_OPTIONS: readonly AnnounceForm[] = ANNOUNCE_FORMS;
export const DEFEND_POLICY_OPTIONS: readonly DefendPolicy[] = DEFEND_POLICIES;
