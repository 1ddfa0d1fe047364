// What the page knows of the cluster (console-model.ts keeps the whole of it, off the page): the
// small collections, the counts, the table's items in the page's window, the watched resources and,
// while a view needs every resource, the mirror. Each digest is folded into a new PageCluster that
// keeps every part the digest did not change, so React skips what stayed the same. Pure.
import type { AuditEntry, ConflictRecord, NodeRecord, RejectedStoreRecord, ResourceState, ResourceView } from '../../../preload/contract/domain';
import { RESOURCE_STATES } from '../../../preload/contract/domain';
import { BucketMap } from './bucket-map';
import type { RowSequence } from './chunked-rows';
import type { ClusterFigures, ModelDigest } from './console-model';
import { shareUnchanged } from './share-unchanged';
import { isGroupRow, tableItemKey, type TableItem } from './table-groups';

/** The table's items the page holds: [start, start + items.length) of `length`. */
export class TableWindow implements RowSequence<TableItem> {
  constructor(
    readonly length: number,
    readonly start: number,
    private readonly items: readonly TableItem[],
  ) {}

  /** The item at `index`, or undefined outside the window (the model has not sent it yet). */
  at(index: number): TableItem | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined;
    return this.items[index - this.start];
  }

  /** Searches the window only. */
  findIndex(test: (item: TableItem) => boolean): number {
    const at = this.items.findIndex(test);
    return at < 0 ? -1 : this.start + at;
  }

  /** The window's items. */
  [Symbol.iterator](): Iterator<TableItem> {
    return this.items[Symbol.iterator]();
  }

  /** The resource named `name` if the window holds it. */
  resource(name: string): ResourceView | undefined {
    for (const item of this.items) if (!isGroupRow(item) && item.name === name) return item;
    return undefined;
  }
}

export interface PageTable {
  readonly version: number;
  readonly rowCount: number;
  readonly hasGroups: boolean;
  /** The selected item's key the model answered for, and its index there. */
  readonly selected: string | null;
  readonly selectedIndex: number;
  readonly items: TableWindow;
}

export interface PageCluster extends ClusterFigures {
  readonly nodes: ReadonlyMap<string, NodeRecord>;
  readonly conflicts: ReadonlyMap<string, ConflictRecord>;
  readonly events: readonly AuditEntry[];
  readonly rejected: ReadonlyMap<string, RejectedStoreRecord>;
  readonly table: PageTable;
  /** The watched resources (null: no such resource), by name. */
  readonly watched: ReadonlyMap<string, ResourceView | null>;
  /** Every resource while the page asked for them (the mirror), else null. */
  readonly mirror: ReadonlyMap<string, ResourceView> | null;
  /** Resources held per node while the page asked for them, else null. */
  readonly loads: ReadonlyMap<string, number> | null;
}

/** What the page asked the model to keep sending beyond the table (useCluster.ts). */
export interface PageWants {
  readonly mirror: boolean;
  readonly loads: boolean;
}

const EMPTY_STATES = Object.fromEntries(RESOURCE_STATES.map((state) => [state, 0])) as Record<ResourceState, number>;

export const EMPTY_PAGE_CLUSTER: PageCluster = {
  revision: null,
  snapshotRevision: null,
  changesApplied: 0,
  outOfSync: false,
  loading: null,
  resourceCount: 0,
  resourceStates: EMPTY_STATES,
  nodes: new Map(),
  conflicts: new Map(),
  events: [],
  rejected: new Map(),
  table: { version: 0, rowCount: 0, hasGroups: false, selected: null, selectedIndex: -1, items: new TableWindow(0, 0, []) },
  watched: new Map(),
  mirror: null,
  loads: null,
};

/** `page` with `digest` folded in. What the page no longer wants is dropped, whatever the digest brings. */
export function foldDigest(page: PageCluster, digest: ModelDigest, wants: PageWants): PageCluster {
  return {
    revision: digest.revision,
    snapshotRevision: digest.snapshotRevision,
    changesApplied: digest.changesApplied,
    outOfSync: digest.outOfSync,
    loading: digest.loading,
    resourceCount: digest.resourceCount,
    resourceStates: sameStates(page.resourceStates, digest.resourceStates) ? page.resourceStates : digest.resourceStates,
    nodes: digest.nodes === undefined ? page.nodes : new Map(digest.nodes.map((node) => [node.name, node])),
    conflicts: digest.conflicts === undefined ? page.conflicts : new Map(digest.conflicts),
    events: digest.events ?? page.events,
    rejected: digest.rejected === undefined ? page.rejected : new Map(digest.rejected.map((record) => [record.key, record])),
    table: foldTable(page.table, digest.table),
    watched: digest.watched === undefined ? page.watched : new Map([...page.watched, ...digest.watched]),
    mirror: wants.mirror ? foldMirror(page.mirror, digest.mirror) : null,
    loads: wants.loads ? (digest.loads === undefined ? page.loads : new Map(digest.loads)) : null,
  };
}

function foldTable(table: PageTable, digest: ModelDigest['table']): PageTable {
  const window = table.items;
  const unchanged = digest.keys === null && digest.records.length === 0 && digest.groups === null;
  let items = window;
  if (!unchanged) {
    // Everything the window may hold, by key: what the page had, then what the digest brings.
    const known = new Map<string, TableItem>();
    for (const item of window) known.set(tableItemKey(item), item);
    for (const record of digest.records) known.set(record.name, record);
    for (const row of digest.groups ?? []) known.set(tableItemKey(row), row);
    const keys = digest.keys ?? [...window].map(tableItemKey);
    items = new TableWindow(digest.length, digest.start, keys.map((key) => known.get(key)).filter((item): item is TableItem => item !== undefined));
  } else if (window.length !== digest.length || window.start !== digest.start) {
    items = new TableWindow(digest.length, digest.start, [...window]);
  }
  return {
    version: digest.version,
    rowCount: digest.rowCount,
    hasGroups: digest.hasGroups,
    selected: digest.selected,
    selectedIndex: digest.selectedIndex,
    items,
  };
}

function foldMirror(mirror: ReadonlyMap<string, ResourceView> | null, update: ModelDigest['mirror']): ReadonlyMap<string, ResourceView> | null {
  if (update === undefined) return mirror;
  if (update.kind === 'full') return BucketMap.of(update.resources, (resource) => resource.name);
  if (mirror === null) return null;
  const editor = (mirror instanceof BucketMap ? (mirror as BucketMap<ResourceView>) : BucketMap.of(mirror.values(), (resource) => resource.name)).edit();
  for (const record of update.changed) {
    const before = editor.get(record.name);
    editor.set(record.name, before === undefined ? record : shareUnchanged(before, record));
  }
  for (const name of update.removed) editor.delete(name);
  return editor.result();
}

function sameStates(a: Readonly<Record<ResourceState, number>>, b: Readonly<Record<ResourceState, number>>): boolean {
  return RESOURCE_STATES.every((state) => a[state] === b[state]);
}
