// Stored values are JSON text. Decoding checks the few fields every reader relies on, so a value
// written by something else fails with a clear 'corrupt' error naming the key instead of
// surfacing later as an undefined deep inside the agent.
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
