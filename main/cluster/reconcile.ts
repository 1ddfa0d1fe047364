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
// - Unplaceable: unowned, enabled, not yet failed for that reason, and no node at all is eligible: the
//   agent records the resource as failed with "no eligible node", or "no healthy node" when live allowed
//   nodes exist but none passes its health checks, or "banned everywhere" when every live allowed node
//   is banned from it after failures there (every agent computes the same list; the write is
//   idempotent). Both are placed again as soon as a node qualifies. While a live allowed node has not run
//   the resource's checks yet, nothing is recorded: its first verdict may place it. A live preferred owner
//   without a verdict yet holds the placement back until it has one.
// - Resources owned by another node are that node's business, even when it is down: its ownership key
//   goes away with its lease, and only then may another node acquire.
// - A group's members are placed together (placement.ts, groups.ts); an unowned member joins the node
//   that holds its group when that node may hold it.
// - Failback and drain are separate decisions (failback.ts, drain.ts), carried out as planned moves.

import type { FailureReason, NodeName, ResourceName, ResourceSpec, ResourceStatus } from './model';
import { compareNames, eligibleNodes, hasVerdict, isAllowed, isBanned, isLive, placeBatch, type GroupFacts, type NodeView } from './placement';

export type ReleaseReason = 'removed' | 'disabled' | 'failed' | 'not-allowed';

export type ReconcileAction =
  | { kind: 'release'; resource: ResourceName; reason: ReleaseReason }
  | { kind: 'acquire'; resource: ResourceName };

export interface ReconcilePlan {
  /** Resources whose address this node should have registered now, in name order. */
  hold: ResourceName[];
  /** Releases first (in name order), then acquisitions (in name order). */
  actions: ReconcileAction[];
  /** Resources no node can take, with the failure to record (no eligible node, no healthy node). */
  unplaceable: Array<{ resource: ResourceName; failure: Extract<FailureReason, { kind: 'no-eligible-node' | 'no-healthy-node' | 'banned-everywhere' }> }>;
}

/**
 * What the planner reads: the agent's view as it is. A pass runs on every change, and at 10,000
 * resources copying the view into arrays and records each time cost more than the plan itself.
 */
export interface ReconcileInput {
  specs: ReadonlyMap<ResourceName, ResourceSpec>;
  /** The owner of each owned resource; no entry = unowned. */
  owners: ReadonlyMap<ResourceName, { readonly node: NodeName }>;
  /** The same facts indexed: the resources a node owns. */
  ownedBy(node: NodeName): ReadonlySet<ResourceName>;
  statuses: ReadonlyMap<ResourceName, ResourceStatus>;
  nodes: readonly NodeView[];
  /** The groups (groups.ts): their enabled members and where they are owned. Absent = no groups. */
  groups?: GroupFacts;
}

function releaseReason(spec: ResourceSpec | undefined, status: ResourceStatus | undefined, node: NodeName): ReleaseReason | null {
  if (spec === undefined) return 'removed';
  if (!spec.enabled) return 'disabled';
  if (status?.state === 'failed') return 'failed';
  if (!isAllowed(spec, node)) return 'not-allowed';
  return null;
}

/** Failed for a reason that a change of node states or health can clear by itself. */
function isRetryable(status: ResourceStatus | undefined): boolean {
  const kind = status?.failure?.kind;
  return status?.state !== 'failed' || kind === 'no-eligible-node' || kind === 'no-healthy-node' || kind === 'banned-everywhere';
}

/**
 * A resource with checks whose live preferred owner has not run them yet waits for that verdict (one
 * interval at most) rather than going to whichever node judged first: placed before, a new resource
 * landed on a node the operator did not prefer, and without failback stayed there.
 */
function awaitsPreferredVerdict(spec: ResourceSpec, nodes: readonly NodeView[]): boolean {
  if (spec.health === undefined) return false;
  for (const name of spec.preferredOwners) {
    const node = nodes.find((candidate) => candidate.name === name);
    if (node !== undefined && isLive(node) && isAllowed(spec, name) && !isBanned(spec, node) && !hasVerdict(spec, node)) return true;
  }
  return false;
}

/**
 * Where every unowned resource that wants a node goes now, with running loads (every agent computes the
 * same): the acquisitions of the reconcile, and what `ipfo plan` predicts after a node dies. `unowned`
 * in name order.
 */
export function placeUnowned(input: Pick<ReconcileInput, 'specs' | 'owners' | 'ownedBy' | 'statuses' | 'nodes' | 'groups'>): { unowned: ResourceSpec[]; placed: Map<ResourceName, NodeName | null> } {
  const { specs, owners, statuses, nodes } = input;
  const unowned: ResourceSpec[] = [];
  for (const spec of specs.values()) {
    if (spec.enabled && !owners.has(spec.name) && isRetryable(statuses.get(spec.name)) && !awaitsPreferredVerdict(spec, nodes)) unowned.push(spec);
  }
  if (unowned.length === 0) return { unowned, placed: new Map() };
  const loads: Record<NodeName, number> = Object.create(null) as Record<NodeName, number>;
  for (const node of nodes) loads[node.name] = input.ownedBy(node.name).size;
  // A member whose group is held somewhere joins it there when that node may hold it (a member enabled
  // again, one added to the group); otherwise the whole group's rules place it and the holders gather
  // to it (group-moves.ts).
  const joined = new Map<ResourceName, NodeName>();
  if (input.groups !== undefined) {
    for (const spec of unowned) {
      if (spec.group === undefined) continue;
      const holders = [...(input.groups.nodes.get(spec.group) ?? [])].sort(compareNames);
      const holder = holders.map((name) => nodes.find((node) => node.name === name)).find((node) => node !== undefined && eligibleNodes(spec, [node]).length === 1);
      if (holder !== undefined) joined.set(spec.name, holder.name);
    }
  }
  const placed = placeBatch(joined.size === 0 ? unowned : unowned.filter((spec) => !joined.has(spec.name)), nodes, loads, [], input.groups);
  for (const [resource, node] of joined) placed.set(resource, node);
  return { unowned: unowned.sort((a, b) => compareNames(a.name, b.name)), placed };
}

export function planReconcile(nodeName: NodeName, input: ReconcileInput): ReconcilePlan {
  const { specs, statuses, nodes } = input;

  const hold: ResourceName[] = [];
  const releases: ReconcileAction[] = [];
  for (const resource of [...input.ownedBy(nodeName)].sort(compareNames)) {
    const reason = releaseReason(specs.get(resource), statuses.get(resource), nodeName);
    if (reason === null) hold.push(resource);
    else releases.push({ kind: 'release', resource, reason });
  }

  const { unowned, placed } = placeUnowned(input);
  const acquires: ReconcileAction[] = [];
  const unplaceable: ReconcilePlan['unplaceable'] = [];
  if (unowned.length > 0) {
    for (const spec of unowned) {
      const node = placed.get(spec.name) ?? null;
      if (node === nodeName) acquires.push({ kind: 'acquire', resource: spec.name });
      else if (node === null) {
        // Live and allowed, but banned everywhere: the bans are why (they end, or a cleanup lifts them).
        // Eligible but for their checks: the checks are why — once every such node ran them (a new
        // resource, or one whose nodes just started, waits for their first verdicts instead of failing).
        const allowed = nodes.filter((n) => isLive(n) && isAllowed(spec, n.name));
        const unbanned = allowed.filter((n) => !isBanned(spec, n));
        const candidates = spec.health === undefined ? [] : unbanned;
        if (candidates.some((n) => !hasVerdict(spec, n))) continue;
        const kind = allowed.length > 0 && unbanned.length === 0 ? 'banned-everywhere' : candidates.length > 0 ? 'no-healthy-node' : 'no-eligible-node';
        if (statuses.get(spec.name)?.failure?.kind !== kind) unplaceable.push({ resource: spec.name, failure: { kind } });
      }
    }
  }

  return { hold, actions: [...releases, ...acquires], unplaceable };
}
