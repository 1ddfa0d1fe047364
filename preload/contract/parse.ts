// Parsing of protocol messages from untrusted text, for both ends: the agent parses requests, a
// client parses replies and pushes. Pure functions (no I/O) so every malformed case is a unit test.
//
// Error messages quote the sender's input; they are clipped and kept on one line so that a hostile
// message can neither inflate the reply beyond the contract's bounds nor forge lines in a log.
import type { z } from 'zod';
import {
  COMMAND_ARGS,
  COMMAND_RESULTS,
  COMMAND_TYPES,
  PushSchema,
  ReplySchema,
  RequestIdSchema,
  isCommandType,
  type ApiError,
  type CommandResults,
  type CommandType,
  type FieldIssue,
  type Push,
  type Reply,
  type Request,
} from './protocol';

const MAX_MESSAGE_CHARS = 300;
const MAX_FIELD_CHARS = 200;
const MAX_ISSUES = 20;

/** One line, at most `max` characters. */
export function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  let line = '';
  for (const char of text.slice(0, max + 1)) line += isLineBreaking(char) ? ' ' : char;
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** Control characters and the two Unicode line separators (a terminal or log would start a new line). */
function isLineBreaking(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
}

function quote(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Zod issues as the protocol's field issues; `prefix` is prepended to every path. */
export function fieldIssues(error: z.ZodError, prefix: readonly (string | number)[] = []): FieldIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const path: PropertyKey[] = [...prefix, ...issue.path];
    // An unknown key is a problem of that key, not of the object holding it: name it as the field.
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0] as string);
    const field = clip(path.map(String).join('.'), MAX_FIELD_CHARS);
    const message = issue.code === 'unrecognized_keys' ? `unknown field ${quote(issue.keys.join(', '))}` : issue.message;
    return { field, message: clip(field === '' ? message : `${field}: ${message}`) };
  });
}

/** A bad-request error from zod issues: the first issue is the headline, all are listed. */
export function badRequest(error: z.ZodError, prefix: readonly (string | number)[] = []): ApiError {
  const issues = fieldIssues(error, prefix);
  const first = issues[0] ?? { field: '', message: 'invalid arguments' };
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return { code: 'bad-request', message: clip(`${first.message}${more}`), field: first.field, issues };
}

export type RequestParse = { ok: true; request: Request } | { ok: false; id: string | null; error: ApiError };

/** Checks one client message completely; on failure says what is wrong and echoes a usable id. */
export function parseRequest(text: string): RequestParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, id: null, error: { code: 'bad-json', message: clip(`message is not JSON: ${(error as Error).message}`) } };
  }
  if (!isPlainObject(value)) {
    return { ok: false, id: null, error: { code: 'bad-json', message: 'message must be a JSON object' } };
  }
  const { id, type, ...args } = value;
  const idCheck = RequestIdSchema.safeParse(id);
  if (!idCheck.success) {
    const error = badRequest(idCheck.error, ['id']);
    return { ok: false, id: null, error: id === undefined ? { ...error, message: 'id: required (a string of 1..64 characters)' } : error };
  }
  const requestId = idCheck.data;
  if (typeof type !== 'string') {
    return { ok: false, id: requestId, error: { code: 'bad-request', message: 'type: required (the command name)', field: 'type' } };
  }
  if (!isCommandType(type)) {
    return {
      ok: false,
      id: requestId,
      error: { code: 'unknown-type', message: clip(`unknown command ${quote(type)} (known: ${COMMAND_TYPES.join(', ')})`), field: 'type' },
    };
  }
  const argsCheck = COMMAND_ARGS[type].safeParse(args);
  if (!argsCheck.success) return { ok: false, id: requestId, error: badRequest(argsCheck.error) };
  return { ok: true, request: { ...argsCheck.data, id: requestId, type } as Request };
}

export type ServerMessageParse = { kind: 'reply'; reply: Reply } | { kind: 'push'; push: Push } | { kind: 'invalid'; message: string };

/**
 * The schemas a client checks agent messages with. A Node client may pass compiled copies
 * (z.compile: about 5x faster on a 10,000-resource snapshot, ~40 ms instead of ~200 ms); the browser
 * cannot, because compiling uses `new Function`, which the console's CSP forbids.
 */
export interface ServerSchemas {
  reply: typeof ReplySchema;
  push: typeof PushSchema;
  results: typeof COMMAND_RESULTS;
}

export const SERVER_SCHEMAS: ServerSchemas = { reply: ReplySchema, push: PushSchema, results: COMMAND_RESULTS };

/** Checks one agent message (a reply's result is checked later by checkResult, against its request's type). */
export function parseServerMessage(text: string, schemas: ServerSchemas = SERVER_SCHEMAS): ServerMessageParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', message: 'agent sent a message that is not JSON' };
  }
  if (isPlainObject(value) && 'ok' in value) {
    const reply = schemas.reply.safeParse(value);
    return reply.success ? { kind: 'reply', reply: reply.data } : { kind: 'invalid', message: `bad reply: ${describe(reply.error)}` };
  }
  const push = schemas.push.safeParse(value);
  return push.success ? { kind: 'push', push: push.data } : { kind: 'invalid', message: `bad push: ${describe(push.error)}` };
}

function describe(error: z.ZodError): string {
  return fieldIssues(error)
    .slice(0, 3)
    .map((issue) => issue.message)
    .join('; ');
}

export type ResultCheck<T extends CommandType> = { ok: true; result: CommandResults[T] } | { ok: false; message: string };

/** Checks a command's result against the contract (the agent before sending, the client on receipt). */
export function checkResult<T extends CommandType>(type: T, result: unknown, results: ServerSchemas['results'] = COMMAND_RESULTS): ResultCheck<T> {
  const check = results[type].safeParse(result);
  return check.success
    ? { ok: true, result: check.data as CommandResults[T] }
    : { ok: false, message: clip(`result of ${type} breaks the contract: ${describe(check.error)}`) };
}
