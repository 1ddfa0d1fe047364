// Node client of the agent API, for the CLI and the Electron main process: connect, log in (the
// challenge–response of preload/contract/handshake.ts: the agent proves it holds the credential's
// verifier before this client sends its own proof, and the secret never leaves this process), then `request(type, args)` for every command of the contract, by its protocol name (no wrapper per
// command: a new command needs nothing here), and the snapshot + change stream. Everything the agent
// sends is checked against the contract before it is handed out (a remote agent is still a remote
// party); requests are tracked by the tracker every client shares (preload/contract/request-tracker.ts).
// No reconnection: a closed client stays closed (onClose says why); callers connect again.
import { WebSocket, type RawData } from 'ws';
import { z } from 'zod';
import { checkResult, parseServerMessage, SERVER_SCHEMAS, type ServerSchemas } from '../../preload/contract/parse';
import {
  API_PATH,
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  MAX_SERVER_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type ChangePush,
  type ChangesPush,
  type CommandArgs,
  type CommandResults,
  type CommandType,
  type Push,
  type SnapshotPush,
} from '../../preload/contract/protocol';
import type { ResourceTableView } from '../../preload/contract/resource-order';
import { ApiRequestError, RequestTracker } from '../../preload/contract/request-tracker';
import { answerChallenge, channelOfUrl, credentialKeys, newNonce, type Transcript } from '../../preload/contract/handshake';
import { CREDENTIAL_FORMS, parseCredential, type Role } from '../../preload/contract/users';
import { urlHost } from './exposure';
import { socketUrl } from './unix-socket';
import { rawText } from './raw-text';

export interface ConnectAgentOptions {
  /** "ws://127.0.0.1:7790/api" or "ws+unix:/run/ipfo/api.sock:/api"; or give socketPath, or host and port. */
  url?: string;
  /** The agent's Unix socket (unix-socket.ts). */
  socketPath?: string;
  host?: string;
  port?: number;
  /** The node's token (64 hex digits) or a user's credential "NAME:SECRET" (preload/contract/users.ts). */
  credential: string;
  /** Use wss; `ca` trusts a self-signed agent certificate; rejectUnauthorized defaults to true. */
  tls?: boolean | { ca?: string | Buffer; rejectUnauthorized?: boolean };
  /** What program this is, for the agent's log ("cli:alice"); the audit log names the credential's user. */
  client?: string;
  /** Per request; default 60 s (a move waits for the handoff). */
  requestTimeoutMs?: number;
  /** Connection and authentication; default 10 s. */
  connectTimeoutMs?: number;
}

export type SnapshotHandler = (push: SnapshotPush) => void;
/** Every push of the paged stream: its head, its rows, changes. */
export type PushHandler = (push: Push) => void;
export type ChangeHandler = (push: ChangePush) => void;
export type CloseHandler = (code: number, reason: string) => void;

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

let compiledSchemas: ServerSchemas | null = null;

/** The contract's schemas compiled once per process (Node allows `new Function`; see ServerSchemas). */
function serverSchemas(): ServerSchemas {
  compiledSchemas ??= {
    reply: z.compile(SERVER_SCHEMAS.reply),
    push: z.compile(SERVER_SCHEMAS.push),
    results: Object.fromEntries(Object.entries(SERVER_SCHEMAS.results).map(([type, schema]) => [type, z.compile(schema)])) as ServerSchemas['results'],
  };
  return compiledSchemas;
}
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function agentUrl(options: Pick<ConnectAgentOptions, 'url' | 'socketPath' | 'host' | 'port' | 'tls'>): string {
  if (options.url !== undefined) return options.url;
  if (options.socketPath !== undefined) return socketUrl(options.socketPath, API_PATH);
  const scheme = options.tls ? 'wss' : 'ws';
  return `${scheme}://${urlHost(options.host ?? DEFAULT_API_HOST)}:${options.port ?? DEFAULT_API_PORT}${API_PATH}`;
}

export class AgentClient {
  private readonly requests: RequestTracker;
  private onPush: PushHandler | null = null;
  private readonly closeHandlers: CloseHandler[] = [];
  private closedWith: ApiRequestError | null = null;
  /** How the agent records this session in its audit log ("alice@127.0.0.1"). */
  actor = '';
  /** The user signed in, null for the node token (the local root), and the session's role. */
  user: string | null = null;
  role: Role = 'viewer';

  private constructor(
    private readonly socket: WebSocket,
    requestTimeoutMs: number,
  ) {
    this.requests = new RequestTracker({ idPrefix: 'c', timeoutMs: requestTimeoutMs, checkResult: (type, result) => checkResult(type, result, serverSchemas().results) });
    socket.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => this.onClosed(code, reason.toString('utf8')));
    socket.on('error', () => undefined); // 'close' follows and carries the outcome
  }

  /** Opens the connection and logs in; rejects with ApiRequestError ('unavailable', 'auth-failed', 'protocol', 'timeout', ...). */
  static async connect(options: ConnectAgentOptions): Promise<AgentClient> {
    const url = agentUrl(options);
    const tls = typeof options.tls === 'object' ? options.tls : {};
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = new WebSocket(url, {
      maxPayload: MAX_SERVER_MESSAGE_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: connectTimeoutMs,
      ca: tls.ca,
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        socket.off('open', open);
        reject(new ApiRequestError('unavailable', `cannot reach the agent at ${url}: ${error.message}`, { cause: error }));
      };
      const open = (): void => {
        socket.off('error', fail);
        resolve();
      };
      socket.once('open', open);
      socket.once('error', fail);
    });
    const client = new AgentClient(socket, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    try {
      const session = await client.login(url, options.credential, options.client, connectTimeoutMs);
      client.actor = session.actor;
      client.user = session.user;
      client.role = session.role;
      return client;
    } catch (error) {
      client.socket.terminate();
      throw error;
    }
  }

  /**
   * hello, check the agent's proof, then auth (handshake.ts). Nothing derived from the secret is sent
   * before the agent has proved it holds the credential's verifier, over this channel and these nonces.
   */
  private async login(url: string, credentialText: string, label: string | undefined, timeoutMs: number): Promise<CommandResults['auth']> {
    const credential = parseCredential(credentialText);
    if (credential === null) throw new ApiRequestError('auth-failed', `not a credential: expected ${CREDENTIAL_FORMS}`);
    const keys = await credentialKeys(credential.secret);
    const clientNonce = newNonce();
    const hello = await this.request(
      'hello',
      { protocol: PROTOCOL_VERSION, clientNonce, ...(label === undefined ? {} : { client: label }), ...(credential.user === null ? {} : { user: credential.user }) },
      timeoutMs,
    ).catch(
      (error: unknown) => {
        // An agent of protocol 1 knows no hello (and was sent nothing secret).
        if (error instanceof ApiRequestError && error.code === 'unknown-type') {
          throw new ApiRequestError('protocol', `the agent at ${url} speaks an older protocol (1; this client ${PROTOCOL_VERSION}): update the agent`);
        }
        throw error;
      },
    );
    if (hello.protocol !== PROTOCOL_VERSION) {
      throw new ApiRequestError('protocol', `the agent speaks protocol ${hello.protocol}, this client ${PROTOCOL_VERSION}; use matching versions`);
    }
    const transcript: Transcript = { channel: channelOfUrl(url), client: label ?? '', user: credential.user ?? '', clientNonce, serverNonce: hello.serverNonce };
    const proof = await answerChallenge(keys, transcript, hello.serverProof);
    if (proof === null) {
      throw new ApiRequestError(
        'auth-failed',
        credential.user === null
          ? `the agent at ${url} could not prove it holds this token: wrong token file, or not the agent (another program on that address?); nothing secret was sent`
          : `the agent at ${url} does not know user "${credential.user}" with this credential (removed, rotated, or mistyped), or is not the agent; nothing secret was sent`,
      );
    }
    const auth = await this.request('auth', { proof }, timeoutMs);
    if (auth.protocol !== PROTOCOL_VERSION) {
      throw new ApiRequestError('protocol', `the agent speaks protocol ${auth.protocol}, this client ${PROTOCOL_VERSION}; use matching versions`);
    }
    return auth;
  }

  /** Sends one command and resolves with its result (checked against the contract). */
  request<T extends CommandType>(type: T, args: CommandArgs[T], timeoutMs?: number): Promise<CommandResults[T]> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    return this.requests.send(type, args, (text) => this.socket.send(text), timeoutMs);
  }

  /**
   * Streams the cluster: onSnapshot with the whole state (again after an agent-side reset: replace
   * everything), onChange for every change after it. Resolves once the first snapshot has been
   * delivered. Once per client (this or subscribeView).
   */
  subscribe(onSnapshot: SnapshotHandler, onChange: ChangeHandler): Promise<CommandResults['subscribe']> {
    this.onPush = (push) => {
      if (push.type === 'snapshot') onSnapshot(push);
      else if (push.type === 'change') onChange(push);
    };
    return this.request('subscribe', {});
  }

  /**
   * The paged stream (protocol.ts): every push in order, the head first (again after a reset),
   * then its rows and the changes, which may come between the rows. Resolves after the first head.
   */
  subscribeView(view: ResourceTableView, onPush: (push: Exclude<Push, ChangesPush>) => void): Promise<CommandResults['subscribe']> {
    // Changes come several to a message; the handler gets them one by one, as the Electron bridge
    // carries them (ipc.ts).
    this.onPush = (push) => {
      if (push.type === 'changes') for (const change of push.changes) onPush(change);
      else onPush(push);
    };
    return this.request('subscribe', { view });
  }

  /** Called once when the connection ends, whoever ended it. */
  onClose(handler: CloseHandler): void {
    this.closeHandlers.push(handler);
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Closes the connection; pending requests reject with 'closed'. */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000, 'client done');
      setTimeout(() => this.socket.terminate(), 2_000).unref();
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.breakContract('the agent sent a binary message');
    const message = parseServerMessage(rawText(data), serverSchemas());
    if (message.kind === 'invalid') return this.breakContract(message.message);
    if (message.kind === 'push') {
      this.onPush?.(message.push);
      return;
    }
    const settled = this.requests.settle(message.reply);
    if (settled.kind === 'broken') this.breakContract(settled.message);
    // A reply to nothing we sent (or to a request that timed out): only a broken agent sends id null.
    else if (settled.kind === 'unknown' && message.reply.id === null) {
      this.breakContract(message.reply.ok ? 'reply without id' : `agent error: ${message.reply.error.message}`);
    }
  }

  /** An agent that breaks the contract cannot be trusted with the rest of the conversation either. */
  private breakContract(message: string): void {
    this.closedWith ??= new ApiRequestError('protocol', message);
    this.socket.close(1002, 'protocol error');
  }

  private onClosed(code: number, reason: string): void {
    this.closedWith ??= new ApiRequestError('closed', `connection to the agent closed (${code}${reason === '' ? '' : ` ${reason}`})`);
    this.requests.rejectAll(this.closedWith);
    for (const handler of this.closeHandlers.splice(0)) handler(code, reason);
  }
}

/** Connects and authenticates (see AgentClient.connect). */
export function connectAgent(options: ConnectAgentOptions): Promise<AgentClient> {
  return AgentClient.connect(options);
}
