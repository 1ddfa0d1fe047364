// One API client's WebSocket: the login (hello, auth: the challenge–response of
// preload/contract/handshake.ts, for the node token or a named user), validation, the role check,
// dispatch to the ApiHandler, the stream. Nothing reaches the handler before a successful `auth`,
// nothing the session's role may not do, and nothing malformed: every message is parsed against
// the contract first (preload/contract/parse.ts).
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { checkResult, clip, parseRequest, type RequestParse } from '../../preload/contract/parse';
import {
  ApiErrorSchema,
  CLOSE_CODES,
  PROTOCOL_VERSION,
  type ApiError,
  type CommandType,
  type WirePush,
  type Request,
  type ApiCommand,
} from '../../preload/contract/protocol';
import { checkClientProof, newNonce, serverProof, type Transcript, type VerifierKeys } from '../../preload/contract/handshake';
import { roleAllows, roleNeeded } from '../../preload/contract/users';
import { actorOf, type Credentials, type Identity } from './credentials';
import { rawText } from './raw-text';
import type { ApiHandler } from './handler';
import { StreamSession } from './stream';
import type { ResourceTableView } from '../../preload/contract/resource-order';

export interface ConnectionLimits {
  /** The login (hello, auth) must have been sent within this time. */
  authTimeoutMs: number;
  /** Requests of one connection running at once (handler calls); more get 'busy'. */
  maxInFlight: number;
  /** More rejected messages than `count` within `windowMs` close the connection (1008). */
  badMessages: { count: number; windowMs: number };
  /** Unsent bytes beyond which a client is too slow for its stream (closed with 1013). */
  maxBufferedBytes: number;
}

export interface ConnectionContext {
  handler: ApiHandler;
  /** The node token's and the users' verifiers (credentials.ts): the agent proves it holds one and checks the client's proof. */
  credentials: Credentials;
  /** The listener this connection came in on, as a client names it in the handshake ("ws:7790", "unix"). */
  channel: string;
  limits: ConnectionLimits;
  /** The peer's address as the socket saw it. */
  peer: string;
  log: (line: string) => void;
  login: LoginHooks;
  /**
   * The byte stream under the WebSocket: what is sent in one turn of the event loop goes out in one
   * write. A subscriber without a table view gets a message per change, and during a 10,000-row
   * import one write (a loopback send that also runs the receiver's side) per message took ~2.4 s of
   * the serving agent's CPU.
   */
  transport: Pick<Duplex, 'cork' | 'uncork'>;
}

/** What the server decides for the login (login-guard.ts, the session limit). */
export interface LoginHooks {
  /** A wrong proof: how long to hold the refusal back (ms). */
  failed(reason: string): number;
  /** Any other refused login (logged in aggregate). */
  refused(reason: string): void;
  /** The proof checked out: gives the unauthenticated slot back and takes a session; false when none is free ('busy'). */
  authenticated(): boolean;
  /** Gives the unauthenticated slot back (idempotent): the connection closed, or its refusal was sent. */
  release(): void;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiError };
type Reply = { id: string | null } & Outcome;

const INTERNAL_ERROR: ApiError = { code: 'internal', message: 'internal error in the agent (details are in its log)' };

/**
 * The login's steps: waiting for hello; hello answered, waiting for auth; a step's crypto running
 * (messages wait); refused (the refusal is being held back, messages are dropped); in.
 */
type LoginPhase =
  | { kind: 'hello' }
  | { kind: 'auth'; transcript: Transcript; keys: VerifierKeys; identity: Identity | null }
  | { kind: 'working' }
  | { kind: 'refused' }
  | { kind: 'in' };

/** Messages a client may send while a login step runs (a pipelining client); more close the connection. */
const MAX_HELD_MESSAGES = 16;

export class ApiConnection {
  private actor: string | null = null;
  private identity: Identity | null = null;
  private phase: LoginPhase = { kind: 'hello' };
  private held: Array<{ data: RawData; isBinary: boolean }> = [];
  private inFlight = 0;
  private badTimes: number[] = [];
  private stream: StreamSession | null = null;
  private closed = false;
  /** The transport is corked until the end of this turn of the loop. */
  private corked = false;
  /** A refusal is being held back (login-guard.ts): the slot stays taken until it is sent, even if the peer leaves. */
  private refusalPending = false;
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly context: ConnectionContext,
  ) {
    this.authTimer = setTimeout(() => {
      context.login.refused('no login in time');
      this.close(CLOSE_CODES.unauthorized, 'no auth in time');
    }, context.limits.authTimeoutMs);
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.dispose());
    socket.on('error', (error) => {
      context.log(`api: connection from ${context.peer}: ${error.message}`);
    });
  }

  get authenticated(): boolean {
    return this.actor !== null;
  }

  /** Closes the session if its user was removed, rotated or given another role since it logged in. */
  recheck(): void {
    if (this.identity === null || this.closed || this.context.credentials.stillValid(this.identity)) return;
    this.context.log(`api: closing the session of ${this.actor ?? '?'}: its credential or role changed`);
    this.close(CLOSE_CODES.unauthorized, 'credential revoked or role changed; log in again');
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    switch (this.phase.kind) {
      case 'refused':
        return;
      case 'working':
        if (this.held.length >= MAX_HELD_MESSAGES) this.close(CLOSE_CODES.policy, 'too many messages during login');
        else this.held.push({ data, isBinary });
        return;
      default:
    }
    const parsed: RequestParse = isBinary
      ? { ok: false, id: null, error: { code: 'bad-json', message: 'binary messages are not accepted; send JSON text' } }
      : parseRequest(rawText(data));
    if (this.phase.kind === 'hello') {
      this.onHello(parsed, isBinary ? '' : rawText(data));
      return;
    }
    if (this.phase.kind === 'auth') {
      this.onAuth(parsed, this.phase);
      return;
    }
    if (!parsed.ok) {
      this.reject(parsed.id, parsed.error);
      return;
    }
    this.dispatch(parsed.request);
  }

  /** Runs a login step; messages that arrive meanwhile wait for it. */
  private work(step: () => Promise<LoginPhase>): void {
    this.phase = { kind: 'working' };
    step().then(
      (next) => {
        if (this.closed) return;
        this.phase = next;
        for (const { data, isBinary } of this.held.splice(0)) this.onMessage(data, isBinary);
      },
      (error: unknown) => {
        this.context.log(`api: login of ${this.context.peer} failed: ${error instanceof Error ? error.message : String(error)}`);
        this.close(1011, 'internal error');
      },
    );
  }

  /** Refuses the login: the error, then the connection closes (4401). */
  private refuse(id: string | null, error: ApiError, reason: string): void {
    this.context.login.refused(reason);
    this.phase = { kind: 'refused' };
    this.send({ id, ok: false, error });
    this.close(CLOSE_CODES.unauthorized, 'authenticate first');
  }

  /** The first message must be hello: the agent answers with its nonce and its proof. */
  private onHello(parsed: RequestParse, text: string): void {
    if (!parsed.ok) {
      if (isOldAuth(text)) {
        // A client of protocol 1 sent its token: say what to do, and neither check nor log the token.
        this.refuse(parsed.id, { code: 'unauthenticated', message: `this agent speaks protocol ${PROTOCOL_VERSION} (challenge-response login); this client is older: update it` }, 'a client of protocol 1');
        return;
      }
      this.refuse(parsed.id, parsed.error, 'malformed first message');
      return;
    }
    const request = parsed.request;
    if (request.type !== 'hello') {
      this.refuse(request.id, { code: 'unauthenticated', message: 'authenticate first: the first request must be hello' }, `${request.type} before hello`);
      return;
    }
    if (request.protocol !== PROTOCOL_VERSION) {
      const message = `this agent speaks protocol ${PROTOCOL_VERSION}, the client ${request.protocol}: use matching versions`;
      this.refuse(request.id, { code: 'unauthenticated', message }, `a client of protocol ${request.protocol}`);
      return;
    }
    const client = request.client ?? '';
    const user = request.user ?? '';
    this.work(async () => {
      // An unknown user is answered like a known one (a decoy verifier): the hello tells nobody which users exist.
      const { keys, identity } = await this.context.credentials.challenge(user);
      const transcript: Transcript = { channel: this.context.channel, client, user, clientNonce: request.clientNonce, serverNonce: newNonce() };
      const proof = await serverProof(keys, transcript);
      this.send({ id: request.id, ok: true, result: { protocol: PROTOCOL_VERSION, serverNonce: transcript.serverNonce, serverProof: proof } });
      return { kind: 'auth', transcript, keys, identity };
    });
  }

  /** The second message must be auth with the client's proof over the same transcript. */
  private onAuth(parsed: RequestParse, { transcript, keys, identity }: { transcript: Transcript; keys: VerifierKeys; identity: Identity | null }): void {
    if (!parsed.ok) {
      this.refuse(parsed.id, parsed.error, 'malformed auth');
      return;
    }
    const request = parsed.request;
    if (request.type !== 'auth') {
      this.refuse(request.id, { code: 'unauthenticated', message: 'authenticate first: after hello comes auth' }, `${request.type} before auth`);
      return;
    }
    clearTimeout(this.authTimer);
    this.work(async () => {
      const proven = (await checkClientProof(keys, transcript, request.proof)) && identity !== null && this.context.credentials.stillValid(identity);
      if (!proven) {
        const delay = this.context.login.failed(transcript.user === '' ? 'wrong proof' : 'wrong proof or unknown user');
        const message =
          transcript.user === ''
            ? 'wrong proof: this client does not hold the token of this agent'
            : `wrong proof: no user "${transcript.user}" with this credential (removed, rotated, or mistyped)`;
        const answer = (): void => {
          this.refusalPending = false;
          this.send({ id: request.id, ok: false, error: { code: 'auth-failed', message } });
          this.close(CLOSE_CODES.unauthorized, 'wrong token');
          this.context.login.release();
        };
        if (delay > 0) {
          this.refusalPending = true;
          setTimeout(answer, delay).unref();
        } else answer();
        return { kind: 'refused' };
      }
      if (!this.context.login.authenticated()) {
        this.send({ id: request.id, ok: false, error: { code: 'busy', message: 'the agent serves its most sessions now; try again later' } });
        this.close(CLOSE_CODES.tryAgainLater, 'too many sessions');
        return { kind: 'refused' };
      }
      this.identity = identity;
      this.actor = actorOf(identity, this.context.peer);
      this.send({ id: request.id, ok: true, result: { protocol: PROTOCOL_VERSION, actor: this.actor, user: identity.user, role: identity.role } });
      return { kind: 'in' };
    });
  }

  private dispatch(request: Request): void {
    if (request.type === 'hello' || request.type === 'auth') {
      this.reject(request.id, { code: 'bad-request', message: 'already authenticated', field: 'type' });
      return;
    }
    if (this.identity === null || !roleAllows(this.identity.role, request.type)) {
      // Not a bad message (no close after ten): a console may well offer what the role cannot do.
      this.send({ id: request.id, ok: false, error: { code: 'forbidden', message: forbiddenMessage(this.identity, request.type) } });
      return;
    }
    switch (request.type) {
      case 'subscribe':
        this.subscribe(request.id, request.view ?? null);
        return;
      case 'snapshot':
        // Not checked against the contract here, unlike command results: a 10,000-resource snapshot
        // takes ~200 ms to check and every client checks what it receives anyway.
        this.run(request.id, async () => ({ ok: true, result: await this.context.handler.snapshot() }));
        return;
      default: {
        const { id, ...command } = request;
        const actor = this.actor ?? '';
        this.run(id, async () => {
          const outcome = await this.context.handler.execute(command satisfies ApiCommand, actor);
          return outcome.ok ? checkedResult(command.type, outcome.result) : { ok: false, error: checkedError(outcome.error) };
        });
      }
    }
  }

  /** Runs one handler call under the in-flight limit; a throw is a bug and reported as 'internal'. */
  private run(id: string, call: () => Promise<Outcome>): void {
    if (this.inFlight >= this.context.limits.maxInFlight) {
      this.send({ id, ok: false, error: { code: 'busy', message: `more than ${this.context.limits.maxInFlight} requests running; wait for replies` } });
      return;
    }
    this.inFlight += 1;
    call()
      .then(
        (outcome) => this.send({ id, ...outcome }),
        (error: unknown) => {
          this.context.log(`api: request ${clip(id, 64)} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          this.send({ id, ok: false, error: INTERNAL_ERROR });
        },
      )
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  private subscribe(id: string, view: ResourceTableView | null): void {
    if (this.stream !== null) {
      this.reject(id, { code: 'bad-request', message: 'already subscribed on this connection', field: 'type' });
      return;
    }
    const stream = new StreamSession(
      this.context.handler,
      {
        push: (message: WirePush) => this.send(message),
        fail: (reason) => {
          this.context.log(`api: stream of ${this.context.peer} ended: ${reason}`);
          this.close(1011, 'stream failed; subscribe again');
        },
      },
      undefined,
      view,
    );
    this.stream = stream;
    stream
      .start((revision) => this.send({ id, ok: true, result: { revision } }))
      .catch((error: unknown) => {
        this.stream = null;
        this.context.log(`api: subscribe failed: ${error instanceof Error ? error.message : String(error)}`);
        this.send({ id, ok: false, error: { code: 'unavailable', message: 'the cluster state cannot be read now' } });
      });
  }

  /** Answers a rejected message; too many of them in a short time end the connection. */
  private reject(id: string | null, error: ApiError): void {
    this.send({ id, ok: false, error });
    const now = Date.now();
    const { count, windowMs } = this.context.limits.badMessages;
    this.badTimes = this.badTimes.filter((time) => now - time < windowMs);
    this.badTimes.push(now);
    if (this.badTimes.length > count) this.close(CLOSE_CODES.policy, 'too many bad messages');
  }

  private send(message: Reply | WirePush): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (!this.corked) {
      this.corked = true;
      this.context.transport.cork();
      process.nextTick(() => {
        this.corked = false;
        this.context.transport.uncork();
      });
    }
    this.socket.send(JSON.stringify(message));
    if (this.socket.bufferedAmount > this.context.limits.maxBufferedBytes) {
      // Dropped at once rather than closed politely: a close frame would queue behind the megabytes
      // the peer is not reading, and freeing those megabytes is the point.
      this.context.log(`api: ${this.context.peer} reads too slowly; dropping the connection`);
      this.dispose();
      this.socket.terminate();
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.dispose();
    this.socket.close(code, reason);
    // A peer that never answers the close handshake must not hold the socket open.
    setTimeout(() => this.socket.terminate(), 2_000).unref();
  }

  private dispose(): void {
    this.closed = true;
    if (!this.refusalPending) this.context.login.release();
    clearTimeout(this.authTimer);
    this.stream?.close();
    this.stream = null;
  }
}

function forbiddenMessage(identity: Identity | null, type: string): string {
  const needed = roleNeeded(type) ?? 'admin';
  if (identity === null) return `${type} needs the ${needed} role`;
  return `${identity.user ?? 'root'} has the ${identity.role} role; ${type} needs ${needed === 'admin' ? 'admin' : `${needed} or admin`}`;
}

/** The result, if it keeps to the contract (else it is a bug in the handler: thrown, sent as 'internal'). */
function checkedResult(type: CommandType, result: unknown): Outcome {
  const check = checkResult(type, result);
  if (check.ok) return { ok: true, result: check.result };
  throw new Error(check.message);
}

/** The handler's error, if it keeps to the contract (else it is a bug: 'internal'). */
function checkedError(error: ApiError): ApiError {
  const check = ApiErrorSchema.safeParse(error);
  if (check.success) return check.data;
  throw new Error(`handler error breaks the contract: ${JSON.stringify(error).slice(0, 200)}`);
}

/** Whether a refused first message is protocol 1's `auth { token }` (checked for shape only; the value is never looked at). */
function isOldAuth(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'auth' && 'token' in value;
  } catch {
    return false;
  }
}
