// What one node's agent should do about the cluster's current wishes: the agent calls planReconcile
// on every change it sees and carries out the actions (taking ownership is a compare-and-swap in the
// store; holding an address is probe, register, announce, defend).
//
// Rules, for node N:
// - Hold: the resources the ownership map gives to N that exist, are enabled, are not failed and that
//   N is allowed to hold (possibleOwners). These are the addresses N should have registered now.
// - Release (with the reason, for the audit log) a resource owned by N that was removed, disabled,
//   has failed (a failed resource is held by nobody until the operator brings it online again), or
//   that N is no longer allowed to hold (the operator edited possibleOwners; once released, the best
//   node acquires it — an agent wanting a gapless move plans a handoff instead).
// - Acquire an unowned, enabled resource that is not failed, when placement gives it to N. The unowned
//   resources are placed as one batch with running loads (placement.ts), so when a dead node leaves
//   hundreds of addresses unowned every agent computes the same even split and takes only its share.
//   A resource failed for "no eligible node" is the exception: it is placed again, since a node that
//   comes up clears the cause; other failures (a conflict, a missing interface) wait for the operator.
// - Unplaceable: unowned, enabled, not yet failed, and no node at all is eligible: the agent records
//   the resource as failed with "no eligible node" (every agent computes the same list; the write is
//   idempotent).
// - Resources owned by another node are that node's business, even when it is down: its ownership key
//   goes away with its lease, and only then may another node acquire.
// - Failback and drain are separate decisions (failback.ts, drain.ts), carried out as planned moves.

import type { NodeName, ResourceName, ResourceSpec, ResourceStatus } from './model';
import { compareNames, countLoads, isAllowed, ownEntry, placeBatch, type NodeView, type Owners } from './placement';

export type ReleaseReason = 'removed' | 'disabled' | 'failed' | 'not-allowed';

export type ReconcileAction =
  | { kind: 'release'; resource: ResourceName; reason: ReleaseReason }
  | { kind: 'acquire'; resource: ResourceName };

export interface ReconcilePlan {
  /** Resources whose address this node should have registered now, in name order. */
  hold: ResourceName[];
  /** Releases first (in name order), then acquisitions (in name order). */
  actions: ReconcileAction[];
  /** Resources no node can take: to be recorded as failed with 'no-eligible-node'. */
  unplaceable: ResourceName[];
}

function releaseReason(spec: ResourceSpec | undefined, status: ResourceStatus | undefined, node: NodeName): ReleaseReason | null {
  if (spec === undefined) return 'removed';
  if (!spec.enabled) return 'disabled';
  if (status?.state === 'failed') return 'failed';
  if (!isAllowed(spec, node)) return 'not-allowed';
  return null;
}

/** Failed for a reason that a change of node states can clear by itself. */
function isRetryable(status: ResourceStatus | undefined): boolean {
  return status?.state !== 'failed' || status.failure?.kind === 'no-eligible-node';
}

export function planReconcile(
  nodeName: NodeName,
  specs: readonly ResourceSpec[],
  owners: Owners,
  statuses: readonly ResourceStatus[],
  nodes: readonly NodeView[],
): ReconcilePlan {
  const specByName = new Map(specs.map((spec) => [spec.name, spec]));
  const statusByName = new Map(statuses.map((status) => [status.name, status]));

  const hold: ResourceName[] = [];
  const releases: ReconcileAction[] = [];
  const ownedHere = Object.keys(owners)
    .filter((resource) => ownEntry(owners, resource) === nodeName)
    .sort(compareNames);
  for (const resource of ownedHere) {
    const reason = releaseReason(specByName.get(resource), statusByName.get(resource), nodeName);
    if (reason === null) hold.push(resource);
    else releases.push({ kind: 'release', resource, reason });
  }

  const unowned = specs.filter((spec) => {
    const owner = ownEntry(owners, spec.name);
    return spec.enabled && (owner === undefined || owner === null) && isRetryable(statusByName.get(spec.name));
  });
  const placed = placeBatch(unowned, nodes, countLoads(owners));
  const acquires: ReconcileAction[] = [];
  const unplaceable: ResourceName[] = [];
  for (const spec of [...unowned].sort((a, b) => compareNames(a.name, b.name))) {
    const node = placed.get(spec.name) ?? null;
    if (node === nodeName) acquires.push({ kind: 'acquire', resource: spec.name });
    else if (node === null && statusByName.get(spec.name)?.state !== 'failed') unplaceable.push(spec.name);
  }

  return { hold, actions: [...releases, ...acquires], unplaceable };
}
