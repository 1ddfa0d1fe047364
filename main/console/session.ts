// The console's connection to one agent at a time: the local one (its token from the token file,
// or remembered from the elevated launcher) or a remote cluster (typed, or remembered; the node's
// token or a user's credential, whose role the state carries for the page to offer). Electron-
// free: the Electron main process hands it the elevation function and forwards what it emits.
//
// Two agent connections while connected: one for commands, and one per stream subscription (the
// protocol allows one subscribe per connection, and a reloaded page needs a fresh snapshot).
// Losing either ends the session: a console that shows a stale cluster as live is worse than one
// that says it is disconnected.
import { X509Certificate } from 'node:crypto';
import type { ConnectionState, ConnectTarget, ConnectionList, ResourceTableView, StartLocalAgentResult, StreamMessage } from '../../preload/contract/ipc';
import { connectAgent, type AgentClient, type ConnectAgentOptions } from '../api/client';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { CREDENTIAL_FORMS, formatCredential, parseCredential } from '../../preload/contract/users';
import { endpointFor, endpointUrl, parseAgentAddress, type AgentEndpoint } from './connection-target';
import type { ConnectionStore } from './connection-store';
import type { LocalAgentLaunch } from './launch-report';
import { agentAnswers, readLocalToken, type LocalAgentSettings } from './local-agent';

export interface ConsoleSessionOptions {
  store: ConnectionStore;
  local: LocalAgentSettings;
  /** How this console appears in the audit log ("console"; the agent appends the peer address). */
  clientLabel?: string;
  /** Starts the local agent elevated; absent where the console cannot (the result is then 'unsupported'). */
  startLocalAgent?: () => Promise<LocalAgentLaunch>;
  connect?: (options: ConnectAgentOptions) => Promise<AgentClient>;
  agentAnswers?: (host: string, port: number) => Promise<boolean>;
  readLocalToken?: (file: string) => Promise<string | null>;
  log?: (line: string) => void;
}

interface Target {
  kind: 'local' | 'remote';
  id: string | null;
  label: string;
  endpoint: AgentEndpoint;
  /** endpointUrl(endpoint). */
  url: string;
  options: ConnectAgentOptions;
  /** The local token came from the store (not the token file): forget it if the agent refuses it. */
  rememberedToken: boolean;
}

type StateListener = (state: ConnectionState) => void;

const DISCONNECTED: ConnectionState = { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: null };

export class ConsoleSession {
  private state: ConnectionState = DISCONNECTED;
  private target: Target | null = null;
  private client: AgentClient | null = null;
  private stream: AgentClient | null = null;
  /** Bumped by every connect/disconnect: late results of an older attempt are dropped. */
  private generation = 0;
  private readonly listeners = new Set<StateListener>();
  private readonly connectTo: (options: ConnectAgentOptions) => Promise<AgentClient>;
  private readonly answers: (host: string, port: number) => Promise<boolean>;
  private readonly readToken: (file: string) => Promise<string | null>;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ConsoleSessionOptions) {
    this.connectTo = options.connect ?? connectAgent;
    this.answers = options.agentAnswers ?? agentAnswers;
    this.readToken = options.readLocalToken ?? readLocalToken;
    this.log = options.log ?? (() => undefined);
  }

  get connection(): ConnectionState {
    return this.state;
  }

  /** Called with every new state; returns the function that stops it. */
  onState(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The command connection; ApiRequestError 'unavailable' when not connected. */
  agent(): AgentClient {
    if (this.client === null || this.client.closed) throw new ApiRequestError('unavailable', 'not connected to an agent');
    return this.client;
  }

  /** At start: the local agent if it answers and its token is at hand; otherwise stays disconnected. */
  async autoConnect(): Promise<ConnectionState> {
    const { host, port } = this.options.local;
    if (!(await this.answers(host, port))) {
      this.setState({ ...DISCONNECTED, detail: `no agent answers on ${host}:${port}` });
      return this.state;
    }
    try {
      return await this.connect({ kind: 'local' });
    } catch (error) {
      if (this.state.phase === 'disconnected' && this.state.detail === null) this.setState({ ...DISCONNECTED, kind: 'local', detail: describe(error) });
      return this.state;
    }
  }

  async list(): Promise<ConnectionList> {
    const { host, port } = this.options.local;
    const [saved, answering] = await Promise.all([this.options.store.list(), this.answers(host, port)]);
    for (const warning of this.options.store.takeWarnings()) this.log(`connections: ${warning}`);
    return {
      saved,
      local: { endpoint: endpointUrl({ host, port, tls: false }), answering, canStart: this.options.startLocalAgent !== undefined },
      current: this.state,
    };
  }

  /**
   * Connects to `target`; rejects with ApiRequestError. The current connection stays until the new one
   * is up: a refused credential or an unreachable cluster costs the operator nothing they had.
   */
  async connect(request: ConnectTarget): Promise<ConnectionState> {
    const target = await this.resolve(request);
    const generation = ++this.generation;
    const connected = (): boolean => this.client !== null && !this.client.closed;
    if (!connected()) this.setState({ phase: 'connecting', kind: target.kind, id: target.id, label: target.label, endpoint: target.url, actor: null, user: null, role: null, detail: null });
    let client: AgentClient;
    try {
      client = await this.connectTo(target.options);
    } catch (error) {
      if (generation === this.generation && !connected()) {
        this.target = null;
        this.setState({ ...DISCONNECTED, kind: target.kind, id: target.id, label: target.label, endpoint: target.url, detail: describe(error) });
      }
      if (target.rememberedToken && error instanceof ApiRequestError && error.code === 'auth-failed') {
        await this.options.store.setLocalToken(this.options.local.port, null).catch(() => undefined);
      }
      throw error;
    }
    if (generation !== this.generation) {
      await client.close();
      throw new ApiRequestError('closed', 'another connection was chosen meanwhile');
    }
    // The new connection is up: now the old one goes.
    await this.closeConnections();
    if (generation !== this.generation) {
      await client.close();
      throw new ApiRequestError('closed', 'another connection was chosen meanwhile');
    }
    this.target = target;
    this.client = client;
    client.onClose((code, reason) => {
      if (this.client === client) this.lost(`connection closed (${code}${reason === '' ? '' : ` ${reason}`})`);
    });
    const savedId = await this.remember(request, target);
    // Lost or replaced while the list was being saved: that newer state stands.
    if (generation === this.generation && this.client === client) {
      if (savedId !== null) this.target = { ...target, id: savedId };
      this.setState({ phase: 'connected', kind: target.kind, id: savedId ?? target.id, label: target.label, endpoint: target.url, actor: client.actor, user: client.user, role: client.role, detail: null });
    }
    return this.state;
  }

  /** Closes everything; the state says why (`detail`). */
  async disconnect(detail: string | null = null): Promise<ConnectionState> {
    // Any connection still being made is dropped when it comes up.
    this.generation += 1;
    await this.closeConnections();
    this.target = null;
    this.setState({ ...DISCONNECTED, detail });
    return this.state;
  }

  /**
   * Starts (or restarts) the stream: `send` gets a snapshot push, then every change push (with a
   * view: the paged stream of protocol.ts, its rows decoded). Resolves once the first snapshot (or
   * head) has been sent. ApiRequestError 'unavailable' when not connected.
   */
  async openStream(send: (message: StreamMessage) => void, view?: ResourceTableView): Promise<void> {
    const target = this.target;
    if (target === null || this.state.phase !== 'connected') throw new ApiRequestError('unavailable', 'not connected to an agent');
    await this.closeStream();
    const generation = this.generation;
    const stream = await this.connectTo({ ...target.options, client: this.label('stream') });
    if (generation !== this.generation) {
      await stream.close();
      throw new ApiRequestError('closed', 'the connection changed meanwhile');
    }
    this.stream = stream;
    stream.onClose((code, reason) => {
      if (this.stream === stream) this.lost(`stream closed (${code}${reason === '' ? '' : ` ${reason}`})`);
    });
    if (view === undefined) await stream.subscribe(send, send);
    else await stream.subscribeView(view, send);
  }

  async closeStream(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream !== null) await stream.close();
  }

  /** The elevated start (password prompt), then a connection to the agent it started or found. */
  async startLocalAgent(): Promise<StartLocalAgentResult> {
    const start = this.options.startLocalAgent;
    if (start === undefined) {
      return { outcome: 'unsupported', detail: 'this console cannot start an agent here; connect to a cluster instead', connection: this.state };
    }
    const launch = await start();
    if (launch.outcome !== 'started' && launch.outcome !== 'already-running') {
      return { outcome: launch.outcome, detail: launch.detail, connection: this.state };
    }
    await this.options.store.setLocalToken(this.options.local.port, launch.token);
    try {
      const connection = await this.connect({ kind: 'local' });
      return { outcome: launch.outcome, detail: launch.detail, connection };
    } catch (error) {
      return { outcome: 'failed', detail: `${launch.detail}, but connecting to it failed: ${describe(error)}`, connection: this.state };
    }
  }

  private async resolve(request: ConnectTarget): Promise<Target> {
    switch (request.kind) {
      case 'local': {
        const { host, port, tokenFile } = this.options.local;
        const fileToken = await this.readToken(tokenFile);
        const token = fileToken ?? (await this.options.store.localToken(port));
        if (token === null) {
          throw new ApiRequestError('auth-failed', `no token for the local agent: ${tokenFile} is root's; start the agent from this console (password prompt) to let it in`);
        }
        const endpoint: AgentEndpoint = { host, port, tls: false };
        return { ...this.targetFor('local', null, 'This host', endpoint, token, null), rememberedToken: fileToken === null };
      }
      case 'saved': {
        const saved = await this.options.store.get(request.id);
        if (saved === null) throw new ApiRequestError('not-found', 'no such remembered connection', { field: 'id' });
        return this.targetFor('remote', saved.id, saved.label, saved, saved.token, saved.ca);
      }
      case 'remote': {
        const address = parseAgentAddress(request.address);
        if (!address.ok) throw fieldError('address', address.problem);
        // The node's token or a user's "NAME:SECRET", kept as written out again (trimmed).
        const credential = parseCredential(request.credential);
        if (credential === null) throw fieldError('credential', `must be ${CREDENTIAL_FORMS}`);
        if (request.ca !== null) checkCa(request.ca);
        const endpoint = endpointFor(address.host, address.port, request.ca !== null);
        return this.targetFor('remote', null, request.label, endpoint, formatCredential(credential), request.ca);
      }
    }
  }

  private targetFor(kind: Target['kind'], id: string | null, label: string, endpoint: AgentEndpoint, credential: string, ca: string | null): Target {
    const { host, port, tls } = endpoint;
    return {
      kind,
      id,
      label,
      endpoint: { host, port, tls },
      url: endpointUrl(endpoint),
      options: { host, port, credential, tls: tls ? (ca === null ? true : { ca }) : false, client: this.label('ui') },
      rememberedToken: false,
    };
  }

  private label(part: string): string {
    return `${this.options.clientLabel ?? 'console'}:${part}`;
  }

  /** Records the connection in the remembered list; the id of a newly remembered one. */
  private async remember(request: ConnectTarget, target: Target): Promise<string | null> {
    try {
      if (request.kind === 'saved') await this.options.store.touch(request.id);
      if (request.kind === 'remote' && request.remember) {
        const { host, port, tls } = target.endpoint;
        return (await this.options.store.remember({ label: request.label, host, port, tls, token: target.options.credential, ca: request.ca })).id;
      }
    } catch (error) {
      // Connected is what the operator asked for; a list that could not be saved is worth a log line.
      this.log(`connections: could not remember ${target.url}: ${describe(error)}`);
    }
    return null;
  }

  /** Closes both connections (each is forgotten before it closes, so its close is not taken for a loss). */
  private async closeConnections(): Promise<void> {
    const client = this.client;
    this.client = null;
    await this.closeStream();
    if (client !== null) await client.close();
  }

  /** The current connection or its stream closed on its own. */
  private lost(why: string): void {
    const endpoint = this.state.endpoint ?? 'the agent';
    void this.disconnect(`lost the connection to ${endpoint}: ${why}`);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

function fieldError(field: string, message: string): ApiRequestError {
  return new ApiRequestError('bad-request', `${field}: ${message}`, { field, issues: [{ field, message: `${field}: ${message}` }] });
}

function checkCa(pem: string): void {
  try {
    new X509Certificate(pem);
  } catch {
    throw fieldError('ca', 'is not a PEM X.509 certificate');
  }
}
