// The Nodes board: one column per node holding its addresses as cards. Drag a card onto another
// node to move it there (the move dialog opens preset to that node, so the pre-flight is shown
// before anything moves); pause (drain) and resume nodes; down nodes are marked unmistakably. A role
// that may not move or pause (a viewer) sees the board only: cards neither drag nor take the focus.
import { memo, useDeferredValue, useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { formatCount, formatRelative, formatTimestamp, plural } from '../model/format';
import { buildBoard } from '../model/nodes-board';
import { moveBlocker } from '../model/placement-hint';
import type { NodeActions, ResourceActions } from './actions';
import { NodeStateBadge, ResourceStateBadge } from './Badges';
import { SearchIcon } from './ResourcesView';

/** Cards drawn per column; a busier node shows a count and asks for a filter (the table has them all). */
const MAX_CARDS = 200;
const DRAG_TYPE = 'application/x-ipfo-resource';

export interface NodesViewProps {
  nodes: ReadonlyMap<string, NodeRecord>;
  resources: ReadonlyMap<string, ResourceView>;
  now: number;
  busy: ReadonlySet<string>;
  resourceActions: ResourceActions;
  nodeActions: NodeActions;
}

export function NodesView({ nodes, resources, now, busy, resourceActions, nodeActions }: NodesViewProps) {
  const [filter, setFilter] = useState('');
  const deferredFilter = useDeferredValue(filter);
  const board = useMemo(() => buildBoard(nodes.values(), resources.values(), deferredFilter), [nodes, resources, deferredFilter]);
  const [dragging, setDragging] = useState<string | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const draggedResource = dragging === null ? undefined : resources.get(dragging);

  const dragHandlers = useMemo<DragHandlers>(() => ({
    onDragStart: (name: string, event: DragEvent) => {
      event.dataTransfer.setData(DRAG_TYPE, name);
      event.dataTransfer.setData('text/plain', name);
      event.dataTransfer.effectAllowed = 'move';
      setDragging(name);
    },
    onDragEnd: () => {
      setDragging(null);
      setDropTarget(null);
    },
  }), []);

  const onDrop = (node: NodeRecord, event: DragEvent): void => {
    event.preventDefault();
    const name = event.dataTransfer.getData(DRAG_TYPE) || dragging;
    setDragging(null);
    setDropTarget(null);
    const resource = name === null || name === '' ? undefined : resources.get(name);
    if (resource === undefined || moveBlocker(resource, node) !== null) return;
    resourceActions.openMove?.(resource.name, node.name);
  };

  if (nodes.size === 0) {
    return (
      <section className="view" aria-label="Nodes">
        <div className="empty">
          <p className="empty-title">No nodes have joined the cluster</p>
          <p>Each cluster node runs <code>ipfo agent</code>; it appears here once it registers with the cluster store.</p>
        </div>
      </section>
    );
  }

  return (
    <section className="view nodes-view" aria-label="Nodes">
      <div className="toolbar">
        <div className="search">
          <SearchIcon />
          <input
            type="search"
            className="input search-input"
            placeholder="Filter addresses on the board…"
            aria-label="Filter addresses on the board"
            data-testid="node-filter"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
          />
        </div>
        <span className="toolbar-count">
          {plural(nodes.size, 'node')} · {formatCount([...nodes.values()].filter((n) => n.state === 'up').length)} up
        </span>
        <span className="toolbar-spacer" />
        {resourceActions.openMove !== null && (
          <span className="toolbar-hint">
            Drag an address onto another node to move it, or focus a card and press <kbd>Enter</kbd>.
          </span>
        )}
      </div>
      <div className="board" data-testid="node-board">
        {board.columns.map(({ node, resources: held }) => {
          const blocker = draggedResource === undefined ? null : moveBlocker(draggedResource, node);
          const accepts = draggedResource !== undefined && blocker === null;
          return (
            <div
              key={node.name}
              className={`node-column node-column-${node.state}${accepts ? ' drop-ok' : ''}${dropTarget === node.name && accepts ? ' drop-hover' : ''}${draggedResource !== undefined && !accepts ? ' drop-no' : ''}`}
              data-testid={`node-${node.name}`}
              data-state={node.state}
              aria-label={`Node ${node.name}, ${node.state}`}
              role="region"
              onDragOver={(event) => {
                if (!accepts) return;
                event.preventDefault();
                event.dataTransfer.dropEffect = 'move';
                if (dropTarget !== node.name) setDropTarget(node.name);
              }}
              onDragLeave={(event) => {
                if (!event.currentTarget.contains(event.relatedTarget as Node | null) && dropTarget === node.name) setDropTarget(null);
              }}
              onDrop={(event) => onDrop(node, event)}
            >
              <NodeHeader node={node} count={held.length} now={now} actions={nodeActions} busy={busy.has(`node:${node.name}`)} />
              {draggedResource !== undefined && blocker !== null && blocker !== 'current owner' && <div className="drop-note">cannot take it: {blocker}</div>}
              <CardList resources={held} busy={busy} actions={resourceActions} drag={dragHandlers} dragging={dragging} />
            </div>
          );
        })}
        <div className="node-column node-column-unowned" data-testid="node-unowned" role="region" aria-label="Addresses held by no node">
          <header className="node-head">
            <div className="node-title">
              <span className="node-name">Not held</span>
              <span className="node-count">{formatCount(board.unowned.length)}</span>
            </div>
            <p className="node-meta">Offline, failed, or waiting for a node</p>
          </header>
          <CardList resources={board.unowned} busy={busy} actions={resourceActions} drag={dragHandlers} dragging={dragging} />
        </div>
      </div>
    </section>
  );
}

function NodeHeader({ node, count, now, actions, busy }: { node: NodeRecord; count: number; now: number; actions: NodeActions; busy: boolean }) {
  const macs = Object.entries(node.macs);
  return (
    <header className="node-head">
      <div className="node-title">
        <span className="node-name">{node.name}</span>
        <NodeStateBadge state={node.state} />
        <span className="node-count" title={plural(count, 'address')}>
          {formatCount(count)}
        </span>
      </div>
      {node.state === 'down' && (
        <p className="node-down-banner" data-testid={`node-down-${node.name}`}>
          Node down — last heartbeat {formatRelative(node.lastSeen, now)}
        </p>
      )}
      <div className="node-meta">
        {node.state !== 'down' && <span title={formatTimestamp(node.lastSeen)}>seen {formatRelative(node.lastSeen, now)}</span>}
        <span>agent {node.agentVersion || '?'}</span>
      </div>
      <NodeHealthLine node={node} />
      {macs.length > 0 && (
        <ul className="node-macs">
          {macs.map(([ifname, mac]) => (
            <li key={ifname}>
              <span className="muted">{ifname}</span> <span className="mono">{mac}</span>
            </li>
          ))}
        </ul>
      )}
      <NodeButtons node={node} actions={actions} busy={busy} />
    </header>
  );
}

/** What the node's health checks say (one verdict per profile it runs): how many pass, and why the others fail. */
function NodeHealthLine({ node }: { node: NodeRecord }) {
  const results = node.health ?? [];
  if (results.length === 0 || node.state === 'down') return null;
  const failing = results.filter((result) => !result.healthy);
  const passing = results.length - failing.length;
  const summary = failing.length === 0 ? `checks passing (${formatCount(passing)})` : `checks: ${formatCount(passing)} passing, ${formatCount(failing.length)} failing`;
  return (
    <p className={`node-health${failing.length > 0 ? ' node-health-failing' : ''}`} data-testid={`node-health-${node.name}`} title={failing.map((result) => result.reason).join('\n') || undefined}>
      {summary}
      {failing.length > 0 && <span className="node-health-reason"> — {failing[0]!.reason}</span>}
    </p>
  );
}

/** Pause or resume, whichever the node's state calls for, when the role may run it. */
function NodeButtons({ node, actions, busy }: { node: NodeRecord; actions: NodeActions; busy: boolean }) {
  const { pause, resume } = actions;
  if (node.state === 'paused') {
    if (resume === null) return null;
    return (
      <div className="node-actions">
        <button type="button" className="button button-small" data-testid={`resume-${node.name}`} disabled={busy} onClick={() => resume(node.name)}>
          Resume
        </button>
      </div>
    );
  }
  if (pause === null) return null;
  return (
    <div className="node-actions">
      <button
        type="button"
        className="button button-small"
        data-testid={`pause-${node.name}`}
        disabled={busy || node.state === 'down'}
        title="Drain: move every address to its best alternative; the node takes no new ones"
        onClick={() => pause(node.name)}
      >
        {busy ? 'Draining…' : 'Pause (drain)'}
      </button>
    </div>
  );
}

interface DragHandlers {
  onDragStart: (name: string, event: DragEvent) => void;
  onDragEnd: () => void;
}

function CardList({ resources, busy, actions, drag, dragging }: { resources: ResourceView[]; busy: ReadonlySet<string>; actions: ResourceActions; drag: DragHandlers; dragging: string | null }) {
  const shown = resources.length > MAX_CARDS ? resources.slice(0, MAX_CARDS) : resources;
  return (
    <div className="card-list">
      {shown.map((resource) => (
        <Card key={resource.name} resource={resource} busy={busy.has(resource.name)} actions={actions} drag={drag} dragging={dragging === resource.name} />
      ))}
      {resources.length > MAX_CARDS && <p className="card-more">+{formatCount(resources.length - MAX_CARDS)} more — filter to narrow</p>}
      {resources.length === 0 && <p className="card-none">No addresses</p>}
    </div>
  );
}

const Card = memo(function Card({ resource, busy, actions, drag, dragging }: { resource: ResourceView; busy: boolean; actions: ResourceActions; drag: DragHandlers; dragging: boolean }) {
  const { openMove } = actions;
  const className = `card state-edge-${resource.status.state}${dragging ? ' dragging' : ''}${busy ? ' busy' : ''}`;
  // A card is a control only for a role that may move it (otherwise its text says it all).
  const control =
    openMove === null
      ? {}
      : {
          draggable: true,
          tabIndex: 0,
          role: 'button',
          'aria-label': `${resource.name} ${resource.ip}, ${resource.status.state}. Enter to move.`,
          onDragStart: (event: DragEvent) => drag.onDragStart(resource.name, event),
          onDragEnd: drag.onDragEnd,
          onDoubleClick: () => openMove(resource.name),
          onKeyDown: (event: KeyboardEvent) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              openMove(resource.name);
            }
          },
        };
  return (
    <div className={className} data-testid={`card-${resource.name}`} data-state={resource.status.state} {...control}>
      <div className="card-top">
        <span className="card-name">{resource.name}</span>
        <ResourceStateBadge state={resource.status.state} />
      </div>
      <div className="card-address mono">
        {resource.ip}
        <span className="muted">/{resource.prefix}</span>
      </div>
    </div>
  );
});
