// The client half of the protocol's request/reply rule ("replies may come in any order; match them
// by id"), written once for every client: the CLI's Node client (main/api/client.ts), through it the
// Electron main process, and the web console (renderer/src/api/websocket-api.ts). The transport
// stays with the caller (a ws socket, a browser WebSocket); this module owns the ids, the timeouts,
// the result check and the one error type every caller sees.
//
// Like the rest of preload/contract/ it imports nothing from main/ or Node: the browser compiles it.
import { checkResult, type ResultCheck } from './parse';
import type { ApiError, CommandArgs, CommandResults, CommandType, ErrorCode, FieldIssue, Reply } from './protocol';

/** A failed request: the agent's answer ('invalid', 'not-found', ...) or the client's ('timeout', 'closed', 'protocol'). */
export class ApiRequestError extends Error {
  readonly field: string | undefined;
  readonly issues: readonly FieldIssue[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: { field?: string | undefined; issues?: readonly FieldIssue[] | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ApiRequestError';
    this.field = details.field;
    this.issues = details.issues ?? [];
  }

  static fromApi(error: ApiError): ApiRequestError {
    return new ApiRequestError(error.code, error.message, { field: error.field, issues: error.issues });
  }

  /** The contract's plain error shape: what survives IPC's structured cloning (an Error would keep only its message). */
  toApi(): ApiError {
    const error: ApiError = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.issues.length > 0) error.issues = [...this.issues];
    return error;
  }
}

export type ResultChecker = <T extends CommandType>(type: T, result: unknown) => ResultCheck<T>;

export interface RequestTrackerOptions {
  /** Starts every request id; tells the kinds of client apart in an agent's log ("c1", "w1"). */
  idPrefix: string;
  /** Default time a request may wait for its reply. */
  timeoutMs: number;
  /** Node passes one with compiled schemas; the browser may not compile (its CSP forbids `new Function`). */
  checkResult?: ResultChecker;
}

/**
 * What a reply did: settled its request; matched nothing (its request timed out, or a broken agent
 * made the id up: the caller decides); or carried a result that breaks the contract, in which case
 * the request was rejected with 'protocol' and the caller should not trust the connection further.
 */
export type ReplyOutcome = { kind: 'settled' } | { kind: 'unknown' } | { kind: 'broken'; message: string };

interface Pending {
  type: CommandType;
  resolve: (result: unknown) => void;
  reject: (error: ApiRequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** "250 ms", "60 s": whole seconds read better, short test timeouts must not round to "0 s". */
function duration(ms: number): string {
  return ms >= 1_000 && ms % 1_000 === 0 ? `${ms / 1_000} s` : `${ms} ms`;
}

export class RequestTracker {
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private readonly check: ResultChecker;

  constructor(private readonly options: RequestTrackerOptions) {
    this.check = options.checkResult ?? ((type, result) => checkResult(type, result));
  }

  /** Requests still waiting for their reply. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Registers one request and hands its wire text to `transmit`; resolves with the checked result.
   * A transmit that throws rejects the request as 'closed' (the socket went away under it).
   */
  send<T extends CommandType>(type: T, args: CommandArgs[T], transmit: (text: string) => void, timeoutMs = this.options.timeoutMs): Promise<CommandResults[T]> {
    const id = `${this.options.idPrefix}${this.nextId++}`;
    return new Promise<CommandResults[T]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // The agent may still carry it out: a timed-out move can complete later.
        reject(new ApiRequestError('timeout', `${type}: no reply within ${duration(timeoutMs)} (the agent may still carry it out)`));
      }, timeoutMs);
      this.pending.set(id, { type, resolve: resolve as (result: unknown) => void, reject, timer });
      try {
        transmit(JSON.stringify({ ...args, id, type }));
      } catch (error) {
        this.take(id);
        reject(new ApiRequestError('closed', `${type}: could not send it (${error instanceof Error ? error.message : String(error)})`, { cause: error }));
      }
    });
  }

  /** Settles the request `reply` answers, if it is still waiting. */
  settle(reply: Reply): ReplyOutcome {
    const pending = reply.id === null ? undefined : this.take(reply.id);
    if (pending === undefined) return { kind: 'unknown' };
    if (!reply.ok) {
      pending.reject(ApiRequestError.fromApi(reply.error));
      return { kind: 'settled' };
    }
    const check = this.check(pending.type, reply.result);
    if (check.ok) {
      pending.resolve(check.result);
      return { kind: 'settled' };
    }
    pending.reject(new ApiRequestError('protocol', check.message));
    return { kind: 'broken', message: check.message };
  }

  /** Rejects every waiting request with `error` (the connection ended: none of them can be answered now). */
  rejectAll(error: ApiRequestError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const pending of waiting) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private take(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
