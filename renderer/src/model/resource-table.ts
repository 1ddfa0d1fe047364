// The Resources table's rows: filter by a query, sort by any column. Pure, so 10,000 rows can be
// tested without a browser; a sort of 10,000 rows takes a few milliseconds.
import type { ResourceState, ResourceView } from '../../../preload/contract/domain';
import { compareIpv4 } from '../../../preload/contract/ipv4';
import { RESOURCE_STATE_LABELS } from './format';

export const RESOURCE_COLUMNS = ['name', 'address', 'owner', 'state', 'ownerMac', 'since', 'lastHandoff'] as const;
export type ResourceColumn = (typeof RESOURCE_COLUMNS)[number];
export type SortDirection = 'asc' | 'desc';
export interface ResourceSort {
  column: ResourceColumn;
  direction: SortDirection;
}

export const DEFAULT_RESOURCE_SORT: ResourceSort = { column: 'name', direction: 'asc' };

/** Ascending order of states: trouble first, so a sort by state puts what needs attention on top. */
const STATE_RANK: Readonly<Record<ResourceState, number>> = {
  failed: 0,
  'online-pending': 1,
  'offline-pending': 2,
  offline: 3,
  online: 4,
};

/** Code-unit order, as the agent compares names: the same in every locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nulls sort after every value in both directions: "no owner" rows never hide the real ones. */
function compareNullable<T>(a: T | null, b: T | null, compare: (x: T, y: T) => number, direction: number): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return compare(a, b) * direction;
}

function compareBy(column: ResourceColumn, a: ResourceView, b: ResourceView, direction: number): number {
  switch (column) {
    case 'name':
      return compareText(a.name, b.name) * direction;
    case 'address':
      return (compareIpv4(a.ip, b.ip) || a.prefix - b.prefix) * direction;
    case 'owner':
      return compareNullable(a.status.owner, b.status.owner, compareText, direction);
    case 'state':
      return (STATE_RANK[a.status.state] - STATE_RANK[b.status.state]) * direction;
    case 'ownerMac':
      return compareNullable(a.status.ownerMac, b.status.ownerMac, compareText, direction);
    case 'since':
      return compareNullable(a.status.since > 0 ? a.status.since : null, b.status.since > 0 ? b.status.since : null, (x, y) => x - y, direction);
    case 'lastHandoff':
      return compareNullable(a.status.lastHandoffMs, b.status.lastHandoffMs, (x, y) => x - y, direction);
  }
}

/** The table's order: the sort column, ties broken by name (ascending) so the order is total and stable across updates. */
export function resourceComparator(sort: ResourceSort): (a: ResourceView, b: ResourceView) => number {
  const direction = sort.direction === 'asc' ? 1 : -1;
  return (a, b) => compareBy(sort.column, a, b, direction) || compareText(a.name, b.name);
}

/** A sorted copy (see resourceComparator). */
export function sortResources(rows: readonly ResourceView[], sort: ResourceSort): ResourceView[] {
  return [...rows].sort(resourceComparator(sort));
}

/** Clicking a column header: a new column sorts ascending, the same column flips direction. */
export function nextSort(current: ResourceSort, column: ResourceColumn): ResourceSort {
  if (current.column !== column) return { column, direction: 'asc' };
  return { column, direction: current.direction === 'asc' ? 'desc' : 'asc' };
}

/** Field prefixes a query term may use: "state:failed owner:n1 mac:02:00 ip:10.0.". */
const FIELD_ALIASES: Readonly<Record<string, (row: ResourceView) => string[]>> = {
  name: (row) => [row.name],
  ip: (row) => [`${row.ip}/${row.prefix}`],
  address: (row) => [`${row.ip}/${row.prefix}`],
  owner: (row) => [row.status.owner ?? 'none'],
  node: (row) => [row.status.owner ?? 'none'],
  state: (row) => [row.status.state, RESOURCE_STATE_LABELS[row.status.state]],
  mac: (row) => [row.status.ownerMac ?? ''],
};

function searchable(row: ResourceView): string[] {
  return [
    row.name,
    `${row.ip}/${row.prefix}`,
    row.status.owner ?? '',
    row.status.state,
    RESOURCE_STATE_LABELS[row.status.state],
    row.status.ownerMac ?? '',
  ];
}

export interface ResourceQuery {
  /** Every term must match (case-insensitive substring); "field:value" restricts a term to a field. */
  terms: Array<{ field: string | null; value: string }>;
}

export function parseResourceQuery(text: string): ResourceQuery {
  const terms = text
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => {
      const colon = word.indexOf(':');
      const field = colon > 0 ? word.slice(0, colon) : '';
      return Object.hasOwn(FIELD_ALIASES, field) ? { field, value: word.slice(colon + 1) } : { field: null, value: word };
    });
  return { terms };
}

export function matchesResource(row: ResourceView, query: ResourceQuery): boolean {
  return query.terms.every(({ field, value }) => {
    const haystack = field === null ? searchable(row) : (FIELD_ALIASES[field]?.(row) ?? []);
    return haystack.some((text) => text.toLowerCase().includes(value));
  });
}

export function filterResources(rows: readonly ResourceView[], text: string): ResourceView[] {
  const query = parseResourceQuery(text);
  return query.terms.length === 0 ? [...rows] : rows.filter((row) => matchesResource(row, query));
}

/** Filter then sort: what the table shows. */
export function resourceRows(rows: Iterable<ResourceView>, filterText: string, sort: ResourceSort): ResourceView[] {
  return sortResources(filterResources([...rows], filterText), sort);
}

/** What the table showed last: its rows and what they were computed from. */
export interface ResourceRowsCache {
  resources: ReadonlyMap<string, ResourceView>;
  filterText: string;
  sort: ResourceSort;
  rows: ResourceView[];
}

/**
 * resourceRows, reusing the previous result when only some resources changed in place (the live
 * stream's case): with the same filter, sort and set of names, each row is refreshed from the map
 * and the order is only checked (one comparison per row); when a change moved a row out of order,
 * the nearly sorted array is re-sorted, which TimSort does in about linear time. Anything else
 * (a new filter, sort, resource or removal) computes the rows afresh. Same result as resourceRows.
 */
export function nextResourceRows(previous: ResourceRowsCache | null, resources: ReadonlyMap<string, ResourceView>, filterText: string, sort: ResourceSort): ResourceView[] {
  if (previous === null || previous.filterText !== filterText || previous.sort !== sort || parseResourceQuery(filterText).terms.length > 0) {
    return resourceRows(resources.values(), filterText, sort);
  }
  if (previous.resources === resources) return previous.rows;
  const before = previous.rows;
  if (before.length !== resources.size) return resourceRows(resources.values(), filterText, sort);
  const rows = new Array<ResourceView>(before.length);
  for (let i = 0; i < before.length; i++) {
    const current = resources.get((before[i] as ResourceView).name);
    // A name gone (and, as the sizes match, another one new): not an in-place update.
    if (current === undefined) return resourceRows(resources.values(), filterText, sort);
    rows[i] = current;
  }
  const compare = resourceComparator(sort);
  for (let i = 1; i < rows.length; i++) {
    if (compare(rows[i - 1] as ResourceView, rows[i] as ResourceView) > 0) return rows.sort(compare);
  }
  return rows;
}

export interface ResourceStateCounts {
  online: number;
  failed: number;
}

const stateCounts = new WeakMap<ReadonlyMap<string, ResourceView>, ResourceStateCounts>();

/** Online and failed resources; one pass per version of the map, however many views ask. */
export function countResourceStates(resources: ReadonlyMap<string, ResourceView>): ResourceStateCounts {
  let counts = stateCounts.get(resources);
  if (counts === undefined) {
    counts = { online: 0, failed: 0 };
    for (const resource of resources.values()) {
      if (resource.status.state === 'online') counts.online++;
      else if (resource.status.state === 'failed') counts.failed++;
    }
    stateCounts.set(resources, counts);
  }
  return counts;
}
