// The first screen, painted before React has loaded: the agent's first push of the paged stream
// (snapshot-head) carries the sorted first page and the counts, and this shows them with plain DOM
// calls in the page skeleton of index.html, in the same places and with the same text as the React
// table (ResourcesView.tsx) will. It is a picture, not the console: nothing in it reacts to input,
// and main.tsx replaces it with the console once the console shows its own rows.
// Group rows (model/table-groups.ts) are not painted here: a group's row gathers members that may
// sort beyond the first page, which this has not got, so they appear once the console takes over.
//
// Every value from the agent goes in as text (textContent), never as markup: the page trusts no
// field of a push, checked or not.
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { healthCell } from '../model/health-cell';
import { describeFailure } from '../../../preload/contract/failure-text';
import type { SnapshotHeadPush } from '../../../preload/contract/protocol';
import { formatCount, formatDuration, formatRelative, plural, RESOURCE_STATE_LABELS } from '../model/format';
import { RESOURCE_ROW_HEIGHT, RESOURCE_TABLE_COLUMNS } from '../model/resource-columns';

/** The skeleton's slot for the Resources view (index.html). */
export const FIRST_SCREEN_MAIN_ID = 'first-screen-main';
/** The skeleton itself: main.tsx removes it when the console takes over. */
export const FIRST_SCREEN_ID = 'first-screen';
/** Marks a painted row (the console's own rows are data-testid="resource-row-NAME"). */
export const FIRST_SCREEN_ROW_ATTRIBUTE = 'data-first-screen-row';

type Child = Node | string;

function element(tag: string, className: string, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  if (className !== '') node.className = className;
  node.append(...children);
  return node;
}

function muted(text: string): HTMLElement {
  return element('span', 'muted', text);
}

function cell(className: string, ...children: Child[]): HTMLElement {
  const node = element('div', `cell${className === '' ? '' : ` ${className}`}`, ...children);
  node.setAttribute('role', 'gridcell');
  return node;
}

/** One row, cell for cell as ResourcesView's ResourceRow shows it (without the row's buttons). */
function row(resource: ResourceView, index: number, now: number, nodes: readonly NodeRecord[]): HTMLElement {
  const { status } = resource;
  const failure = status.failure === null ? '' : describeFailure(status.failure);
  const name = cell('cell-name', resource.name);
  if (!resource.enabled) name.append(element('span', 'tag', 'disabled'));
  const state = cell('cell-state', element('span', `badge state-${status.state}`, element('span', 'badge-dot'), RESOURCE_STATE_LABELS[status.state]));
  if (failure !== '') state.append(element('span', 'failure-text', failure));
  const health = healthCell(resource, nodes);
  const healthBadge = health.className === '' ? muted(health.label) : element('span', `badge ${health.className}`, element('span', 'badge-dot'), health.label);
  if (health.className !== '') healthBadge.setAttribute('aria-label', health.detail === null ? health.label : `${health.label}: ${health.detail}`);
  const healthCellNode = cell('', healthBadge);
  if (health.detail !== null) healthCellNode.title = health.detail;
  const node = element(
    'div',
    `table-row resource-grid${index % 2 === 1 ? ' odd' : ''}`,
    name,
    cell('mono', element('span', '', resource.ip, muted(`/${resource.prefix}`))),
    cell('', status.owner ?? muted('—')),
    state,
    healthCellNode,
    cell('mono', status.ownerMac ?? muted('—')),
    cell('numeric', formatRelative(status.since, now)),
    cell('numeric', formatDuration(status.lastHandoffMs)),
    cell('actions-cell'),
  );
  node.setAttribute('role', 'row');
  node.setAttribute(FIRST_SCREEN_ROW_ATTRIBUTE, resource.name);
  node.style.top = `${index * RESOURCE_ROW_HEIGHT}px`;
  return node;
}

function headRow(head: SnapshotHeadPush): HTMLElement {
  const cells = RESOURCE_TABLE_COLUMNS.map((column) => {
    const active = head.view.sort.column === column.id;
    const arrow = active ? (head.view.sort.direction === 'asc' ? '▲' : '▼') : '';
    const header = element('div', column.numeric === true ? 'cell numeric' : 'cell', element('span', active ? 'sort sort-active' : 'sort', column.label, element('span', 'sort-arrow', arrow)));
    header.setAttribute('role', 'columnheader');
    return header;
  });
  const node = element('div', 'table-head resource-grid', ...cells, element('div', 'cell actions-cell'));
  node.setAttribute('role', 'row');
  return node;
}

/**
 * Paints the head's first page into the skeleton; false (nothing painted) when there is no
 * skeleton or the page is empty: the console then shows its own empty or filtered table.
 */
export function paintFirstScreen(head: SnapshotHeadPush, now: number): boolean {
  const slot = document.getElementById(FIRST_SCREEN_MAIN_ID);
  if (slot === null || head.page.length === 0) return false;
  const failed = head.states.failed;
  const count = element('span', 'toolbar-count', head.matching === head.resourceCount ? plural(head.resourceCount, 'resource') : `${formatCount(head.matching)} of ${formatCount(head.resourceCount)}`);
  if (failed > 0) count.append(element('span', 'count-failed', ` · ${formatCount(failed)} failed`));
  // Only the rows a window this tall can show: each row more is layout and paint before the first frame.
  const shown = head.page.slice(0, Math.max(1, Math.ceil(window.innerHeight / RESOURCE_ROW_HEIGHT)));
  const canvas = element('div', 'table-canvas', ...shown.map((resource, index) => row(resource, index, now, head.nodes)));
  canvas.setAttribute('role', 'rowgroup');
  canvas.style.height = `${head.matching * RESOURCE_ROW_HEIGHT}px`;
  const grid = element('div', 'table-body', headRow(head), canvas);
  grid.setAttribute('role', 'grid');
  grid.setAttribute('aria-label', 'IP resources');
  grid.setAttribute('aria-busy', 'true');
  const view = element('section', 'view resources-view', element('div', 'toolbar', count), element('div', 'table resource-table', grid));
  view.setAttribute('aria-label', 'Resources');
  slot.replaceChildren(view);
  return true;
}

/** The console's own script did not load (the agent went away, a broken install): said in the frame's header. */
export function paintConsoleFailure(detail: string): void {
  const header = document.querySelector(`#${FIRST_SCREEN_ID} .app-header`);
  if (header === null) return;
  const warning = element('span', 'header-warning', `The console could not load (${detail}): reload the page.`);
  warning.setAttribute('role', 'alert');
  header.append(element('span', 'header-spacer'), warning);
}
