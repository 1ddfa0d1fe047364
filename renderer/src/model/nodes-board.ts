// The Nodes view's columns: every node with the resources it holds, plus the resources nobody holds.
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { compareIpv4 } from '../../../preload/contract/ipv4';
import { matchesResource, parseResourceQuery } from './resource-table';

export interface NodeColumn {
  node: NodeRecord;
  resources: ResourceView[];
}

export interface Board {
  columns: NodeColumn[];
  /** Resources with no owner (offline, failed, or owned by a node the cluster no longer lists). */
  unowned: ResourceView[];
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function buildBoard(nodes: Iterable<NodeRecord>, resources: Iterable<ResourceView>, filterText = ''): Board {
  const query = parseResourceQuery(filterText);
  const columns = [...nodes].sort((a, b) => compareNames(a.name, b.name)).map((node) => ({ node, resources: [] as ResourceView[] }));
  const byName = new Map(columns.map((column) => [column.node.name, column]));
  const unowned: ResourceView[] = [];
  for (const resource of resources) {
    if (query.terms.length > 0 && !matchesResource(resource, query)) continue;
    const owner = resource.status.owner;
    const column = owner === null ? undefined : byName.get(owner);
    if (column === undefined) unowned.push(resource);
    else column.resources.push(resource);
  }
  const byAddress = (a: ResourceView, b: ResourceView): number => compareIpv4(a.ip, b.ip) || compareNames(a.name, b.name);
  for (const column of columns) column.resources.sort(byAddress);
  unowned.sort(byAddress);
  return { columns, unowned };
}
