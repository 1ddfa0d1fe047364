// A fast path in front of the contract check of the two pushes that carry resources in bulk: the
// snapshot (10,000 resources, megabytes) and the resource change (1,000 a second at full stream).
// The page cannot compile zod validators (the CSP forbids eval), and jitless zod takes ~1 s of a
// loaded 2-core machine to check a 10,000-resource snapshot, before anything can be shown.
//
// The rule that keeps this safe: `fastPush` returns a push only when the hand-written checks below
// ACCEPT it, and each of them is at least as strict as the schema in preload/contract/ (same keys,
// nothing more, nothing less; same bounds, patterns and enums). Anything else, including anything
// merely unusual, returns null and the caller runs the full contract check (parseServerMessage),
// which then decides, with its own messages. So a message the contract refuses is never accepted
// here; a message it accepts may take the slow path. Nodes, conflicts and audit entries (few) are
// checked with the contract's own schemas.
import {
  ANNOUNCE_COUNT_MAX,
  ANNOUNCE_FORMS,
  ANNOUNCE_INTERVAL_MAX_MS,
  ANNOUNCE_INTERVAL_MIN_MS,
  AuditEntrySchema,
  ConflictRecordSchema,
  DEFEND_POLICIES,
  MAX_NAME_LENGTH,
  MAX_OWNERS,
  MAX_SNAPSHOT_CONFLICTS,
  MAX_SNAPSHOT_NODES,
  MAX_SNAPSHOT_RESOURCES,
  MAX_TEXT_LENGTH,
  NodeRecordSchema,
  RESOURCE_STATES,
  SNAPSHOT_EVENTS_LIMIT,
  type ResourceView,
} from '../../../preload/contract/domain';
import type { Push } from '../../../preload/contract/protocol';

// The contract's patterns (preload/contract/domain.ts), character for character.
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_PATTERN = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const MAC_PATTERN = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

type Obj = Record<string, unknown>;

/**
 * A plain JSON object with exactly these keys, plus any of `optional` (the contract's objects are
 * strict: required fields present, nothing unknown).
 */
function exactly(value: unknown, keys: readonly string[], optional: readonly string[] = []): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  let optionalCount = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    count++;
    if (optional.includes(key)) optionalCount++;
  }
  if (count - optionalCount !== keys.length) return false;
  for (const key of keys) if (!Object.hasOwn(value, key)) return false;
  return true;
}

/** An optional field: absent, or passing `check`. */
function absentOr(value: Obj, key: string, check: (field: unknown) => boolean): boolean {
  return !Object.hasOwn(value, key) || check(value[key]);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_NAME_LENGTH;
}

function isText(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_TEXT_LENGTH;
}

function isIpv4(value: unknown): boolean {
  return typeof value === 'string' && IPV4_PATTERN.test(value);
}

function isMac(value: unknown): boolean {
  return typeof value === 'string' && MAC_PATTERN.test(value);
}

function isIntIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function isTimestamp(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isDuration(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isOneOf(value: unknown, options: readonly string[]): boolean {
  return typeof value === 'string' && options.includes(value);
}

function isNameList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > MAX_OWNERS) return false;
  for (const item of value) if (!isName(item)) return false;
  return true;
}

/** z.record(NameSchema, NameSchema) with at most MAX_OWNERS entries; "__proto__" goes the slow way. */
function isNameMap(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || key === '__proto__' || !isName(key) || !isName((value as Obj)[key])) return false;
    if (++count > MAX_OWNERS) return false;
  }
  return true;
}

const FAILBACK_KEYS = { never: ['mode'], immediate: ['mode'], window: ['mode', 'startHour', 'endHour'] } as const;

function isFailback(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const mode = (value as Obj).mode;
  if (mode !== 'never' && mode !== 'immediate' && mode !== 'window') return false;
  if (!exactly(value, FAILBACK_KEYS[mode])) return false;
  return mode !== 'window' || (isIntIn(value.startHour, 0, 23) && isIntIn(value.endHour, 0, 23));
}

function isFailure(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object') return false;
  switch ((value as Obj).kind) {
    case 'conflict':
      return exactly(value, ['kind', 'mac']) && isMac(value.mac);
    case 'no-eligible-node':
      return exactly(value, ['kind']);
    case 'interface-missing':
    case 'register-failed':
      return exactly(value, ['kind', 'node', 'detail']) && isName(value.node) && isText(value.detail);
    default:
      return false;
  }
}

const STATUS_KEYS = ['name', 'state', 'owner', 'ownerMac', 'since', 'failure', 'lastHandoffMs'] as const;

function isStatus(value: unknown): boolean {
  return (
    exactly(value, STATUS_KEYS) &&
    isName(value.name) &&
    isOneOf(value.state, RESOURCE_STATES) &&
    (value.owner === null || isName(value.owner)) &&
    (value.ownerMac === null || isMac(value.ownerMac)) &&
    isTimestamp(value.since) &&
    isFailure(value.failure) &&
    (value.lastHandoffMs === null || isDuration(value.lastHandoffMs))
  );
}

const RESOURCE_KEYS = ['name', 'ip', 'prefix', 'possibleOwners', 'preferredOwners', 'failback', 'interfaces', 'enabled', 'announceForm', 'defendPolicy', 'status'] as const;
const RESOURCE_OPTIONAL_KEYS = ['announceCount', 'announceIntervalMs', 'maintenanceUntil'] as const;

/** ResourceViewSchema, or stricter. */
export function isResourceView(value: unknown): value is ResourceView {
  return (
    exactly(value, RESOURCE_KEYS, RESOURCE_OPTIONAL_KEYS) &&
    absentOr(value, 'announceCount', (v) => isIntIn(v, 1, ANNOUNCE_COUNT_MAX)) &&
    absentOr(value, 'announceIntervalMs', (v) => isIntIn(v, ANNOUNCE_INTERVAL_MIN_MS, ANNOUNCE_INTERVAL_MAX_MS)) &&
    absentOr(value, 'maintenanceUntil', isTimestamp) &&
    isName(value.name) &&
    isIpv4(value.ip) &&
    isIntIn(value.prefix, 1, 32) &&
    isNameList(value.possibleOwners) &&
    isNameList(value.preferredOwners) &&
    isFailback(value.failback) &&
    isNameMap(value.interfaces) &&
    typeof value.enabled === 'boolean' &&
    isOneOf(value.announceForm, ANNOUNCE_FORMS) &&
    isOneOf(value.defendPolicy, DEFEND_POLICIES) &&
    isStatus(value.status)
  );
}

function isRevision(value: unknown): boolean {
  return isTimestamp(value);
}

function allMatch(list: unknown, max: number, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(list) || list.length > max) return false;
  for (const item of list) if (!check(item)) return false;
  return true;
}

/** The schema's output for every item (so a default or transform the contract may gain still applies), or null. */
function parsedList<T>(list: unknown, max: number, schema: { safeParse(item: unknown): { success: true; data: T } | { success: false } }): T[] | null {
  if (!Array.isArray(list) || list.length > max) return null;
  const out: T[] = [];
  for (const item of list) {
    const check = schema.safeParse(item);
    if (!check.success) return null;
    out.push(check.data);
  }
  return out;
}

/**
 * The push in `value` (a parsed agent message) when it is a snapshot or a resource change that
 * passes the checks above; null means "not decided here": run the contract's check.
 */
export function fastPush(value: unknown): Push | null {
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as Obj).type;
  if (type === 'snapshot') {
    if (!exactly(value, ['type', 'revision', 'snapshot']) || !isRevision(value.revision)) return null;
    const snapshot = value.snapshot;
    if (!exactly(snapshot, ['nodes', 'resources', 'conflicts', 'events'])) return null;
    if (!allMatch(snapshot.resources, MAX_SNAPSHOT_RESOURCES, isResourceView)) return null;
    const nodes = parsedList(snapshot.nodes, MAX_SNAPSHOT_NODES, NodeRecordSchema);
    const conflicts = parsedList(snapshot.conflicts, MAX_SNAPSHOT_CONFLICTS, ConflictRecordSchema);
    const events = parsedList(snapshot.events, SNAPSHOT_EVENTS_LIMIT, AuditEntrySchema);
    if (nodes === null || conflicts === null || events === null) return null;
    return { type: 'snapshot', revision: value.revision as number, snapshot: { nodes, resources: snapshot.resources as ResourceView[], conflicts, events } };
  }
  if (type === 'change') {
    if (!exactly(value, ['type', 'revision', 'change']) || !isRevision(value.revision)) return null;
    const change = value.change;
    if (!exactly(change, ['kind', 'resource']) || change.kind !== 'resource' || !isResourceView(change.resource)) return null;
    return { type: 'change', revision: value.revision as number, change: { kind: 'resource', resource: change.resource } };
  }
  return null;
}
