// One copy of each small value the model's records repeat. Every message reaches the worker as a
// structured clone, so each of 100,000 records came with its own 'online', 'n1', MAC strings,
// `failback: { mode: 'never' }` and `interfaces: {}`: some ten heap objects a record that the
// worker's mark-compact visits and moves, and that took both cores for ~40 ms every ~20 s at
// 100,000 under the stream (docs/ARCHITECTURE.md). Here a record's repeated leaves are replaced by
// shared copies: strings other than a name or an address, and small objects and arrays of text.
// In place: the pushes are the model's own (a structured clone made for it), and a copy of every
// record would only have doubled what the worker's young generation collects. Records are never
// written after they are stored, so sharing is safe. Bounded: past its capacity the interner hands
// values back as they came. Pure, apart from writing into the value it is given.
import type { ResourceView } from '../../../preload/contract/domain';
import type { ChangePush, Push } from '../../../preload/contract/protocol';

/** Fields whose text is the record's own (one per resource): never worth a shared copy. */
const OWN_TEXT = new Set(['name', 'ip']);
/** Strings and shapes kept at most (a cluster repeats a few hundred: states, nodes, MACs, policies). */
const CAPACITY = 10_000;
const MAX_SHAPE_FIELDS = 8;

export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly shapes = new Map<string, unknown>();

  /** `value` with its repeated leaves shared, written in place (primitives as they are; a small shape may come back as its shared copy). */
  value(value: unknown, key: string | null = null): unknown {
    if (typeof value === 'string') return key !== null && OWN_TEXT.has(key) ? value : this.string(value);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) value[index] = this.value(value[index]);
      return this.shape(value) ?? value;
    }
    const fields = value as Record<string, unknown>;
    for (const field of Object.keys(fields)) fields[field] = this.value(fields[field], field);
    return this.shape(fields) ?? fields;
  }

  private string(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < CAPACITY) this.strings.set(text, text);
    return text;
  }

  /** The shared copy of a small object or array of text (and booleans, nulls), or null for any other. */
  private shape<T extends object>(value: T): T | null {
    const fields = Object.values(value);
    if (fields.length > MAX_SHAPE_FIELDS || !fields.every((field) => field === null || typeof field === 'string' || typeof field === 'boolean')) return null;
    const key = (Array.isArray(value) ? '[' : '{') + JSON.stringify(Array.isArray(value) ? value : Object.entries(value));
    const known = this.shapes.get(key);
    if (known !== undefined) return known as T;
    if (this.shapes.size < CAPACITY) this.shapes.set(key, value);
    return value;
  }
}

/** `push` with its resources' repeated leaves shared through `interner`, in place (the push is the model's own). */
export function internPush(push: Push, interner: Interner): Push {
  const records = (resources: readonly ResourceView[]): void => {
    const writable = resources as ResourceView[];
    for (let index = 0; index < writable.length; index++) writable[index] = interner.value(writable[index]) as ResourceView;
  };
  switch (push.type) {
    case 'snapshot':
      records(push.snapshot.resources);
      break;
    case 'snapshot-head':
      records(push.page);
      break;
    case 'snapshot-rows':
      records(push.resources);
      break;
    case 'changes':
      for (const change of push.changes) internChange(change, interner);
      break;
    case 'change':
      internChange(push, interner);
      break;
  }
  return push;
}

function internChange(push: ChangePush, interner: Interner): void {
  const { change } = push;
  if (change.kind === 'resource') (change as { resource: ResourceView }).resource = interner.value(change.resource) as ResourceView;
}
