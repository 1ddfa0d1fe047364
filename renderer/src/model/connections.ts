// The desktop console's connection screen as data: which controls show and which are enabled for a
// connection list and the current connection, the one line that says where the console is, and
// what the bridge's stream must do when the connection changes. Pure; ConnectionPanel.tsx draws it.
import type { ConnectionList, ConnectionState, SavedConnection } from '../../../preload/contract/ipc';

export type Tone = 'ok' | 'info' | 'bad';

export interface SavedControls {
  entry: SavedConnection;
  /** The console is connected (or connecting) to this one right now. */
  current: boolean;
  canConnect: boolean;
  canForget: boolean;
}

export interface ConnectionControls {
  /** Where the console is, or why it is nowhere. */
  headline: { tone: Tone; text: string };
  local: {
    /** '…' until the list is in. */
    endpoint: string;
    state: 'checking' | 'running' | 'not running';
    current: boolean;
    canConnect: boolean;
    /** Only where main can start one (Linux, password prompt) and none answers. */
    showStart: boolean;
    canStart: boolean;
  };
  saved: SavedControls[];
  showDisconnect: boolean;
  canSubmitRemote: boolean;
}

function where(state: ConnectionState): string {
  if (state.label !== null && state.endpoint !== null) return `${state.label} (${state.endpoint})`;
  return state.label ?? state.endpoint ?? 'an agent';
}

export function connectionHeadline(state: ConnectionState | null): { tone: Tone; text: string } {
  if (state === null) return { tone: 'info', text: 'Looking for an agent…' };
  switch (state.phase) {
    case 'connected':
      return { tone: 'ok', text: `Connected to ${where(state)}${state.actor === null ? '' : ` as ${state.actor}`}${state.role === null ? '' : ` (${state.role})`}.` };
    case 'connecting':
      return { tone: 'info', text: `Connecting to ${where(state)}…` };
    case 'disconnected':
      return state.detail === null ? { tone: 'info', text: 'Not connected to any agent.' } : { tone: 'bad', text: `Not connected: ${state.detail}` };
  }
}

/** `busy`: an action of the panel is under way (one at a time). */
export function connectionControls(list: ConnectionList | null, busy: boolean): ConnectionControls {
  const current = list?.current ?? null;
  const live = current !== null && current.phase !== 'disconnected';
  const local = list?.local ?? null;
  const localCurrent = live && current.kind === 'local';
  const showStart = local !== null && local.canStart && !local.answering;
  return {
    headline: connectionHeadline(current),
    local: {
      endpoint: local?.endpoint ?? '…',
      state: local === null ? 'checking' : local.answering ? 'running' : 'not running',
      current: localCurrent,
      canConnect: !busy && local?.answering === true && !localCurrent,
      showStart,
      canStart: showStart && !busy,
    },
    saved: (list?.saved ?? []).map((entry) => {
      const isCurrent = live && current.kind === 'remote' && current.id === entry.id;
      return { entry, current: isCurrent, canConnect: !busy && !isCurrent, canForget: !busy };
    }),
    showDisconnect: live,
    canSubmitRemote: !busy,
  };
}

/** The same agent: the saved id may appear only once the connection is remembered, so it is not compared. */
function sameTarget(a: ConnectionState, b: ConnectionState): boolean {
  return a.kind === b.kind && a.endpoint === b.endpoint;
}

/**
 * What the bridge's stream does on a new connection state. `reset`: the cluster on screen belongs
 * to a session that ended (main closed it), drop it. `resubscribe`: a session began, whose snapshot
 * and changes come only from a new subscription. Nothing on the first state (the subscription that
 * brought it is under way) or while the same connection goes on.
 */
export function streamStep(previous: ConnectionState | null, next: ConnectionState): { reset: boolean; resubscribe: boolean } {
  if (previous === null) return { reset: false, resubscribe: false };
  const wasConnected = previous.phase === 'connected';
  const changed = !sameTarget(previous, next);
  return {
    reset: wasConnected && (next.phase !== 'connected' || changed),
    resubscribe: next.phase === 'connected' && (!wasConnected || changed),
  };
}
