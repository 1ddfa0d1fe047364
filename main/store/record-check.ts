// Every record read from the store is checked against the same schemas and rules as what the API
// accepts, because the store is a trust boundary: anyone who can write to etcd can put anything under
// our keys. A record that fails is not what it claims to be — the reader leaves it out (as if the key
// were absent), and says which key and why (RejectedRecord), so one hostile or broken record can never
// stop the reconcile of the others or make an agent place an address the API would have refused.
import { z } from 'zod';
import type { AuditRecord } from './store';
import {
  AUDIT_OUTCOMES,
  ConflictRecordSchema,
  IpAddressSchema,
  MacSchema,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  NameSchema,
  NodeBindingsSchema,
  NodeRecordSchema,
  ResourceSpecSchema,
  ResourceStatusSchema,
  TextSchema,
  TimestampSchema,
} from '../../preload/contract/domain';
import { UserRecordSchema } from '../../preload/contract/users';
import { HookRecordSchema, HookStateSchema } from '../../preload/contract/hooks';
import { NodeHealthSchema } from '../../preload/contract/health';
import { parseIntent } from '../cluster/intents';
import { validateResourceSpec } from '../cluster/validate';
import type { Collection, CollectionValues, Revision } from './store';

/** A record left out: where it is, and why. */
export interface RejectedRecord {
  collection: Collection;
  /** The record's name within its collection (the last part of its key). */
  name: string;
  /** The whole store key (etcd) or `collection/name` (file store). */
  key: string;
  reason: string;
  /** The revision it was written at. */
  revision: Revision;
}

/** A RejectedRecord whose texts are safe to print (they come from whoever wrote the key). */
export function rejectedRecord(collection: Collection, name: string, key: string, reason: string, revision: Revision): RejectedRecord {
  return { collection, name: printable(name, 256), key: printable(key, 512), reason: printable(reason), revision };
}

export type RecordCheck<C extends Collection> = { ok: true; value: CollectionValues[C] } | { ok: false; reason: string };

/** Bounds of an audit entry's texts and lists (the console's contract has the same): fitAuditRecord keeps our own writes inside them. */
const MAX_ACTOR = 256;
const MAX_ACTION = 64;
const MAX_VENDOR = 256;
const MAX_LISTED = 100_000;

const MemberRecordSchema = z.strictObject({ leaseId: z.string().min(1).max(64), joinedAt: TimestampSchema, leaving: z.literal(true).optional() });
const OwnerRecordSchema = z.strictObject({ node: NameSchema, leaseId: z.string().min(1).max(64) });

const ArpRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('conflict'), conflict: ConflictRecordSchema }),
  // The address of a handoff, duplicate or convergence: a dotted quad or RFC 5952 text (IPv6 through ND).
  z.strictObject({ kind: z.literal('handoff'), ip: IpAddressSchema, fromMac: MacSchema, toMac: MacSchema, fromNode: NameSchema.nullable(), toNode: NameSchema }),
  z.strictObject({ kind: z.literal('duplicate'), ip: IpAddressSchema, macs: z.array(MacSchema).max(MAX_LISTED), vendors: z.array(z.string().max(MAX_VENDOR).nullable()).max(MAX_LISTED) }),
  z.strictObject({
    kind: z.literal('convergence'),
    ip: IpAddressSchema,
    stations: z.number().int().nonnegative(),
    converged: z.array(MacSchema).max(MAX_LISTED),
    stale: z.array(MacSchema).max(MAX_LISTED),
    afterMs: z.number().nonnegative().nullable(),
  }),
]);

const StoredAuditSchema = z.strictObject({
  seq: z.number().int().positive(),
  at: TimestampSchema,
  actor: z.string().max(MAX_ACTOR),
  action: z.string().max(MAX_ACTION),
  target: z.string().max(MAX_NAME_LENGTH).nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  detail: TextSchema.nullable(),
  handoffMs: z.number().nonnegative().nullable(),
  arp: ArpRecordSchema.optional(),
});

const SCHEMAS: { [C in Exclude<Collection, 'intents'>]: z.ZodType } = {
  // The verdicts of its checks live in health/<node>, bound to its lease: never in the persistent record.
  nodes: NodeRecordSchema.omit({ health: true, bans: true }),
  members: MemberRecordSchema,
  resources: ResourceSpecSchema,
  owners: OwnerRecordSchema,
  status: ResourceStatusSchema,
  audit: StoredAuditSchema,
  bindings: NodeBindingsSchema,
  users: UserRecordSchema,
  health: NodeHealthSchema,
  hooks: HookRecordSchema,
  hookstate: HookStateSchema,
  hooksender: z.strictObject({ node: NameSchema, leaseId: z.string().min(1).max(64) }),
};

/** The field a record names itself by, which must be its key's name (a record under "web" that says "db" shadows db). */
const SELF_NAME: Partial<Record<Collection, string>> = { nodes: 'name', resources: 'name', status: 'name', intents: 'id', bindings: 'node', users: 'name', health: 'node', hooks: 'name', hookstate: 'name' };

/** Checks a parsed value read under `collection`/`name`. Never throws. */
export function checkRecord<C extends Collection>(collection: C, name: string, value: unknown): RecordCheck<C> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const selfField = SELF_NAME[collection];
  if (selfField !== undefined) {
    const own = (value as Record<string, unknown>)[selfField];
    if (own !== name) return { ok: false, reason: `${selfField} ${describe(own)} is not the key's name ${JSON.stringify(name)}` };
  }
  if (collection === 'intents') {
    const parsed = parseIntent(value);
    return parsed.ok ? { ok: true, value: parsed.intent as CollectionValues[C] } : { ok: false, reason: parsed.reason };
  }
  const schema = schemaFor(collection);
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: firstIssue(parsed.error) };
  if (collection === 'resources') {
    // The cluster's own rules, as for an operator's definition: a unicast address, not a subnet's edge, owners consistent.
    const spec = parsed.data as CollectionValues['resources'];
    const nodes = [...new Set([...spec.possibleOwners, ...spec.preferredOwners, ...Object.keys(spec.interfaces)])];
    const rules = validateResourceSpec(spec, { nodes, existing: [] });
    if (!rules.ok) return { ok: false, reason: rules.errors.map((e) => (e.message.startsWith(e.field) || e.field === '' ? e.message : `${e.field}: ${e.message}`)).join('; ') };
  }
  return { ok: true, value: parsed.data as CollectionValues[C] };
}

function schemaFor(collection: Exclude<Collection, 'intents'>): z.ZodType {
  return SCHEMAS[collection];
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'does not match the schema';
  const path = issue.path.map(String).join('.');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${path === '' ? '' : `${path}: `}${issue.message}${more}`;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/**
 * Text from a hostile key or record made safe to print: control characters (a terminal's escape
 * sequences among them) as JSON escapes, and at most `max` characters.
 */
export function printable(text: string, max = 1024): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut(safe, max);
}

/**
 * An audit record cut to what every reader accepts (texts and lists within the bounds above): what an
 * agent writes must never be a record its peers leave out. A long detail (a convergence report naming
 * a hundred stations) is cut, not refused.
 */
export function fitAuditRecord(record: AuditRecord): AuditRecord {
  return {
    ...record,
    actor: cut(record.actor, MAX_ACTOR),
    action: cut(record.action, MAX_ACTION),
    target: record.target === null ? null : cut(record.target, MAX_NAME_LENGTH),
    detail: record.detail === null ? null : cut(record.detail, MAX_TEXT_LENGTH),
  };
}

/** `text` cut to `max` characters, the cut marked with "...". */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
