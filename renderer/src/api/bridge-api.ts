// The desktop console's agent connection: window.ipfo from the Electron preload. The main process
// holds the agent connection, validates everything both ways and sends the stream over IPC; this
// class adapts the bridge's outcomes ({ ok, value } | { ok, error }) to the ConsoleApi, checks what
// the connection verbs and the stream bring against the IPC contract (the page trusts nothing it is
// handed), and follows main's connection: a new session starts a new subscription, an ended one
// drops the cluster on screen (streamStep in model/connections.ts).
import {
  IPC_CONTRACT,
  ipcOutcomeSchema,
  StreamMessageSchema,
  type ConnectionList,
  type ConnectionState,
  type ConnectTarget,
  type IpcCommandType,
  type IpcOutcome,
  type IpcResult,
  type IpcVerb,
  type IpfoBridge,
  type StartLocalAgentResult,
  type StreamMessage,
} from '../../../preload/contract/ipc';
import { fastBridgePush } from '../../../preload/contract/fast-push';
import { DEFAULT_TABLE_VIEW, type ResourceTableView } from '../../../preload/contract/resource-order';
import type { CommandArgs, CommandResults, Push } from '../../../preload/contract/protocol';
import { ApiRequestError } from '../../../preload/contract/request-tracker';
import { streamStep } from '../model/connections';
import { errorMessage } from '../model/errors';
import type { ConnectionManager, ConnectionStatus, ConsoleApi } from './console-api';

async function settle<T>(call: () => Promise<IpcOutcome<T>>): Promise<IpcOutcome<T>> {
  try {
    return await call();
  } catch (error) {
    // The bridge itself failed (main gone, a handler threw): only the message crosses contextBridge.
    throw new ApiRequestError('closed', `desktop bridge: ${errorMessage(error)}`);
  }
}

async function unwrap<T>(call: () => Promise<IpcOutcome<T>>): Promise<T> {
  const outcome = await settle(call);
  if (outcome.ok) return outcome.value;
  throw ApiRequestError.fromApi(outcome.error);
}

/** A connection verb's outcome, checked against the contract before the page uses it. */
async function verb<V extends IpcVerb>(name: V, call: () => Promise<IpcOutcome<IpcResult<V>>>): Promise<IpcResult<V>> {
  const outcome: unknown = await settle(call);
  const checked = ipcOutcomeSchema(IPC_CONTRACT[name].result).safeParse(outcome);
  if (!checked.success) throw new ApiRequestError('protocol', `desktop bridge: the answer to ${name} breaks the contract`);
  return unwrap(() => Promise.resolve(checked.data as IpcOutcome<IpcResult<V>>));
}

/** A stream message as the contract has it, or null: the fast check for snapshots, heads, rows and changes, zod for the rest. */
export function checkStreamMessage(message: unknown): StreamMessage | null {
  const fast = fastBridgePush(message);
  if (fast !== null) return fast;
  const parsed = StreamMessageSchema.safeParse(message);
  return parsed.success ? parsed.data : null;
}

export function statusFromConnection(connection: ConnectionState): ConnectionStatus {
  const { label, endpoint } = connection;
  return {
    phase: connection.phase === 'connected' ? 'connected' : connection.phase === 'connecting' ? 'connecting' : 'disconnected',
    endpoint: label !== null && endpoint !== null ? `${label} (${endpoint})` : (label ?? endpoint ?? 'no agent'),
    actor: connection.actor,
    user: connection.user,
    role: connection.role,
    detail: connection.detail,
    retryAt: null,
  };
}

interface Handlers {
  onPush: (push: Push) => void;
  onStatus: (status: ConnectionStatus) => void;
  onReset: () => void;
}

export class BridgeApi implements ConsoleApi {
  readonly transport = 'bridge' as const;
  readonly connections: ConnectionManager;
  private stopStream: (() => void) | null = null;
  private handlers: Handlers | null = null;
  /** The last connection state main reported (status or stream), null before the first. */
  private connection: ConnectionState | null = null;
  private view: ResourceTableView = DEFAULT_TABLE_VIEW;

  constructor(private readonly bridge: IpfoBridge) {
    this.connections = {
      list: (): Promise<ConnectionList> => verb('connection.list', () => bridge.connection.list({})),
      connect: async (target: ConnectTarget): Promise<ConnectionState> => this.follow(await verb('connection.connect', () => bridge.connection.connect(target))),
      forget: async (id: string): Promise<boolean> => (await verb('connection.forget', () => bridge.connection.forget({ id }))).forgotten,
      disconnect: async (): Promise<ConnectionState> => this.follow(await verb('connection.disconnect', () => bridge.connection.disconnect({}))),
      startLocalAgent: async (): Promise<StartLocalAgentResult> => {
        const result = await verb('connection.startLocalAgent', () => bridge.connection.startLocalAgent({}));
        this.follow(result.connection);
        return result;
      },
    };
  }

  start(onPush: (push: Push) => void, onStatus: (status: ConnectionStatus) => void, onReset: () => void = () => undefined): () => void {
    this.handlers = { onPush, onStatus, onReset };
    this.connection = null;
    onStatus({ phase: 'connecting', endpoint: 'desktop', actor: null, user: null, role: null, detail: null, retryAt: null });
    verb('connection.status', () => this.bridge.connection.status({})).then(
      (connection) => this.follow(connection),
      (error: unknown) => onStatus({ phase: 'disconnected', endpoint: 'desktop', actor: null, user: null, role: null, detail: errorMessage(error), retryAt: null }),
    );
    this.subscribe();
    return () => {
      this.handlers = null;
      this.stopStream?.();
      this.stopStream = null;
    };
  }

  /** A connection state from main: shown, and the stream follows it. Returns it. */
  private follow(connection: ConnectionState): ConnectionState {
    const handlers = this.handlers;
    if (handlers === null) return connection;
    const step = streamStep(this.connection, connection);
    this.connection = connection;
    if (step.reset) handlers.onReset();
    handlers.onStatus(statusFromConnection(connection));
    if (step.resubscribe) this.subscribe();
    return connection;
  }

  private subscribe(): void {
    this.stopStream?.();
    this.stopStream = this.bridge.subscribe((message: unknown) => {
      if (this.handlers === null) return;
      const checked = checkStreamMessage(message);
      if (checked === null) {
        const type = typeof message === 'object' && message !== null ? String((message as { type?: unknown }).type).slice(0, 40) : typeof message;
        this.handlers.onStatus({ ...statusFromConnection(this.connection ?? DISCONNECTED), phase: 'broken', detail: `the desktop bridge sent a ${type} message that breaks the contract; it was dropped` });
        return;
      }
      if (checked.type === 'connection') this.follow(checked.connection);
      else this.handlers.onPush(checked);
    }, this.view);
  }

  setView(view: ResourceTableView): void {
    this.view = view;
  }

  resync(): void {
    if (this.handlers !== null) this.subscribe();
  }

  request<T extends IpcCommandType>(type: T, args: CommandArgs[T]): Promise<CommandResults[T]> {
    return unwrap(() => this.bridge.request(type, args));
  }
}

const DISCONNECTED: ConnectionState = { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: null };
