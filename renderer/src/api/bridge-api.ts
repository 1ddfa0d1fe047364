// The desktop console's agent connection: window.ipfo from the Electron preload. The main process
// holds the agent connection, validates everything both ways and sends the stream over IPC; this
// class only adapts the bridge's outcomes ({ ok, value } | { ok, error }) to the ConsoleApi.
import type { ConnectionList, ConnectionState, ConnectTarget, IpcCommandType, IpcOutcome, IpfoBridge, StartLocalAgentResult, StreamMessage } from '../../../preload/contract/ipc';
import type { CommandArgs, CommandResults, Push } from '../../../preload/contract/protocol';
import { ApiRequestError } from '../../../preload/contract/request-tracker';
import { errorMessage } from '../model/errors';
import type { ConnectionManager, ConnectionStatus, ConsoleApi } from './console-api';

async function unwrap<T>(call: Promise<IpcOutcome<T>>): Promise<T> {
  let outcome: IpcOutcome<T>;
  try {
    outcome = await call;
  } catch (error) {
    // The bridge itself failed (main gone, a handler threw): only the message crosses contextBridge.
    throw new ApiRequestError('closed', `desktop bridge: ${errorMessage(error)}`);
  }
  if (outcome.ok) return outcome.value;
  throw ApiRequestError.fromApi(outcome.error);
}

export function statusFromConnection(connection: ConnectionState): ConnectionStatus {
  const { label, endpoint } = connection;
  return {
    phase: connection.phase === 'connected' ? 'connected' : connection.phase === 'connecting' ? 'connecting' : 'disconnected',
    endpoint: label !== null && endpoint !== null ? `${label} (${endpoint})` : (label ?? endpoint ?? 'no agent'),
    actor: connection.actor,
    detail: connection.detail,
    retryAt: null,
  };
}

export class BridgeApi implements ConsoleApi {
  readonly transport = 'bridge' as const;
  readonly connections: ConnectionManager;
  private stopStream: (() => void) | null = null;
  private handlers: { onPush: (push: Push) => void; onStatus: (status: ConnectionStatus) => void } | null = null;

  constructor(private readonly bridge: IpfoBridge) {
    this.connections = {
      list: (): Promise<ConnectionList> => unwrap(bridge.connection.list({})),
      connect: (target: ConnectTarget): Promise<ConnectionState> => unwrap(bridge.connection.connect(target)),
      forget: async (id: string): Promise<boolean> => (await unwrap(bridge.connection.forget({ id }))).forgotten,
      disconnect: (): Promise<ConnectionState> => unwrap(bridge.connection.disconnect({})),
      startLocalAgent: (): Promise<StartLocalAgentResult> => unwrap(bridge.connection.startLocalAgent({})),
    };
  }

  start(onPush: (push: Push) => void, onStatus: (status: ConnectionStatus) => void): () => void {
    this.handlers = { onPush, onStatus };
    onStatus({ phase: 'connecting', endpoint: 'desktop', actor: null, detail: null, retryAt: null });
    unwrap(this.bridge.connection.status({})).then(
      (connection) => onStatus(statusFromConnection(connection)),
      (error: unknown) => onStatus({ phase: 'disconnected', endpoint: 'desktop', actor: null, detail: errorMessage(error), retryAt: null }),
    );
    this.subscribe();
    return () => {
      this.handlers = null;
      this.stopStream?.();
      this.stopStream = null;
    };
  }

  private subscribe(): void {
    this.stopStream?.();
    this.stopStream = this.bridge.subscribe((message: StreamMessage) => {
      const handlers = this.handlers;
      if (handlers === null) return;
      if (message.type === 'connection') handlers.onStatus(statusFromConnection(message.connection));
      else handlers.onPush(message);
    });
  }

  resync(): void {
    if (this.handlers !== null) this.subscribe();
  }

  request<T extends IpcCommandType>(type: T, args: CommandArgs[T]): Promise<CommandResults[T]> {
    return unwrap(this.bridge.request(type, args));
  }
}
