// The Nodes board: one column per node holding its addresses as cards. Drag a card onto another
// node to move it there (the move dialog opens preset to that node, so the pre-flight is shown
// before anything moves); pause (drain) and resume nodes; down nodes are marked unmistakably. A role
// that may not move or pause (a viewer) sees the board only: cards neither drag nor take the focus.
// The members of a group a node holds are one group card, which drags as a unit (group.move): a
// column accepts it only where the contract's eligibleForAll lets the node hold every member.
import { memo, useDeferredValue, useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { formatCount, formatRelative, formatTimestamp, plural } from '../model/format';
import { boardCards, buildBoard, limitCards } from '../model/nodes-board';
import { groupMoveBlocker, moveBlocker } from '../model/placement-hint';
import { groupLocation, groupState } from '../model/table-groups';
import { groupsOf } from '../../../preload/contract/groups';
import type { GroupActions, NodeActions, ResourceActions } from './actions';
import { NodeStateBadge, ResourceStateBadge } from './Badges';
import { SearchIcon } from './ResourcesView';

/** Cards drawn per column; a busier node shows a count and asks for a filter (the table has them all). */
const MAX_CARDS = 200;
const DRAG_TYPE = 'application/x-ipfo-resource';
const GROUP_DRAG_TYPE = 'application/x-ipfo-group';
const NO_GROUP_ACTIONS: GroupActions = { role: null, openGroupMove: null };

/** What is being dragged: an address alone or a whole group. */
type Dragged = { kind: 'resource'; name: string } | { kind: 'group'; name: string };

export interface NodesViewProps {
  nodes: ReadonlyMap<string, NodeRecord>;
  resources: ReadonlyMap<string, ResourceView>;
  now: number;
  busy: ReadonlySet<string>;
  resourceActions: ResourceActions;
  nodeActions: NodeActions;
  /** What the session may do with a group (drag its card, Enter on it). */
  groupActions?: GroupActions;
}

export function NodesView({ nodes, resources, now, busy, resourceActions, nodeActions, groupActions = NO_GROUP_ACTIONS }: NodesViewProps) {
  const [filter, setFilter] = useState('');
  const deferredFilter = useDeferredValue(filter);
  const board = useMemo(() => buildBoard(nodes.values(), resources.values(), deferredFilter), [nodes, resources, deferredFilter]);
  // Every member of every group, whatever the filter: a group moves whole, so a drop is judged on all of them.
  const groups = useMemo(() => groupsOf(resources.values()), [resources]);
  const [dragging, setDragging] = useState<Dragged | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const draggedResource = dragging?.kind === 'resource' ? resources.get(dragging.name) : undefined;
  const draggedGroup = dragging?.kind === 'group' ? groups.get(dragging.name) : undefined;
  /** Why `node` cannot take what is being dragged, or null; undefined while nothing is. */
  const dropBlocker = (node: NodeRecord): string | null | undefined =>
    draggedResource !== undefined ? moveBlocker(draggedResource, node) : draggedGroup !== undefined ? groupMoveBlocker(draggedGroup, node) : undefined;

  const dragHandlers = useMemo<DragHandlers>(() => ({
    onDragStart: (dragged: Dragged, event: DragEvent) => {
      event.dataTransfer.setData(dragged.kind === 'group' ? GROUP_DRAG_TYPE : DRAG_TYPE, dragged.name);
      event.dataTransfer.setData('text/plain', dragged.name);
      event.dataTransfer.effectAllowed = 'move';
      setDragging(dragged);
    },
    onDragEnd: () => {
      setDragging(null);
      setDropTarget(null);
    },
  }), []);

  // The drop is checked again here against the live cluster: what the drag carried is only a name.
  const onDrop = (node: NodeRecord, event: DragEvent): void => {
    event.preventDefault();
    const groupName = event.dataTransfer.getData(GROUP_DRAG_TYPE) || (dragging?.kind === 'group' ? dragging.name : '');
    const resourceName = event.dataTransfer.getData(DRAG_TYPE) || (dragging?.kind === 'resource' ? dragging.name : '');
    setDragging(null);
    setDropTarget(null);
    if (groupName !== '') {
      const members = groups.get(groupName);
      if (members === undefined || groupMoveBlocker(members, node) !== null) return;
      groupActions.openGroupMove?.(groupName, node.name);
      return;
    }
    const resource = resourceName === '' ? undefined : resources.get(resourceName);
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
            Drag an address or a group onto another node to move it, or focus a card and press <kbd>Enter</kbd>.
          </span>
        )}
      </div>
      <div className="board" data-testid="node-board">
        {board.columns.map(({ node, resources: held }) => {
          const blocker = dropBlocker(node);
          const dragActive = blocker !== undefined;
          const accepts = blocker === null;
          return (
            <div
              key={node.name}
              className={`node-column node-column-${node.state}${accepts ? ' drop-ok' : ''}${dropTarget === node.name && accepts ? ' drop-hover' : ''}${dragActive && !accepts ? ' drop-no' : ''}`}
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
              {dragActive && blocker !== null && blocker !== 'current owner' && <div className="drop-note">cannot take it: {blocker}</div>}
              <CardList resources={held} groups={groups} busy={busy} actions={resourceActions} groupActions={groupActions} drag={dragHandlers} dragging={dragging} />
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
          <CardList resources={board.unowned} groups={groups} busy={busy} actions={resourceActions} groupActions={groupActions} drag={dragHandlers} dragging={dragging} />
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
  onDragStart: (dragged: Dragged, event: DragEvent) => void;
  onDragEnd: () => void;
}

interface CardListProps {
  resources: ResourceView[];
  /** Every group's members (groupsOf): a group card names how many of them the column holds. */
  groups: ReadonlyMap<string, readonly ResourceView[]>;
  busy: ReadonlySet<string>;
  actions: ResourceActions;
  groupActions: GroupActions;
  drag: DragHandlers;
  dragging: Dragged | null;
}

function CardList({ resources, groups, busy, actions, groupActions, drag, dragging }: CardListProps) {
  const { shown, hiddenAddresses: hidden } = limitCards(boardCards(resources), MAX_CARDS);
  return (
    <div className="card-list">
      {shown.map((card) =>
        card.kind === 'group' ? (
          <GroupCard
            key={`group:${card.name}`}
            name={card.name}
            members={card.members}
            all={groups.get(card.name)?.length ?? card.members.length}
            onMove={groupActions.openGroupMove}
            drag={drag}
            dragging={dragging?.kind === 'group' && dragging.name === card.name}
          />
        ) : (
          <Card key={card.resource.name} resource={card.resource} busy={busy.has(card.resource.name)} actions={actions} drag={drag} dragging={dragging?.kind === 'resource' && dragging.name === card.resource.name} />
        ),
      )}
      {hidden > 0 && <p className="card-more">+{formatCount(hidden)} more — filter to narrow</p>}
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
          onDragStart: (event: DragEvent) => drag.onDragStart({ kind: 'resource', name: resource.name }, event),
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

interface GroupCardProps {
  name: string;
  /** The members this column holds (a split group has a card in each of its columns). */
  members: readonly ResourceView[];
  /** How many members the group has in all. */
  all: number;
  /** Null: the role may not move a group (the card neither drags nor takes the focus). */
  onMove: ((name: string) => void) | null;
  drag: DragHandlers;
  dragging: boolean;
}

/** A group's members on one node, as one card that drags (or Enter moves) as a unit. */
const GroupCard = memo(function GroupCard({ name, members, all, onMove, drag, dragging }: GroupCardProps) {
  const state = groupState(members);
  const where = groupLocation(members).location;
  const count = all === members.length ? plural(all, 'address') : `${formatCount(members.length)} of ${plural(all, 'address')}`;
  const control =
    onMove === null
      ? {}
      : {
          draggable: true,
          tabIndex: 0,
          role: 'button',
          'aria-label': `Group ${name}, ${count} on ${where}, ${state.label}. Enter to move the group.`,
          onDragStart: (event: DragEvent) => drag.onDragStart({ kind: 'group', name }, event),
          onDragEnd: drag.onDragEnd,
          onDoubleClick: () => onMove(name),
          onKeyDown: (event: KeyboardEvent) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              onMove(name);
            }
          },
        };
  return (
    <div className={`card group-card state-edge-${state.state}${dragging ? ' dragging' : ''}`} data-testid={`group-card-${name}`} data-state={state.state} {...control}>
      <div className="card-top">
        <span className="card-name">
          <span className="tag group-tag">group</span> {name}
        </span>
        <ResourceStateBadge state={state.state} />
      </div>
      <div className="group-card-count muted small">{count}{state.uniform ? '' : ` · ${state.label}`}</div>
      <ul className="group-card-members">
        {members.map((member) => (
          <li key={member.name} className="group-card-member" data-testid={`card-${member.name}`} data-state={member.status.state}>
            <span className="card-name">{member.name}</span>
            <span className="card-address mono">
              {member.ip}
              <span className="muted">/{member.prefix}</span>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
});
