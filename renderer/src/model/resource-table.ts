// The Resources table's rows: filter by a query, sort by any column. Pure, so 10,000 rows can be
// tested without a browser; a sort of 10,000 rows takes a few milliseconds. The order and the filter
// themselves are the contract's (preload/contract/resource-order.ts): the agent computes the first
// page of the same view before the rest of the cluster has arrived.
import type { ResourceView } from '../../../preload/contract/domain';
import { resourceComparator, resourceRows, parseResourceQuery, sameRowsView, type ResourceColumn, type ResourceSort } from '../../../preload/contract/resource-order';
import { resourceChangesSince, type ResourceLog, type SnapshotLoading } from './cluster-state';
import { ChunkedRows } from './chunked-rows';

export {
  DEFAULT_RESOURCE_SORT,
  RESOURCE_COLUMNS,
  filterResources,
  matchesResource,
  parseResourceQuery,
  resourceComparator,
  resourceRows,
  sortResources,
  type ResourceColumn,
  type ResourceQuery,
  type ResourceSort,
  type SortDirection,
} from '../../../preload/contract/resource-order';

/** Clicking a column header: a new column sorts ascending, the same column flips direction. */
export function nextSort(current: ResourceSort, column: ResourceColumn): ResourceSort {
  if (current.column !== column) return { column, direction: 'asc' };
  return { column, direction: current.direction === 'asc' ? 'desc' : 'asc' };
}

/** What the table showed last: its rows and what they were computed from. */
export interface ResourceRowsCache {
  resources: ReadonlyMap<string, ResourceView>;
  /** The resources' version (cluster-state.ts ResourceLog) the rows were computed at. */
  version: number;
  filterText: string;
  sort: ResourceSort;
  /** In chunks (chunked-rows.ts): an update copies the chunks it writes, not all the rows. */
  rows: ChunkedRows<ResourceView>;
  /** Each row's index by name: built at the first in-place update, kept while the order holds. */
  index: ReadonlyMap<string, number> | null;
}

function indexByName(rows: Iterable<ResourceView>): Map<string, number> {
  const index = new Map<string, number>();
  let at = 0;
  for (const row of rows) index.set(row.name, at++);
  return index;
}

/**
 * resourceRows, reusing the previous result when only some resources changed in place (the live
 * stream's case): with the same filter and sort, the rows of the names the journal says changed
 * (resourceChangesSince) are replaced in an edit of the previous rows (copying only the chunks
 * written) and the order is checked next to them only; when a change moved a row out of order, the
 * nearly sorted rows are re-sorted, which TimSort does in about linear time. So a batch of 100
 * changes on 100,000 resources costs ~100 small chunk copies, not 100,000 lookups. Anything else
 * (a new filter or sort, an active filter, a resource added or removed, a journal that does not
 * reach back) computes the rows afresh. Same rows as resourceRows.
 */
export function nextResourceRows(previous: ResourceRowsCache | null, resources: ReadonlyMap<string, ResourceView>, log: ResourceLog, filterText: string, sort: ResourceSort): ResourceRowsCache {
  const fresh = (): ResourceRowsCache => ({ resources, version: log.version, filterText, sort, rows: ChunkedRows.of(resourceRows(resources.values(), filterText, sort)), index: null });
  if (previous === null || previous.filterText !== filterText || previous.sort !== sort || parseResourceQuery(filterText).terms.length > 0) return fresh();
  if (previous.resources === resources) return previous;
  const names = resourceChangesSince(log, previous.version);
  if (names === null) return fresh();
  const index = previous.index ?? indexByName(previous.rows);
  const edit = previous.rows.edit();
  for (const name of names) {
    const at = index.get(name);
    const current = resources.get(name);
    // Added or removed: not an in-place update.
    if (at === undefined || current === undefined) return fresh();
    edit.set(at, current);
  }
  const compare = resourceComparator(sort);
  for (const name of names) {
    const at = index.get(name) as number;
    const before = edit.at(at - 1);
    const after = edit.at(at + 1);
    const row = edit.at(at) as ResourceView;
    if ((before !== undefined && compare(before, row) > 0) || (after !== undefined && compare(row, after) > 0)) {
      return { resources, version: log.version, filterText, sort, rows: ChunkedRows.of(edit.result().toArray().sort(compare)), index: null };
    }
  }
  return { resources, version: log.version, filterText, sort, rows: edit.result(), index };
}

/**
 * While a paged snapshot arrives (cluster-state.ts `loading`): the rows of the view (filter text,
 * sort) known for sure, in order — the first rows of the whole view, maybe not all of them — or
 * null when nothing can be said for this view before the rest has arrived (another view than the
 * head's). For the head's view: the page and the resources changed since the head (`resources`
 * holds exactly those) that pass the filter and sort at or before the page's last row as it was at
 * the head. Every other resource was, at the head, filtered out or after that row, and has not
 * changed since.
 */
export function loadingRows(loading: SnapshotLoading, resources: ReadonlyMap<string, ResourceView>, filterText: string, sort: ResourceSort): ResourceView[] | null {
  if (!sameRowsView(loading.view, { sort, filter: filterText })) return null;
  const rows = resourceRows(resources.values(), filterText, sort);
  const boundary = loading.boundary;
  if (boundary === null) return rows;
  const compare = resourceComparator(sort);
  return rows.filter((row) => compare(row, boundary) <= 0);
}
