// The compact encoding of the resources of a paged snapshot (protocol.ts: 'snapshot-rows' pushes).
// A resource view is ~360 bytes of JSON, most of it keys and the same few values again and again
// (node names, MACs, an identical spec remainder on thousands of resources). A chunk instead holds:
// - specs: each distinct "spec remainder" (everything but name, ip, prefix and status) once;
// - failures: each distinct failure reason once;
// - strings: each distinct owner name and MAC once;
// - cells: ROW_STRIDE cells per resource: name, ip, prefix, spec index, state index (RESOURCE_STATES),
//   owner (string index, -1 for none), owner MAC (string index, -1), since, failure index (-1 for
//   none), lastHandoffMs (number or null);
// - raw: any resource this layout cannot say exactly (a status named otherwise than its resource), as is.
// About 70 bytes a resource, and JSON.parse reads flat arrays far faster than objects.
//
// Decoding rebuilds plain ResourceView objects and then checks EVERY one of them with the caller's
// row check (the contract's zod schema, or the fast check of fast-push.ts, which is never looser);
// indices must be integers in range and every spec, failure and string must be used, so nothing in a
// chunk escapes those checks. Anything off gives null: the stream is broken. Pure.
import { RESOURCE_STATES, type FailureReason, type ResourceState, type ResourceView } from './domain';

/** Cells per encoded resource. */
export const ROW_STRIDE = 10;

export type SpecPart = Omit<ResourceView, 'name' | 'ip' | 'prefix' | 'status'>;
export type Cell = string | number | null;

export interface CompactRows {
  specs: SpecPart[];
  failures: FailureReason[];
  strings: string[];
  cells: Cell[];
  raw: ResourceView[];
}

const STATE_INDEX: ReadonlyMap<ResourceState, number> = new Map(RESOURCE_STATES.map((state, index) => [state, index]));

/** Encodes resources (in their order; any `raw` ones go last). */
export function encodeRows(resources: readonly ResourceView[]): CompactRows {
  const specs: SpecPart[] = [];
  const specIndex = new Map<string, number>();
  const failures: FailureReason[] = [];
  const failureIndex = new Map<string, number>();
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const cells: Cell[] = [];
  const raw: ResourceView[] = [];
  const intern = (text: string | null): number => {
    if (text === null) return -1;
    let index = stringIndex.get(text);
    if (index === undefined) {
      index = strings.push(text) - 1;
      stringIndex.set(text, index);
    }
    return index;
  };
  for (const resource of resources) {
    const { name, ip, prefix, status, ...spec } = resource;
    const state = STATE_INDEX.get(status.state);
    if (status.name !== name || state === undefined) {
      raw.push(resource);
      continue;
    }
    const specKey = JSON.stringify(spec);
    let specAt = specIndex.get(specKey);
    if (specAt === undefined) {
      specAt = specs.push(spec) - 1;
      specIndex.set(specKey, specAt);
    }
    let failureAt = -1;
    if (status.failure !== null) {
      const failureKey = JSON.stringify(status.failure);
      const known = failureIndex.get(failureKey);
      failureAt = known ?? failures.push(status.failure) - 1;
      if (known === undefined) failureIndex.set(failureKey, failureAt);
    }
    cells.push(name, ip, prefix, specAt, state, intern(status.owner), intern(status.ownerMac), status.since, failureAt, status.lastHandoffMs);
  }
  return { specs, failures, strings, cells, raw };
}

function isIndex(value: Cell, length: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < length;
}

function isOptionalIndex(value: Cell, length: number): value is number {
  return value === -1 || isIndex(value, length);
}

/**
 * The resources of a chunk, each passing `check`, or null. `rows` must be a parsed JSON value of the
 * CompactRows shape (arrays where arrays belong: the caller checked that much).
 */
export function decodeRows(rows: CompactRows, check: (row: unknown) => boolean, maxRows: number): ResourceView[] | null {
  const { specs, failures, strings, cells, raw } = rows;
  if (cells.length % ROW_STRIDE !== 0 || cells.length / ROW_STRIDE + raw.length > maxRows) return null;
  const usedSpecs = new Uint8Array(specs.length);
  const usedFailures = new Uint8Array(failures.length);
  const usedStrings = new Uint8Array(strings.length);
  const out: ResourceView[] = [];
  for (let at = 0; at < cells.length; at += ROW_STRIDE) {
    const name = cells[at] as Cell;
    const ip = cells[at + 1] as Cell;
    const prefix = cells[at + 2] as Cell;
    const spec = cells[at + 3] as Cell;
    const state = cells[at + 4] as Cell;
    const owner = cells[at + 5] as Cell;
    const mac = cells[at + 6] as Cell;
    const since = cells[at + 7] as Cell;
    const failure = cells[at + 8] as Cell;
    const handoff = cells[at + 9] as Cell;
    if (typeof name !== 'string' || typeof ip !== 'string' || typeof prefix !== 'number' || typeof since !== 'number') return null;
    if (handoff !== null && typeof handoff !== 'number') return null;
    if (!isIndex(spec, specs.length) || !isIndex(state, RESOURCE_STATES.length)) return null;
    if (!isOptionalIndex(owner, strings.length) || !isOptionalIndex(mac, strings.length) || !isOptionalIndex(failure, failures.length)) return null;
    const part = specs[spec];
    if (typeof part !== 'object' || part === null || Array.isArray(part)) return null;
    // A spec remainder must not say what the cells say (the spread below would let it).
    if (Object.hasOwn(part, 'name') || Object.hasOwn(part, 'ip') || Object.hasOwn(part, 'prefix') || Object.hasOwn(part, 'status')) return null;
    usedSpecs[spec] = 1;
    if (owner >= 0) usedStrings[owner] = 1;
    if (mac >= 0) usedStrings[mac] = 1;
    if (failure >= 0) usedFailures[failure] = 1;
    const row = {
      name,
      ip,
      prefix,
      ...part,
      status: {
        name,
        state: RESOURCE_STATES[state] as ResourceState,
        owner: owner < 0 ? null : (strings[owner] as string),
        ownerMac: mac < 0 ? null : (strings[mac] as string),
        since,
        failure: failure < 0 ? null : (failures[failure] as FailureReason),
        lastHandoffMs: handoff,
      },
    };
    if (!check(row)) return null;
    out.push(row);
  }
  if (!usedSpecs.every((used) => used === 1) || !usedFailures.every((used) => used === 1) || !usedStrings.every((used) => used === 1)) return null;
  for (const row of raw) {
    if (!check(row)) return null;
    out.push(row);
  }
  return out;
}
