// Stored values are JSON text. Decoding checks the few fields every reader relies on, so a value
// written by something else fails with a clear 'corrupt' error naming the key instead of
// surfacing later as an undefined deep inside the agent.
import { checkRecord, printable, type RecordCheck } from './record-check';
import { StoreError, type Collection, type CollectionValues } from './store';

const REQUIRED: { [C in Collection]: Readonly<Record<string, 'string' | 'number' | 'boolean' | 'object'>> } = {
  nodes: { name: 'string', state: 'string', agentVersion: 'string', lastSeen: 'number', macs: 'object' },
  members: { leaseId: 'string', joinedAt: 'number' },
  resources: { name: 'string', ip: 'string', prefix: 'number', enabled: 'boolean' },
  owners: { node: 'string', leaseId: 'string' },
  status: { name: 'string', state: 'string', since: 'number' },
  // Each kind's own fields are checked where the record is used (cluster/intents.ts parseIntent).
  intents: { id: 'string', kind: 'string', actor: 'string', createdAt: 'number' },
  audit: { seq: 'number', at: 'number', actor: 'string', action: 'string', outcome: 'string' },
  bindings: { node: 'string', at: 'number', bindings: 'object' },
  users: { name: 'string', role: 'string', verifier: 'object', createdAt: 'number' },
  health: { node: 'string', results: 'object' },
  hooks: { name: 'string', events: 'object', target: 'object' },
  hookstate: { name: 'string', cursor: 'number' },
  hooksender: { node: 'string', leaseId: 'string' },
};

export function encodeJson(value: unknown): string {
  return JSON.stringify(value);
}

export function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new StoreError('corrupt', `${key}: stored value is not JSON`, { cause: error });
  }
}

/** Checks a parsed value against the collection's required fields and returns it typed. */
export function checkValue<C extends Collection>(collection: C, key: string, value: unknown): CollectionValues[C] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError('corrupt', `${key}: stored value is not an object`);
  }
  const record = value as Record<string, unknown>;
  for (const [field, type] of Object.entries(REQUIRED[collection])) {
    const actual = record[field];
    const ok = type === 'object' ? typeof actual === 'object' && actual !== null : typeof actual === type;
    if (!ok) throw new StoreError('corrupt', `${key}: field ${field} should be a ${type}`);
  }
  return value as CollectionValues[C];
}

export function decodeValue<C extends Collection>(collection: C, key: string, text: string): CollectionValues[C] {
  return checkValue(collection, key, parseJson(key, text));
}

/** The owner key holds just the node name (as a JSON string), so a transaction can compare it. */
export function encodeOwnerNode(node: string): string {
  return JSON.stringify(node);
}

export function decodeOwnerNode(key: string, text: string): string {
  const value = parseJson(key, text);
  if (typeof value !== 'string') throw new StoreError('corrupt', `${key}: owner is not a node name`);
  return value;
}

/**
 * A stored value read under `collection`/`name` and checked in full (record-check.ts): the value, or
 * why it is not one (left out by the reader, reported as a RejectedRecord). Never throws.
 */
export function decodeRecord<C extends Collection>(collection: C, name: string, text: string): RecordCheck<C> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return checkRecord(collection, name, value);
}

/**
 * A record about to be written under `collection`/`name`, checked as every reader will check it: a
 * record its readers would leave out is refused now ('invalid'), so it is never written.
 */
export function checkedForWrite<C extends Collection>(collection: C, name: string, value: CollectionValues[C]): CollectionValues[C] {
  const checked = checkRecord(collection, name, value);
  if (!checked.ok) throw new StoreError('invalid', `${collection}/${printable(name, 256)}: ${checked.reason}`);
  return checked.value;
}

/** An owner key's value (the node name as a JSON string), checked; `lease` '0' = bound to no lease. */
export function decodeOwner(name: string, text: string, lease: string): { ok: true; node: string } | { ok: false; reason: string } {
  if (lease === '0') return { ok: false, reason: 'owner key not bound to a lease (an owner key lives only as long as its owner\'s lease)' };
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const checked = checkRecord('owners', name, { node: value, leaseId: lease });
  return checked.ok ? { ok: true, node: checked.value.node } : { ok: false, reason: checked.reason };
}
