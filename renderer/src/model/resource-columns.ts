// The Resources table's columns and row geometry, shared by the React table (ResourcesView.tsx)
// and the first screen painted before React has loaded (first-screen/paint.ts), so both show the
// same head in the same places.
import type { ResourceColumn } from '../../../preload/contract/resource-order';

export const RESOURCE_TABLE_COLUMNS: ReadonlyArray<{ id: ResourceColumn; label: string; numeric?: boolean }> = [
  { id: 'name', label: 'Name' },
  { id: 'address', label: 'Address' },
  { id: 'owner', label: 'Owner node' },
  { id: 'state', label: 'State' },
  { id: 'ownerMac', label: 'Owner MAC' },
  { id: 'since', label: 'Since', numeric: true },
  { id: 'lastHandoff', label: 'Last handoff', numeric: true },
];

/** Rows are fixed-height (CSS .table-row). */
export const RESOURCE_ROW_HEIGHT = 30;
/** The sticky header row inside the scroller: the rows start below it. */
export const RESOURCE_HEAD_HEIGHT = 32;
