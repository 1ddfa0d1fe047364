// Moving an address: pick a node or "best"; the target probes the address first (pre-flight) and
// the verdict is shown before anything moves; then progress until the address answers from the
// new node; then the handoff time.
import { useEffect, useReducer, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { BEST_NODE } from '../../../preload/contract/protocol';
import type { ConsoleApi } from '../api/console-api';
import type { Role } from '../../../preload/contract/users';
import { errorMessage } from '../model/errors';
import { describeFailure } from '../../../preload/contract/failure-text';
import { formatDuration, plural } from '../model/format';
import { canCommit, describeMoveResult, describeProbe, initialMove, moveReducer, preflightOf, type MoveState } from '../model/move-flow';
import { likelyBestNode, moveBlocker } from '../model/placement-hint';
import { can, roleHint } from '../model/roles';
import { ResourceStateBadge } from './Badges';
import { Dialog } from './Dialog';

export interface MoveDialogProps {
  api: ConsoleApi;
  /** The session's role: the pre-flight probe runs only if it may (the move still probes itself). */
  role: Role | null;
  resource: ResourceView;
  nodes: ReadonlyMap<string, NodeRecord>;
  /** Resources held per node (the console's model counts them: console-model.ts). */
  loads: ReadonlyMap<string, number>;
  initialTarget: string;
  onClose: () => void;
}

export function MoveDialog({ api, role, resource, nodes, loads: liveLoads, initialTarget, onClose }: MoveDialogProps) {
  const ticket = useRef(0);
  // As the dialog opened: the hint and the counts stay put while the operator chooses.
  const [loads] = useState(() => liveLoads);
  const nodeList = [...nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  // Fixed when the dialog opens: after the move the owner (and so the hint) changes.
  const [best] = useState(() => likelyBestNode(resource, nodeList, loads));
  const probeNodeFor = (target: string): string | null => (target === BEST_NODE ? best : target);
  const [state, dispatch] = useReducer(moveReducer, undefined, (): MoveState => initialMove(initialTarget, null, 0));
  const [elapsed, setElapsed] = useState(0);

  const chooseTarget = (target: string): void => {
    const probeNode = probeNodeFor(target);
    const current = ++ticket.current;
    dispatch({ type: 'target', target, probeNode, ticket: current });
    if (probeNode === null) return;
    if (!can(role, 'probe')) {
      dispatch({ type: 'probe-error', ticket: current, message: roleHint(role, 'probe').toLowerCase() });
      return;
    }
    api.request('probe', { node: probeNode, ip: resource.ip }).then(
      (probe) => dispatch({ type: 'probe-result', ticket: current, probe }),
      (error: unknown) => dispatch({ type: 'probe-error', ticket: current, message: errorMessage(error) }),
    );
  };

  // The pre-flight of the preset target starts as the dialog opens.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    chooseTarget(initialTarget);
  });

  const moving = state.phase === 'moving';
  useEffect(() => {
    if (state.phase !== 'moving') return;
    const startedAt = state.startedAt;
    const timer = window.setInterval(() => setElapsed(Date.now() - startedAt), 100);
    return () => window.clearInterval(timer);
  }, [state]);

  const commit = (event?: FormEvent): void => {
    event?.preventDefault();
    if (!canCommit(state)) return;
    dispatch({ type: 'commit', at: Date.now() });
    setElapsed(0);
    api.request('resource.move', { name: resource.name, target: state.target }).then(
      (result) => dispatch({ type: 'move-result', result }),
      (error: unknown) => dispatch({ type: 'move-error', message: errorMessage(error) }),
    );
  };

  const finished = state.phase === 'moved';
  // The focused Move button is gone once the move ends: Close takes the focus, so a keyboard user is
  // not left on the page behind the dialog (autoFocus alone lost it there in Chromium).
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (finished) closeRef.current?.focus();
  }, [finished]);
  const targetNode = state.target === BEST_NODE ? null : nodes.get(state.target);
  const conflict = state.phase === 'probed' && state.probe.verdict === 'conflict';

  return (
    <Dialog
      title={`Move ${resource.name}`}
      subtitle={
        <>
          <span className="mono">
            {resource.ip}/{resource.prefix}
          </span>{' '}
          · now {resource.status.owner === null ? 'held by no node' : <>on <strong>{resource.status.owner}</strong></>} · <ResourceStateBadge state={resource.status.state} />
        </>
      }
      testId="move-dialog"
      onClose={onClose}
      footer={
        finished ? (
          <button type="button" className="button button-primary" data-testid="move-close" onClick={onClose} ref={closeRef}>
            Close
          </button>
        ) : (
          <>
            <button type="button" className="button" data-testid="move-cancel" onClick={onClose}>
              {moving ? 'Hide' : 'Cancel'}
            </button>
            <button
              type="submit"
              form="move-form"
              className={conflict ? 'button button-danger' : 'button button-primary'}
              data-testid="move-confirm"
              disabled={!canCommit(state)}
            >
              {moving ? 'Moving…' : state.phase === 'failed' ? 'Try again' : conflict ? 'Move anyway' : 'Move'}
            </button>
          </>
        )
      }
    >
      <form id="move-form" className="move-form" onSubmit={commit}>
        <label className="field">
          <span className="field-label">Target node</span>
          <select
            className="input"
            data-testid="move-target"
            value={state.target}
            disabled={moving || finished}
            onChange={(event) => chooseTarget(event.target.value)}
            autoFocus
            data-autofocus
          >
            <option value={BEST_NODE}>{best === null ? 'Best node (none eligible now)' : `Best node (likely ${best})`}</option>
            {nodeList.map((node) => {
              const blocker = moveBlocker(resource, node);
              return (
                <option key={node.name} value={node.name} disabled={blocker !== null}>
                  {node.name}
                  {blocker === null ? ` — ${plural(loads.get(node.name) ?? 0, 'address')}` : ` — ${blocker}`}
                </option>
              );
            })}
          </select>
        </label>
      </form>

      <Preflight state={state} ip={resource.ip} />

      {(moving || finished || state.phase === 'failed') && (
        <div className="move-progress" data-testid="move-progress" aria-live="polite">
          {moving && (
            <>
              <div className="progress-line">
                <span className="spinner" aria-hidden="true" />
                <span>
                  Moving to <strong>{state.target === BEST_NODE ? (best ?? 'the best node') : state.target}</strong>: release, probe, register, announce…
                </span>
                <span className="progress-time">{formatDuration(elapsed)}</span>
              </div>
              <div className="progress-bar" aria-hidden="true">
                <div className="progress-bar-fill" />
              </div>
              <p className="muted small">
                Live: <ResourceStateBadge state={resource.status.state} /> on {resource.status.owner ?? 'no node'}
              </p>
            </>
          )}
          {state.phase === 'moved' && <MoveOutcome state={state} />}
          {state.phase === 'failed' && (
            <div className="callout callout-bad" data-testid="move-result" data-outcome="failed" role="alert">
              <strong>Move failed.</strong> {state.message}
              {resource.status.failure !== null && <div className="small">Resource: {describeFailure(resource.status.failure)}</div>}
            </div>
          )}
        </div>
      )}
      {targetNode !== undefined && targetNode !== null && targetNode.state !== 'up' && <p className="callout callout-warn">{targetNode.name} is {targetNode.state}.</p>}
    </Dialog>
  );
}

function Preflight({ state, ip }: { state: MoveState; ip: string }) {
  let body: ReactNode;
  let tone = 'info';
  const found = preflightOf(state);
  if (state.phase === 'idle') {
    tone = 'warn';
    body = <span>No node can take {ip} now: nothing to probe from. The agent will refuse the move.</span>;
  } else if (state.phase === 'probing') {
    body = (
      <span className="progress-line">
        <span className="spinner" aria-hidden="true" />
        <span>
          {state.probeNode} is probing {ip} (ARP, changes nothing)…
        </span>
      </span>
    );
  } else if (found.kind === 'probe') {
    const verdict = describeProbe(found.probe);
    tone = verdict.tone;
    body = (
      <>
        <strong data-testid="preflight-verdict" data-verdict={found.probe.verdict} data-node={found.probe.node}>
          {verdict.headline}
        </strong>
        <span className="small">{verdict.detail}</span>
      </>
    );
  } else if (found.kind === 'unavailable') {
    tone = 'warn';
    body = (
      <>
        <strong data-testid="preflight-verdict" data-verdict="unavailable">
          Pre-flight not available
        </strong>
        <span className="small">
          {found.probeNode}: {found.message}. The move still probes before it takes the address.
        </span>
      </>
    );
  } else return null;
  return (
    <div className={`preflight tone-${tone}`} data-testid="move-preflight" aria-live="polite">
      <span className="preflight-label">Pre-flight</span>
      <div className="preflight-body">{body}</div>
    </div>
  );
}

function MoveOutcome({ state }: { state: Extract<MoveState, { phase: 'moved' }> }) {
  const verdict = describeMoveResult(state.result, state.target);
  return (
    <div
      className={`callout callout-${verdict.tone === 'ok' ? 'ok' : 'info'}`}
      data-testid="move-result"
      data-outcome={state.result.outcome}
      data-handoff-ms={state.result.handoffMs ?? undefined}
    >
      {state.result.handoffMs !== null && (
        <span className="handoff-figure" title="Client-visible gap of the handoff">
          <span className="handoff-label">handoff</span> {formatDuration(state.result.handoffMs)}
        </span>
      )}
      <strong>{verdict.headline}</strong>
      <div className="small">{verdict.detail}</div>
    </div>
  );
}
