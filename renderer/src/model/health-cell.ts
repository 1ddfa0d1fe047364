// A resource's Health cell in the Resources table (and on the painted first screen, cell for cell): its
// holder's verdict on the resource's checks, with where else they pass and why, from the nodes' health
// results (preload/contract/health.ts). Pure.
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { resourceHealth } from '../../../preload/contract/health';
import { bansOf } from '../../../preload/contract/failure-policy';

export interface HealthCell {
  /** What the cell says: "—" without checks. */
  label: string;
  /** The badge's class (health-passing, health-failing, health-unknown), or '' without checks. */
  className: string;
  /** The tooltip and accessible description: the last result's reason, where the checks pass, why it stays. */
  detail: string | null;
}

const NO_CHECKS: HealthCell = { label: '—', className: '', detail: null };

export function healthCell(resource: ResourceView, nodes: Iterable<NodeRecord>): HealthCell {
  const list = [...nodes];
  // Nodes banned from it after failures there (failure-policy.ts): said with or without checks.
  const bans = bansOf(resource.name, list);
  const banned = bans.length === 0 ? null : bans.map(({ node, ban }) => `banned on ${node}: ${ban.reason}`).join(' · ');
  if (resource.health === undefined) {
    return banned === null ? NO_CHECKS : { label: `${bans.map((b) => b.node).join(', ')} banned`, className: 'health-unknown', detail: banned };
  }
  const health = resourceHealth(resource, resource.status.owner, list);
  const where = health.passing.length > 0 ? `passes on ${health.passing.join(', ')}` : 'passes on no node';
  const parts = [health.reason, where, health.stuck, banned].filter((part): part is string => part !== null && part !== '');
  const detail = parts.join(' · ');
  switch (health.state) {
    case 'passing': return { label: 'Passing', className: 'health-passing', detail };
    case 'failing': return { label: health.stuck === null ? 'Failing' : 'Failing · stays', className: 'health-failing', detail };
    default: return { label: resource.status.owner === null ? 'Not held' : 'Not checked yet', className: 'health-unknown', detail };
  }
}
