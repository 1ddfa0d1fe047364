// A fast path in front of the contract check of the two pushes that carry resources in bulk: the
// snapshot (10,000 resources, megabytes) and the resource change (1,000 a second at full stream).
// The console cannot compile zod validators (its CSP forbids eval), and jitless zod takes ~1 s of a
// loaded 2-core machine to check a 10,000-resource snapshot, before anything can be shown.
//
// The rule that keeps this safe: `fastPush` returns a push only when the checks below ACCEPT it, and
// each of them is at least as strict as the schema next to it in domain.ts (same keys, same bounds,
// patterns and enums, taken from there). Anything else, including anything merely unusual, returns
// null and the caller runs the full contract check (parseServerMessage), which then decides, with its
// own messages. Nodes, conflicts and audit entries (few) are checked with the contract's own schemas.
//
// The field tables are typed by the contract's types: a field added to ResourceView, ResourceStatus,
// a failure kind or a failback mode does not compile until it has its check here. The differential
// test (test/unit/fast-push.test.ts) mutates every field of the zod schemas against this file.
import { BAN_FOR_MAX_SEC, BAN_FOR_MIN_SEC, FailoverThresholdSchema, RETRIES_MAX } from './failure-policy';
import {
  ANNOUNCE_COUNT_MAX,
  ANNOUNCE_FORMS,
  ANNOUNCE_INTERVAL_MAX_MS,
  ANNOUNCE_INTERVAL_MIN_MS,
  ANNOUNCE_REFRESH_MAX_SEC,
  ANNOUNCE_REFRESH_MIN_SEC,
  AuditEntrySchema,
  ConflictRecordSchema,
  DEFEND_POLICIES,
  MAC_PATTERN,
  MAX_NAME_LENGTH,
  MAX_APART_FROM,
  MAX_OWNERS,
  MAX_SNAPSHOT_CONFLICTS,
  MAX_SNAPSHOT_NODES,
  MAX_SNAPSHOT_REJECTED,
  MAX_SNAPSHOT_RESOURCES,
  MAX_TEXT_LENGTH,
  NodeRecordSchema,
  RejectedStoreRecordSchema,
  RESOURCE_STATES,
  SNAPSHOT_EVENTS_LIMIT,
  type FailbackPolicy,
  type FailureReason,
  type ResourceStatus,
  type ResourceView,
  type Snapshot,
} from './domain';
import { isResourceIp } from './ip-address';
import { HealthSpecSchema } from './health';
import { decodeRows, type CompactRows } from './compact-rows';
import { MAX_CHANGES_PER_PUSH, MAX_PAGE_ROWS, MAX_ROWS_PER_CHUNK, ResourceTableViewSchema, type ChangePush, type ChangesPush, type Push, type SnapshotHeadPush } from './protocol';

type Obj = Record<string, unknown>;
type Check = (value: unknown) => boolean;

/** One check per field of T, every field and no other. */
type Checks<T> = { readonly [K in keyof T]-?: Check };
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** A strict object (the contract's objects are z.strictObject): its fields, which of them may be absent. */
interface Shape {
  checks: ReadonlyMap<string, Check>;
  optional: ReadonlySet<string>;
  required: number;
}

/** `optional` names every optional field of T (the compiler checks that too). */
function shape<T>(checks: Checks<T>, optional: { readonly [K in OptionalKeys<T>]-?: true }): Shape {
  const entries = Object.entries<Check>(checks);
  const optionalSet = new Set<string>(Object.keys(optional));
  return { checks: new Map(entries), optional: optionalSet, required: entries.length - optionalSet.size };
}

/** A plain JSON object with every required field, optional ones or not, nothing else, each passing its check. */
function matches(value: unknown, fields: Shape): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let required = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    const check = fields.checks.get(key);
    if (check === undefined || !check((value as Obj)[key])) return false;
    if (!fields.optional.has(key)) required++;
  }
  return required === fields.required;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_NAME_LENGTH;
}

function isText(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_TEXT_LENGTH;
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

function isOneOf(options: readonly string[]): Check {
  return (value) => typeof value === 'string' && options.includes(value);
}

function nullOr(check: Check): Check {
  return (value) => value === null || check(value);
}

function literal(expected: string): Check {
  return (value) => value === expected;
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

/** One shape per value of a discriminant field, picked by that field. */
function byTag(tag: string, shapes: Readonly<Record<string, Shape>>): Check {
  return (value) => {
    if (typeof value !== 'object' || value === null) return false;
    const name = (value as Obj)[tag];
    return typeof name === 'string' && Object.hasOwn(shapes, name) && matches(value, shapes[name] as Shape);
  };
}

type Variant<T, Tag extends keyof T, V> = Extract<T, Record<Tag, V>>;

const FAILBACK_SHAPES: { [M in FailbackPolicy['mode']]: Shape } = {
  never: shape<Variant<FailbackPolicy, 'mode', 'never'>>({ mode: literal('never') }, {}),
  immediate: shape<Variant<FailbackPolicy, 'mode', 'immediate'>>({ mode: literal('immediate') }, {}),
  window: shape<Variant<FailbackPolicy, 'mode', 'window'>>({ mode: literal('window'), startHour: (v) => isIntIn(v, 0, 23), endHour: (v) => isIntIn(v, 0, 23) }, {}),
};

const FAILURE_SHAPES: { [K in FailureReason['kind']]: Shape } = {
  conflict: shape<Variant<FailureReason, 'kind', 'conflict'>>({ kind: literal('conflict'), mac: isMac }, {}),
  'no-eligible-node': shape<Variant<FailureReason, 'kind', 'no-eligible-node'>>({ kind: literal('no-eligible-node') }, {}),
  'no-healthy-node': shape<Variant<FailureReason, 'kind', 'no-healthy-node'>>({ kind: literal('no-healthy-node') }, {}),
  'interface-missing': shape<Variant<FailureReason, 'kind', 'interface-missing'>>({ kind: literal('interface-missing'), node: isName, detail: isText }, {}),
  'register-failed': shape<Variant<FailureReason, 'kind', 'register-failed'>>({ kind: literal('register-failed'), node: isName, detail: isText }, {}),
  'banned-everywhere': shape<Variant<FailureReason, 'kind', 'banned-everywhere'>>({ kind: literal('banned-everywhere') }, {}),
  'failover-limit': shape<Variant<FailureReason, 'kind', 'failover-limit'>>({ kind: literal('failover-limit'), count: (v) => isIntIn(v, 1, Number.MAX_SAFE_INTEGER), windowSec: (v) => isIntIn(v, 1, Number.MAX_SAFE_INTEGER), detail: isText }, {}),
};

const STATUS_SHAPE = shape<ResourceStatus>(
  {
    name: isName,
    state: isOneOf(RESOURCE_STATES),
    owner: nullOr(isName),
    ownerMac: nullOr(isMac),
    since: isTimestamp,
    failure: nullOr(byTag('kind', FAILURE_SHAPES)),
    lastHandoffMs: nullOr(isDuration),
  },
  {},
);

const RESOURCE_SHAPE = shape<ResourceView>(
  {
    name: isName,
    ip: isResourceIp,
    // As the schema: the family's bound is the cluster's rule, checked where the record was read.
    prefix: (v) => isIntIn(v, 1, 128),
    possibleOwners: isNameList,
    preferredOwners: isNameList,
    failback: byTag('mode', FAILBACK_SHAPES),
    interfaces: isNameMap,
    enabled: (v) => typeof v === 'boolean',
    announceForm: isOneOf(ANNOUNCE_FORMS),
    defendPolicy: isOneOf(DEFEND_POLICIES),
    announceCount: (v) => isIntIn(v, 1, ANNOUNCE_COUNT_MAX),
    announceIntervalMs: (v) => isIntIn(v, ANNOUNCE_INTERVAL_MIN_MS, ANNOUNCE_INTERVAL_MAX_MS),
    announceRefreshSec: (v) => isIntIn(v, ANNOUNCE_REFRESH_MIN_SEC, ANNOUNCE_REFRESH_MAX_SEC),
    maintenanceUntil: isTimestamp,
    // Few resources carry checks, and theirs are lists of tagged records: the contract's own schema.
    health: (v) => HealthSpecSchema.safeParse(v).success,
    retries: (v) => isIntIn(v, 0, RETRIES_MAX),
    banForSec: (v) => isIntIn(v, BAN_FOR_MIN_SEC, BAN_FOR_MAX_SEC),
    failoverThreshold: (v) => FailoverThresholdSchema.safeParse(v).success,
    group: isName,
    apartFrom: (v) => isNameList(v) && (v as unknown[]).length <= MAX_APART_FROM,
    status: (v) => matches(v, STATUS_SHAPE),
  },
  { announceCount: true, announceIntervalMs: true, announceRefreshSec: true, maintenanceUntil: true, health: true, retries: true, banForSec: true, failoverThreshold: true, group: true, apartFrom: true },
);

/** ResourceViewSchema, or stricter. */
export function isResourceView(value: unknown): value is ResourceView {
  return matches(value, RESOURCE_SHAPE);
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

// Only the keys: the lists are checked (and nodes, conflicts, events parsed) in fastPush.
const SNAPSHOT_SHAPE = shape<Snapshot>({ nodes: Array.isArray, resources: Array.isArray, conflicts: Array.isArray, events: Array.isArray, rejected: Array.isArray }, {});
const PUSH_KEYS = {
  snapshot: ['type', 'revision', 'snapshot'],
  change: ['type', 'revision', 'change'],
  changes: ['type', 'changes'],
  changeItem: ['revision', 'change'],
  head: ['type', 'revision', 'view', 'resourceCount', 'matching', 'states', 'page', 'nodes', 'conflicts', 'events', 'rejected'],
  rows: ['type', 'revision', 'rows', 'done'],
  compact: ['specs', 'failures', 'strings', 'cells', 'raw'],
} as const;

function hasExactly(value: unknown, keys: readonly string[]): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !keys.includes(key)) return false;
    count++;
  }
  return count === keys.length;
}

/**
 * The push in `value` (a parsed agent message) when it is a snapshot or a resource change that
 * passes the checks above; null means "not decided here": run the contract's check.
 */
export function fastPush(value: unknown): Push | null {
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as Obj).type;
  if (type === 'snapshot') {
    if (!hasExactly(value, PUSH_KEYS.snapshot) || !isTimestamp(value.revision)) return null;
    const snapshot = value.snapshot;
    if (!matches(snapshot, SNAPSHOT_SHAPE)) return null;
    if (!allMatch(snapshot.resources, MAX_SNAPSHOT_RESOURCES, isResourceView)) return null;
    const nodes = parsedList(snapshot.nodes, MAX_SNAPSHOT_NODES, NodeRecordSchema);
    const conflicts = parsedList(snapshot.conflicts, MAX_SNAPSHOT_CONFLICTS, ConflictRecordSchema);
    const events = parsedList(snapshot.events, SNAPSHOT_EVENTS_LIMIT, AuditEntrySchema);
    const rejected = parsedList(snapshot.rejected, MAX_SNAPSHOT_REJECTED, RejectedStoreRecordSchema);
    if (nodes === null || conflicts === null || events === null || rejected === null) return null;
    return { type: 'snapshot', revision: value.revision as number, snapshot: { nodes, resources: snapshot.resources as ResourceView[], conflicts, events, rejected } };
  }
  if (type === 'snapshot-head') return fastHead(value);
  if (type === 'snapshot-rows') return fastRows(value);
  if (type === 'change') {
    if (!hasExactly(value, PUSH_KEYS.change)) return null;
    return resourceChange(value.revision, value.change);
  }
  if (type === 'changes') return fastChanges(value);
  return null;
}

/** A resource change (the stream's bulk), or null: anything else goes to the contract's check. */
function resourceChange(revision: unknown, change: unknown): ChangePush | null {
  if (!isTimestamp(revision)) return null;
  if (!hasExactly(change, ['kind', 'resource']) || change.kind !== 'resource' || !isResourceView(change.resource)) return null;
  return { type: 'change', revision: revision as number, change: { kind: 'resource', resource: change.resource } };
}

/** Several changes: decided here only when every one of them is a resource change this file accepts. */
function fastChanges(value: unknown): Push | null {
  if (!hasExactly(value, PUSH_KEYS.changes)) return null;
  const items = value.changes;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_CHANGES_PER_PUSH) return null;
  const changes: ChangePush[] = [];
  for (const item of items as unknown[]) {
    if (!hasExactly(item, PUSH_KEYS.changeItem)) return null;
    const change = resourceChange(item.revision, item.change);
    if (change === null) return null;
    changes.push(change);
  }
  return { type: 'changes', changes };
}

function isCount(value: unknown): boolean {
  return isIntIn(value, 0, MAX_SNAPSHOT_RESOURCES);
}

function isStateCounts(value: unknown): boolean {
  if (!hasExactly(value, RESOURCE_STATES)) return false;
  for (const state of RESOURCE_STATES) if (!isCount(value[state])) return false;
  return true;
}

/** The paged stream's head: the page with the fast check, the small parts with the contract's schemas. */
function fastHead(value: unknown): Push | null {
  if (!hasExactly(value, PUSH_KEYS.head) || !isTimestamp(value.revision)) return null;
  if (!isCount(value.resourceCount) || !isCount(value.matching) || !isStateCounts(value.states)) return null;
  if (!allMatch(value.page, MAX_PAGE_ROWS, isResourceView)) return null;
  const view = ResourceTableViewSchema.safeParse(value.view);
  const nodes = parsedList(value.nodes, MAX_SNAPSHOT_NODES, NodeRecordSchema);
  const conflicts = parsedList(value.conflicts, MAX_SNAPSHOT_CONFLICTS, ConflictRecordSchema);
  const events = parsedList(value.events, SNAPSHOT_EVENTS_LIMIT, AuditEntrySchema);
  const rejected = parsedList(value.rejected, MAX_SNAPSHOT_REJECTED, RejectedStoreRecordSchema);
  if (!view.success || nodes === null || conflicts === null || events === null || rejected === null) return null;
  const head: SnapshotHeadPush = {
    type: 'snapshot-head',
    revision: value.revision as number,
    view: view.data,
    resourceCount: value.resourceCount as number,
    matching: value.matching as number,
    states: value.states as SnapshotHeadPush['states'],
    page: value.page as ResourceView[],
    nodes,
    conflicts,
    events,
    rejected,
  };
  return head;
}

function isCell(value: unknown): boolean {
  return value === null || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= MAX_NAME_LENGTH);
}

/** A rows push (compact-rows.ts): the arrays' bounds here, every decoded resource through isResourceView. */
function fastRows(value: unknown): Push | null {
  if (!hasExactly(value, PUSH_KEYS.rows) || !isTimestamp(value.revision) || typeof value.done !== 'boolean') return null;
  const rows = value.rows;
  if (!hasExactly(rows, PUSH_KEYS.compact)) return null;
  const { specs, failures, strings, cells, raw } = rows;
  if (!Array.isArray(specs) || specs.length > MAX_ROWS_PER_CHUNK || !Array.isArray(failures) || failures.length > MAX_ROWS_PER_CHUNK) return null;
  if (!Array.isArray(raw) || raw.length > MAX_ROWS_PER_CHUNK) return null;
  if (!allMatch(strings, 2 * MAX_ROWS_PER_CHUNK, (item) => typeof item === 'string' && item.length <= MAX_NAME_LENGTH)) return null;
  if (!allMatch(cells, 10 * MAX_ROWS_PER_CHUNK, isCell)) return null;
  const resources = decodeRows(rows as unknown as CompactRows, isResourceView, MAX_ROWS_PER_CHUNK);
  if (resources === null) return null;
  return { type: 'snapshot-rows', revision: value.revision as number, resources, done: value.done };
}

/**
 * A stream message of the Electron bridge (ipc.ts StreamMessageSchema) when it is a push this file
 * decides: as fastPush, but rows come decoded (`resources`), as main forwards them. Null: not decided here.
 */
export function fastBridgePush(value: unknown): Exclude<Push, ChangesPush> | null {
  if (typeof value === 'object' && value !== null && (value as Obj).type === 'snapshot-rows') {
    if (!hasExactly(value, ['type', 'revision', 'resources', 'done']) || !isTimestamp(value.revision) || typeof value.done !== 'boolean') return null;
    if (!allMatch(value.resources, MAX_ROWS_PER_CHUNK, isResourceView)) return null;
    return { type: 'snapshot-rows', revision: value.revision as number, resources: value.resources as ResourceView[], done: value.done };
  }
  const push = fastPush(value);
  // The bridge carries changes one by one (main/api/client.ts subscribeView): a batch is not its message.
  return push?.type === 'changes' ? null : push;
}
