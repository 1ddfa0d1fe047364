// The Resources table's group rows (issue 14 §2): the members of a group are shown together under one
// row of the group's own (its name, how many members, where they are, a summary state), collapsible.
// Derived here from the rows the table already holds (sorted and filtered by the contract's
// resource-order.ts, which the agent shares and which knows nothing of groups): a group row takes the
// place of its first member in that order and its members follow it, in the same order. One pass over
// the rows, and none at all when no row names a group (the array is handed back as it is), so a
// table of 100,000 rows stays as cheap as before. The first screen painted before React loads
// (first-screen/paint.ts) shows the agent's first page without group rows: it has only that page, and
// a group's other members may sort beyond it, so the group rows come once the console takes over.
// Pure.
import type { ResourceState, ResourceView } from '../../../preload/contract/domain';
import { RESOURCE_STATE_LABELS } from '../../../preload/contract/resource-order';
import type { RowSequence } from './chunked-rows';

export interface GroupRow {
  readonly kind: 'group';
  readonly name: string;
  /** Its members among the table's rows, in the table's order (a filter may leave some out). */
  readonly members: readonly ResourceView[];
  readonly expanded: boolean;
  /** The nodes holding its members, in name order. */
  readonly nodes: readonly string[];
  /** Where it is: "n1", "split: n1, n2" (a member held by no node counts as "not held"), or "not held". */
  readonly location: string;
  readonly state: GroupStateSummary;
}

export interface GroupStateSummary {
  /** The members' state when they agree, else the one that needs attention first. */
  readonly state: ResourceState;
  /** False when the members are in more than one state. */
  readonly uniform: boolean;
  /** "Online", or "Mixed: 1 Online, 1 Failed" (states in the order of RESOURCE_STATE_ATTENTION). */
  readonly label: string;
}

/** A row of the table: a resource, or a group's own row above its members. */
export type TableItem = ResourceView | GroupRow;

export function isGroupRow(item: TableItem): item is GroupRow {
  return (item as Partial<GroupRow>).kind === 'group';
}

/**
 * A key per table item, unique across both kinds: a resource's name, or "group:" and the group's
 * name (a colon is in no resource name: main/cluster/validate.ts NAME_PATTERN).
 */
export function tableItemKey(item: TableItem): string {
  return isGroupRow(item) ? groupKey(item.name) : item.name;
}

export function groupKey(name: string): string {
  return `group:${name}`;
}

/** States in the order a summary names them: trouble first (as the table's sort by state). */
export const RESOURCE_STATE_ATTENTION: readonly ResourceState[] = ['failed', 'online-pending', 'offline-pending', 'offline', 'online'];

export function groupState(members: readonly ResourceView[]): GroupStateSummary {
  const counts = new Map<ResourceState, number>();
  for (const member of members) counts.set(member.status.state, (counts.get(member.status.state) ?? 0) + 1);
  const present = RESOURCE_STATE_ATTENTION.filter((state) => counts.has(state));
  const first = present[0] ?? 'offline';
  if (present.length <= 1) return { state: first, uniform: true, label: RESOURCE_STATE_LABELS[first] };
  const parts = present.map((state) => `${counts.get(state) ?? 0} ${RESOURCE_STATE_LABELS[state]}`);
  return { state: first, uniform: false, label: `Mixed: ${parts.join(', ')}` };
}

/** The nodes holding `members` (name order) and where the group is, in words (see GroupRow.location). */
export function groupLocation(members: readonly ResourceView[]): { nodes: string[]; location: string } {
  const held = new Set<string>();
  let notHeld = 0;
  for (const member of members) {
    if (member.status.owner === null) notHeld++;
    else held.add(member.status.owner);
  }
  const nodes = [...held].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const places = notHeld > 0 ? [...nodes, 'not held'] : nodes;
  const location = places.length === 0 ? 'not held' : places.length === 1 ? (places[0] as string) : `split: ${places.join(', ')}`;
  return { nodes, location };
}

function groupRow(name: string, members: ResourceView[], expanded: boolean): GroupRow {
  return { kind: 'group', name, members, expanded, ...groupLocation(members), state: groupState(members) };
}

/**
 * The table's items: `rows` (already in the table's order) with each group's row at its first
 * member's place and its members right after it, left out while the group is collapsed. `rows`
 * itself when no row belongs to a group.
 */
export function groupedTableItems(rows: RowSequence<ResourceView>, collapsed: ReadonlySet<string>): RowSequence<TableItem> {
  if (rows.findIndex((row) => row.group !== undefined) < 0) return rows;
  const groups = new Map<string, ResourceView[]>();
  for (const row of rows) {
    if (row.group === undefined) continue;
    const members = groups.get(row.group);
    if (members === undefined) groups.set(row.group, [row]);
    else members.push(row);
  }
  const items: TableItem[] = [];
  const placed = new Set<string>();
  for (const row of rows) {
    const name = row.group;
    if (name === undefined) {
      items.push(row);
      continue;
    }
    if (placed.has(name)) continue;
    placed.add(name);
    const members = groups.get(name) as ResourceView[];
    const expanded = !collapsed.has(name);
    items.push(groupRow(name, members, expanded));
    if (expanded) for (const member of members) items.push(member);
  }
  return items;
}

/** The collapsed groups after the operator toggles `name` (a new set: React state). */
export function toggleGroup(collapsed: ReadonlySet<string>, name: string): ReadonlySet<string> {
  const next = new Set(collapsed);
  if (!next.delete(name)) next.add(name);
  return next;
}
