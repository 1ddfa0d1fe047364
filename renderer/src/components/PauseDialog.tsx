// Pausing (draining) a node asks first, with what the cluster would do: the agent's own drain planner
// (`plan`, as `ipfo plan --pause` prints it) — each address that would move and where, each that would
// stay and why — so an operator sees a stranded address before the drain strands it.
import { useEffect, useState } from 'react';
import type { CommandResults } from '../../../preload/contract/protocol';
import type { ConsoleApi } from '../api/console-api';
import { errorMessage } from '../model/errors';
import { plural } from '../model/format';
import { ConfirmDialog } from './ConfirmDialog';

type Plan = CommandResults['plan'];

export function PauseDialog({ api, node, onConfirm, onCancel }: { api: ConsoleApi; node: string; onConfirm: () => void; onCancel: () => void }) {
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.request('plan', { scenario: { kind: 'pause', node } }).then(
      (result) => live && setPlan(result),
      (failure: unknown) => live && setError(`The preview could not be worked out: ${errorMessage(failure)}`),
    );
    return () => {
      live = false;
    };
  }, [api, node]);
  return (
    <ConfirmDialog
      title={`Pause ${node}?`}
      confirmLabel="Pause and drain"
      error={error}
      onCancel={onCancel}
      onConfirm={onConfirm}
      message={
        plan === null ? (
          <p data-testid="pause-preview-loading">Working out what would move…</p>
        ) : (
          <div data-testid="pause-preview">
            <p>
              {plan.moves.length === 0 && plan.stays.length === 0
                ? `${node} holds no address: nothing would move.`
                : `${plural(plan.moves.length, 'address')} would move to other nodes; ${node} takes no new ones until it is resumed.`}
            </p>
            {(plan.moves.length > 0 || plan.stays.length > 0) && (
              <ul className="preview-list">
                {plan.moves.map((move) => (
                  <li key={move.resource} data-testid={`preview-${move.resource}`}>
                    <span className="mono">{move.resource}</span> → {move.to}
                  </li>
                ))}
                {plan.stays.map((stay) => (
                  <li key={stay.resource} className="preview-stays" data-testid={`preview-${stay.resource}`}>
                    <span className="mono">{stay.resource}</span> stays on {stay.node}: {stay.why}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )
      }
    />
  );
}
