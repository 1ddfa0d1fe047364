// Groups on the move (preload/contract/groups.ts): where a split group gathers, and when a whole group
// fails back. Placement, drain and health moves keep a group together through placeBatch (placement.ts);
// these are the two decisions that look at a group as a whole on the node that holds it.
//
// Rules:
// - A group is split when its members are owned by more than one node: a member failed over alone (its
//   node was banned from it, a resource joined the group, two agents raced). Its home is the node that
//   holds most of its members among those that may hold all of them, ties by the group's preference,
//   then by name; when no holder may hold all of them, the node placement gives the whole group. Every
//   holder but the home moves its members there, as one batch, with the usual handoff.
// - A whole group fails back when its preference names a node before its owner (an owner it does not
//   name ranks last) that may hold every member and holds no group this one is kept apart from, and
//   every member's failback policy allows it now. All members go in one batch.
// - A whole group on the same node as a group it is kept apart from moves away when another node may
//   hold it and holds neither: the group that named the other yields (of two that named each other, the
//   one whose name sorts later), so exactly one of them moves. Failback never brings it back there.
import type { NodeName, ResourceName, ResourceSpec } from './model';
import { compareNames, eligibleForAll, placeBatch, type GroupFacts, type Loads, type NodeView } from './placement';
import { apartGroups, apartOf, groupPreference, type GroupName } from '../../preload/contract/groups';
import { failbackAllowedAt } from './failback';

export interface GroupMove {
  resource: ResourceName;
  to: NodeName;
}

/** The rank of `node` in a preference, unnamed nodes last. */
function rankIn(preference: readonly NodeName[], node: NodeName): number {
  const rank = preference.indexOf(node);
  return rank === -1 ? preference.length : rank;
}

/** Where a split group gathers (rules at the top of this file); null when no node may hold it. */
export function groupHome(members: readonly ResourceSpec[], ownerOf: (resource: ResourceName) => NodeName | null, nodes: readonly NodeView[], loads: Loads, facts: GroupFacts): NodeName | null {
  const held = new Map<NodeName, number>();
  for (const member of members) {
    const owner = ownerOf(member.name);
    if (owner !== null) held.set(owner, (held.get(owner) ?? 0) + 1);
  }
  const preference = groupPreference(members);
  const able = new Set(eligibleForAll(members, nodes).map((node) => node.name));
  const holders = [...held.keys()].filter((node) => able.has(node));
  holders.sort((a, b) => held.get(b)! - held.get(a)! || rankIn(preference, a) - rankIn(preference, b) || compareNames(a, b));
  if (holders.length > 0) return holders[0]!;
  return placeBatch(members, nodes, loads, [], facts).get(members[0]!.name) ?? null;
}

/**
 * The moves `me` asks for to gather its split groups: each member it owns goes to its group's home.
 * `groups`: each group's enabled members (activeGroupsOf).
 */
export function planGathering(me: NodeName, groups: ReadonlyMap<GroupName, readonly ResourceSpec[]>, ownerOf: (resource: ResourceName) => NodeName | null, nodes: readonly NodeView[], loads: Loads, facts: GroupFacts): GroupMove[] {
  const moves: GroupMove[] = [];
  for (const members of groups.values()) {
    const owners = new Set(members.map((member) => ownerOf(member.name)).filter((owner): owner is NodeName => owner !== null));
    if (owners.size < 2 || !owners.has(me)) continue;
    const home = groupHome(members, ownerOf, nodes, loads, facts);
    if (home === null || home === me) continue;
    for (const member of members) if (ownerOf(member.name) === me) moves.push({ resource: member.name, to: home });
  }
  return moves;
}

/** The node a whole group held by `owner` fails back to now, or null (rules at the top of this file). */
export function groupFailbackTarget(members: readonly ResourceSpec[], owner: NodeName, nodes: readonly NodeView[], facts: GroupFacts, now: Date): NodeName | null {
  const preference = groupPreference(members);
  if (preference.length === 0) return null;
  const self = nodes.find((node) => node.name === owner);
  if (self === undefined || self.state !== 'up') return null;
  const apart = new Set<NodeName>();
  for (const other of apartGroups(members[0]?.group ?? '', members, facts.members)) for (const node of facts.nodes.get(other) ?? []) apart.add(node);
  const able = new Set(eligibleForAll(members, nodes).map((node) => node.name));
  const target = preference.find((node) => able.has(node) && !apart.has(node));
  if (target === undefined || target === owner || rankIn(preference, target) > rankIn(preference, owner)) return null;
  return members.every((member) => failbackAllowedAt(member.failback, now)) ? target : null;
}

/**
 * The resources `node` holds that must move with `leaving` (health moves): `leaving` and, for each of
 * them in a group, every other member the node holds. In name order, each once.
 */
export function withGroupMates<S extends ResourceSpec>(leaving: readonly S[], groups: ReadonlyMap<GroupName, readonly S[]>, ownerOf: (resource: ResourceName) => NodeName | null, node: NodeName): S[] {
  const out = new Map<ResourceName, S>();
  for (const spec of leaving) {
    out.set(spec.name, spec);
    if (spec.group === undefined) continue;
    for (const member of groups.get(spec.group) ?? []) if (ownerOf(member.name) === node) out.set(member.name, member);
  }
  return [...out.values()].sort((a, b) => compareNames(a.name, b.name));
}

/** The moves `me` asks for so that the groups it holds keep apart (rules at the top of this file). */
export function planApart(me: NodeName, groups: ReadonlyMap<GroupName, readonly ResourceSpec[]>, ownerOf: (resource: ResourceName) => NodeName | null, nodes: readonly NodeView[], loads: Loads, facts: GroupFacts): GroupMove[] {
  const moves: GroupMove[] = [];
  for (const [name, members] of groups) {
    if (!members.every((member) => ownerOf(member.name) === me)) continue;
    const named = apartOf(members);
    const yields = named.some((other) => facts.nodes.get(other)?.has(me) === true && (!apartOf(groups.get(other) ?? []).includes(name) || name > other));
    if (!yields) continue;
    const to = placeBatch(members, nodes, loads, [me], facts).get(members[0]!.name) ?? null;
    const clash = (node: NodeName): boolean => apartGroups(name, members, facts.members).some((other) => facts.nodes.get(other)?.has(node) === true);
    if (to === null || clash(to)) continue;
    for (const member of members) moves.push({ resource: member.name, to });
  }
  return moves;
}
