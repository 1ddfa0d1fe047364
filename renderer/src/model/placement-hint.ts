// Which node "best" will most likely pick, so the move dialog can name it and probe from it before
// the operator commits: the agent's own placement rules (preload/contract/placement.ts) with the
// current owner excluded. The agent decides for real when the move runs.
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { bestNode, eligibleForAll, isAllowed, isBanned, isLive, passesChecks, type NodeView } from '../../../preload/contract/placement';
import { healthKey, verdictsOf } from '../../../preload/contract/health';
import { bannedResources } from '../../../preload/contract/failure-policy';

/** A node as placement sees it, with its health verdicts and bans (the agent's API carries them in the record). */
function placementView(node: NodeRecord): NodeView {
  return { name: node.name, state: node.state, verdicts: verdictsOf(node.health), banned: bannedResources(node.bans) };
}

/** Why `node` cannot take `resource` now, or null when it can. */
export function moveBlocker(resource: ResourceView, node: NodeRecord): string | null {
  if (resource.status.owner === node.name) return 'current owner';
  return holdBlocker(resource, node);
}

/**
 * Why `node` cannot take the group of `members` (all of them, as the agent moves it: groups.ts) now, or
 * null when it can: the contract's eligibleForAll, on the enabled members (a disabled one constrains
 * nothing), with the first member's reason when it refuses. 'current owner' when it holds every one.
 */
export function groupMoveBlocker(members: readonly ResourceView[], node: NodeRecord): string | null {
  const enabled = members.filter((member) => member.enabled);
  const binding = enabled.length > 0 ? enabled : members;
  if (binding.length === 0) return 'no members';
  if (binding.every((member) => member.status.owner === node.name)) return 'current owner';
  if (eligibleForAll(binding, [placementView(node)]).length > 0) return null;
  for (const member of binding) {
    const why = holdBlocker(member, node);
    if (why !== null) return binding.length === 1 ? why : `${member.name}: ${why}`;
  }
  return 'cannot hold every member';
}

/** Why `node` may not hold `resource`, whoever holds it now. */
function holdBlocker(resource: ResourceView, node: NodeRecord): string | null {
  if (!isLive(node)) return node.state;
  if (!isAllowed(resource, node.name)) return 'not a possible owner';
  if (isBanned(resource, placementView(node))) return 'banned after failures';
  if (resource.health !== undefined && !passesChecks(resource, placementView(node))) {
    return verdictsOf(node.health).has(healthKey(resource.health)) ? 'fails the health checks' : 'health not checked yet';
  }
  return null;
}

/** Resources held per node. */
export function loadsOf(resources: Iterable<ResourceView>): Map<string, number> {
  const loads = new Map<string, number>();
  for (const resource of resources) {
    const owner = resource.status.owner;
    if (owner !== null) loads.set(owner, (loads.get(owner) ?? 0) + 1);
  }
  return loads;
}

export function likelyBestNode(resource: ResourceView, nodes: Iterable<NodeRecord>, loads: ReadonlyMap<string, number>): string | null {
  const owner = resource.status.owner;
  return bestNode(resource, [...nodes].map(placementView), { exclude: owner === null ? [] : [owner], loads: Object.fromEntries(loads) });
}
