// Which node "best" will most likely pick, so the move dialog can name it and probe from it before
// the operator commits. Mirrors main/cluster/placement.ts bestNode (which the renderer may not
// import): the first live allowed preferred owner, else the least loaded live allowed node, ties by
// name; the current owner excluded. The agent decides for real when the move runs.
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isAllowedOn(resource: Pick<ResourceView, 'possibleOwners'>, node: string): boolean {
  return resource.possibleOwners.length === 0 || resource.possibleOwners.includes(node);
}

/** Why `node` cannot take `resource` now, or null when it can. */
export function moveBlocker(resource: ResourceView, node: NodeRecord): string | null {
  if (resource.status.owner === node.name) return 'current owner';
  if (node.state !== 'up') return node.state;
  if (!isAllowedOn(resource, node.name)) return 'not a possible owner';
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
  const eligible = [...nodes]
    .filter((node) => moveBlocker(resource, node) === null)
    .map((node) => node.name)
    .sort(compareNames);
  const preferred = resource.preferredOwners.find((name) => eligible.includes(name));
  if (preferred !== undefined) return preferred;
  let best: string | null = null;
  let bestLoad = Infinity;
  for (const name of eligible) {
    const load = loads.get(name) ?? 0;
    if (load < bestLoad) {
      best = name;
      bestLoad = load;
    }
  }
  return best;
}
