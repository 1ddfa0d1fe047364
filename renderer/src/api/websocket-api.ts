// The web console's agent connection: a WebSocket to /api on the page's own origin, logged in with
// the credential from the URL fragment (the node's token or a user's "NAME:SECRET") by the
// challenge–response of preload/contract/handshake.ts, as the Node client does it (main/api/client.ts):
// WebCrypto; the secret never crosses the wire, and the agent proves it holds the credential's
// verifier first. The session's user and role go into the status (what the console offers follows
// the role). Every agent message is checked against the shared contract before it is used; requests
// are tracked by the tracker the CLI client shares (preload/contract/request-tracker.ts). Reconnects
// with backoff after a loss (not after a refused credential).
import { parseServerMessage } from '../../../preload/contract/parse';
import { API_PATH, PROTOCOL_VERSION, type CommandArgs, type CommandResults, type CommandType, type Push } from '../../../preload/contract/protocol';
import { ApiRequestError, RequestTracker } from '../../../preload/contract/request-tracker';
import type { IpcCommandType } from '../../../preload/contract/ipc';
import { fastPush } from '../../../preload/contract/fast-push';
import { answerChallenge, channelOfUrl, credentialKeys, newNonce, type Transcript } from '../../../preload/contract/handshake';
import type { Credential } from '../../../preload/contract/users';
import { apiUrlFor } from '../model/token';
import type { ConnectionStatus, ConsoleApi } from './console-api';
import { DEFAULT_TABLE_VIEW, type ResourceTableView } from '../../../preload/contract/resource-order';
import { takeEarlySocket } from './early-socket';

const REQUEST_TIMEOUT_MS = 60_000;
const AUTH_TIMEOUT_MS = 10_000;
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 5_000, 10_000];
/** Close codes a browser may send: 1000 or 3000..4999. */
const CLOSE_PROTOCOL_ERROR = 4002;
const CLOSE_RESYNC = 4003;
const AUTH_REFUSED_CLOSE = 4401;

export class WebSocketApi implements ConsoleApi {
  readonly transport = 'websocket' as const;
  readonly connections = null;
  private socket: WebSocket | null = null;
  private readonly requests = new RequestTracker({ idPrefix: 'w', timeoutMs: REQUEST_TIMEOUT_MS });
  /** Pushes that arrived before start() (after preconnect()), handed over by start(). */
  private early: Push[] | null = null;
  /** Sees the pushes that arrive before start(): the first screen painted before React (first-screen/). */
  private watchEarly: ((push: Push) => boolean) | null = null;
  /** Messages left unread until start(), once the watcher asked for it: they must not delay its paint. */
  private held: Array<{ socket: WebSocket; data: unknown }> | null = null;
  private onPush: (push: Push) => void = (push) => {
    this.early?.push(push);
    if (this.watchEarly?.(push) === true) this.held ??= [];
  };
  private view: ResourceTableView = DEFAULT_TABLE_VIEW;
  private onStatus: (status: ConnectionStatus) => void = () => undefined;
  private status: ConnectionStatus;
  private attempt = 0;
  private retryTimer: number | null = null;
  private stopped = true;
  private authRefused = false;
  /** The user of the credential, null for the node's token. */
  private readonly user: string | null;

  constructor(
    private readonly credential: Credential,
    private readonly url = apiUrlFor(window.location, API_PATH),
    private readonly clientLabel = 'console',
  ) {
    this.user = credential.user;
    this.status = { phase: 'connecting', endpoint: new URL(url).host, actor: null, user: null, role: null, detail: null, retryAt: null };
  }

  /**
   * Connects, logs in and subscribes now, before the page has rendered anything: the first push
   * waits for start() instead of start() waiting for the connection. `watch` sees each push that
   * arrives meanwhile (start() still gets them all); when it returns true, the messages after that
   * push are left unread until start() (the page paints its first screen meanwhile).
   */
  preconnect(watch?: (push: Push) => boolean): void {
    if (!this.stopped) return;
    this.watchEarly = watch ?? null;
    this.stopped = false;
    this.early = [];
    this.connect();
  }

  start(onPush: (push: Push) => void, onStatus: (status: ConnectionStatus) => void): () => void {
    this.onPush = onPush;
    this.onStatus = onStatus;
    const early = this.early;
    const held = this.held;
    this.early = this.held = this.watchEarly = null;
    onStatus(this.status);
    if (this.stopped) {
      this.stopped = false;
      this.connect();
    } else if (early !== null) for (const push of early) onPush(push);
    for (const { socket, data } of held ?? []) this.onMessage(socket, data);
    return () => this.stop();
  }

  resync(): void {
    this.socket?.close(CLOSE_RESYNC, 'resync');
  }

  setView(view: ResourceTableView): void {
    this.view = view;
  }

  private stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) window.clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'console closed');
  }

  private setStatus(patch: Partial<ConnectionStatus>): void {
    this.status = { ...this.status, ...patch };
    this.onStatus(this.status);
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.stopped) return;
    // The first connection may have been opened while the page's script was still evaluating.
    const socket = takeEarlySocket(this.url) ?? new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => void this.authenticate(socket));
    socket.addEventListener('message', (event: MessageEvent) => this.onMessage(socket, event.data));
    socket.addEventListener('close', (event: CloseEvent) => this.onClosed(socket, event.code, event.reason));
    if (socket.readyState === WebSocket.OPEN) void this.authenticate(socket);
  }

  private async authenticate(socket: WebSocket): Promise<void> {
    try {
      // Inside the try: WebCrypto fails here in a page that is not a secure context.
      const keys = await credentialKeys(this.credential.secret);
      const clientNonce = newNonce();
      const hello = await this.send(
        'hello',
        { protocol: PROTOCOL_VERSION, clientNonce, client: this.clientLabel, ...(this.user === null ? {} : { user: this.user }) },
        AUTH_TIMEOUT_MS,
      );
      if (hello.protocol !== PROTOCOL_VERSION) {
        this.breakContract(socket, `the agent speaks protocol ${hello.protocol}, this console ${PROTOCOL_VERSION}: use matching versions`);
        return;
      }
      const transcript: Transcript = { channel: channelOfUrl(this.url), client: this.clientLabel, user: this.user ?? '', clientNonce, serverNonce: hello.serverNonce };
      const proof = await answerChallenge(keys, transcript, hello.serverProof);
      if (proof === null) {
        // The agent cannot prove it holds this credential's verifier: a wrong link, a removed or
        // rotated user, or not the agent. Send nothing more.
        this.authRefused = true;
        const detail =
          this.user === null
            ? 'the agent could not prove it holds this token (wrong link?)'
            : `the agent does not know user "${this.user}" with this credential (removed, rotated, or mistyped?)`;
        this.setStatus({ phase: 'auth-failed', detail, retryAt: null });
        socket.close(1000, 'credential not proven');
        return;
      }
      const authenticated = this.send('auth', { proof }, AUTH_TIMEOUT_MS);
      // The subscription goes out right behind the proof, not a round trip later: the agent holds it
      // until the proof is checked, and drops it if the login is refused (then the auth reply says
      // why, and the close rejects this request, which nobody needs to hear about).
      const subscribed = this.send('subscribe', { view: this.view });
      subscribed.catch(() => undefined);
      const auth = await authenticated;
      if (auth.protocol !== PROTOCOL_VERSION) {
        this.breakContract(socket, `the agent speaks protocol ${auth.protocol}, this console ${PROTOCOL_VERSION}: use matching versions`);
        return;
      }
      this.attempt = 0;
      this.setStatus({ phase: 'connected', actor: auth.actor, user: auth.user, role: auth.role, detail: null, retryAt: null });
      await subscribed;
    } catch (error) {
      if (error instanceof ApiRequestError && error.code === 'auth-failed') {
        this.authRefused = true;
        this.setStatus({ phase: 'auth-failed', detail: error.message, retryAt: null });
      }
      // Anything else ends in a close, which schedules the next attempt.
    }
  }

  private onMessage(socket: WebSocket, data: unknown): void {
    if (socket !== this.socket) return;
    if (this.held !== null) {
      this.held.push({ socket, data });
      return;
    }
    if (typeof data !== 'string') return this.breakContract(socket, 'the agent sent a binary message');
    // Snapshots, the paged stream's head and rows, and resource changes first try the fast check
    // (fast-push.ts: never looser than the contract); whatever it does not accept goes through the
    // contract's own parser.
    const fast = data.startsWith('{"type":') ? fastPush(parseJson(data)) : null;
    if (fast !== null) return this.onPush(fast);
    const message = parseServerMessage(data);
    if (message.kind === 'invalid') return this.breakContract(socket, message.message);
    if (message.kind === 'push') return this.onPush(message.push);
    const reply = message.reply;
    const settled = this.requests.settle(reply);
    if (settled.kind === 'broken') return this.breakContract(socket, settled.message);
    // id null: the agent could not read a request of ours (or refused the credential before reading it).
    if (settled.kind === 'unknown' && reply.id === null && !reply.ok && reply.error.code === 'auth-failed') {
      this.authRefused = true;
      this.setStatus({ phase: 'auth-failed', detail: reply.error.message, retryAt: null });
    }
  }

  /** An agent that breaks the contract is not trusted with the rest of this connection. */
  private breakContract(socket: WebSocket, message: string): void {
    this.setStatus({ phase: 'broken', detail: message });
    socket.close(CLOSE_PROTOCOL_ERROR, 'protocol error');
  }

  private onClosed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.requests.rejectAll(new ApiRequestError('closed', `connection to the agent closed (${code}${reason === '' ? '' : ` ${reason}`})`));
    if (this.stopped) return;
    if (this.authRefused || code === AUTH_REFUSED_CLOSE) {
      this.authRefused = true;
      // 4401 after a login: the user was removed, rotated or given another role meanwhile.
      if (this.status.phase !== 'auth-failed') this.setStatus({ phase: 'auth-failed', detail: reason === '' ? 'the agent refused the credential' : `the agent ended the session: ${reason}`, retryAt: null });
      return;
    }
    const resync = code === CLOSE_RESYNC;
    const delay = resync ? 0 : (RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)] ?? 10_000);
    this.attempt++;
    const broken = this.status.phase === 'broken';
    this.setStatus({
      phase: resync ? 'connecting' : broken ? 'broken' : 'reconnecting',
      detail: resync ? null : broken ? this.status.detail : `agent unreachable (${code === 1006 ? 'connection lost' : `closed ${code}`})`,
      retryAt: Date.now() + delay,
    });
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  request<T extends IpcCommandType>(type: T, args: CommandArgs[T]): Promise<CommandResults[T]> {
    return this.send(type, args);
  }

  private send<T extends CommandType>(type: T, args: CommandArgs[T], timeoutMs?: number): Promise<CommandResults[T]> {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ApiRequestError('closed', 'not connected to the agent'));
    }
    return this.requests.send(type, args, (text) => socket.send(text), timeoutMs);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
