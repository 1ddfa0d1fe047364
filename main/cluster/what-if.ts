// What the cluster would do (issue 14 §5, `ipfo plan`): a node dies, a node is paused, a resource's checks
// fail on a node. Each answer comes from the planner the agents themselves run on that event — the
// takeover's placement of unowned resources (reconcile.ts placeUnowned), the drain (drain.ts), the moves
// of an owner failing its checks (placement.ts placeBatch, as planned-moves.ts calls it) — applied to
// the cluster as it would be right after the event. Pure.
import type { NodeName, ResourceName, ResourceSpec, ResourceStatus } from './model';
import { planDrain } from './drain';
import { placeUnowned, type ReconcileInput } from './reconcile';
import { compareNames, countLoads, groupFactsOf, isAllowed, isLive, placeBatch, type NodeView, type Owners } from './placement';
import { withGroupMates } from './group-moves';
import { healthKey, type HealthResult } from '../../preload/contract/health';

export type WhatIf = { kind: 'node-down'; node: NodeName } | { kind: 'pause'; node: NodeName } | { kind: 'check-fails'; resource: ResourceName; node: NodeName };

export interface WhatIfPlan {
  /** Addresses that would move, in resource-name order. */
  moves: Array<{ resource: ResourceName; from: NodeName; to: NodeName }>;
  /** Addresses that would stay where they are although the event concerns them, and why. */
  stays: Array<{ resource: ResourceName; node: NodeName; why: string }>;
  /** Addresses that would go offline (their holder is gone and no node may take them), and why. */
  offline: Array<{ resource: ResourceName; from: NodeName; why: string }>;
}

export type WhatIfResult = { ok: true; plan: WhatIfPlan } | { ok: false; field: 'node' | 'resource'; message: string };

export interface WhatIfInput {
  specs: ReadonlyMap<ResourceName, ResourceSpec>;
  owners: ReadonlyMap<ResourceName, { readonly node: NodeName }>;
  statuses: ReadonlyMap<ResourceName, ResourceStatus>;
  /** Nodes as placement sees them now, with their health verdicts. */
  nodes: readonly NodeView[];
}

/** Why no node can take `spec`: its checks, when live allowed nodes exist but none passes them. */
function whyNowhere(spec: ResourceSpec, nodes: readonly NodeView[], exclude: NodeName | null): string {
  const candidates = nodes.filter((node) => node.name !== exclude && isLive(node) && isAllowed(spec, node.name));
  return spec.health !== undefined && candidates.length > 0 ? 'no other node passes its health checks' : 'no other live node may hold it';
}

function ownedBy(owners: ReadonlyMap<ResourceName, { readonly node: NodeName }>): (node: NodeName) => ReadonlySet<ResourceName> {
  const index = new Map<NodeName, Set<ResourceName>>();
  for (const [resource, owner] of owners) {
    let set = index.get(owner.node);
    if (set === undefined) index.set(owner.node, (set = new Set()));
    set.add(resource);
  }
  return (node) => index.get(node) ?? new Set();
}

function ownerRecord(owners: ReadonlyMap<ResourceName, { readonly node: NodeName }>): Owners {
  const record: Record<ResourceName, NodeName> = {};
  for (const [resource, owner] of owners) record[resource] = owner.node;
  return record;
}

/** The node dies: its lease ends, its keys go, and the others place what it held like any unowned resource. */
function nodeDown(input: WhatIfInput, node: NodeName): WhatIfPlan {
  const held = [...input.owners].filter(([, owner]) => owner.node === node).map(([resource]) => resource).sort(compareNames);
  const owners = new Map([...input.owners].filter(([, owner]) => owner.node !== node));
  const nodes = input.nodes.map((view) => (view.name === node ? { name: view.name, state: 'down' as const } : view));
  const groups = groupFactsOf(input.specs, (resource) => owners.get(resource)?.node ?? null);
  const after: Pick<ReconcileInput, 'specs' | 'owners' | 'ownedBy' | 'statuses' | 'nodes' | 'groups'> = { specs: input.specs, owners, ownedBy: ownedBy(owners), statuses: input.statuses, nodes, groups };
  const { placed } = placeUnowned(after);
  const plan: WhatIfPlan = { moves: [], stays: [], offline: [] };
  for (const resource of held) {
    const spec = input.specs.get(resource);
    if (spec === undefined || !spec.enabled) continue;
    const to = placed.get(resource) ?? null;
    if (to !== null) plan.moves.push({ resource, from: node, to });
    else plan.offline.push({ resource, from: node, why: placed.has(resource) ? whyNowhere(spec, nodes, node) : 'waits for its preferred owner\'s first health verdict' });
  }
  return plan;
}

/** The node is paused: its drain, as the node itself plans it. */
function pause(input: WhatIfInput, node: NodeName): WhatIfPlan {
  const owners = ownerRecord(input.owners);
  const groups = groupFactsOf(input.specs, (resource) => owners[resource] ?? null);
  const drain = planDrain(node, [...input.specs.values()], owners, input.nodes, undefined, groups);
  return {
    moves: drain.moves,
    stays: drain.failures.map((failure) => ({ resource: failure.resource, node, why: whyNowhere(input.specs.get(failure.resource)!, input.nodes, node) })),
    offline: [],
  };
}

/**
 * The resource's checks fail on the node: every resource of that profile the node holds goes to a node
 * that passes them (its owner's planned moves), or stays there when none does.
 */
function checkFails(input: WhatIfInput, node: NodeName, spec: ResourceSpec & { health: NonNullable<ResourceSpec['health']> }): WhatIfPlan {
  const key = healthKey(spec.health);
  const nodes = input.nodes.map((view) => {
    if (view.name !== node) return view;
    const verdicts = new Map<string, HealthResult>(view.verdicts ?? []);
    verdicts.set(key, { key, healthy: false, reason: 'the check fails (what-if)', since: 0 });
    return { ...view, verdicts: verdicts };
  });
  const ownerOf = (resource: ResourceName): NodeName | null => input.owners.get(resource)?.node ?? null;
  const groups = groupFactsOf(input.specs, ownerOf);
  // A group goes with any member whose checks fail (group-moves.ts).
  const failing = withGroupMates(
    [...input.specs.values()].filter((candidate) => candidate.enabled && candidate.health !== undefined && healthKey(candidate.health) === key && ownerOf(candidate.name) === node),
    groups.active,
    ownerOf,
    node,
  );
  const placed = placeBatch(failing, nodes, countLoads(ownerRecord(input.owners)), [node], groups);
  const plan: WhatIfPlan = { moves: [], stays: [], offline: [] };
  for (const candidate of failing) {
    const to = placed.get(candidate.name) ?? null;
    if (to !== null) plan.moves.push({ resource: candidate.name, from: node, to });
    else plan.stays.push({ resource: candidate.name, node, why: whyNowhere(candidate, nodes, node) });
  }
  return plan;
}

export function planWhatIf(input: WhatIfInput, scenario: WhatIf): WhatIfResult {
  const node = input.nodes.find((view) => view.name === scenario.node);
  if (node === undefined) return { ok: false, field: 'node', message: `no node named "${scenario.node}"` };
  switch (scenario.kind) {
    case 'node-down':
      return { ok: true, plan: node.state === 'down' ? { moves: [], stays: [], offline: [] } : nodeDown(input, scenario.node) };
    case 'pause':
      return { ok: true, plan: node.state !== 'up' ? { moves: [], stays: [], offline: [] } : pause(input, scenario.node) };
    case 'check-fails': {
      const spec = input.specs.get(scenario.resource);
      if (spec === undefined) return { ok: false, field: 'resource', message: `no resource named "${scenario.resource}"` };
      if (spec.health === undefined) return { ok: false, field: 'resource', message: `${scenario.resource} has no health checks (add them with --check)` };
      return { ok: true, plan: checkFails(input, scenario.node, { ...spec, health: spec.health }) };
    }
  }
}
