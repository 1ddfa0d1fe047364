// What a node's record keeps across its agent's restarts, for both stores. Pure.
import type { NodeRecord } from '../cluster/model';
import { MAX_INTERFACES } from '../../preload/contract/domain';

/** Fields an operator set that a re-joining agent must not wipe (its state is kept by the stores too). */
export function keptByJoin(previous: NodeRecord | undefined): Pick<NodeRecord, 'maintenanceUntil'> {
  return previous?.maintenanceUntil === undefined ? {} : { maintenanceUntil: previous.maintenanceUntil };
}

/** The record with a maintenance window until `until` (wall-clock ms), or without one (null). */
export function withMaintenance(record: NodeRecord, until: number | null): NodeRecord {
  const { maintenanceUntil: _previous, ...rest } = record;
  return until === null ? rest : { ...rest, maintenanceUntil: until };
}

/**
 * The MACs a node record can carry (every reader refuses more than MAX_INTERFACES): a host with more
 * Ethernet interfaces (a container host's veths) records the first ones by name, so its record is never
 * left out by its peers.
 */
export function macsForRecord(macs: Readonly<Record<string, string>>): Record<string, string> {
  const names = Object.keys(macs).sort();
  if (names.length <= MAX_INTERFACES) return { ...macs };
  return Object.fromEntries(names.slice(0, MAX_INTERFACES).map((name) => [name, macs[name]!]));
}
