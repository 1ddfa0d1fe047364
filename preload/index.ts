// The preload script of the console window: exposes `window.ipfo`, the verbs of contract/ipc.ts,
// and nothing else: `request(type, args)` for every agent command, the stream, and connection
// management. Each verb is one ipcRenderer.invoke of its fixed channel; main validates the sender,
// the argument (a command against the protocol's table) and the result. No ipcRenderer, no event
// object, no Node API reaches the page.
//
// Sandboxed preloads can require 'electron' and little else (not zod, not a sibling file), so this
// file imports types only besides 'electron', and repeats the channel names in a table whose type
// (IpcChannelTable) makes the build fail if it drifts from the contract.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { IPC_REQUEST_CHANNEL, IPC_STREAM_CHANNEL, IpcChannelTable, IpcOutcome, IpcResult, IpcVerb, IpfoBridge, ResourceTableView, StreamMessage } from './contract/ipc';

const CHANNELS = {
  subscribe: 'ipfo:subscribe',
  unsubscribe: 'ipfo:unsubscribe',
  'connection.status': 'ipfo:connection.status',
  'connection.list': 'ipfo:connection.list',
  'connection.connect': 'ipfo:connection.connect',
  'connection.forget': 'ipfo:connection.forget',
  'connection.disconnect': 'ipfo:connection.disconnect',
  'connection.startLocalAgent': 'ipfo:connection.startLocalAgent',
} as const satisfies IpcChannelTable;

const STREAM_CHANNEL: typeof IPC_STREAM_CHANNEL = 'ipfo:stream';
const REQUEST_CHANNEL: typeof IPC_REQUEST_CHANNEL = 'ipfo:request';

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

function subscribe(onMessage: (message: StreamMessage) => void, view?: ResourceTableView): () => void {
  if (typeof onMessage !== 'function') throw new TypeError('subscribe(onMessage) needs a function');
  listeners.add(onMessage);
  if (listeners.size === 1) ipcRenderer.on(STREAM_CHANNEL, deliver);
  // Every subscribe starts the stream over with a snapshot, for every listener (a snapshot push replaces
  // all); main checks the view (the paged stream: the first page of that view first).
  void invoke('subscribe', view === undefined ? {} : { view });
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
  // Type and arguments travel as one object, like every verb's argument; main checks both against the protocol.
  request: (type, args) => ipcRenderer.invoke(REQUEST_CHANNEL, { type, args }) as Promise<IpcOutcome<never>>,
  subscribe,
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
