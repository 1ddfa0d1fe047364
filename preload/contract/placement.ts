// Where an IP resource should run. Every agent applies these rules to the same snapshot of the cluster
// and so reaches the same answer without talking to the others; the store's compare-and-swap settles
// the rare race between two agents that saw different snapshots. The console applies the same rules
// to name the node a "best" move will most likely pick, so the rules live here, in the contract.
//
// Rules:
// - A node is live when its state is 'up'. Down nodes cannot serve; paused nodes are being drained
//   for maintenance and take nothing new.
// - A node is allowed to hold a resource when the resource's possibleOwners is empty (every node) or
//   names it. A resource with health checks (health.ts) may go only to a node whose last verdict on its
//   profile is healthy: a node that fails them, or has not run them yet, is never chosen. A node banned
//   from the resource after failures there (failure-policy.ts) is never chosen while the ban lasts.
//   Eligible = live, allowed, healthy and not banned. Eligible lists are in name order.
// - The best node for a resource is the first eligible preferred owner, in the operator's order;
//   otherwise the eligible node with the fewest resources (its load), ties broken by name. Names are
//   compared by UTF-16 code units, never by locale, so agents with different locales agree.
// - `exclude` takes nodes out of consideration (the node being drained, the owner that is leaving).
// - A batch of resources (a drained node's, or those a dead node left unowned) is placed one by one
//   with running loads, so it spreads evenly: first those that go to a preferred owner (their place is
//   fixed, and counting their load first lets the rest balance around them), then the others, the
//   most constrained first (fewest eligible nodes), then by name.
// - The members of a group (groups.ts) are placed as one: on a node that may hold all of them, by the
//   group's preference, then the least loaded; off the nodes of the groups it is kept apart from when
//   another such node remains.

import type { NodeName, NodeRecord, ResourceName, ResourceSpec } from './domain';
import { healthKey, type HealthByProfile } from './health';
import { activeGroupsOf, apartGroups, groupNodes, groupPreference, type GroupName } from './groups';

/**
 * The part of a node record placement looks at, and the node's health results by profile. Without
 * `verdicts` the caller knows nothing of the node's checks and they do not count (a console's hint).
 */
export type NodeView = Pick<NodeRecord, 'name' | 'state'> & { verdicts?: HealthByProfile; banned?: ReadonlySet<ResourceName> };

/** The part of a resource spec placement looks at. */
export type PlacementSpec = Pick<ResourceSpec, 'name' | 'possibleOwners' | 'preferredOwners' | 'health' | 'group' | 'apartFrom'>;

/** Number of resources per node; a node without an entry holds none. */
export type Loads = Readonly<Record<NodeName, number>>;

/** Owner per resource, as the store's ownership keys say; no entry or null = unowned. */
export type Owners = Readonly<Record<ResourceName, NodeName | null>>;

export interface BestNodeOptions {
  exclude?: readonly NodeName[];
  loads?: Loads;
}

/** Code-unit order: the same on every agent whatever its locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads a record keyed by names an operator chose: a node called "constructor" must not find
 * Object.prototype.constructor.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export function isLive(node: NodeView): boolean {
  return node.state === 'up';
}

export function isAllowed(spec: Pick<ResourceSpec, 'possibleOwners'>, node: NodeName): boolean {
  return spec.possibleOwners.length === 0 || spec.possibleOwners.includes(node);
}

/** The node's checks let it hold the resource: none to pass, none known, or its last verdict is healthy. */
export function passesChecks(spec: Pick<ResourceSpec, 'health'>, node: NodeView): boolean {
  if (spec.health === undefined || node.verdicts === undefined) return true;
  return node.verdicts.get(healthKey(spec.health))?.healthy === true;
}

/** The node has a verdict on the resource's checks (it ran them), or there is none to have. */
export function hasVerdict(spec: Pick<ResourceSpec, 'health'>, node: NodeView): boolean {
  if (spec.health === undefined || node.verdicts === undefined) return true;
  return node.verdicts.has(healthKey(spec.health));
}

/**
 * The node's last verdict on the resource's checks is a failure (not merely unknown): its owner hands
 * the address to a healthy node. A node that has not checked yet (it just started) keeps what it holds.
 */
export function failsChecks(spec: Pick<ResourceSpec, 'health'>, node: NodeView): boolean {
  if (spec.health === undefined || node.verdicts === undefined) return false;
  return node.verdicts.get(healthKey(spec.health))?.healthy === false;
}

/** The node is banned from the resource after failures there (it lifts the ban itself when it ends). */
export function isBanned(spec: Pick<ResourceSpec, 'name'>, node: NodeView): boolean {
  return node.banned !== undefined && node.banned.has(spec.name);
}

/** Nodes that may take the resource now: live, allowed, healthy and not banned, in name order. */
export function eligibleNodes<N extends NodeView>(spec: Pick<ResourceSpec, 'name' | 'possibleOwners' | 'health'>, nodes: readonly N[]): N[] {
  return nodes.filter((node) => isLive(node) && isAllowed(spec, node.name) && passesChecks(spec, node) && !isBanned(spec, node)).sort((a, b) => compareNames(a.name, b.name));
}

/** The first eligible preferred owner in the operator's order, or null. */
export function bestPreferredNode(spec: PlacementSpec, nodes: readonly NodeView[], exclude: readonly NodeName[] = []): NodeName | null {
  // Asked for every resource on every pass: a walk of the few preferred names, no list built or sorted.
  for (const name of spec.preferredOwners) {
    if (exclude.includes(name) || !isAllowed(spec, name)) continue;
    const node = nodes.find((candidate) => candidate.name === name);
    if (node !== undefined && isLive(node) && passesChecks(spec, node) && !isBanned(spec, node)) return name;
  }
  return null;
}

/** The least loaded of `candidates` (already in name order, so the first wins a tie). */
function leastLoaded(candidates: readonly NodeName[], loadOf: (node: NodeName) => number): NodeName | null {
  let best: NodeName | null = null;
  let bestLoad = Infinity;
  for (const name of candidates) {
    const load = loadOf(name);
    if (load < bestLoad) {
      best = name;
      bestLoad = load;
    }
  }
  return best;
}

/** Where the resource should run: see the rules at the top of this file. Null when no node is eligible. */
export function bestNode(spec: PlacementSpec, nodes: readonly NodeView[], options: BestNodeOptions = {}): NodeName | null {
  const exclude = options.exclude ?? [];
  const preferred = bestPreferredNode(spec, nodes, exclude);
  if (preferred !== null) return preferred;
  const candidates = eligibleNodes(spec, nodes)
    .map((node) => node.name)
    .filter((name) => !exclude.includes(name));
  const loads = options.loads ?? {};
  return leastLoaded(candidates, (node) => ownEntry(loads, node) ?? 0);
}

/** Resources held per node, counted from the ownership map. */
export function countLoads(owners: Owners): Record<NodeName, number> {
  const counts = new Map<NodeName, number>();
  for (const owner of Object.values(owners)) {
    if (owner !== null && owner !== undefined) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return Object.fromEntries(counts);
}

/** Nodes that may hold every one of `members` (a group): live, allowed, healthy and not banned for each, in name order. */
export function eligibleForAll<N extends NodeView>(members: readonly Pick<ResourceSpec, 'name' | 'possibleOwners' | 'health'>[], nodes: readonly N[]): N[] {
  return nodes
    .filter((node) => isLive(node) && members.every((spec) => isAllowed(spec, node.name) && passesChecks(spec, node) && !isBanned(spec, node)))
    .sort((a, b) => compareNames(a.name, b.name));
}

/** What placeBatch knows of groups beyond the batch (groups.ts). */
export interface GroupFacts {
  /** Each group's enabled members, all of them (a batch may hold only some): the group goes where all may go. */
  members: ReadonlyMap<GroupName, readonly PlacementSpec[]>;
  /** Where each group's members are owned now (apart-from). */
  nodes: ReadonlyMap<GroupName, ReadonlySet<NodeName>>;
}

/** The groups of `specs` and where their members are owned (see GroupFacts); `active`: each group's enabled members. */
export function groupFactsOf(specs: ReadonlyMap<ResourceName, ResourceSpec>, ownerOf: (resource: ResourceName) => NodeName | null): GroupFacts & { active: Map<GroupName, ResourceSpec[]> } {
  const active = activeGroupsOf(specs.values());
  return { active, members: active, nodes: active.size === 0 ? new Map() : groupNodes(specs, ownerOf) };
}

/** One placement decision: a resource alone, or the members of one group in the batch. */
interface Unit {
  specs: PlacementSpec[];
  /** Group units: the members whose rules bind the unit, its preference and the groups it keeps apart from. */
  group?: { name: GroupName; members: readonly PlacementSpec[]; preference: NodeName[]; apart: GroupName[] };
}

/**
 * Places a batch of resources with running loads (rules at the top of this file). Returns each
 * resource's node, or null when no node is eligible for it. Does not change `loads`. The members of a
 * group in the batch are placed as one (groups.ts): one node that may hold every member of the group,
 * by the group's preference, kept off the nodes of the groups it is apart from when it can.
 */
export function placeBatch(
  specs: readonly PlacementSpec[],
  nodes: readonly NodeView[],
  loads: Loads,
  exclude: readonly NodeName[] = [],
  groups?: GroupFacts,
): Map<ResourceName, NodeName | null> {
  const running = new Map<NodeName, number>(Object.entries(loads));
  const placed = new Map<ResourceName, NodeName | null>();
  const placedGroups = new Map<GroupName, NodeName>();
  const assign = (unit: Unit, node: NodeName | null): void => {
    for (const spec of unit.specs) placed.set(spec.name, node);
    if (node !== null) running.set(node, (running.get(node) ?? 0) + unit.specs.length);
    if (node !== null && unit.group !== undefined) placedGroups.set(unit.group.name, node);
  };
  // Apart-from: the nodes of the other groups, now and as this batch places them.
  const awayFrom = (unit: Unit, candidates: NodeName[]): NodeName[] => {
    if (unit.group === undefined || unit.group.apart.length === 0) return candidates;
    const taken = new Set<NodeName>();
    for (const other of unit.group.apart) {
      for (const node of groups?.nodes.get(other) ?? []) taken.add(node);
      const now = placedGroups.get(other);
      if (now !== undefined) taken.add(now);
    }
    const free = candidates.filter((node) => !taken.has(node));
    return free.length > 0 ? free : candidates;
  };

  const units: Unit[] = [];
  const byGroup = new Map<GroupName, Unit>();
  for (const spec of [...specs].sort((a, b) => compareNames(a.name, b.name))) {
    if (spec.group === undefined) {
      units.push({ specs: [spec] });
      continue;
    }
    let unit = byGroup.get(spec.group);
    if (unit === undefined) {
      const members = groups?.members.get(spec.group) ?? specs.filter((other) => other.group === spec.group);
      unit = { specs: [], group: { name: spec.group, members, preference: groupPreference(members), apart: apartGroups(spec.group, members, groups?.members) } };
      byGroup.set(spec.group, unit);
      units.push(unit);
    }
    unit.specs.push(spec);
  }

  const balanced: Array<{ unit: Unit; candidates: NodeName[] }> = [];
  for (const unit of units) {
    if (unit.group === undefined) {
      const spec = unit.specs[0]!;
      const preferred = bestPreferredNode(spec, nodes, exclude);
      if (preferred !== null) {
        assign(unit, preferred);
        continue;
      }
      const candidates = eligibleNodes(spec, nodes)
        .map((node) => node.name)
        .filter((name) => !exclude.includes(name));
      balanced.push({ unit, candidates });
      continue;
    }
    const candidates = eligibleForAll(unit.group.members, nodes)
      .map((node) => node.name)
      .filter((name) => !exclude.includes(name));
    const allowed = awayFrom(unit, candidates);
    const preferred = unit.group.preference.find((name) => allowed.includes(name));
    if (preferred !== undefined) assign(unit, preferred);
    else balanced.push({ unit, candidates });
  }
  // Stable sort: equal constraint keeps name order.
  balanced.sort((a, b) => a.candidates.length - b.candidates.length);
  for (const { unit, candidates } of balanced) assign(unit, leastLoaded(awayFrom(unit, candidates), (node) => running.get(node) ?? 0));
  return placed;
}
