// State shown with colour AND text (never colour alone), so it reads in any theme and for anyone.
import type { NodeState, ResourceState } from '../../../preload/contract/domain';
import { NODE_STATE_LABELS, RESOURCE_STATE_LABELS } from '../model/format';

export function ResourceStateBadge({ state }: { state: ResourceState }) {
  return (
    <span className={`badge state-${state}`}>
      <span className="badge-dot" aria-hidden="true" />
      {RESOURCE_STATE_LABELS[state]}
    </span>
  );
}

export function NodeStateBadge({ state }: { state: NodeState }) {
  return (
    <span className={`badge node-${state}`}>
      <span className="badge-dot" aria-hidden="true" />
      {NODE_STATE_LABELS[state]}
    </span>
  );
}
