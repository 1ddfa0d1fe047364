// One IPC call from the renderer, checked end to end: the sender (servedFrom), the argument against
// the verb's schema or, for an agent command, against the protocol's command table, the result
// against its result schema, every failure turned into the contract's error shape. Pure of
// Electron (main/electron/ipc-main.ts registers the handlers), so every hostile call is a unit test.
import { z } from 'zod';
import {
  IPC_CONTRACT,
  isIpcCommandType,
  StreamMessageSchema,
  type IpcArgs,
  type IpcCommandType,
  type IpcError,
  type IpcOutcome,
  type IpcResult,
  type IpcVerb,
  type StreamMessage,
} from '../../preload/contract/ipc';
import { badRequest, clip } from '../../preload/contract/parse';
import { COMMAND_ARGS, COMMAND_RESULTS, type CommandArgs, type CommandResults } from '../../preload/contract/protocol';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { senderVerdict, type SenderFacts } from './app-pages';

export type IpcImplementation<V extends IpcVerb> = (args: IpcArgs<V>) => Promise<IpcResult<V>>;
/** Carries out one agent command for the page (in the console: the agent client's request). */
export type IpcRequestImplementation = <T extends IpcCommandType>(type: T, args: CommandArgs[T]) => Promise<CommandResults[T]>;

/**
 * Runs `serve` only for a sender that may call main (senderVerdict). A refusal throws a bare
 * "refused": the page learns nothing about why, the log does.
 */
export function servedFrom<T>(sender: SenderFacts, what: string, log: (line: string) => void, serve: () => Promise<T>): Promise<T> {
  const verdict = senderVerdict(sender);
  if (!verdict.ok) {
    log(`ipc: refused ${what}: ${verdict.reason}`);
    return Promise.reject(new Error('refused'));
  }
  return serve();
}

type Schemas = { [V in IpcVerb]: { args: z.ZodType; result: z.ZodType } };

let compiled: Schemas | null = null;

/**
 * The contract compiled once (about 5x faster on a 10,000-resource snapshot; main may use
 * `new Function`, the page may not).
 */
function schemas(): Schemas {
  if (compiled === null) {
    const entries: Array<[string, { args: z.ZodType; result: z.ZodType }]> = Object.entries(IPC_CONTRACT).map(([verb, entry]) => [
      verb,
      { args: z.compile<z.ZodType>(entry.args), result: z.compile<z.ZodType>(entry.result) },
    ]);
    compiled = Object.fromEntries(entries) as Schemas;
  }
  return compiled;
}

/** Turns anything thrown by an implementation into the error a page may see. */
export function toIpcError(error: unknown): IpcError {
  if (error instanceof ApiRequestError) {
    const ipcError = error.toApi();
    ipcError.message = clip(ipcError.message);
    if (ipcError.issues !== undefined) ipcError.issues = ipcError.issues.slice(0, 64);
    return ipcError;
  }
  return { code: 'internal', message: clip(`the console failed: ${error instanceof Error ? error.message : String(error)}`) };
}

/**
 * Runs `implementation` for `verb` with the raw arguments of ipcMain.handle (after the event).
 * Exactly one argument (an object) or none; anything else is a bad request and never reaches it.
 */
export async function dispatchIpcCall<V extends IpcVerb>(verb: V, rawArgs: readonly unknown[], implementation: IpcImplementation<V>): Promise<IpcOutcome<IpcResult<V>>> {
  if (rawArgs.length > 1) {
    return { ok: false, error: { code: 'bad-request', message: `${verb} takes one argument object, got ${rawArgs.length} arguments` } };
  }
  const { args: argsSchema, result: resultSchema } = schemas()[verb];
  const parsed = argsSchema.safeParse(rawArgs[0] === undefined ? {} : rawArgs[0]);
  if (!parsed.success) return { ok: false, error: badRequest(parsed.error) };
  let value: unknown;
  try {
    value = await implementation(parsed.data as IpcArgs<V>);
  } catch (error) {
    return { ok: false, error: toIpcError(error) };
  }
  const checked = resultSchema.safeParse(value);
  if (!checked.success) return { ok: false, error: { code: 'internal', message: clip(`the result of ${verb} breaks the IPC contract`) } };
  return { ok: true, value: checked.data as IpcResult<V> };
}

type CommandSchemas = { args: Record<IpcCommandType, z.ZodType>; results: Record<IpcCommandType, z.ZodType> };

let compiledCommands: CommandSchemas | null = null;

function commandSchemas(): CommandSchemas {
  const compile = (table: Record<string, z.ZodType>): Record<IpcCommandType, z.ZodType> =>
    Object.fromEntries(Object.entries(table).map(([type, schema]) => [type, z.compile<z.ZodType>(schema)])) as Record<IpcCommandType, z.ZodType>;
  compiledCommands ??= { args: compile(COMMAND_ARGS), results: compile(COMMAND_RESULTS) };
  return compiledCommands;
}

const RequestEnvelopeSchema = z.strictObject({ type: z.string().max(64), args: z.unknown().optional() });

/**
 * One agent command from the page (the `request` verb): one argument { type, args }; `type` must
 * be a command the page may send (IPC_COMMAND_TYPES), `args` must pass that command's schema in
 * the protocol, and the result must pass its result schema. Nothing else reaches `implementation`.
 */
export async function dispatchIpcRequest(rawArgs: readonly unknown[], implementation: IpcRequestImplementation): Promise<IpcOutcome<unknown>> {
  if (rawArgs.length !== 1) {
    return { ok: false, error: { code: 'bad-request', message: `request takes one argument object { type, args }, got ${rawArgs.length} arguments` } };
  }
  const envelope = RequestEnvelopeSchema.safeParse(rawArgs[0]);
  if (!envelope.success) return { ok: false, error: badRequest(envelope.error) };
  const { type } = envelope.data;
  if (!isIpcCommandType(type)) {
    return { ok: false, error: { code: 'unknown-type', message: clip(`the console sends no command ${JSON.stringify(type.slice(0, 64))}`), field: 'type' } };
  }
  const schemas = commandSchemas();
  const parsed = schemas.args[type].safeParse(envelope.data.args ?? {});
  if (!parsed.success) return { ok: false, error: badRequest(parsed.error) };
  let value: unknown;
  try {
    value = await implementation(type, parsed.data as CommandArgs[typeof type]);
  } catch (error) {
    return { ok: false, error: toIpcError(error) };
  }
  const checked = schemas.results[type].safeParse(value);
  if (!checked.success) return { ok: false, error: { code: 'internal', message: clip(`the result of ${type} breaks the IPC contract`) } };
  return { ok: true, value: checked.data };
}

let streamSchema: z.ZodType | null = null;

/** Checks a stream message before it is sent to the page (main forwards nothing it has not checked). */
export function isValidStreamMessage(message: unknown): message is StreamMessage {
  streamSchema ??= z.compile(StreamMessageSchema);
  return streamSchema.safeParse(message).success;
}
