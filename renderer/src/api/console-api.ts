// What the console needs from an agent: `request(type, args)` for every agent command, by the
// protocol's names, and the snapshot + change stream. Two implementations: WebSocketApi (the web
// console, same origin as the agent) and BridgeApi (Electron: window.ipfo from the preload). The
// views only see this interface; a failed request rejects with ApiRequestError.
import type { CommandArgs, CommandResults, Push } from '../../../preload/contract/protocol';
import type { ConnectionList, ConnectionState, ConnectTarget, IpcCommandType, StartLocalAgentResult } from '../../../preload/contract/ipc';
import type { Role } from '../../../preload/contract/users';
import type { ResourceTableView } from '../../../preload/contract/resource-order';

export type ConnectionPhase =
  /** First connection attempt under way. */
  | 'connecting'
  | 'connected'
  /** Lost; the next attempt is scheduled (retryAt). */
  | 'reconnecting'
  /** The agent refused the credential: nothing will work until the operator gives the right one. */
  | 'auth-failed'
  /** The page was opened without a credential. */
  | 'no-token'
  /** The agent broke the protocol or speaks another version; retrying with backoff. */
  | 'broken'
  /** Desktop only: connected to no agent; the operator picks one (local, remembered, remote). */
  | 'disconnected';

export interface ConnectionStatus {
  phase: ConnectionPhase;
  /** Where the agent is, for the status bar ("127.0.0.1:7790", "desktop bridge"). */
  endpoint: string;
  /** How the agent records this session in its audit log, once authenticated. */
  actor: string | null;
  /** Who is signed in: the user, null for the node's token (root) or before the login. */
  user: string | null;
  /**
   * The session's role, once logged in; kept while reconnecting (the last known state stays on
   * screen). What the console offers follows it (model/roles.ts); the agent enforces it.
   */
  role: Role | null;
  /** One line on what went wrong, if anything. */
  detail: string | null;
  /** Wall-clock ms of the next connection attempt while reconnecting. */
  retryAt: number | null;
}

/** Desktop only: which agent or cluster the console talks to (the web console is bound to its origin). */
export interface ConnectionManager {
  list(): Promise<ConnectionList>;
  connect(target: ConnectTarget): Promise<ConnectionState>;
  forget(id: string): Promise<boolean>;
  disconnect(): Promise<ConnectionState>;
  /** Starts a single-host agent through the OS password prompt; 'cancelled' is an answer, not an error. */
  startLocalAgent(): Promise<StartLocalAgentResult>;
}

export interface ConsoleApi {
  readonly transport: 'websocket' | 'bridge';
  /** Null in the web console. */
  readonly connections: ConnectionManager | null;
  /**
   * Connects (and reconnects after a loss), subscribes, and hands every push to `onPush` in order
   * (each connection starts with a snapshot push that replaces everything). `onReset`: the cluster
   * received so far belongs to a session that ended (desktop: main disconnected, or switched to
   * another cluster); the web console never calls it and keeps showing the last known state while it
   * reconnects. Returns a stop function.
   */
  start(onPush: (push: Push) => void, onStatus: (status: ConnectionStatus) => void, onReset?: () => void): () => void;
  /** Starts the stream over with a fresh snapshot (after the console noticed a revision gap). */
  resync(): void;
  /**
   * The Resources table's view (sort, filter): each subscription asks for the paged stream with the
   * latest one, so the first push brings the first page of what the table will show (protocol.ts).
   */
  setView(view: ResourceTableView): void;
  /** One agent command (the commands the desktop bridge also serves: all but auth and subscribe). */
  request<T extends IpcCommandType>(type: T, args: CommandArgs[T]): Promise<CommandResults[T]>;
}
