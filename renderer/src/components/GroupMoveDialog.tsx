// Moving a group (issue 14 §2): pick a node that may hold every member, or "best"; the agent moves the
// members together in one batch (it probes each address itself before it takes it). Opened by a drop
// of a group card on a node column (preset to that node), by Enter on a focused group card, or from
// the group's row in the Resources table.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import type { ActionResult } from '../../../preload/contract/protocol';
import { BEST_NODE } from '../../../preload/contract/protocol';
import type { ConsoleApi } from '../api/console-api';
import { errorMessage } from '../model/errors';
import { formatDuration, plural } from '../model/format';
import { groupMoveBlocker } from '../model/placement-hint';
import { groupLocation } from '../model/table-groups';
import { ResourceStateBadge } from './Badges';
import { Dialog } from './Dialog';

export interface GroupMoveDialogProps {
  api: ConsoleApi;
  name: string;
  /** Every member of the group, live (the dialog follows them while the move runs). */
  members: readonly ResourceView[];
  nodes: ReadonlyMap<string, NodeRecord>;
  initialTarget: string;
  onClose: () => void;
}

type Phase = { kind: 'choosing' } | { kind: 'moving'; startedAt: number } | { kind: 'moved'; result: ActionResult } | { kind: 'failed'; message: string };

export function GroupMoveDialog({ api, name, members, nodes, initialTarget, onClose }: GroupMoveDialogProps) {
  const nodeList = [...nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const [target, setTarget] = useState(initialTarget);
  const [phase, setPhase] = useState<Phase>({ kind: 'choosing' });
  const blockers = new Map(nodeList.map((node) => [node.name, groupMoveBlocker(members, node)]));
  // The page checks what it sends too: "best", or a node that may hold every member now.
  const targetOk = target === BEST_NODE || blockers.get(target) === null;
  const moving = phase.kind === 'moving';
  const finished = phase.kind === 'moved';

  const commit = (event?: FormEvent): void => {
    event?.preventDefault();
    if (moving || finished || !targetOk) return;
    setPhase({ kind: 'moving', startedAt: Date.now() });
    api.request('group.move', { name, target }).then(
      (result) => setPhase({ kind: 'moved', result }),
      (error: unknown) => setPhase({ kind: 'failed', message: errorMessage(error) }),
    );
  };

  // As in the move dialog: Close takes the focus once the Move button is gone.
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (finished) closeRef.current?.focus();
  }, [finished]);

  const where = groupLocation(members).location;
  return (
    <Dialog
      title={`Move group ${name}`}
      subtitle={
        <>
          {plural(members.length, 'address')} · now {where === 'not held' ? 'held by no node' : <>on <strong>{where}</strong></>}
        </>
      }
      testId="group-move-dialog"
      onClose={onClose}
      footer={
        finished ? (
          <button type="button" className="button button-primary" data-testid="group-move-close" onClick={onClose} ref={closeRef}>
            Close
          </button>
        ) : (
          <>
            <button type="button" className="button" data-testid="group-move-cancel" onClick={onClose}>
              {moving ? 'Hide' : 'Cancel'}
            </button>
            <button type="submit" form="group-move-form" className="button button-primary" data-testid="group-move-confirm" disabled={moving || !targetOk}>
              {moving ? 'Moving…' : phase.kind === 'failed' ? 'Try again' : 'Move group'}
            </button>
          </>
        )
      }
    >
      <form id="group-move-form" className="move-form" onSubmit={commit}>
        <label className="field">
          <span className="field-label">Target node</span>
          <select className="input" data-testid="group-move-target" value={target} disabled={moving || finished} onChange={(event) => setTarget(event.target.value)} autoFocus data-autofocus>
            <option value={BEST_NODE}>Best node (the agent picks one that may hold every member)</option>
            {nodeList.map((node) => {
              const blocker = blockers.get(node.name) ?? null;
              return (
                <option key={node.name} value={node.name} disabled={blocker !== null}>
                  {node.name}
                  {blocker === null ? '' : ` — ${blocker}`}
                </option>
              );
            })}
          </select>
        </label>
      </form>

      <ul className="group-move-members" aria-label={`Members of ${name}`}>
        {members.map((member) => (
          <li key={member.name} data-testid={`group-move-member-${member.name}`}>
            <span className="strong">{member.name}</span>{' '}
            <span className="mono">
              {member.ip}/{member.prefix}
            </span>{' '}
            on {member.status.owner ?? 'no node'} <ResourceStateBadge state={member.status.state} />
          </li>
        ))}
      </ul>

      {!targetOk && !finished && <p className="callout callout-warn">{target} cannot take the group now: {blockers.get(target) ?? 'not a node of the cluster'}.</p>}
      {(moving || phase.kind === 'moved' || phase.kind === 'failed') && (
        <div className="move-progress" data-testid="group-move-progress" aria-live="polite">
          {moving && (
            <div className="progress-line">
              <span className="spinner" aria-hidden="true" />
              <span>
                Moving {name} to <strong>{target === BEST_NODE ? 'the best node' : target}</strong>, every member together…
              </span>
            </div>
          )}
          {phase.kind === 'moved' && (
            <div className={`callout callout-${phase.result.outcome === 'done' ? 'ok' : 'info'}`} data-testid="group-move-result" data-outcome={phase.result.outcome}>
              <strong>{phase.result.outcome === 'done' ? `Moved ${name}` : `Move of ${name} accepted`}</strong>
              <div className="small">
                {phase.result.detail ?? (phase.result.outcome === 'done' ? 'every member answers from its new node' : 'the agents carry it out now; follow the table')}
                {phase.result.durationMs === null ? '' : ` · total ${formatDuration(phase.result.durationMs)}`}
              </div>
            </div>
          )}
          {phase.kind === 'failed' && (
            <div className="callout callout-bad" data-testid="group-move-result" data-outcome="failed" role="alert">
              <strong>Move failed.</strong> {phase.message}
            </div>
          )}
        </div>
      )}
    </Dialog>
  );
}
