// The order and the filter of the console's Resources table, shared by the console (which sorts and
// filters what it holds) and the agent (which sends the first page of that same view before the rest
// of the cluster: protocol.ts, "the paged stream"). One definition on both sides is what makes the
// first page the console receives exactly the first rows it would compute itself. Pure.
import { type ResourceState, type ResourceView } from './domain';
import { compareIpAddresses } from './ip-address';

export const RESOURCE_COLUMNS = ['name', 'address', 'owner', 'state', 'ownerMac', 'since', 'lastHandoff'] as const;
export type ResourceColumn = (typeof RESOURCE_COLUMNS)[number];
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
export interface ResourceSort {
  column: ResourceColumn;
  direction: SortDirection;
}

export const DEFAULT_RESOURCE_SORT: ResourceSort = { column: 'name', direction: 'asc' };

export const RESOURCE_STATE_LABELS: Readonly<Record<ResourceState, string>> = {
  online: 'Online',
  'online-pending': 'Coming online',
  'offline-pending': 'Going offline',
  offline: 'Offline',
  failed: 'Failed',
};

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
      return (compareIpAddresses(a.ip, b.ip) || a.prefix - b.prefix) * direction;
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

/** What a console's Resources table shows: the filter text as typed, the order, and how many rows the first screen needs. */
export interface ResourceTableView {
  sort: ResourceSort;
  filter: string;
  pageSize: number;
}

/** Rows of a first page: a tall screen's worth (30 px rows) and some to scroll. */
export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_TABLE_VIEW: ResourceTableView = { sort: DEFAULT_RESOURCE_SORT, filter: '', pageSize: DEFAULT_PAGE_SIZE };

export interface FirstPage {
  /** The first `pageSize` rows of the view, in its order. */
  page: ResourceView[];
  /** Rows that pass the filter (all of them when the filter is empty). */
  matching: number;
}

/**
 * The first page of a view without sorting everything: one pass that keeps the best `pageSize` rows
 * (a row that sorts after the current last one costs one comparison). Same rows as
 * resourceRows(rows, filter, sort).slice(0, pageSize).
 */
export function firstPage(rows: Iterable<ResourceView>, view: ResourceTableView): FirstPage {
  const compare = resourceComparator(view.sort);
  const query = parseResourceQuery(view.filter);
  const filtering = query.terms.length > 0;
  const size = Math.max(0, view.pageSize);
  const page: ResourceView[] = [];
  let matching = 0;
  for (const row of rows) {
    if (filtering && !matchesResource(row, query)) continue;
    matching++;
    if (size === 0) continue;
    if (page.length === size) {
      if (compare(row, page[size - 1] as ResourceView) >= 0) continue;
      page.pop();
    }
    // Binary insertion: the page stays sorted.
    let low = 0;
    let high = page.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compare(page[middle] as ResourceView, row) <= 0) low = middle + 1;
      else high = middle;
    }
    page.splice(low, 0, row);
  }
  return { page, matching };
}

/** Two views show the same rows in the same order (the page size aside). */
export function sameRowsView(a: { sort: ResourceSort; filter: string }, b: { sort: ResourceSort; filter: string }): boolean {
  return a.sort.column === b.sort.column && a.sort.direction === b.sort.direction && normalQuery(a.filter) === normalQuery(b.filter);
}

function normalQuery(text: string): string {
  return text.trim().toLowerCase().split(/\s+/).join(' ');
}
