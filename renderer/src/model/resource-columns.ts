// The Resources table's columns and row geometry, shared by the React table (ResourcesView.tsx)
// and the first screen painted before React has loaded (first-screen/paint.ts), so both show the
// same head in the same places.
import type { ResourceColumn } from '../../../preload/contract/resource-order';

/** A column the table can sort by (the agent sorts the first page the same way), or the Health column, which it cannot. */
export type ResourceTableColumn = { id: ResourceColumn; label: string; numeric?: boolean; sortable?: true } | { id: 'health'; label: string; numeric?: boolean; sortable: false };

export const RESOURCE_TABLE_COLUMNS: readonly ResourceTableColumn[] = [
  { id: 'name', label: 'Name' },
  { id: 'address', label: 'Address' },
  { id: 'owner', label: 'Owner node' },
  { id: 'state', label: 'State' },
  // Its verdict depends on the nodes' health records, which the agent's ordering of rows does not read.
  { id: 'health', label: 'Health', sortable: false },
  { id: 'ownerMac', label: 'Owner MAC' },
  { id: 'since', label: 'Since', numeric: true },
  { id: 'lastHandoff', label: 'Last handoff', numeric: true },
];

/** Rows are fixed-height (CSS .table-row). */
export const RESOURCE_ROW_HEIGHT = 30;
/** The sticky header row inside the scroller: the rows start below it. */
export const RESOURCE_HEAD_HEIGHT = 32;
