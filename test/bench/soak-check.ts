// The soak's placement check: every resource online on exactly one node — the one `ipfo status
// --json` names — according to the kernel's addresses in every node namespace.
import type { LabCluster } from '../lab/cluster';
import type { EndProblem } from './soak-report';

export interface SoakResource {
  name: string;
  ip: string;
}

export interface StatusRow {
  name: string;
  state: string;
  owner: string | null;
  failure?: unknown;
}

/** Pure: the resources that are not online on exactly the node status names, and why. */
export function placementProblems(resources: readonly SoakResource[], status: readonly StatusRow[], addressesByNode: ReadonlyMap<string, ReadonlySet<string>>): EndProblem[] {
  const problems: EndProblem[] = [];
  for (const { name, ip } of resources) {
    const row = status.find((r) => r.name === name);
    const holders = [...addressesByNode].filter(([, addresses]) => addresses.has(ip)).map(([node]) => node);
    const add = (problem: string): void => void problems.push({ resource: name, ip, problem });
    if (row === undefined) add('missing from status');
    else if (row.state !== 'online') add(`status ${row.state}${row.failure === undefined || row.failure === null ? '' : ` (${JSON.stringify(row.failure)})`}; on ${holders.join(',') || 'no node'}`);
    else if (holders.length !== 1) add(`status online on ${String(row.owner)}, but the address is on ${holders.join(',') || 'no node'}`);
    else if (holders[0] !== row.owner) add(`status names ${String(row.owner)}, the address is on ${holders[0]}`);
  }
  return problems;
}

/** Status from the agent on `via`, addresses from every node's lan0, judged by placementProblems. */
export async function checkPlacement(cluster: LabCluster, via: string, resources: readonly SoakResource[]): Promise<EndProblem[]> {
  const status = await cluster.status(via);
  const addressesByNode = new Map<string, Set<string>>();
  for (const node of cluster.nodes) addressesByNode.set(node, new Set((await cluster.lab.addresses(node)).map((a) => a.split('/')[0]!)));
  return placementProblems(resources, status.resources as unknown as StatusRow[], addressesByNode);
}
