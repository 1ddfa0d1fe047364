// Failback: moving a resource back to a more preferred owner once that node is live again, the way a
// Windows cluster group fails back. Time is passed in, so the rules are tested with fixed dates.
//
// Rules:
// - Only a live owner's resource fails back. Moving a resource off a down node is failover, off a
//   paused node is drain; neither waits for the failback policy.
// - The target is the first eligible preferred owner (placement.ts). There is a failback only when
//   that node ranks before the current owner in preferredOwners (an owner not in the list ranks last).
// - Policy 'never': no failback. 'immediate': at once. 'window': only while the local hour of `now`
//   is within [startHour, endHour): 1..5 allows 01:00 to 04:59:59; a window may wrap midnight
//   (22..6 allows 22:00 to 05:59:59). Local hours, because operators pick quiet hours on the clock
//   of the nodes (and Windows clusters define the window the same way).

import type { FailbackPolicy, NodeName, ResourceSpec } from './model';
import { bestPreferredNode, isLive, type NodeView, type PlacementSpec } from './placement';

export type FailbackSpec = PlacementSpec & Pick<ResourceSpec, 'failback'>;

/** Whether `hour` (0..23) falls within a failback window, end hour excluded, wrapping past midnight. */
export function isWithinWindow(window: Extract<FailbackPolicy, { mode: 'window' }>, hour: number): boolean {
  const { startHour, endHour } = window;
  if (startHour < endHour) return hour >= startHour && hour < endHour;
  // Wraps midnight (start == end is rejected by validation and allows nothing here).
  return hour >= startHour || hour < endHour;
}

/** Whether the policy allows a failback at `now`. */
export function failbackAllowedAt(policy: FailbackPolicy, now: Date): boolean {
  switch (policy.mode) {
    case 'never':
      return false;
    case 'immediate':
      return true;
    case 'window':
      return isWithinWindow(policy, now.getHours());
  }
}

/** The node the resource should fail back to now, or null (rules at the top of this file). */
export function failbackTarget(spec: FailbackSpec, currentOwner: NodeName | null, nodes: readonly NodeView[], now: Date): NodeName | null {
  if (currentOwner === null || spec.preferredOwners.length === 0) return null;
  const owner = nodes.find((node) => node.name === currentOwner);
  if (owner === undefined || !isLive(owner)) return null;
  const target = bestPreferredNode(spec, nodes);
  if (target === null || target === currentOwner) return null;
  const ownerRank = spec.preferredOwners.indexOf(currentOwner);
  // A live owner ranked before the target is one the operator no longer allows: moving it is not a failback.
  if (ownerRank !== -1 && ownerRank < spec.preferredOwners.indexOf(target)) return null;
  return failbackAllowedAt(spec.failback, now) ? target : null;
}

export function shouldFailback(spec: FailbackSpec, currentOwner: NodeName | null, nodes: readonly NodeView[], now: Date): boolean {
  return failbackTarget(spec, currentOwner, nodes, now) !== null;
}
