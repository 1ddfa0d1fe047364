// Groups: the addresses of one service that go together (a gateway's inside and outside addresses, a
// database's client and replication addresses), as Cluster Server's resource groups and keepalived's
// vrrp_sync_group. A group has no record of its own: each member's spec names it (`group`), and the group
// commands write every member in one store transaction, so a group is never out of step with its members
// and an agent reading the store never sees half of a change.
//
// Rules (placement.ts and main/cluster/group-moves.ts apply them):
// - The members of a group are the enabled resources whose spec names it, in name order. A disabled
//   member is released like any disabled resource and constrains nothing.
// - A node may hold the group when it may hold every member (live, allowed, healthy, not banned): the
//   group is placed, drained, failed over and failed back to such a node only, all members at once.
// - The group's preference is its members' first choices, then their second choices, and so on, in
//   member order, each node once; when every member names the same preferred owners (the usual case)
//   that is simply their list.
// - The group's apart-from list is the union of its members' lists, and apart is mutual: a group also
//   keeps away from the groups that name it. A node holding a member of one of those groups is passed
//   over while another node that may hold the group remains.
// Pure: the agents and the console read the same answers.
import type { NodeName, ResourceName, ResourceSpec } from './domain';

/** Members a group may have: a group moves in one batch and one store transaction. */
export const MAX_GROUP_MEMBERS = 32;

export type GroupName = string;

/** The part of a spec the group rules read. */
export type GroupedSpec = Pick<ResourceSpec, 'name' | 'enabled' | 'preferredOwners' | 'group' | 'apartFrom'>;

/** Every group's members (all of them, enabled or not), in name order; groups in name order. */
export function groupsOf<S extends GroupedSpec>(specs: Iterable<S>): Map<GroupName, S[]> {
  const groups = new Map<GroupName, S[]>();
  for (const spec of specs) {
    if (spec.group === undefined) continue;
    const members = groups.get(spec.group);
    if (members === undefined) groups.set(spec.group, [spec]);
    else members.push(spec);
  }
  for (const members of groups.values()) members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The enabled members of each group: what placement keeps together. */
export function activeGroupsOf<S extends GroupedSpec>(specs: Iterable<S>): Map<GroupName, S[]> {
  const groups = new Map<GroupName, S[]>();
  for (const [name, members] of groupsOf(specs)) {
    const enabled = members.filter((member) => member.enabled);
    if (enabled.length > 0) groups.set(name, enabled);
  }
  return groups;
}

/** The group's preference (rules at the top of this file). */
export function groupPreference(members: readonly Pick<ResourceSpec, 'preferredOwners'>[]): NodeName[] {
  const order: NodeName[] = [];
  const longest = Math.max(0, ...members.map((member) => member.preferredOwners.length));
  for (let rank = 0; rank < longest; rank++) {
    for (const member of members) {
      const node = member.preferredOwners[rank];
      if (node !== undefined && !order.includes(node)) order.push(node);
    }
  }
  return order;
}

/** The groups this group is kept apart from: the union of its members' lists, in name order. */
export function apartOf(members: readonly Pick<ResourceSpec, 'apartFrom' | 'group'>[]): GroupName[] {
  const names = new Set<GroupName>();
  for (const member of members) for (const name of member.apartFrom ?? []) if (name !== member.group) names.add(name);
  return [...names].sort();
}

/**
 * The groups `name` keeps off the nodes of: those its members name and those naming it (apart is mutual:
 * a group placed later keeps away from one that named it first). In name order.
 */
export function apartGroups(name: GroupName, members: readonly Pick<ResourceSpec, 'apartFrom' | 'group'>[], groups: ReadonlyMap<GroupName, readonly Pick<ResourceSpec, 'apartFrom' | 'group'>[]> | undefined): GroupName[] {
  const names = new Set(apartOf(members));
  for (const [other, otherMembers] of groups ?? []) {
    if (other !== name && otherMembers.some((member) => member.apartFrom?.includes(name) === true)) names.add(other);
  }
  return [...names].sort();
}

/** Each group's nodes: where its members are owned now. */
export function groupNodes(specs: ReadonlyMap<ResourceName, Pick<ResourceSpec, 'group'>>, ownerOf: (resource: ResourceName) => NodeName | null): Map<GroupName, Set<NodeName>> {
  const nodes = new Map<GroupName, Set<NodeName>>();
  for (const [name, spec] of specs) {
    if (spec.group === undefined) continue;
    const owner = ownerOf(name);
    if (owner === null) continue;
    const set = nodes.get(spec.group) ?? new Set<NodeName>();
    set.add(owner);
    nodes.set(spec.group, set);
  }
  return nodes;
}
