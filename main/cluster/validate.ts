// Validation of an operator's IP resource definition (from a console form, the CLI or the agent API).
// Every problem is reported, not just the first, each as { field, message }: `field` names the input a
// form shows the message next to, `message` is one line fit to show verbatim (also by the CLI).
//
// Fields are those of ResourceSpec. `field` is the top-level name ("name", "ip", "prefix",
// "possibleOwners", "preferredOwners", "failback", "failback.startHour", "failback.endHour", "enabled",
// "announceForm", "defendPolicy"), "interfaces.<node>" for one node's interface, or "" for the input as
// a whole (not an object).
//
// Rules:
// - name: 1..63 characters, [A-Za-z0-9][A-Za-z0-9._-]* (fits a DNS label, an etcd key and a file name).
//   Unique among resources ignoring case ("Web" and "web" would confuse every operator), except the
//   resource being edited (context.editing), which may also be renamed.
// - ip: a strict dotted quad (arp/addresses.ts: no leading zeros or spaces), or "a.b.c.d/nn" with the
//   prefix inside (then `prefix` may be omitted or must agree). Not a host address, so rejected:
//   0.0.0.0/8 ("this network", RFC 1122 — includes 0.0.0.0), 127.0.0.0/8 loopback, 224.0.0.0/4
//   multicast, 255.255.255.255; and for prefix < 31 the network and broadcast address of its subnet
//   (/31 and /32 have none, RFC 3021). Unique: no other resource may have the same address.
//   Or an IPv6 address (issue 18) in any RFC 4291 spelling (nd/addresses.ts: no zone id, no brackets),
//   stored in its RFC 5952 form, so two spellings of one address are the same address; "addr/nn" with
//   a strict decimal prefix ("064" is refused). Not a host address, so rejected: ::, ::1, ff00::/8
//   multicast, ::ffff:0:0/96 (IPv4-mapped: add the IPv4 address), fe80::/10 link-local (scoped to one
//   link's interface, which a cluster address is not tied to), and for prefix < 127 the subnet-router
//   anycast address (host bits zero, RFC 4291 §2.6.1).
// - prefix: required, an integer 1..32 (IPv6: 1..128).
// - possibleOwners (default [] = every node): known node names, no repeats; when non-empty it must name
//   at least one known node (otherwise the resource could never run anywhere).
// - preferredOwners (default []): known node names, no repeats, each a possible owner.
// - failback (default { mode: 'never' }): 'never' | 'immediate' | 'window' with startHour and endHour
//   integers 0..23 that differ (the window is [start, end) in the node's local hours, may wrap midnight).
// - interfaces (default {}): node name -> interface name; known nodes, names valid for Linux
//   (net/ifname.ts validateIfname).
// - enabled (default true), announceForm (default 'request'), defendPolicy (default 'always').
// - announceCount (1..10) and announceIntervalMs (10..60000): the gratuitous ARPs sent when the address
//   comes up, for switches and hosts that need more (or fewer) than the defaults 2 x 2000 ms. Absent =
//   the defaults.
// - announceRefreshSec (1..86400): re-announce the held address this often, for caches that outlive a
//   move's announcements; null or absent = never.
// - maintenanceUntil: wall-clock ms of the end of a maintenance window (ARP alarms muted, still
//   recorded); null or absent = none.
// - health: { checks, intervalMs, timeoutMs, fall, rise } (preload/contract/health.ts): 1..8 checks, each
//   checked against the contract's schema ("health.checks.N"); timing defaults 2 s, 1 s, 3, 2; the
//   timeout at most the interval. null or absent = no checks.
// - retries (0..10, default 1), banForSec (1..604800, default 600), failoverThreshold { count 1..100,
//   windowSec 60..604800 } (preload/contract/failure-policy.ts): tries again on the node where a failure of
//   its own happened, then bans that node for banForSec; moves caused by failures beyond the threshold are
//   not made. null or absent = the default (no threshold).
// - group (a name by the rules of `name`) and apartFrom (up to 16 group names, no repeats, not its own;
//   only with a group): the resource's group (preload/contract/groups.ts). The group commands write every
//   member alike; null or absent = in no group.
// - Any other field is rejected: a typo such as "prefered" must not silently fall back to the default.
//
// Node names are exact identifiers (compared case-sensitively) because agents register themselves.

import { AddressError, formatIpv4, parseCidr, parseIpv4, prefixMask } from '../arp/addresses';
import { canonicalIpv6, linkLocalProblem, notHostReason, parseIpv6, parseIpv6Prefix } from '../nd/addresses';
import type { AnnounceForm, DefendPolicy } from '../arp/acd-config';
import type { Ipv4 } from '../arp/frame';
import { validateIfname, InterfaceError } from '../net/ifname';
import type { FailbackPolicy, NodeName, ResourceName, ResourceSpec } from './model';
import { CHECK_INTERVAL_MAX_MS, CHECK_INTERVAL_MIN_MS, CHECK_TIMEOUT_MAX_MS, CHECK_TIMEOUT_MIN_MS, FALL_RISE_MAX, HEALTH_DEFAULTS, HealthCheckSchema, MAX_CHECKS, type HealthCheck, type HealthSpec } from '../../preload/contract/health';
import { BAN_FOR_MAX_SEC, BAN_FOR_MIN_SEC, RETRIES_MAX, THRESHOLD_COUNT_MAX, THRESHOLD_WINDOW_MAX_SEC, THRESHOLD_WINDOW_MIN_SEC, type FailoverThreshold } from '../../preload/contract/failure-policy';
import { MAX_APART_FROM, ANNOUNCE_COUNT_MAX, ANNOUNCE_INTERVAL_MAX_MS, ANNOUNCE_INTERVAL_MIN_MS, ANNOUNCE_REFRESH_MAX_SEC, ANNOUNCE_REFRESH_MIN_SEC } from '../../preload/contract/domain';

export interface FieldError {
  field: string;
  message: string;
}

export type SpecValidation = { ok: true; spec: ResourceSpec } | { ok: false; errors: FieldError[] };

export interface SpecContext {
  /** Every node the cluster knows, whatever its state. */
  nodes: readonly NodeName[];
  /** The resources already defined. */
  existing: readonly ResourceSpec[];
  /** Name of the resource being edited: its own name and address are not duplicates. */
  editing?: ResourceName;
}

export type NameValidation = { ok: true; name: string } | { ok: false; message: string };

export const NAME_MAX_LENGTH = 63;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const PREFIX_MIN = 1;
export const PREFIX_MAX = 32;
export const PREFIX_MAX_IPV6 = 128;
export const HOUR_MAX = 23;

const ANNOUNCE_FORMS: readonly AnnounceForm[] = ['request', 'reply', 'both'];
const DEFEND_POLICIES: readonly DefendPolicy[] = ['never', 'once', 'always'];
const FAILBACK_MODES: readonly FailbackPolicy['mode'][] = ['never', 'immediate', 'window'];

const SPEC_FIELDS: ReadonlySet<string> = new Set<keyof ResourceSpec>([
  'name', 'ip', 'prefix', 'possibleOwners', 'preferredOwners', 'failback', 'interfaces', 'enabled', 'announceForm', 'defendPolicy',
  'announceCount', 'announceIntervalMs', 'announceRefreshSec', 'maintenanceUntil', 'health',
  'retries', 'banForSec', 'failoverThreshold', 'group', 'apartFrom',
]);
const HEALTH_FIELDS: ReadonlySet<string> = new Set(['checks', 'intervalMs', 'timeoutMs', 'fall', 'rise']);
const FAILBACK_FIELDS: ReadonlySet<string> = new Set(['mode', 'startHour', 'endHour']);

const MAX_QUOTED_LENGTH = 64;
const MAX_LISTED_NODES = 8;

/** Untrusted input in a message: escaped (so always one line) and bounded. */
function quote(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nameProblem(label: string, input: unknown): string | null {
  if (input === undefined || input === null || input === '') return `${label} is required`;
  if (typeof input !== 'string') return `${label} must be text (got ${quote(input)})`;
  if (input.length > NAME_MAX_LENGTH) return `${label} must be at most ${NAME_MAX_LENGTH} characters (got ${input.length})`;
  if (!NAME_PATTERN.test(input)) {
    return `${label} ${quote(input)} may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit`;
  }
  return null;
}

function nameValidation(label: string, input: unknown): NameValidation {
  const problem = nameProblem(label, input);
  return problem === null ? { ok: true, name: input as string } : { ok: false, message: problem };
}

/** A node's name as an agent registers it (`ipfo agent --node <name>`). */
export function validateNodeName(input: unknown): NameValidation {
  // "best" means "the best live node" wherever a move names its target (ipfo move web best, the API's BEST_NODE).
  if (input === 'best') return { ok: false, message: 'node name "best" is reserved (a move to "best" picks the best live node)' };
  return nameValidation('node name', input);
}

export function validateResourceName(input: unknown): NameValidation {
  return nameValidation('resource name', input);
}

/** Why `ip` can never be a host's address, whatever the prefix; null when it can. */
function reservedAddressProblem(ip: Ipv4): string | null {
  const value = parseIpv4(ip);
  const firstOctet = value >>> 24;
  if (value === 0xffffffff) return `${ip} is the limited broadcast address, not a host address`;
  if (firstOctet === 0) return `${ip} is in 0.0.0.0/8 ("this network"), not a host address`;
  if (firstOctet === 127) return `${ip} is a loopback address (127.0.0.0/8); it never appears on a LAN`;
  if (firstOctet >= 224 && firstOctet <= 239) return `${ip} is a multicast address (224.0.0.0/4), not a host address`;
  return null;
}

/** Network and broadcast addresses exist only for prefixes below /31 (RFC 3021). */
function subnetEdgeProblem(ip: Ipv4, prefix: number): string | null {
  if (prefix >= 31) return null;
  const value = parseIpv4(ip);
  const mask = prefixMask(prefix);
  const network = (value & mask) >>> 0;
  const subnet = `${formatIpv4(network)}/${prefix}`;
  if (value === network) return `${ip} is the network address of ${subnet}; choose a host address`;
  if (value === (network | ~mask) >>> 0) return `${ip} is the broadcast address of ${subnet}; choose a host address`;
  return null;
}

/** The errors found so far; each check below adds to it and returns the clean value, or undefined when invalid. */
class ErrorList {
  readonly errors: FieldError[] = [];

  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }
}

/** Why an IPv6 address cannot be a cluster's address, whatever the prefix; null when it can. */
function reservedIpv6Problem(ip: string): string | null {
  const reason = notHostReason(ip);
  if (reason !== null) return `${ip}: ${reason}`;
  return linkLocalProblem(ip);
}

/** The subnet-router anycast address (RFC 4291 §2.6.1) is every router's on the link: not one node's. */
function ipv6SubnetProblem(ip: string, prefix: number): string | null {
  if (prefix >= 127) return null;
  const bytes = parseIpv6(ip);
  for (let bit = prefix; bit < 128; bit++) if (((bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1) return null;
  return `${ip} is the subnet-router anycast address of ${ip}/${prefix} (all host bits zero); choose a host address`;
}

function errorMessage(error: unknown): string {
  if (!(error instanceof AddressError)) throw error;
  return error.message;
}

/**
 * An IPv6 address, "addr" or "addr/nn": its stored spelling and the prefix written in it. Every
 * problem goes to the address field, as for "a.b.c.d/nn": that is where the operator wrote it.
 */
function readIpv6(ipInput: string, errors: ErrorList): { ip?: string; prefixFromIp?: number; prefixWritten: boolean } {
  const slash = ipInput.indexOf('/');
  const ipText = slash < 0 ? ipInput : ipInput.slice(0, slash);
  let ip: string | undefined;
  let prefixFromIp: number | undefined;
  try {
    ip = canonicalIpv6(ipText);
  } catch (error) {
    errors.add('ip', errorMessage(error));
  }
  if (slash >= 0) {
    const prefixText = ipInput.slice(slash + 1);
    try {
      if (prefixText.includes('/')) throw new AddressError('BAD_CIDR', `invalid address/prefix ${JSON.stringify(ipInput.slice(0, 64))}: expected one "/" as in "2001:db8::50/64"`);
      prefixFromIp = parseIpv6Prefix(prefixText);
    } catch (error) {
      errors.add('ip', errorMessage(error));
    }
  }
  return { ip, prefixFromIp, prefixWritten: slash >= 0 };
}

function validateAddress(input: Record<string, unknown>, errors: ErrorList): { ip?: string; prefix?: number } {
  let ip: string | undefined;
  let prefixFromIp: number | undefined;
  const ipInput = input.ip;
  // A colon is IPv6's and never IPv4's: the family is known even when the text is wrong, so the prefix's bound is too.
  const ipv6 = typeof ipInput === 'string' && ipInput.includes(':');
  const example = ipv6 ? '2001:db8::50/64' : '10.213.0.50/24';
  const prefixMax = ipv6 ? PREFIX_MAX_IPV6 : PREFIX_MAX;
  let prefixWritten = typeof ipInput === 'string' && ipInput.includes('/');
  if (ipInput === undefined || ipInput === null || ipInput === '') {
    errors.add('ip', 'address is required');
  } else if (typeof ipInput !== 'string') {
    errors.add('ip', `address must be text like "10.213.0.50" or "2001:db8::50" (got ${quote(ipInput)})`);
  } else if (ipv6) {
    ({ ip, prefixFromIp, prefixWritten } = readIpv6(ipInput, errors));
  } else if (ipInput.includes('/')) {
    try {
      const cidr = parseCidr(ipInput);
      ip = cidr.ip;
      prefixFromIp = cidr.prefix;
    } catch (error) {
      errors.add('ip', errorMessage(error));
    }
  } else {
    try {
      // parseIpv4 accepts only the canonical spelling, so the text is the stored form.
      parseIpv4(ipInput);
      ip = ipInput;
    } catch (error) {
      errors.add('ip', errorMessage(error));
    }
  }

  let prefix: number | undefined;
  const prefixInput = input.prefix;
  if (prefixInput === undefined || prefixInput === null) {
    if (!prefixWritten) errors.add('prefix', `prefix is required (or write the address as "${example}")`);
    prefix = prefixFromIp;
  } else if (typeof prefixInput !== 'number' || !Number.isInteger(prefixInput) || prefixInput < PREFIX_MIN || prefixInput > prefixMax) {
    errors.add('prefix', `prefix must be an integer ${PREFIX_MIN}..${prefixMax} (got ${quote(prefixInput)})`);
  } else if (prefixFromIp !== undefined && prefixFromIp !== prefixInput) {
    errors.add('prefix', `prefix ${prefixInput} disagrees with the /${prefixFromIp} written in the address`);
  } else {
    prefix = prefixInput;
  }
  // The CIDR form parses /0, which a resource cannot use.
  if (prefix !== undefined && prefix < PREFIX_MIN) {
    errors.add('prefix', `prefix must be an integer ${PREFIX_MIN}..${prefixMax} (got ${prefix})`);
    prefix = undefined;
  }

  if (ip !== undefined) {
    const problem = ipv6
      ? (reservedIpv6Problem(ip) ?? (prefix === undefined ? null : ipv6SubnetProblem(ip, prefix)))
      : (reservedAddressProblem(ip) ?? (prefix === undefined ? null : subnetEdgeProblem(ip, prefix)));
    if (problem !== null) {
      errors.add('ip', problem);
      ip = undefined;
    }
  }
  return { ip, prefix };
}

function describeKnownNodes(nodes: readonly NodeName[]): string {
  if (nodes.length === 0) return 'this cluster has no nodes yet';
  const shown = nodes.slice(0, MAX_LISTED_NODES).join(', ');
  return `known nodes: ${shown}${nodes.length > MAX_LISTED_NODES ? ', ...' : ''}`;
}

/** A list of node names: each known, none repeated. Returns the known ones (unknown ones are errors). */
function validateNodeList(field: string, value: unknown, known: ReadonlySet<NodeName>, context: SpecContext, errors: ErrorList): NodeName[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.add(field, `${field} must be a list of node names (got ${quote(value)})`);
    return undefined;
  }
  const seen = new Set<NodeName>();
  const result: NodeName[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'string') {
      errors.add(field, `${field} must contain only node names (got ${quote(entry)})`);
    } else if (!known.has(entry)) {
      errors.add(field, `unknown node ${quote(entry)} (${describeKnownNodes(context.nodes)})`);
    } else if (seen.has(entry)) {
      errors.add(field, `node ${quote(entry)} is listed twice`);
    } else {
      seen.add(entry);
      result.push(entry);
    }
  }
  return result;
}

function validateFailback(value: unknown, errors: ErrorList): FailbackPolicy | undefined {
  if (value === undefined || value === null) return { mode: 'never' };
  if (!isPlainObject(value)) {
    errors.add('failback', `failback must be an object like { "mode": "never" } (got ${quote(value)})`);
    return undefined;
  }
  let valid = true;
  for (const key of Object.keys(value)) {
    if (!FAILBACK_FIELDS.has(key)) {
      errors.add('failback', `failback has an unknown setting ${quote(key)}`);
      valid = false;
    }
  }
  const mode = value.mode;
  if (typeof mode !== 'string' || !(FAILBACK_MODES as readonly string[]).includes(mode)) {
    errors.add('failback', `failback mode must be one of ${FAILBACK_MODES.map((m) => `'${m}'`).join(', ')} (got ${quote(mode)})`);
    return undefined;
  }
  // Hours left over from a form that switched away from 'window' are harmless and dropped.
  if (mode !== 'window') return valid ? { mode: mode as 'never' | 'immediate' } : undefined;
  const startHour = validateHour('startHour', value.startHour, errors);
  const endHour = validateHour('endHour', value.endHour, errors);
  if (startHour === undefined || endHour === undefined) return undefined;
  if (startHour === endHour) {
    errors.add('failback.endHour', "failback window start and end hours must differ (use mode 'immediate' to allow failback at any hour)");
    return undefined;
  }
  return valid ? { mode: 'window', startHour, endHour } : undefined;
}

function validateHour(key: 'startHour' | 'endHour', value: unknown, errors: ErrorList): number | undefined {
  const label = key === 'startHour' ? 'start' : 'end';
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > HOUR_MAX) {
    errors.add(`failback.${key}`, `failback window ${label} hour must be an integer 0..${HOUR_MAX} (got ${quote(value)})`);
    return undefined;
  }
  return value;
}

function validateInterfaces(value: unknown, known: ReadonlySet<NodeName>, context: SpecContext, errors: ErrorList): Record<NodeName, string> | undefined {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    errors.add('interfaces', `interfaces must map node names to interface names (got ${quote(value)})`);
    return undefined;
  }
  const entries: Array<[NodeName, string]> = [];
  let valid = true;
  for (const [node, ifname] of Object.entries(value)) {
    const field = `interfaces.${node}`;
    if (!known.has(node)) {
      errors.add(field, `interface given for unknown node ${quote(node)} (${describeKnownNodes(context.nodes)})`);
      valid = false;
      continue;
    }
    if (typeof ifname !== 'string') {
      errors.add(field, `interface of node ${quote(node)} must be text like "eth1" (got ${quote(ifname)})`);
      valid = false;
      continue;
    }
    try {
      validateIfname(ifname);
      entries.push([node, ifname]);
    } catch (error) {
      if (!(error instanceof InterfaceError)) throw error;
      errors.add(field, error.message);
      valid = false;
    }
  }
  // fromEntries makes own properties, so a node named like an Object.prototype member stays plain data.
  return valid ? Object.fromEntries(entries) : undefined;
}

function validateEnum<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T, errors: ErrorList): T | undefined {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    errors.add(field, `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${quote(value)})`);
    return undefined;
  }
  return value as T;
}

/** An optional integer in [min, max]; null and undefined mean absent. */
function validateOptionalInteger(field: string, value: unknown, min: number, max: number, unit: string, errors: ErrorList): number | undefined | false {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    errors.add(field, `${field} must be a whole number from ${min} to ${max}${unit} (got ${quote(value)})`);
    return false;
  }
  return value;
}

/** The health checks and their timing, defaults filled in; undefined when absent or null, false when invalid. */
function validateHealth(value: unknown, errors: ErrorList): HealthSpec | undefined | false {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    errors.add('health', `health must be an object like { "checks": [...] } (got ${quote(value)})`);
    return false;
  }
  const before = errors.errors.length;
  for (const key of Object.keys(value)) if (!HEALTH_FIELDS.has(key)) errors.add('health', `health has an unknown setting ${quote(key)}`);
  const checks: HealthCheck[] = [];
  if (!Array.isArray(value.checks) || value.checks.length === 0) errors.add('health.checks', 'health.checks must list at least one check');
  else if (value.checks.length > MAX_CHECKS) errors.add('health.checks', `health.checks may list at most ${MAX_CHECKS} checks (got ${value.checks.length})`);
  else {
    (value.checks as unknown[]).forEach((check, i) => {
      const parsed = HealthCheckSchema.safeParse(check);
      if (parsed.success) checks.push(parsed.data);
      else {
        const issue = parsed.error.issues[0]!;
        errors.add(`health.checks.${i}`, `check ${i + 1}: ${issue.path.length > 0 ? `${issue.path.join('.')} ` : ''}${issue.message}`);
      }
    });
  }
  const intervalMs = validateOptionalInteger('health.intervalMs', value.intervalMs, CHECK_INTERVAL_MIN_MS, CHECK_INTERVAL_MAX_MS, ' ms', errors) ?? HEALTH_DEFAULTS.intervalMs;
  const timeoutMs = validateOptionalInteger('health.timeoutMs', value.timeoutMs, CHECK_TIMEOUT_MIN_MS, CHECK_TIMEOUT_MAX_MS, ' ms', errors) ?? Math.min(HEALTH_DEFAULTS.timeoutMs, typeof intervalMs === 'number' ? intervalMs : HEALTH_DEFAULTS.timeoutMs);
  const fall = validateOptionalInteger('health.fall', value.fall, 1, FALL_RISE_MAX, '', errors) ?? HEALTH_DEFAULTS.fall;
  const rise = validateOptionalInteger('health.rise', value.rise, 1, FALL_RISE_MAX, '', errors) ?? HEALTH_DEFAULTS.rise;
  if (typeof intervalMs === 'number' && typeof timeoutMs === 'number' && timeoutMs > intervalMs) {
    errors.add('health.timeoutMs', `the check timeout (${timeoutMs} ms) must not exceed the interval (${intervalMs} ms)`);
  }
  if (errors.errors.length > before || intervalMs === false || timeoutMs === false || fall === false || rise === false) return false;
  return { checks, intervalMs, timeoutMs, fall, rise };
}

function checkUniqueness(name: string | undefined, ip: string | undefined, context: SpecContext, errors: ErrorList): void {
  for (const other of context.existing) {
    if (context.editing !== undefined && other.name === context.editing) continue;
    if (name !== undefined && other.name.toLowerCase() === name.toLowerCase()) {
      errors.add('name', `a resource named ${quote(other.name)} already exists`);
    }
    if (ip !== undefined && other.ip === ip) {
      errors.add('ip', `${ip} is already the address of resource ${quote(other.name)}`);
    }
  }
}

/**
 * Checks an operator's resource definition against the rules at the top of this file and fills the
 * defaults of omitted optional fields. Never throws for bad input.
 */
export function validateResourceSpec(input: unknown, context: SpecContext): SpecValidation {
  if (!isPlainObject(input)) {
    return { ok: false, errors: [{ field: '', message: `a resource definition must be an object (got ${quote(input)})` }] };
  }
  const errors = new ErrorList();
  for (const key of Object.keys(input)) {
    if (!SPEC_FIELDS.has(key)) errors.add(key, `unknown field ${quote(key)}`);
  }
  const known = new Set(context.nodes);

  const nameProblemText = nameProblem('name', input.name);
  if (nameProblemText !== null) errors.add('name', nameProblemText);
  const name = nameProblemText === null ? (input.name as string) : undefined;

  const { ip, prefix } = validateAddress(input, errors);
  checkUniqueness(name, ip, context, errors);

  const possibleOwners = validateNodeList('possibleOwners', input.possibleOwners, known, context, errors);
  if (Array.isArray(input.possibleOwners) && input.possibleOwners.length > 0 && possibleOwners?.length === 0) {
    errors.add('possibleOwners', 'none of the possible owners is a node of this cluster, so the resource could run nowhere (leave the list empty to allow every node)');
  }
  const preferredOwners = validateNodeList('preferredOwners', input.preferredOwners, known, context, errors);
  if (preferredOwners !== undefined && possibleOwners !== undefined && possibleOwners.length > 0) {
    for (const node of preferredOwners) {
      if (!possibleOwners.includes(node)) errors.add('preferredOwners', `preferred owner ${quote(node)} is not one of the possible owners`);
    }
  }

  const failback = validateFailback(input.failback, errors);
  const interfaces = validateInterfaces(input.interfaces, known, context, errors);

  let enabled: boolean | undefined = true;
  if (input.enabled !== undefined && input.enabled !== null) {
    if (typeof input.enabled === 'boolean') enabled = input.enabled;
    else errors.add('enabled', `enabled must be true or false (got ${quote(input.enabled)})`);
  }
  const announceForm = validateEnum('announceForm', input.announceForm, ANNOUNCE_FORMS, 'request', errors);
  const defendPolicy = validateEnum('defendPolicy', input.defendPolicy, DEFEND_POLICIES, 'always', errors);

  const announceCount = validateOptionalInteger('announceCount', input.announceCount, 1, ANNOUNCE_COUNT_MAX, '', errors);
  const announceIntervalMs = validateOptionalInteger('announceIntervalMs', input.announceIntervalMs, ANNOUNCE_INTERVAL_MIN_MS, ANNOUNCE_INTERVAL_MAX_MS, ' ms', errors);
  const announceRefreshSec = validateOptionalInteger('announceRefreshSec', input.announceRefreshSec, ANNOUNCE_REFRESH_MIN_SEC, ANNOUNCE_REFRESH_MAX_SEC, ' s', errors);
  const maintenanceUntil = validateOptionalInteger('maintenanceUntil', input.maintenanceUntil, 0, Number.MAX_SAFE_INTEGER, ' (wall-clock ms)', errors);
  const health = validateHealth(input.health, errors);
  const retries = validateOptionalInteger('retries', input.retries, 0, RETRIES_MAX, '', errors);
  const banForSec = validateOptionalInteger('banForSec', input.banForSec, BAN_FOR_MIN_SEC, BAN_FOR_MAX_SEC, ' s', errors);
  const failoverThreshold = validateThreshold(input.failoverThreshold, errors);
  const { group, apartFrom } = validateGroup(input.group, input.apartFrom, errors);

  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  if (
    name === undefined || ip === undefined || prefix === undefined || possibleOwners === undefined || preferredOwners === undefined ||
    failback === undefined || interfaces === undefined || announceForm === undefined || defendPolicy === undefined
  ) {
    throw new Error('validateResourceSpec: a field was rejected without an error message (a bug in validate.ts)');
  }
  return {
    ok: true,
    spec: {
      name, ip, prefix, possibleOwners, preferredOwners, failback, interfaces, enabled, announceForm, defendPolicy,
      ...(typeof announceCount === 'number' ? { announceCount } : {}),
      ...(typeof announceIntervalMs === 'number' ? { announceIntervalMs } : {}),
      ...(typeof announceRefreshSec === 'number' ? { announceRefreshSec } : {}),
      ...(typeof maintenanceUntil === 'number' ? { maintenanceUntil } : {}),
      ...(health ? { health } : {}),
      ...(typeof retries === 'number' ? { retries } : {}),
      ...(typeof banForSec === 'number' ? { banForSec } : {}),
      ...(failoverThreshold ? { failoverThreshold } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(apartFrom !== undefined && apartFrom.length > 0 ? { apartFrom } : {}),
    },
  };
}

/** The resource's group and the groups it keeps apart from (rules at the top of this file). */
function validateGroup(groupInput: unknown, apartInput: unknown, errors: ErrorList): { group?: string; apartFrom?: string[] } {
  let group: string | undefined;
  if (groupInput !== undefined && groupInput !== null) {
    const problem = nameProblem('group', groupInput);
    if (problem !== null) errors.add('group', problem);
    else group = groupInput as string;
  }
  if (apartInput === undefined || apartInput === null) return { group };
  if (!Array.isArray(apartInput)) {
    errors.add('apartFrom', `apartFrom must be a list of group names (got ${quote(apartInput)})`);
    return { group };
  }
  if (apartInput.length > MAX_APART_FROM) errors.add('apartFrom', `apartFrom may name at most ${MAX_APART_FROM} groups (got ${apartInput.length})`);
  if (apartInput.length > 0 && (groupInput === undefined || groupInput === null)) errors.add('apartFrom', 'apartFrom needs a group: it keeps the resource\'s group apart from others');
  const apartFrom: string[] = [];
  for (const item of apartInput) {
    const problem = nameProblem('a group in apartFrom', item);
    if (problem !== null) errors.add('apartFrom', problem);
    else if (item === group) errors.add('apartFrom', `group ${quote(item)} cannot be kept apart from itself`);
    else if (apartFrom.includes(item as string)) errors.add('apartFrom', `group ${quote(item)} is named twice`);
    else apartFrom.push(item as string);
  }
  return { group, apartFrom };
}

/** { count, windowSec } within the contract's bounds; null or absent = no threshold. */
function validateThreshold(input: unknown, errors: ErrorList): FailoverThreshold | undefined {
  if (input === undefined || input === null) return undefined;
  if (!isPlainObject(input)) {
    errors.add('failoverThreshold', `failoverThreshold must be { count, windowSec } (got ${quote(input)})`);
    return undefined;
  }
  for (const key of Object.keys(input)) if (key !== 'count' && key !== 'windowSec') errors.add(`failoverThreshold.${key}`, `unknown field ${quote(key)}`);
  const count = validateOptionalInteger('failoverThreshold.count', input.count, 1, THRESHOLD_COUNT_MAX, '', errors);
  const windowSec = validateOptionalInteger('failoverThreshold.windowSec', input.windowSec, THRESHOLD_WINDOW_MIN_SEC, THRESHOLD_WINDOW_MAX_SEC, ' s', errors);
  if (input.count === undefined || input.count === null) errors.add('failoverThreshold.count', 'failoverThreshold.count is required');
  if (input.windowSec === undefined || input.windowSec === null) errors.add('failoverThreshold.windowSec', 'failoverThreshold.windowSec is required');
  return typeof count === 'number' && typeof windowSec === 'number' ? { count, windowSec } : undefined;
}
