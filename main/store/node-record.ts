// What a node's record keeps across its agent's restarts, for both stores. Pure.
import type { NodeRecord } from '../cluster/model';

/** Fields an operator set that a re-joining agent must not wipe (its state is kept by the stores too). */
export function keptByJoin(previous: NodeRecord | undefined): Pick<NodeRecord, 'maintenanceUntil'> {
  return previous?.maintenanceUntil === undefined ? {} : { maintenanceUntil: previous.maintenanceUntil };
}

/** The record with a maintenance window until `until` (wall-clock ms), or without one (null). */
export function withMaintenance(record: NodeRecord, until: number | null): NodeRecord {
  const { maintenanceUntil: _previous, ...rest } = record;
  return until === null ? rest : { ...rest, maintenanceUntil: until };
}
