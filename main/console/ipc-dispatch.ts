// One IPC call from the renderer, checked end to end: the argument against the verb's schema, the
// result against its result schema, every failure turned into the contract's error shape. Pure of
// Electron (main/electron/ipc-main.ts adds the sender check and registers it), so every hostile
// argument is a unit test.
import { z } from 'zod';
import { IPC_CONTRACT, StreamMessageSchema, type IpcArgs, type IpcError, type IpcOutcome, type IpcResult, type IpcVerb, type StreamMessage } from '../../preload/contract/ipc';
import { badRequest, clip } from '../../preload/contract/parse';
import { AgentError } from '../api/client';

export type IpcImplementation<V extends IpcVerb> = (args: IpcArgs<V>) => Promise<IpcResult<V>>;

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
  if (error instanceof AgentError) {
    const ipcError: IpcError = { code: error.code, message: clip(error.message) };
    if (error.field !== undefined) ipcError.field = error.field;
    if (error.issues.length > 0) ipcError.issues = error.issues.slice(0, 64);
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

let streamSchema: z.ZodType | null = null;

/** Checks a stream message before it is sent to the page (main forwards nothing it has not checked). */
export function isValidStreamMessage(message: unknown): message is StreamMessage {
  streamSchema ??= z.compile(StreamMessageSchema);
  return streamSchema.safeParse(message).success;
}
