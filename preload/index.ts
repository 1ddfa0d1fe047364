// The preload script of the console window: exposes `window.ipfo`, the domain verbs of
// contract/ipc.ts, and nothing else. Each verb is one ipcRenderer.invoke of its fixed channel; main
// validates the argument, the sender and the result. No ipcRenderer, no event object, no Node API
// reaches the page.
//
// Sandboxed preloads can require 'electron' and little else (not zod, not a sibling file), so this
// file imports types only besides 'electron', and repeats the channel names in a table whose type
// (IpcChannelTable) makes the build fail if it drifts from the contract.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { IPC_STREAM_CHANNEL, IpcChannelTable, IpcOutcome, IpcResult, IpcVerb, IpfoBridge, StreamMessage } from './contract/ipc';

const CHANNELS = {
  snapshot: 'ipfo:snapshot',
  subscribe: 'ipfo:subscribe',
  unsubscribe: 'ipfo:unsubscribe',
  move: 'ipfo:move',
  online: 'ipfo:online',
  offline: 'ipfo:offline',
  pauseNode: 'ipfo:pauseNode',
  resumeNode: 'ipfo:resumeNode',
  addResource: 'ipfo:addResource',
  editResource: 'ipfo:editResource',
  removeResource: 'ipfo:removeResource',
  probe: 'ipfo:probe',
  queryEvents: 'ipfo:queryEvents',
  'connection.status': 'ipfo:connection.status',
  'connection.list': 'ipfo:connection.list',
  'connection.connect': 'ipfo:connection.connect',
  'connection.forget': 'ipfo:connection.forget',
  'connection.disconnect': 'ipfo:connection.disconnect',
  'connection.startLocalAgent': 'ipfo:connection.startLocalAgent',
} as const satisfies IpcChannelTable;

const STREAM_CHANNEL: typeof IPC_STREAM_CHANNEL = 'ipfo:stream';

function invoke<V extends IpcVerb>(verb: V, args: unknown = {}): Promise<IpcOutcome<IpcResult<V>>> {
  return ipcRenderer.invoke(CHANNELS[verb], args) as Promise<IpcOutcome<IpcResult<V>>>;
}

const listeners = new Set<(message: StreamMessage) => void>();

/** The page's callbacks get the message only: the IpcRendererEvent would hand out ipcRenderer itself. */
function deliver(_event: IpcRendererEvent, message: StreamMessage): void {
  for (const listener of [...listeners]) {
    try {
      listener(message);
    } catch {
      // One listener's bug must not starve the others of the stream.
    }
  }
}

function subscribe(onMessage: (message: StreamMessage) => void): () => void {
  if (typeof onMessage !== 'function') throw new TypeError('subscribe(onMessage) needs a function');
  listeners.add(onMessage);
  if (listeners.size === 1) ipcRenderer.on(STREAM_CHANNEL, deliver);
  // Every subscribe starts the stream over with a snapshot, for every listener (a snapshot push replaces all).
  void invoke('subscribe');
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    listeners.delete(onMessage);
    if (listeners.size > 0) return;
    ipcRenderer.removeListener(STREAM_CHANNEL, deliver);
    void invoke('unsubscribe');
  };
}

const bridge: IpfoBridge = {
  snapshot: () => invoke('snapshot'),
  subscribe,
  move: (args) => invoke('move', args),
  online: (args) => invoke('online', args),
  offline: (args) => invoke('offline', args),
  pauseNode: (args) => invoke('pauseNode', args),
  resumeNode: (args) => invoke('resumeNode', args),
  addResource: (args) => invoke('addResource', args),
  editResource: (args) => invoke('editResource', args),
  removeResource: (args) => invoke('removeResource', args),
  probe: (args) => invoke('probe', args),
  queryEvents: (args) => invoke('queryEvents', args),
  connection: {
    status: () => invoke('connection.status'),
    list: () => invoke('connection.list'),
    connect: (args) => invoke('connection.connect', args),
    forget: (args) => invoke('connection.forget', args),
    disconnect: () => invoke('connection.disconnect'),
    startLocalAgent: () => invoke('connection.startLocalAgent'),
  },
};

contextBridge.exposeInMainWorld('ipfo', bridge);
