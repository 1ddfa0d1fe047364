// Shared by the api-*.test.ts files: an in-memory ApiHandler that records every call (the unit
// under test is the API server, not the cluster), sample data that satisfies the contract, and a
// raw WebSocket peer that sends exactly the bytes a test wants (the real client would refuse to
// send most of the malformed messages these tests need).
import { once } from 'node:events';
import { WebSocket, type ClientOptions } from 'ws';
import type { AuditEntry, NodeRecord, ResourceView, Snapshot } from '../../preload/contract/domain';
import type { ActionResult, Change, ProbeResult } from '../../preload/contract/protocol';
import type { ApiHandler, CommandResult, ApiCommand, UpdateListener, VersionedSnapshot } from '../../main/api/handler';
import { generateToken } from '../../main/api/auth';
import { answerChallenge, channelOfUrl, credentialKeys, newNonce, serverProof, type Transcript } from '../../preload/contract/handshake';
import { PROTOCOL_VERSION } from '../../preload/contract/protocol';
import { startAgentServer, type AgentServer, type AgentServerOptions } from '../../main/api/server';

export const TOKEN = generateToken();

/** A secret to log in with: the node token (user null) or a user's. */
export interface TestCredential {
  user: string | null;
  secret: string;
}
const TOKEN_CREDENTIAL: TestCredential = { user: null, secret: TOKEN };

/** The agent's proof of a transcript for this secret (what a real agent holding its verifier sends). */
export async function serverProofOf(transcript: Transcript, secret = TOKEN): Promise<string> {
  return serverProof((await credentialKeys(secret)).verifier, transcript);
}

/** The client's proof of a transcript for this secret (what a real client sends after checking the agent's proof). */
export async function clientProofOf(transcript: Transcript, secret = TOKEN): Promise<string> {
  const keys = await credentialKeys(secret);
  const proof = await answerChallenge(keys, transcript, await serverProof(keys.verifier, transcript));
  if (proof === null) throw new Error('unreachable: the proof of our own verifier was refused');
  return proof;
}

export const NODE_N1: NodeRecord = { name: 'n1', state: 'up', agentVersion: '0.1.0', lastSeen: 1_700_000_000_000, macs: { eth0: '02:00:00:00:00:01' } };
export const NODE_N2: NodeRecord = { name: 'n2', state: 'up', agentVersion: '0.1.0', lastSeen: 1_700_000_000_000, macs: { eth0: '02:00:00:00:00:02' } };

export function resourceView(name: string, ip: string, owner: string | null = 'n1'): ResourceView {
  return {
    name,
    ip,
    prefix: 24,
    possibleOwners: [],
    preferredOwners: ['n1', 'n2'],
    failback: { mode: 'never' },
    interfaces: {},
    enabled: true,
    announceForm: 'request',
    defendPolicy: 'always',
    status: {
      name,
      state: owner === null ? 'offline' : 'online',
      owner,
      ownerMac: owner === null ? null : '02:00:00:00:00:01',
      since: 1_700_000_000_000,
      failure: null,
      lastHandoffMs: 3.2,
    },
  };
}

export function auditEntry(seq: number, action = 'resource.move'): AuditEntry {
  return { seq, at: 1_700_000_000_000 + seq, actor: 'cli:test@127.0.0.1', action, target: 'web', outcome: 'ok', detail: null, durationMs: 12, handoffMs: 3.1 };
}

export function sampleSnapshot(): Snapshot {
  return {
    nodes: [NODE_N1, NODE_N2],
    resources: [resourceView('web', '10.213.0.50')],
    conflicts: [
      {
        node: 'n1',
        address: '10.213.0.50',
        vlan: null,
        ourMac: '02:00:00:00:00:01',
        theirMac: '02:00:00:00:00:66',
        theirVendor: '(locally administered)',
        resource: 'web',
        firstSeen: 1_700_000_000_000,
        lastSeen: 1_700_000_001_000,
        count: 3,
        defended: true,
        muted: false,
      },
    ],
    events: [auditEntry(1)],
    rejected: [],
  };
}

export function actionDone(resource: ResourceView | null = resourceView('web', '10.213.0.50', 'n2')): ActionResult {
  return { outcome: 'done', detail: null, auditSeq: 2, resource, node: null, handoffMs: 2.5, durationMs: 40 };
}

export interface RecordedCall {
  command: ApiCommand;
  actor: string;
}

/** An in-memory ApiHandler: records calls, answers with contract-valid defaults, emits changes on demand. */
export class FakeApiHandler implements ApiHandler {
  readonly calls: RecordedCall[] = [];
  snapshotCalls = 0;
  revision = 10;
  state: Snapshot = sampleSnapshot();
  readonly listeners = new Set<UpdateListener>();
  /** When set, snapshot() waits for it (to inject changes while a snapshot is being taken). */
  snapshotGate: Promise<void> | null = null;
  /** Take the revision after the gate opens (the snapshot then already contains what happened meanwhile). */
  revisionAfterGate = false;
  /** Overrides the default answer. */
  respond: ((command: ApiCommand, actor: string) => Promise<CommandResult> | CommandResult) | null = null;

  async snapshot(): Promise<VersionedSnapshot> {
    this.snapshotCalls += 1;
    let revision = this.revision;
    if (this.snapshotGate !== null) await this.snapshotGate;
    if (this.revisionAfterGate) revision = this.revision;
    return { revision, snapshot: structuredClone(this.state) };
  }

  subscribe(listener: UpdateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A change at the next revision, to every subscriber. */
  emit(change: Change): number {
    this.revision += 1;
    for (const listener of this.listeners) listener({ type: 'change', revision: this.revision, change });
    return this.revision;
  }

  reset(reason = 'test'): void {
    for (const listener of this.listeners) listener({ type: 'reset', reason });
  }

  async execute(command: ApiCommand, actor: string): Promise<CommandResult> {
    this.calls.push({ command: structuredClone(command), actor });
    if (this.respond !== null) return this.respond(command, actor);
    switch (command.type) {
      case 'probe': {
        const result: ProbeResult = { node: command.node, ip: command.ip, verdict: 'free', answeredBy: [], ownerMac: null, durationMs: 800 };
        return { ok: true, result };
      }
      case 'events.query':
        return { ok: true, result: { entries: [auditEntry(1), auditEntry(2)] } };
      case 'node.pause':
      case 'node.resume':
        return { ok: true, result: { ...actionDone(null), node: { ...NODE_N1, state: command.type === 'node.pause' ? 'paused' : 'up' } } };
      default:
        return { ok: true, result: actionDone() };
    }
  }
}

export interface RawMessage {
  [key: string]: unknown;
}

/** A WebSocket peer for tests: sends anything, queues what it receives, reports the close. */
export class RawPeer {
  private readonly queue: RawMessage[] = [];
  private readonly waiters: Array<(message: RawMessage) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as RawMessage;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    });
    socket.on('error', () => undefined);
  }

  static async open(url: string, options: ClientOptions = {}): Promise<RawPeer> {
    const socket = new WebSocket(url, options);
    const peer = new RawPeer(socket);
    await once(socket, 'open');
    return peer;
  }

  /** Opens and logs in with the right token (or the credential given); the auth reply's result. */
  static async authenticated(url: string, client?: string, options: ClientOptions = {}, credential = TOKEN_CREDENTIAL): Promise<RawPeer> {
    const peer = await RawPeer.open(url, options);
    const transcript = await peer.hello(url, client, credential);
    const reply = await peer.request({ id: 'auth', type: 'auth', proof: await clientProofOf(transcript, credential.secret) });
    if (reply.ok !== true) throw new Error(`auth failed: ${JSON.stringify(reply)}`);
    peer.login = reply.result as { actor: string; user: string | null; role: string };
    return peer;
  }

  /** The auth result of `authenticated`. */
  login: { actor: string; user: string | null; role: string } | null = null;

  /** Sends hello, checks the agent's proof (throws if wrong) and returns the transcript for auth. */
  async hello(url: string, client?: string, credential = TOKEN_CREDENTIAL): Promise<Transcript> {
    const clientNonce = newNonce();
    const user = credential.user === null ? {} : { user: credential.user };
    const reply = await this.request({ id: 'hello', type: 'hello', protocol: PROTOCOL_VERSION, clientNonce, ...(client === undefined ? {} : { client }), ...user });
    if (reply.ok !== true) throw new Error(`hello failed: ${JSON.stringify(reply)}`);
    const result = reply.result as { serverNonce: string; serverProof: string };
    const transcript: Transcript = { channel: channelOfUrl(url), client: client ?? '', user: credential.user ?? '', clientNonce, serverNonce: result.serverNonce };
    if (result.serverProof !== (await serverProofOf(transcript, credential.secret))) throw new Error('the server proof is wrong');
    return transcript;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message, or a rejection after `timeoutMs`. */
  next(timeoutMs = 2_000): Promise<RawMessage> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error('no message in time'));
      }, timeoutMs);
      const waiter = (message: RawMessage): void => {
        clearTimeout(timer);
        resolve(message);
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends a request and returns its reply (pushes in between are kept in order for next()). */
  async request(message: RawMessage): Promise<RawMessage> {
    this.send(message);
    const skipped: RawMessage[] = [];
    for (;;) {
      const received = await this.next();
      if ('ok' in received && received.id === message.id) {
        this.queue.unshift(...skipped);
        return received;
      }
      skipped.push(received);
    }
  }

  /** Messages that arrive within `ms` (to check that nothing more comes). */
  async drain(ms = 100): Promise<RawMessage[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.queue.splice(0);
  }

  close(): void {
    this.socket.terminate();
  }
}

export interface TestServer {
  server: AgentServer;
  handler: FakeApiHandler;
  logs: string[];
}

/** Runs `run` against a fresh test server, closed afterwards whatever happens. */
export async function withServer(run: (context: TestServer) => Promise<void>, options: Partial<AgentServerOptions> = {}): Promise<void> {
  const context = await startTestServer(options);
  try {
    await run(context);
  } finally {
    await context.server.close();
  }
}

/** An agent API server on 127.0.0.1 and an ephemeral port, backed by a FakeApiHandler. */
export async function startTestServer(options: Partial<AgentServerOptions> = {}): Promise<TestServer> {
  const handler = new FakeApiHandler();
  const logs: string[] = [];
  const server = await startAgentServer({
    handler,
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    heartbeatMs: 0,
    log: (line) => logs.push(line),
    ...options,
  });
  return { server, handler, logs };
}
