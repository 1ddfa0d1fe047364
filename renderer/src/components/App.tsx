// The console: header with the views, the current view, dialogs, toasts and the status bar.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ActionResult } from '../../../preload/contract/protocol';
import { BEST_NODE } from '../../../preload/contract/protocol';
import type { Credential } from '../../../preload/contract/users';
import type { ConnectionStatus, ConsoleApi } from '../api/console-api';
import { useCluster } from '../hooks/useCluster';
import { useNow } from '../hooks/useNow';
import type { ResourceTableView } from '../../../preload/contract/resource-order';
import { errorMessage } from '../model/errors';
import { formatCount, formatDuration } from '../model/format';
import { can } from '../model/roles';
import type { Tone } from '../model/move-flow';
import { groupActionsFor, nodeActionsFor, resourceActionsFor, type GroupActions, type NodeActions, type ResourceActions } from './actions';
import { GroupMoveDialog } from './GroupMoveDialog';
import { toggleGroup } from '../model/table-groups';
import type { ResourceView } from '../../../preload/contract/domain';
import { AuthScreen } from './AuthScreen';
import { PauseDialog } from './PauseDialog';
import { ConfirmDialog } from './ConfirmDialog';
import { ConflictsView } from './ConflictsView';
import { ConnectionPanel } from './ConnectionPanel';
import { Dialog } from './Dialog';
import { EventsView } from './EventsView';
import { HooksView } from './HooksView';
import { MoveDialog } from './MoveDialog';
import { NodesView } from './NodesView';
import { ResourceFormDialog } from './ResourceFormDialog';
import { ResourcesView } from './ResourcesView';
import { StatusBar } from './StatusBar';
import { Toasts } from './Toasts';
import { toastsStillTrue, toastSubject, type Toast } from '../model/toasts';

const TABS = ['resources', 'nodes', 'conflicts', 'events', 'hooks'] as const;
type Tab = (typeof TABS)[number];
const TAB_LABELS: Readonly<Record<Tab, string>> = { resources: 'Resources', nodes: 'Nodes', conflicts: 'Conflicts', events: 'Events', hooks: 'Hooks' };

type DialogState =
  | { kind: 'move'; name: string; target: string }
  | { kind: 'group-move'; group: string; target: string }
  | { kind: 'form'; name: string | null }
  | { kind: 'delete'; name: string }
  | { kind: 'pause'; node: string }
  | { kind: 'connections' };

const TOAST_MS = 6_000;

export interface AppProps {
  api: ConsoleApi;
  initialStatus: ConnectionStatus;
  /** The web console's sign-in with a pasted credential (on the refused-credential screen). */
  onCredential?: ((credential: Credential) => void) | undefined;
}

export function App({ api, initialStatus, onCredential }: AppProps) {
  const { cluster, status, model } = useCluster(api, initialStatus);
  const role = status.role;
  const now = useNow(1_000);
  const [tab, setTab] = useState<Tab>('resources');
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const [busy, setBusy] = useState<ReadonlySet<string>>(() => new Set());
  const [toasts, setToasts] = useState<readonly Toast[]>([]);
  const [deleteState, setDeleteState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const nextToast = useRef(1);
  // Groups the operator collapsed in the Resources table: kept here so they stay collapsed across views.
  const [collapsedGroups, setCollapsedGroups] = useState<ReadonlySet<string>>(() => new Set());
  const onToggleGroup = useCallback((name: string) => setCollapsedGroups((current) => toggleGroup(current, name)), []);

  // What the page knows of the toasts' resources as of the last render: an answer may arrive after
  // the stream moved on.
  const liveResources = useRef(cluster.watched);
  useEffect(() => {
    liveResources.current = cluster.watched;
  }, [cluster.watched]);

  const toast = useCallback((tone: Tone, text: string, about: Toast['about'] = null) => {
    const id = nextToast.current++;
    setToasts((current) => toastsStillTrue([...current.slice(-4), { id, tone, text, about }], liveResources.current));
    window.setTimeout(() => setToasts((current) => current.filter((t) => t.id !== id)), TOAST_MS);
  }, []);

  /** Runs a command in the background; `key` marks what is busy meanwhile. */
  const run = useCallback(
    (key: string, label: string, command: () => Promise<ActionResult>) => {
      setBusy((current) => new Set(current).add(key));
      command().then(
        (result) => toast(toneOf(result), `${label}: ${result.detail ?? (result.outcome === 'done' ? 'done' : 'accepted')}${result.durationMs === null ? '' : ` (${formatDuration(result.durationMs)})`}`, toastSubject(result.resource)),
        (error: unknown) => toast('bad', `${label} failed: ${errorMessage(error)}`),
      ).finally(() =>
        setBusy((current) => {
          const next = new Set(current);
          next.delete(key);
          return next;
        }),
      );
    },
    [toast],
  );

  // A toast about a resource closes as soon as the live state moves on from what it says.
  useEffect(() => setToasts((current) => toastsStillTrue(current, cluster.watched)), [cluster.watched]);

  // The model sends the page only the table's window (console-model.ts). By name it also sends the
  // toasts' resources and the open dialog's; every resource (the mirror) while a view shows them all:
  // the Nodes board, and the dialogs that judge a resource against the others.
  const dialogName = dialog !== null && 'name' in dialog ? dialog.name : null;
  const watchedNames = useMemo(() => [...new Set([...toasts.flatMap((t) => (t.about === null ? [] : [t.about.name])), ...(dialogName === null ? [] : [dialogName])])].sort(), [toasts, dialogName]);
  const watchedKey = watchedNames.join('\n');
  useEffect(() => model.setWatched(watchedKey === '' ? [] : watchedKey.split('\n')), [model, watchedKey]);
  const mirrorWanted = tab === 'nodes' || dialog?.kind === 'group-move' || dialog?.kind === 'form';
  useEffect(() => model.setMirror(mirrorWanted), [model, mirrorWanted]);
  // The move dialog needs only how many addresses each node holds (its hint and counts).
  const loadsWanted = dialog?.kind === 'move';
  useEffect(() => model.setLoads(loadsWanted), [model, loadsWanted]);
  const resources = cluster.mirror;

  // Each action is there only when the session's role may run its command (actions.ts,
  // model/roles.ts): the views draw no control, and no key reaches one, for an action that is null.
  // The agent refuses it anyway ('forbidden', shown like any failure) if the role changed meanwhile.
  const resourceActions = useMemo<ResourceActions>(
    () =>
      resourceActionsFor(role, {
        openMove: (name, target = BEST_NODE) => setDialog({ kind: 'move', name, target }),
        online: (name) => run(name, `Bring ${name} online`, () => api.request('resource.online', { name })),
        offline: (name) => run(name, `Take ${name} offline`, () => api.request('resource.offline', { name })),
        announce: (name) => run(name, `Announce ${name} now`, () => api.request('resource.announce', { name })),
        cleanup: (name) => run(name, `Clean up ${name}`, () => api.request('resource.cleanup', { name })),
        edit: (name) => setDialog({ kind: 'form', name }),
        remove: (name) => {
          setDeleteState({ busy: false, error: null });
          setDialog({ kind: 'delete', name });
        },
      }),
    [api, run, role],
  );
  const nodeActions = useMemo<NodeActions>(
    () =>
      nodeActionsFor(role, {
        // Asked first, with the drain's preview (PauseDialog).
        pause: (name) => setDialog({ kind: 'pause', node: name }),
        resume: (name) => run(`node:${name}`, `Resume ${name}`, () => api.request('node.resume', { name })),
      }),
    [api, run, role],
  );
  const groupActions = useMemo<GroupActions>(() => groupActionsFor(role, { openGroupMove: (group, target = BEST_NODE) => setDialog({ kind: 'group-move', group, target }) }), [role]);
  // The group's members as they stand, for its move dialog: one pass while that dialog is open.
  const dialogGroup = dialog?.kind === 'group-move' ? dialog.group : null;
  const groupMembers = useMemo(() => (dialogGroup === null || resources === null ? [] : membersOf(resources, dialogGroup)), [resources, dialogGroup]);
  const setApiView = useCallback((view: ResourceTableView) => api.setView(view), [api]);
  const createResource = useMemo(() => (can(role, 'resource.add') ? () => setDialog({ kind: 'form', name: null }) : null), [role]);

  // Alt+1..4 switch views from anywhere.
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const tabIndex = Number(event.key) - 1;
      const next = TABS[tabIndex];
      if (next !== undefined) {
        event.preventDefault();
        setTab(next);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const closeDialog = useCallback(() => setDialog(null), []);

  if (status.phase === 'auth-failed') return <AuthScreen reason="auth-failed" detail={status.detail} onCredential={onCredential} />;
  if (status.phase === 'disconnected' && api.connections !== null) {
    return (
      <main className="gate" data-testid="connection-screen">
        <div className="gate-card gate-card-wide">
          <h1>Connect to a cluster</h1>
          <ConnectionPanel manager={api.connections} status={status} now={now} onConnected={() => undefined} />
        </div>
      </main>
    );
  }

  const loading = cluster.revision === null;
  const waitingText = status.phase === 'connecting' ? `Connecting to ${status.endpoint}…` : (status.detail ?? 'Waiting for the agent…');
  const counts: Readonly<Record<Tab, number | null>> = {
    resources: cluster.resourceCount,
    nodes: cluster.nodes.size,
    conflicts: cluster.conflicts.size,
    events: null,
    hooks: null,
  };

  const dialogResource = dialogName === null ? undefined : (resources?.get(dialogName) ?? cluster.watched.get(dialogName) ?? cluster.table.items.resource(dialogName));

  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <BrandMark />
          <span className="brand-name">IP Failover</span>
        </div>
        <nav className="tabs" role="tablist" aria-label="Views">
          {TABS.map((id, index) => (
            <button
              key={id}
              type="button"
              role="tab"
              id={`tab-${id}`}
              aria-selected={tab === id}
              aria-controls="view"
              className={tab === id ? 'tab tab-active' : 'tab'}
              data-testid={`tab-${id}`}
              title={`${TAB_LABELS[id]} (Alt+${index + 1})`}
              onClick={() => setTab(id)}
              onKeyDown={(event) => {
                if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
                const next = TABS[(index + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length] ?? 'resources';
                setTab(next);
                document.getElementById(`tab-${next}`)?.focus();
              }}
            >
              {TAB_LABELS[id]}
              {counts[id] !== null && <span className={`tab-count${id === 'conflicts' && (counts[id] ?? 0) > 0 ? ' tab-count-alert' : ''}`}>{formatCount(counts[id] ?? 0)}</span>}
            </button>
          ))}
        </nav>
        <span className="header-spacer" />
        {status.phase !== 'connected' && !loading && (
          <span className="header-warning" role="status">
            {status.phase === 'reconnecting' ? 'Connection lost — showing the last known state' : status.detail}
          </span>
        )}
      </header>

      <main className="app-main" id="view" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {loading && tab !== 'resources' ? (
          <div className="empty loading" data-testid="loading">
            <span className="spinner" aria-hidden="true" />
            <p>{waitingText}</p>
          </div>
        ) : tab === 'resources' ? (
          // Mounted while the agent's first push is on its way (waiting): the toolbar, the table's
          // head and the virtualiser are in place, so the first push only adds its rows.
          <ResourcesView
            waiting={loading ? waitingText : null}
            table={cluster.table}
            model={model}
            total={cluster.resourceCount}
            failed={cluster.resourceStates.failed}
            nodes={cluster.nodes}
            loading={cluster.loading}
            revision={cluster.revision}
            changesApplied={cluster.changesApplied}
            now={now}
            busy={busy}
            actions={resourceActions}
            onCreate={createResource}
            onViewChange={setApiView}
            groupActions={groupActions}
            collapsedGroups={collapsedGroups}
            onToggleGroup={onToggleGroup}
          />
        ) : tab === 'nodes' ? (
          resources === null ? (
            <div className="empty loading" data-testid="loading">
              <span className="spinner" aria-hidden="true" />
              <p>Loading every resource for the board…</p>
            </div>
          ) : (
            <NodesView nodes={cluster.nodes} resources={resources} now={now} busy={busy} resourceActions={resourceActions} nodeActions={nodeActions} groupActions={groupActions} />
          )
        ) : tab === 'conflicts' ? (
          <ConflictsView conflicts={cluster.conflicts} now={now} />
        ) : tab === 'hooks' ? (
          <HooksView api={api} role={role} now={now} />
        ) : (
          <EventsView api={api} events={cluster.events} now={now} />
        )}
      </main>

      <StatusBar status={status} cluster={cluster} now={now} onSwitchCluster={api.connections === null ? null : () => setDialog({ kind: 'connections' })} />
      <Toasts toasts={toasts} onDismiss={(id) => setToasts((current) => current.filter((t) => t.id !== id))} />

      {dialog?.kind === 'move' && dialogResource !== undefined && cluster.loads !== null && (
        <MoveDialog key={dialog.name} api={api} role={role} resource={dialogResource} nodes={cluster.nodes} loads={cluster.loads} initialTarget={dialog.target} onClose={closeDialog} />
      )}
      {dialog?.kind === 'group-move' && groupMembers.length > 0 && (
        <GroupMoveDialog key={dialog.group} api={api} name={dialog.group} members={groupMembers} nodes={cluster.nodes} initialTarget={dialog.target} onClose={closeDialog} />
      )}
      {dialog?.kind === 'form' && (dialog.name === null || dialogResource !== undefined) && resources !== null && (
        <ResourceFormDialog
          api={api}
          editing={dialogResource ?? null}
          resources={resources}
          nodes={cluster.nodes}
          onClose={closeDialog}
          onSaved={(result, name, created) => {
            setDialog(null);
            toast(toneOf(result), `${created ? 'Created' : 'Saved'} ${name}${result.detail === null ? '' : `: ${result.detail}`}`, toastSubject(result.resource));
          }}
          onDelete={resourceActions.remove}
        />
      )}
      {dialog?.kind === 'pause' && (
        <PauseDialog
          api={api}
          node={dialog.node}
          onCancel={closeDialog}
          onConfirm={() => {
            const name = dialog.node;
            setDialog(null);
            run(`node:${name}`, `Pause ${name}`, () => api.request('node.pause', { name }));
          }}
        />
      )}
      {dialog?.kind === 'delete' && dialogResource !== undefined && (
        <ConfirmDialog
          title={`Delete ${dialogResource.name}?`}
          message={
            <p>
              The address <span className="mono strong">{`${dialogResource.ip}/${dialogResource.prefix}`}</span> is released
              {dialogResource.status.owner === null ? '' : ` on ${dialogResource.status.owner}`} and the resource definition is removed from the cluster. Clients of this address
              lose it.
            </p>
          }
          confirmLabel="Delete resource"
          danger
          busy={deleteState.busy}
          error={deleteState.error}
          onCancel={closeDialog}
          onConfirm={() => {
            const name = dialogResource.name;
            setDeleteState({ busy: true, error: null });
            api.request('resource.remove', { name }).then(
              () => {
                setDialog(null);
                toast('ok', `Deleted ${name}`);
              },
              (error: unknown) => setDeleteState({ busy: false, error: errorMessage(error) }),
            );
          }}
        />
      )}
      {dialog?.kind === 'connections' && api.connections !== null && (
        <Dialog title="Connection" testId="connection-dialog" onClose={closeDialog} size="large">
          <ConnectionPanel manager={api.connections} status={status} now={now} onConnected={closeDialog} />
        </Dialog>
      )}
    </div>
  );
}

/** The resources whose spec names `group`, in name order. */
function membersOf(resources: ReadonlyMap<string, ResourceView>, group: string): ResourceView[] {
  const members: ResourceView[] = [];
  for (const resource of resources.values()) if (resource.group === group) members.push(resource);
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A command can succeed while its resource ends up failed (e.g. no interface in the subnet). */
function toneOf(result: ActionResult): Tone {
  if (result.resource?.status.state === 'failed') return 'bad';
  return result.outcome === 'done' ? 'ok' : 'info';
}

function BrandMark() {
  return (
    <svg className="brand-mark" width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
      <rect x="1.5" y="1.5" width="21" height="21" rx="5" className="brand-mark-bg" />
      <circle cx="7.5" cy="12" r="2.6" className="brand-mark-dot" />
      <circle cx="16.5" cy="12" r="2.6" className="brand-mark-dot brand-mark-dot-2" />
      <path d="M10.3 10.2c1.1-1.1 2.3-1.1 3.4 0M13.7 13.8c-1.1 1.1-2.3 1.1-3.4 0" className="brand-mark-arc" />
    </svg>
  );
}
