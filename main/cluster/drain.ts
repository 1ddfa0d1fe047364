// Draining a node (`ipfo node pause <node>`): where each of its resources goes, decided in one pass
// so that a node holding 1,000 addresses spreads them evenly over the others instead of handing all of
// them to whichever node was least loaded when the drain began.
//
// Rules:
// - The resources to move are the enabled ones the ownership map gives to the drained node. Disabled
//   ones are not moved: the reconciler releases them anyway.
// - Each goes to its best node with the drained node excluded (placement.ts): a live preferred owner
//   first, otherwise the least loaded eligible node, loads counted as the batch is assigned.
// - A resource with no eligible node cannot move: it is reported as a failure (no eligible node) and
//   stays where it is, still served by the paused node, rather than going dark.
// - The members of a group go together, to a node that may hold all of them (placement.ts).

import type { FailureReason, NodeName, ResourceName, ResourceSpec } from './model';
import { compareNames, countLoads, ownEntry, placeBatch, type GroupFacts, type Loads, type NodeView, type Owners } from './placement';

export interface DrainMove {
  resource: ResourceName;
  from: NodeName;
  to: NodeName;
}

export interface DrainFailure {
  resource: ResourceName;
  reason: FailureReason;
}

export interface DrainPlan {
  /** In resource-name order. */
  moves: DrainMove[];
  /** Resources that stay on the drained node, in resource-name order. */
  failures: DrainFailure[];
}

/**
 * Plans the drain of `node`. `loads` defaults to the counts in `owners`; pass it when the caller
 * knows better (moves already in flight).
 */
export function planDrain(
  node: NodeName,
  specs: readonly ResourceSpec[],
  owners: Owners,
  nodes: readonly NodeView[],
  loads: Loads = countLoads(owners),
  groups?: GroupFacts,
): DrainPlan {
  const leaving = specs.filter((spec) => spec.enabled && ownEntry(owners, spec.name) === node);
  const placed = placeBatch(leaving, nodes, loads, [node], groups);
  const moves: DrainMove[] = [];
  const failures: DrainFailure[] = [];
  for (const [resource, to] of [...placed].sort(([a], [b]) => compareNames(a, b))) {
    if (to === null) failures.push({ resource, reason: { kind: 'no-eligible-node' } });
    else moves.push({ resource, from: node, to });
  }
  return { moves, failures };
}
