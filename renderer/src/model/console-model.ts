// The console's copy of the cluster, kept off the page (worker/cluster-worker.ts runs it in a Web
// Worker; model-port.ts runs it on the page where no worker starts). It holds the resources — up to
// 100,000, under a stream of 1,000 changes a second — applies the pushes (cluster-state.ts), orders
// and filters the table (resource-table.ts, table-groups.ts), and tells the page only what the page
// shows: the small collections (nodes, conflicts, events, rejected records) when they changed, the
// counts, and the table's rows in the page's window, each record sent once until it changes. So the
// page's heap never holds the 100,000 records, and their collections never pause its frames. A view
// that shows every resource (the Nodes board, the dialogs) asks for the whole map ('mirror') while
// it is open and then gets every change. Pure: requests in, digests out.
import type { AuditEntry, ConflictRecord, NodeRecord, RejectedStoreRecord, ResourceState, ResourceView } from '../../../preload/contract/domain';
import type { Push } from '../../../preload/contract/protocol';
import { applyPushes, EMPTY_CLUSTER, resourceChangesSince, type ClusterState } from './cluster-state';
import { internPush, Interner } from './intern';
import { loadsOf } from './placement-hint';
import type { RowSequence } from './chunked-rows';
import { DEFAULT_RESOURCE_SORT, loadingRows, nextResourceRows, type ResourceRowsCache, type ResourceSort } from './resource-table';
import { groupedTableItems, isGroupRow, tableItemKey, type GroupRow, type TableItem } from './table-groups';

/** What the page asks of the model. */
export type ModelRequest =
  | { readonly type: 'pushes'; readonly pushes: readonly Push[] }
  /** The connection started over: nothing is known until the next snapshot. */
  | { readonly type: 'reset' }
  /** The table's view: filter text, sort, folded groups, the selected item's key. */
  | { readonly type: 'table'; readonly filter: string; readonly sort: ResourceSort; readonly collapsed: readonly string[]; readonly selected: string | null }
  /** The items the page wants (the rows in view and a margin): [start, end). */
  | { readonly type: 'window'; readonly start: number; readonly end: number }
  /** Resources the page needs by name whatever the table shows (toasts' subjects, the open dialog's). */
  | { readonly type: 'watch'; readonly names: readonly string[] }
  /** Every resource, kept up to date, while on (the Nodes board, the dialogs that judge against the others). */
  | { readonly type: 'mirror'; readonly on: boolean }
  /** The resources held per node, kept up to date, while on (the move dialog's counts and hint). */
  | { readonly type: 'loads'; readonly on: boolean };

/** A paged snapshot still arriving, as the page shows it. */
export interface LoadingSummary {
  readonly resourceCount: number;
  readonly received: number;
  readonly states: Readonly<Record<ResourceState, number>>;
}

/** The table as the page shows it. */
export interface TableDigest {
  /** Counts the versions of the table's items: a new one when any item or their order changed. */
  readonly version: number;
  /** Items (resource and group rows) in the table. */
  readonly length: number;
  /** Resource rows among them (the filter's count). */
  readonly rowCount: number;
  readonly hasGroups: boolean;
  /** The selected item's key as the model last heard it, and its index (-1: none, or not in the table). */
  readonly selected: string | null;
  readonly selectedIndex: number;
  /** The window: items [start, start + keys.length). */
  readonly start: number;
  /** The window's item keys (tableItemKey), when they changed since the last digest. */
  readonly keys: readonly string[] | null;
  /** The window's resources the page does not hold as they are now. */
  readonly records: readonly ResourceView[];
  /** The window's group rows, when any changed (or the keys did). */
  readonly groups: readonly GroupRow[] | null;
}

export type MirrorUpdate = { readonly kind: 'full'; readonly resources: readonly ResourceView[] } | { readonly kind: 'changes'; readonly changed: readonly ResourceView[]; readonly removed: readonly string[] };

/** The copy's standing, in every digest: where the stream is, and the resources counted. */
export interface ClusterFigures {
  readonly revision: number | null;
  readonly snapshotRevision: number | null;
  readonly changesApplied: number;
  readonly outOfSync: boolean;
  readonly loading: LoadingSummary | null;
  /** Resources in the cluster (while a paged snapshot arrives, as its head said), and per state. */
  readonly resourceCount: number;
  readonly resourceStates: Readonly<Record<ResourceState, number>>;
}

/** What the page learns after a request; a collection absent here did not change. */
export interface ModelDigest extends ClusterFigures {
  readonly nodes?: readonly NodeRecord[];
  readonly conflicts?: ReadonlyArray<readonly [string, ConflictRecord]>;
  readonly events?: readonly AuditEntry[];
  readonly rejected?: readonly RejectedStoreRecord[];
  readonly table: TableDigest;
  /** The watched names' records (null: no such resource), when any changed. */
  readonly watched?: ReadonlyArray<readonly [string, ResourceView | null]>;
  readonly mirror?: MirrorUpdate;
  /** Resources held per node (while asked), when they changed. */
  readonly loads?: ReadonlyArray<readonly [string, number]>;
}

/** Items beyond a window the page asks for: more than this is refused (a page shows ~50 rows). */
export const MAX_WINDOW = 2_000;

const NO_ROWS: readonly ResourceView[] = [];

export class ConsoleModel {
  private state: ClusterState = EMPTY_CLUSTER;
  /** The records' repeated leaves, one copy each (intern.ts). */
  private readonly interner = new Interner();
  /** What the last digest told the page (the collections by identity). */
  private told: ClusterState | null = null;
  private filter = '';
  private sort: ResourceSort = DEFAULT_RESOURCE_SORT;
  private collapsed: ReadonlySet<string> = new Set();
  private selected: string | null = null;
  private rowsCache: ResourceRowsCache | null = null;
  private items: RowSequence<TableItem> = NO_ROWS;
  private rowCount = 0;
  private hasGroups = false;
  private tableVersion = 0;
  /** The table's figures as last told (a digest is due when they change, window or not). */
  private toldTable: { version: number; length: number; rowCount: number; selected: string | null; selectedIndex: number; hasGroups: boolean } | null = null;
  /** The inputs `items` was computed from. */
  private itemsFrom: { resources: ClusterState['resources']; loading: ClusterState['loading']; filter: string; sort: ResourceSort; collapsed: ReadonlySet<string> } | null = null;
  private selectedIndex = -1;
  private selectedFrom: { items: RowSequence<TableItem>; selected: string | null } | null = null;
  private windowStart = 0;
  private windowEnd = 0;
  /** The window as last told: its keys, and the records and group rows the page holds. */
  private sentKeys: string[] = [];
  private readonly sentRecords = new Map<string, ResourceView>();
  private readonly sentGroups = new Map<string, GroupRow>();
  private watchedNames: readonly string[] = [];
  private readonly sentWatched = new Map<string, ResourceView | null>();
  private mirrorOn = false;
  private loadsOn = false;
  /** The loads as last told, and the resources they were counted from. */
  private sentLoads: { from: ClusterState['resources']; key: string } | null = null;
  /** The resources' version the mirror was last brought to; null: send it whole. */
  private mirrorVersion: number | null = null;

  /** Handles one request; returns what the page should learn, or null when nothing it shows changed. */
  handle(request: ModelRequest): ModelDigest | null {
    switch (request.type) {
      case 'pushes':
        this.state = applyPushes(this.state, request.pushes.map((push) => internPush(push, this.interner)));
        return this.digest(true);
      case 'reset':
        // The page started over from nothing: it holds nothing this model sent.
        this.state = EMPTY_CLUSTER;
        this.rowsCache = null;
        this.told = this.toldTable = null;
        this.sentKeys = [];
        this.sentRecords.clear();
        this.sentGroups.clear();
        this.sentWatched.clear();
        this.mirrorVersion = null;
        this.sentLoads = null;
        return this.digest(true);
      case 'table':
        this.filter = request.filter;
        // The same sort object keeps the rows' cache (nextResourceRows compares by identity).
        if (request.sort.column !== this.sort.column || request.sort.direction !== this.sort.direction) this.sort = { column: request.sort.column, direction: request.sort.direction };
        if (!sameMembers(this.collapsed, request.collapsed)) this.collapsed = new Set(request.collapsed);
        this.selected = request.selected;
        return this.digest(false);
      case 'window':
        this.windowStart = Math.max(0, Math.floor(request.start));
        this.windowEnd = Math.max(this.windowStart, Math.min(Math.floor(request.end), this.windowStart + MAX_WINDOW));
        return this.digest(false);
      case 'watch':
        this.watchedNames = [...new Set(request.names)];
        for (const name of [...this.sentWatched.keys()]) if (!this.watchedNames.includes(name)) this.sentWatched.delete(name);
        return this.digest(false);
      case 'mirror':
        this.mirrorOn = request.on;
        this.mirrorVersion = null;
        return this.digest(false);
      case 'loads':
        this.loadsOn = request.on;
        this.sentLoads = null;
        return this.digest(false);
    }
  }

  /** The whole state (tests; the page never sees it). */
  get cluster(): ClusterState {
    return this.state;
  }

  private digest(always: boolean): ModelDigest | null {
    const state = this.state;
    const told = this.told;
    const table = this.tableDigest();
    const watched = this.watchedDigest();
    const mirror = this.mirrorDigest();
    const loads = this.loadsDigest();
    const statusChanged = told === null || told.revision !== state.revision || told.changesApplied !== state.changesApplied || told.outOfSync !== state.outOfSync || told.loading !== state.loading || told.resourceStates !== state.resourceStates;
    const tableChanged = table.keys !== null || table.records.length > 0 || table.groups !== null;
    const collections = {
      ...(told?.nodes !== state.nodes && { nodes: [...state.nodes.values()] }),
      ...(told?.conflicts !== state.conflicts && { conflicts: [...state.conflicts] }),
      ...(told?.events !== state.events && { events: state.events }),
      ...(told?.rejected !== state.rejected && { rejected: [...state.rejected.values()] }),
    };
    const anyCollection = Object.keys(collections).length > 0;
    const figures = { version: table.version, length: table.length, rowCount: table.rowCount, selected: table.selected, selectedIndex: table.selectedIndex, hasGroups: table.hasGroups };
    const figuresChanged = this.toldTable === null || Object.entries(figures).some(([key, value]) => this.toldTable?.[key as keyof typeof figures] !== value);
    if (!always && !statusChanged && !tableChanged && !figuresChanged && !anyCollection && watched === undefined && mirror === undefined && loads === undefined) return null;
    this.told = state;
    this.toldTable = figures;
    const { loading } = state;
    return {
      revision: state.revision,
      snapshotRevision: state.snapshotRevision,
      changesApplied: state.changesApplied,
      outOfSync: state.outOfSync,
      loading: loading === null ? null : { resourceCount: loading.resourceCount, received: loading.received, states: loading.states },
      resourceCount: loading === null ? state.resources.size : loading.resourceCount,
      resourceStates: loading === null ? state.resourceStates : loading.states,
      ...collections,
      table,
      ...(watched !== undefined && { watched }),
      ...(mirror !== undefined && { mirror }),
      ...(loads !== undefined && { loads }),
    };
  }


  private refreshItems(): void {
    const { resources, loading } = this.state;
    const from = this.itemsFrom;
    if (from !== null && from.resources === resources && from.loading === loading && from.filter === this.filter && from.sort === this.sort && from.collapsed === this.collapsed) return;
    let rows: RowSequence<ResourceView>;
    if (loading === null) {
      this.rowsCache = nextResourceRows(this.rowsCache, resources, this.state.resourceLog, this.filter, this.sort);
      rows = this.rowsCache.rows;
    } else {
      rows = loadingRows(loading, resources, this.filter, this.sort) ?? NO_ROWS;
    }
    const items = groupedTableItems(rows, this.collapsed);
    if (items !== this.items) this.tableVersion++;
    this.items = items;
    this.rowCount = rows.length;
    // groupedTableItems hands the rows themselves back when no row is in a group.
    this.hasGroups = items !== rows;
    this.itemsFrom = { resources, loading, filter: this.filter, sort: this.sort, collapsed: this.collapsed };
  }

  private tableDigest(): TableDigest {
    this.refreshItems();
    const items = this.items;
    if (this.selectedFrom === null || this.selectedFrom.items !== items || this.selectedFrom.selected !== this.selected) {
      const selected = this.selected;
      this.selectedIndex = selected === null ? -1 : items.findIndex((item) => tableItemKey(item) === selected);
      this.selectedFrom = { items, selected };
    }
    const start = Math.min(this.windowStart, Math.max(0, items.length - 1));
    const end = Math.min(this.windowEnd, items.length);
    const keys: string[] = [];
    const records: ResourceView[] = [];
    const groupRows: GroupRow[] = [];
    let groupsChanged = false;
    for (let index = start; index < end; index++) {
      const item = items.at(index) as TableItem;
      const key = tableItemKey(item);
      keys.push(key);
      if (isGroupRow(item)) {
        groupRows.push(item);
        if (this.sentGroups.get(key) !== item) groupsChanged = true;
      } else if (this.sentRecords.get(key) !== item) {
        records.push(item);
      }
    }
    const keysChanged = keys.length !== this.sentKeys.length || keys.some((key, at) => key !== this.sentKeys[at]);
    if (keysChanged) {
      // The page keeps only the window's records: what left it is forgotten on both sides.
      const inWindow = new Set(keys);
      for (const name of [...this.sentRecords.keys()]) if (!inWindow.has(name)) this.sentRecords.delete(name);
      for (const key of [...this.sentGroups.keys()]) if (!inWindow.has(key)) this.sentGroups.delete(key);
      this.sentKeys = keys;
    }
    for (const record of records) this.sentRecords.set(record.name, record);
    const sendGroups = groupsChanged || (keysChanged && groupRows.length > 0);
    if (sendGroups) for (const row of groupRows) this.sentGroups.set(tableItemKey(row), row);
    return {
      version: this.tableVersion,
      length: items.length,
      rowCount: this.rowCount,
      hasGroups: this.hasGroups,
      selected: this.selected,
      selectedIndex: this.selectedIndex,
      start,
      keys: keysChanged ? keys : null,
      records,
      groups: sendGroups ? groupRows : null,
    };
  }

  private watchedDigest(): ModelDigest['watched'] {
    if (this.watchedNames.length === 0) return undefined;
    const changed: Array<readonly [string, ResourceView | null]> = [];
    for (const name of this.watchedNames) {
      const record = this.state.resources.get(name) ?? null;
      if (this.sentWatched.has(name) && this.sentWatched.get(name) === record) continue;
      this.sentWatched.set(name, record);
      changed.push([name, record]);
    }
    return changed.length === 0 ? undefined : changed;
  }

  /** One pass over the resources per version of them, while the page asks. */
  private loadsDigest(): ModelDigest['loads'] {
    if (!this.loadsOn) return undefined;
    const { resources } = this.state;
    if (this.sentLoads?.from === resources) return undefined;
    const loads = [...loadsOf(resources.values())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify(loads);
    const changed = this.sentLoads?.key !== key;
    this.sentLoads = { from: resources, key };
    return changed ? loads : undefined;
  }

  private mirrorDigest(): MirrorUpdate | undefined {
    if (!this.mirrorOn) return undefined;
    const { resources, resourceLog } = this.state;
    const since = this.mirrorVersion;
    this.mirrorVersion = resourceLog.version;
    if (since === resourceLog.version) return undefined;
    const names = since === null ? null : resourceChangesSince(resourceLog, since);
    if (names === null) return { kind: 'full', resources: [...resources.values()] };
    const changed: ResourceView[] = [];
    const removed: string[] = [];
    for (const name of new Set(names)) {
      const record = resources.get(name);
      if (record === undefined) removed.push(name);
      else changed.push(record);
    }
    return { kind: 'changes', changed, removed };
  }
}

function sameMembers(set: ReadonlySet<string>, list: readonly string[]): boolean {
  return set.size === list.length && list.every((name) => set.has(name));
}
