// One API client's WebSocket: authentication, validation, dispatch to the ApiHandler, the
// stream. Nothing reaches the handler before a successful `auth`, and nothing malformed reaches it
// at all: every message is parsed against the contract first (preload/contract/parse.ts).
import type { RawData, WebSocket } from 'ws';
import { checkResult, clip, parseRequest, type RequestParse } from '../../preload/contract/parse';
import {
  ApiErrorSchema,
  CLOSE_CODES,
  PROTOCOL_VERSION,
  type ApiError,
  type CommandType,
  type Push,
  type Request,
  type ApiCommand,
} from '../../preload/contract/protocol';
import { tokensEqual } from './auth';
import { rawText } from './raw-text';
import type { ApiHandler } from './handler';
import { StreamSession } from './stream';

export interface ConnectionLimits {
  /** The first message must be a successful auth within this time. */
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
  token: string;
  limits: ConnectionLimits;
  /** The peer's address as the socket saw it. */
  peer: string;
  log: (line: string) => void;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiError };
type Reply = { id: string | null } & Outcome;

const INTERNAL_ERROR: ApiError = { code: 'internal', message: 'internal error in the agent (details are in its log)' };

export class ApiConnection {
  private actor: string | null = null;
  private inFlight = 0;
  private badTimes: number[] = [];
  private stream: StreamSession | null = null;
  private closed = false;
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly context: ConnectionContext,
  ) {
    this.authTimer = setTimeout(() => this.close(CLOSE_CODES.unauthorized, 'no auth in time'), context.limits.authTimeoutMs);
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.dispose());
    socket.on('error', (error) => {
      context.log(`api: connection from ${context.peer}: ${error.message}`);
    });
  }

  private get authenticated(): boolean {
    return this.actor !== null;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const parsed: RequestParse = isBinary
      ? { ok: false, id: null, error: { code: 'bad-json', message: 'binary messages are not accepted; send JSON text' } }
      : parseRequest(rawText(data));
    if (!this.authenticated) {
      this.onFirstMessage(parsed);
      return;
    }
    if (!parsed.ok) {
      this.reject(parsed.id, parsed.error);
      return;
    }
    this.dispatch(parsed.request);
  }

  /** Before auth: anything but a correct auth is answered, then the connection closes. */
  private onFirstMessage(parsed: RequestParse): void {
    if (!parsed.ok) {
      this.send({ id: parsed.id, ok: false, error: parsed.error });
      this.close(CLOSE_CODES.unauthorized, 'authenticate first');
      return;
    }
    const request = parsed.request;
    if (request.type !== 'auth') {
      this.send({ id: request.id, ok: false, error: { code: 'unauthenticated', message: 'authenticate first: the first request must be auth' } });
      this.close(CLOSE_CODES.unauthorized, 'authenticate first');
      return;
    }
    if (!tokensEqual(request.token, this.context.token)) {
      this.context.log(`api: wrong token from ${this.context.peer}`);
      this.send({ id: request.id, ok: false, error: { code: 'auth-failed', message: 'wrong token' } });
      this.close(CLOSE_CODES.unauthorized, 'wrong token');
      return;
    }
    clearTimeout(this.authTimer);
    this.actor = `${request.client ?? 'api'}@${this.context.peer}`;
    this.send({ id: request.id, ok: true, result: { protocol: PROTOCOL_VERSION, actor: this.actor } });
  }

  private dispatch(request: Request): void {
    switch (request.type) {
      case 'auth':
        this.reject(request.id, { code: 'bad-request', message: 'already authenticated', field: 'type' });
        return;
      case 'subscribe':
        this.subscribe(request.id);
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

  private subscribe(id: string): void {
    if (this.stream !== null) {
      this.reject(id, { code: 'bad-request', message: 'already subscribed on this connection', field: 'type' });
      return;
    }
    const stream = new StreamSession(this.context.handler, {
      push: (message: Push) => this.send(message),
      fail: (reason) => {
        this.context.log(`api: stream of ${this.context.peer} ended: ${reason}`);
        this.close(1011, 'stream failed; subscribe again');
      },
    });
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

  private send(message: Reply | Push): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
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
    clearTimeout(this.authTimer);
    this.stream?.close();
    this.stream = null;
  }
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
