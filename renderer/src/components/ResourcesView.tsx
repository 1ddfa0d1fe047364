// The Resources table: every IP resource, sortable on each column, filterable, virtualised so that
// 10,000 rows scroll at full frame rate (only the visible rows exist in the DOM). The members of a
// group follow a collapsible row of the group's own (model/table-groups.ts).
import { useVirtualizer } from '@tanstack/react-virtual';
import { Fragment, memo, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { healthCell, type HealthCell } from '../model/health-cell';
import { describeFailure } from '../../../preload/contract/failure-text';
import { formatCount, formatDuration, formatRelative, formatTimestamp, plural } from '../model/format';
import { DEFAULT_RESOURCE_SORT, nextSort, type ResourceSort } from '../model/resource-table';
import type { LoadingSummary } from '../model/console-model';
import type { PageTable } from '../model/page-cluster';
import type { ClusterModelControls } from '../hooks/useCluster';
import { DEFAULT_PAGE_SIZE, type ResourceTableView } from '../../../preload/contract/resource-order';
import { RESOURCE_HEAD_HEIGHT, RESOURCE_ROW_HEIGHT, RESOURCE_TABLE_COLUMNS } from '../model/resource-columns';
import { groupKey, isGroupRow, tableItemKey, toggleGroup as toggleCollapsed, type GroupRow } from '../model/table-groups';
import type { GroupActions, ResourceActions } from './actions';
import { ResourceStateBadge } from './Badges';
import { ContextMenu } from './ContextMenu';
import { hasResourceMenu, resourceMenuItems, resourceShortcut } from './resource-menu';

const ROW_HEIGHT = RESOURCE_ROW_HEIGHT;
const HEAD_HEIGHT = RESOURCE_HEAD_HEIGHT;
const COLUMNS = RESOURCE_TABLE_COLUMNS;
/** Items the page asks the model for beyond those in view, each side; asked again when fewer than WINDOW_SLACK are left. */
const WINDOW_MARGIN = 100;
const WINDOW_SLACK = 40;
const NO_GROUP_ACTIONS: GroupActions = { role: null, openGroupMove: null };
const NOTHING_COLLAPSED: ReadonlySet<string> = new Set();
/** Rows are fixed-height (CSS .table-row): the virtualiser never measures one. */
const estimateRowSize = (): number => ROW_HEIGHT;

export interface ResourcesViewProps {
  /** The table as the model computed it, in the page's window (page-cluster.ts). */
  table: PageTable;
  /** Tells the model what the table shows: view, window, selection (useCluster.ts). */
  model: ClusterModelControls;
  /** Resources in the cluster (while a paged snapshot arrives, as its head said), and of them failed. */
  total: number;
  failed: number;
  /** The nodes with their health results: the Health column's verdicts. */
  nodes: ReadonlyMap<string, NodeRecord>;
  /** A paged snapshot still arriving: only the rows known for sure show. */
  loading: LoadingSummary | null;
  /** Revision of the last push applied, and change pushes applied since the snapshot: shown as data attributes of the table (data-revision, data-applied). */
  revision: number | null;
  changesApplied: number;
  now: number;
  busy: ReadonlySet<string>;
  actions: ResourceActions;
  /** Opens the new-resource form; null when the role may not add one (no button then). */
  onCreate: (() => void) | null;
  /** The table's sort and filter, for the next subscription's first page. */
  onViewChange?: (view: ResourceTableView) => void;
  /** Nothing from the agent yet: what the table says meanwhile (null once the first push is in). */
  waiting?: string | null;
  /** What the session may do with a group (its row's Move group button). */
  groupActions?: GroupActions;
  /** Groups shown as their row only (the owner keeps them, so they stay collapsed across views). */
  collapsedGroups?: ReadonlySet<string>;
  onToggleGroup?: (name: string) => void;
}

interface MenuState {
  name: string;
  x: number;
  y: number;
}

export function ResourcesView({ table, model, total, failed, nodes, loading, revision, changesApplied, now, busy, actions, onCreate, onViewChange, waiting = null, groupActions = NO_GROUP_ACTIONS, collapsedGroups = NOTHING_COLLAPSED, onToggleGroup }: ResourcesViewProps) {
  const [filter, setFilter] = useState('');
  const [ownCollapsed, setOwnCollapsed] = useState<ReadonlySet<string>>(NOTHING_COLLAPSED);
  const [sort, setSort] = useState<ResourceSort>(DEFAULT_RESOURCE_SORT);
  const [selected, setSelected] = useState<string | null>(null);
  const [menu, setMenu] = useState<MenuState | null>(null);
  const deferredFilter = useDeferredValue(filter);
  // Without an owner keeping them (a test, a story), the view keeps the collapsed groups itself.
  const collapsed = onToggleGroup === undefined ? ownCollapsed : collapsedGroups;
  const toggleGroup = useCallback(
    (name: string) => {
      if (onToggleGroup !== undefined) onToggleGroup(name);
      else setOwnCollapsed((current) => toggleCollapsed(current, name));
    },
    [onToggleGroup],
  );
  // The model orders, filters and groups the rows (console-model.ts); the page holds its window.
  useEffect(() => model.setTable(deferredFilter, sort, collapsed, selected), [model, deferredFilter, sort, collapsed, selected]);
  const items = table.items;
  const hasGroups = table.hasGroups;
  useEffect(() => onViewChange?.({ sort, filter: deferredFilter, pageSize: DEFAULT_PAGE_SIZE }), [onViewChange, sort, deferredFilter]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const filterRef = useRef<HTMLInputElement>(null);

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: estimateRowSize,
    // Every row in the DOM is painted again on each scroll step (the scroller's cull rect moves with
    // it), so few rows beyond the viewport: 6 x 30 px still covers several frames of fast scrolling.
    overscan: 6,
    paddingStart: HEAD_HEIGHT,
    scrollPaddingStart: HEAD_HEIGHT,
    // Items keep the virtualiser's default key, their index: rows are fixed-height, so nothing is
    // cached per row, and the offsets of 10,000 rows are computed again only when their number
    // changes (a key function that follows `rows` would redo it on every batch of the stream).
    // React keys the rows by name below.
  });

  // The window the page holds follows the rows in view, with a margin: asked again when the rows in
  // view come within WINDOW_SLACK of its edge (or the table's length changed under it).
  const virtualItems = virtualizer.getVirtualItems();
  const firstInView = virtualItems[0]?.index ?? 0;
  const lastInView = virtualItems[virtualItems.length - 1]?.index ?? 0;
  const askedWindow = useRef<{ start: number; end: number; length: number } | null>(null);
  useEffect(() => {
    const asked = askedWindow.current;
    const wanted = { start: Math.max(0, firstInView - WINDOW_MARGIN), end: lastInView + 1 + WINDOW_MARGIN, length: items.length };
    const enough = asked !== null && asked.length === items.length && firstInView - asked.start >= Math.min(WINDOW_SLACK, firstInView) && asked.end - (lastInView + 1) >= Math.min(WINDOW_SLACK, items.length - lastInView - 1);
    if (enough) return;
    askedWindow.current = wanted;
    model.setWindow(wanted.start, wanted.end);
  }, [model, firstInView, lastInView, items.length]);

  // An item the keyboard went to beyond the window: selected once the model sent it.
  const [pendingSelect, setPendingSelect] = useState<number | null>(null);
  useEffect(() => {
    if (pendingSelect === null) return;
    const item = items.at(pendingSelect);
    if (item === undefined) return;
    setSelected(tableItemKey(item));
    setPendingSelect(null);
  }, [items, pendingSelect]);

  // `selected` is a table item's key (tableItemKey): a resource's name or a group row's key. Its
  // index is the model's, once it answered for this selection; until then where the keyboard put it.
  const cursor = useRef<{ key: string; index: number } | null>(null);
  const selectedIndex = selected === null ? -1 : table.selected === selected ? table.selectedIndex : cursor.current?.key === selected ? cursor.current.index : items.findIndex((item) => tableItemKey(item) === selected);
  const selectedItem = selectedIndex >= 0 ? items.at(selectedIndex) : undefined;
  const selectedGroup = selectedItem !== undefined && isGroupRow(selectedItem) ? selectedItem : undefined;
  const selectedRow = selectedItem !== undefined && !isGroupRow(selectedItem) ? selectedItem : undefined;

  const select = useCallback(
    (index: number) => {
      if (items.length === 0) return;
      const at = Math.max(0, Math.min(items.length - 1, index));
      virtualizer.scrollToIndex(at, { align: 'auto' });
      const item = items.at(at);
      if (item === undefined) {
        setPendingSelect(at);
        return;
      }
      cursor.current = { key: tableItemKey(item), index: at };
      setSelected(tableItemKey(item));
    },
    [items, virtualizer],
  );

  // "/" jumps to the filter from anywhere in the view, as in most admin tools.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent): void => {
      const target = event.target as HTMLElement | null;
      const typing = target !== null && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
      if (event.key === '/' && !typing && document.querySelector('dialog[open]') === null) {
        event.preventDefault();
        filterRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Stable, like every callback a row gets: a row re-renders only when its own data changes.
  const openMenuAt = useCallback((name: string, x: number, y: number): void => setMenu({ name, x, y }), []);
  // A role that may run none of the menu's actions (a viewer) gets no menu, by mouse or key.
  const menuAt = hasResourceMenu(actions) ? openMenuAt : null;

  const onGridKey = (event: KeyboardEvent<HTMLDivElement>): void => {
    // Keys typed on a header button belong to that button.
    if (event.target !== event.currentTarget) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 300) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in moves) {
      event.preventDefault();
      select(selectedIndex < 0 ? 0 : selectedIndex + (moves[event.key] ?? 0));
      return;
    }
    if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      select(event.key === 'Home' ? 0 : items.length - 1);
      return;
    }
    if (selectedGroup !== undefined && !event.altKey && !event.ctrlKey && !event.metaKey) {
      // A group row: Space and the side arrows fold it (Left closes, Right opens), Enter moves the
      // group when the role may, else folds it.
      const { name, expanded } = selectedGroup;
      const fold = event.key === ' ' || (event.key === 'ArrowLeft' && expanded) || (event.key === 'ArrowRight' && !expanded) || (event.key === 'Enter' && groupActions.openGroupMove === null);
      if (fold) {
        event.preventDefault();
        toggleGroup(name);
      } else if (event.key === 'Enter' && groupActions.openGroupMove !== null) {
        event.preventDefault();
        groupActions.openGroupMove(name);
      }
      return;
    }
    if (selectedRow === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
    if (menuAt !== null && (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey))) {
      event.preventDefault();
      const element = document.getElementById(rowId(selectedRow.name));
      const box = element?.getBoundingClientRect();
      menuAt(selectedRow.name, (box?.left ?? 0) + 40, (box?.bottom ?? 0) - 4);
      return;
    }
    const run = resourceShortcut(event.key, selectedRow, actions);
    if (run !== null) {
      event.preventDefault();
      run();
    }
  };

  const menuResource = menu === null ? undefined : items.resource(menu.name);
  const receiving = loading === null ? null : `loading ${formatCount(loading.received)} of ${formatCount(loading.resourceCount)}…`;
  const { openMove, online, offline, announce, edit } = actions;

  // The toolbar is its own element, rebuilt only when what it shows changes: a scroll step re-renders
  // the table, and must not touch the filter input (React rewrites an input's attributes on every update).
  const toolbar = useMemo(
    () => (
      <div className="toolbar">
        <div className="search">
          <SearchIcon />
          <input
            ref={filterRef}
            type="search"
            className="input search-input"
            placeholder="Filter resources   e.g. web  10.0.  state:failed  owner:n1"
            aria-label="Filter resources"
            data-testid="resource-filter"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'ArrowDown' || event.key === 'Enter') {
                event.preventDefault();
                scrollRef.current?.focus();
                if (selectedIndex < 0) select(0);
              } else if (event.key === 'Escape') setFilter('');
            }}
          />
          <kbd className="search-key">/</kbd>
        </div>
        <span className="toolbar-count" data-testid="resource-count">
          {waiting !== null ? '' : receiving !== null || table.rowCount === total ? plural(total, 'resource') : `${formatCount(table.rowCount)} of ${formatCount(total)}`}
          {failed > 0 && <span className="count-failed"> · {formatCount(failed)} failed</span>}
          {receiving !== null && (
            <span className="count-loading" data-testid="resources-loading">
              {' '}
              · {receiving}
            </span>
          )}
        </span>
        <span className="toolbar-spacer" />
        <span className="toolbar-hint">
          <kbd>↑</kbd>
          <kbd>↓</kbd> select
          {hasGroups && (
            <>
              {' · '}
              <kbd>←</kbd>
              <kbd>→</kbd> fold a group
            </>
          )}
          {(
            [
              ['Enter', 'move', openMove],
              ['O', 'online', online],
              ['F', 'offline', offline],
              ['A', 'announce', announce],
              ['E', 'edit', edit],
            ] as const
          )
            .filter(([, , action]) => action !== null)
            .map(([key, label]) => (
              <Fragment key={key}>
                {' · '}
                <kbd>{key}</kbd> {label}
              </Fragment>
            ))}
        </span>
        {onCreate !== null && (
          <button type="button" className="button button-primary" data-testid="new-resource" onClick={onCreate}>
            New resource
          </button>
        )}
      </div>
    ),
    [filter, table.rowCount, hasGroups, total, failed, receiving, waiting, selectedIndex, select, onCreate, openMove, online, offline, edit],
  );

  return (
    <section className="view resources-view" aria-label="Resources">
      {toolbar}

      <div className="table resource-table">
        {/* The grid is the scroller: it holds the rows, keeps the focus and names the selected row (aria-activedescendant). */}
        <div
          ref={scrollRef}
          className="table-body"
          role="grid"
          aria-rowcount={items.length + 1}
          aria-label="IP resources"
          tabIndex={0}
          data-testid="resource-table"
          data-revision={revision ?? undefined}
          data-applied={changesApplied}
          aria-activedescendant={selectedItem === undefined ? undefined : isGroupRow(selectedItem) ? groupRowId(selectedItem.name) : rowId(selectedItem.name)}
          onKeyDown={onGridKey}
          onFocus={(event) => {
            const first = items.at(0);
            if (event.target === event.currentTarget && selectedIndex < 0 && first !== undefined) setSelected(tableItemKey(first));
          }}
        >
          <div className="table-head resource-grid" role="row" aria-rowindex={1}>
            {COLUMNS.map((column) => {
              if (column.sortable === false) {
                return (
                  <div key={column.id} role="columnheader" className="cell">
                    <span className="sort" data-testid={`head-${column.id}`}>
                      {column.label}
                    </span>
                  </div>
                );
              }
              const id = column.id;
              const active = sort.column === id;
              return (
                <div
                  key={column.id}
                  role="columnheader"
                  className={column.numeric === true ? 'cell numeric' : 'cell'}
                  aria-sort={active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}
                >
                  <button type="button" className={active ? 'sort sort-active' : 'sort'} data-testid={`sort-${id}`} onClick={() => setSort((current) => nextSort(current, id))}>
                    {column.label}
                    <span className="sort-arrow" aria-hidden="true">
                      {active ? (sort.direction === 'asc' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                </div>
              );
            })}
            <div role="columnheader" className="cell actions-cell">
              <span className="visually-hidden">Actions</span>
            </div>
          </div>
          {waiting !== null ? (
            <div className="empty loading" data-testid="loading">
              <span className="spinner" aria-hidden="true" />
              <p>{waiting}</p>
            </div>
          ) : items.length === 0 && loading !== null ? (
            <div className="empty" data-testid="resources-waiting">
              <p>Loading the rest of the cluster: {formatCount(loading.received)} of {plural(loading.resourceCount, 'resource')}…</p>
            </div>
          ) : items.length === 0 ? (
            <EmptyTable filtered={total > 0} onCreate={onCreate} />
          ) : (
            <div className="table-canvas" role="rowgroup" style={{ height: virtualizer.getTotalSize() - HEAD_HEIGHT }}>
              {virtualItems.map((item) => {
                const row = items.at(item.index);
                if (row === undefined) return null;
                if (isGroupRow(row)) {
                  return (
                    <GroupTableRow
                      key={groupKey(row.name)}
                      group={row}
                      index={item.index}
                      top={item.start - HEAD_HEIGHT}
                      selected={groupKey(row.name) === selected}
                      onSelect={setSelected}
                      onToggle={toggleGroup}
                      onMove={groupActions.openGroupMove}
                    />
                  );
                }
                return (
                  <ResourceRow
                    key={row.name}
                    resource={row}
                    index={item.index}
                    top={item.start - HEAD_HEIGHT}
                    now={now}
                    {...healthProps(healthCell(row, nodes.values()))}
                    selected={row.name === selected}
                    busy={busy.has(row.name)}
                    grouped={row.group !== undefined}
                    onSelect={setSelected}
                    onMenu={menuAt}
                    onMove={openMove}
                  />
                );
              })}
            </div>
          )}
        </div>
      </div>

      {menu !== null && menuResource !== undefined && menuAt !== null && (
        <ContextMenu
          x={menu.x}
          y={menu.y}
          label={`Actions for ${menu.name}`}
          items={resourceMenuItems(menuResource, actions)}
          onClose={() => {
            setMenu(null);
            scrollRef.current?.focus();
          }}
        />
      )}
    </section>
  );
}

function healthProps(cell: HealthCell): Pick<ResourceRowProps, 'healthLabel' | 'healthClass' | 'healthDetail'> {
  return { healthLabel: cell.label, healthClass: cell.className, healthDetail: cell.detail };
}

function rowId(name: string): string {
  return `resource-row-${name}`;
}

function groupRowId(name: string): string {
  return `resource-group-${name}`;
}

interface ResourceRowProps {
  resource: ResourceView;
  index: number;
  top: number;
  now: number;
  /** The Health cell (health-cell.ts) as plain values, so an unchanged row is not rendered again. */
  healthLabel: string;
  healthClass: string;
  healthDetail: string | null;
  selected: boolean;
  busy: boolean;
  /** Shown under its group's row (indented). */
  grouped: boolean;
  onSelect: (name: string) => void;
  /** Null: no menu for this role (the browser's own shows on right click). */
  onMenu: ((name: string, x: number, y: number) => void) | null;
  /** Null: the role may not move (no button, double click does nothing). */
  onMove: ((name: string) => void) | null;
}

const ResourceRow = memo(function ResourceRow({ resource, index, top, now, healthLabel, healthClass, healthDetail, selected, busy, grouped, onSelect, onMenu, onMove }: ResourceRowProps) {
  const { status } = resource;
  const failure = status.failure === null ? '' : describeFailure(status.failure);
  const name = resource.name;
  return (
    <div
      id={rowId(name)}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      className={`table-row resource-grid${selected ? ' selected' : ''}${index % 2 === 1 ? ' odd' : ''}${busy ? ' busy' : ''}${grouped ? ' grouped' : ''}`}
      data-testid={`resource-row-${name}`}
      data-group={resource.group}
      data-state={status.state}
      style={{ top }}
      onMouseDown={() => onSelect(name)}
      onDoubleClick={onMove === null ? undefined : () => onMove(name)}
      onContextMenu={
        onMenu === null
          ? undefined
          : (event) => {
              event.preventDefault();
              onSelect(name);
              onMenu(name, event.clientX, event.clientY);
            }
      }
    >
      <div role="gridcell" className="cell cell-name" data-testid="name" title={name}>
        {name}
        {!resource.enabled && <span className="tag" title="The operator took it offline">disabled</span>}
      </div>
      <div role="gridcell" className="cell cell-address mono" data-testid="address" title={`${resource.ip}/${resource.prefix}`}>
        <span>
          {resource.ip}
          <span className="muted">/{resource.prefix}</span>
        </span>
      </div>
      <div role="gridcell" className="cell" data-testid="owner">
        {status.owner ?? <span className="muted">—</span>}
      </div>
      <div role="gridcell" className="cell cell-state" data-testid="state" title={failure === '' ? undefined : failure}>
        <ResourceStateBadge state={status.state} />
        {failure !== '' && <span className="failure-text">{failure}</span>}
      </div>
      <div role="gridcell" className="cell" data-testid="health" data-health={healthClass || 'none'} title={healthDetail ?? undefined}>
        {healthClass === '' ? (
          <span className="muted">{healthLabel}</span>
        ) : (
          <span className={`badge ${healthClass}`} aria-label={healthDetail === null ? healthLabel : `${healthLabel}: ${healthDetail}`}>
            <span className="badge-dot" />
            {healthLabel}
          </span>
        )}
      </div>
      <div role="gridcell" className="cell mono" data-testid="owner-mac">
        {status.ownerMac ?? <span className="muted">—</span>}
      </div>
      <div role="gridcell" className="cell numeric" data-testid="since" title={formatTimestamp(status.since)}>
        {formatRelative(status.since, now)}
      </div>
      <div role="gridcell" className="cell numeric" data-testid="handoff">
        {formatDuration(status.lastHandoffMs)}
      </div>
      {/* A roving tab index: the selected row's buttons are the tab stops after the table (the
          arrows move the selection), so every action is reachable without a mouse. */}
      <div role="gridcell" className="cell actions-cell">
        {onMove !== null && (
          <button type="button" className="row-button" data-testid={`move-${name}`} tabIndex={selected ? 0 : -1} onClick={() => onMove(name)} title={`Move ${name} (Enter)`}>
            Move
          </button>
        )}
        {onMenu !== null && (
          <button
            type="button"
            className="row-button row-kebab"
            data-testid={`actions-${name}`}
            tabIndex={selected ? 0 : -1}
            aria-label={`More actions for ${name}`}
            onClick={(event) => {
              onSelect(name);
              const box = event.currentTarget.getBoundingClientRect();
              onMenu(name, box.right - 160, box.bottom + 2);
            }}
          >
            ⋯
          </button>
        )}
      </div>
    </div>
  );
});

interface GroupTableRowProps {
  group: GroupRow;
  index: number;
  top: number;
  selected: boolean;
  onSelect: (key: string) => void;
  onToggle: (name: string) => void;
  /** Null: the role may not move a group (no button). */
  onMove: ((name: string) => void) | null;
}

/**
 * A group's own row: a real button folds it (aria-expanded, a tab stop while the row is selected, as
 * the row buttons), then where the group is and a summary state in words; its members follow it.
 */
const GroupTableRow = memo(function GroupTableRow({ group, index, top, selected, onSelect, onToggle, onMove }: GroupTableRowProps) {
  const { name, members, expanded, location, state } = group;
  const key = groupKey(name);
  return (
    <div
      id={groupRowId(name)}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      className={`table-row resource-grid group-row${selected ? ' selected' : ''}`}
      data-testid={`group-row-${name}`}
      data-expanded={expanded}
      data-state={state.state}
      style={{ top }}
      onMouseDown={() => onSelect(key)}
      onDoubleClick={onMove === null ? undefined : () => onMove(name)}
    >
      <div role="gridcell" className="cell cell-group" data-testid="name">
        <button
          type="button"
          className="group-toggle"
          data-testid={`group-toggle-${name}`}
          aria-expanded={expanded}
          tabIndex={selected ? 0 : -1}
          title={expanded ? `Collapse ${name} (←)` : `Expand ${name} (→)`}
          onClick={() => {
            onSelect(key);
            onToggle(name);
          }}
        >
          <span className="group-chevron" aria-hidden="true">
            {expanded ? '▾' : '▸'}
          </span>
          <span className="visually-hidden">Group </span>
          {name}
        </button>
        <span className="tag" data-testid="group-count">
          group · {plural(members.length, 'address')}
        </span>
      </div>
      <div role="gridcell" className="cell" />
      <div role="gridcell" className="cell" data-testid="owner" title={location}>
        {location}
      </div>
      <div role="gridcell" className="cell cell-state" data-testid="state">
        <ResourceStateBadge state={state.state} />
        {!state.uniform && <span className="group-mixed">{state.label}</span>}
      </div>
      <div role="gridcell" className="cell" />
      <div role="gridcell" className="cell" />
      <div role="gridcell" className="cell" />
      <div role="gridcell" className="cell" />
      <div role="gridcell" className="cell actions-cell">
        {onMove !== null && (
          <button type="button" className="row-button" data-testid={`move-group-${name}`} tabIndex={selected ? 0 : -1} onClick={() => onMove(name)} title={`Move every address of ${name} together (Enter)`}>
            Move group
          </button>
        )}
      </div>
    </div>
  );
});

function EmptyTable({ filtered, onCreate }: { filtered: boolean; onCreate: (() => void) | null }) {
  return (
    <div className="empty" data-testid="resources-empty">
      {filtered ? (
        <p>No resource matches the filter.</p>
      ) : (
        <>
          <p className="empty-title">No IP resources yet</p>
          <p>An IP resource is a virtual IPv4 or IPv6 address that the cluster keeps online on one of its nodes.</p>
          {onCreate !== null && (
            <button type="button" className="button button-primary" onClick={onCreate}>
              Create the first one
            </button>
          )}
        </>
      )}
    </div>
  );
}

export function SearchIcon() {
  return (
    <svg className="search-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="7" cy="7" r="4.8" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M10.6 10.6L14 14" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
    </svg>
  );
}
