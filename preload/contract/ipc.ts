// The typed IPC contract between the Electron main process, the preload and the renderer. Agent
// commands take one verb, `request(type, args)`, with the protocol's own command names and schemas
// (COMMAND_ARGS / COMMAND_RESULTS of protocol.ts): a new agent command needs nothing here. The other
// verbs (the stream, connection management) have one entry each in IPC_CONTRACT, with its channel,
// the schema of its single argument and the schema of its result. Main validates every argument and
// every result (the renderer is never trusted); the preload only forwards; the renderer imports
// this file for its types.
//
// Conventions:
// - Every verb takes ONE argument object (none for verbs whose schema is the empty object) and
//   resolves to an IpcOutcome: { ok: true, value } or { ok: false, error } with the agent
//   protocol's ApiError shape (code, message, field, issues). Outcomes are plain data, so they
//   cross contextBridge intact; a thrown Error would lose everything but its message, and a
//   resource form needs the per-field issues. unwrapOutcome turns an outcome into value-or-throw.
// - The stream: `subscribe(callback, view?)` in the preload invokes the 'subscribe' verb and listens on
//   IPC_STREAM_CHANNEL; main sends a snapshot push, then every change push, and a 'connection'
//   message whenever the connection changes (a snapshot push always starts over). With a view, the
//   paged stream of protocol.ts instead (head, rows, changes between them), the rows decoded: a
//   structured clone needs no compact form.
//
// Like domain.ts and protocol.ts this file imports nothing from main/ or Node.
import { z } from 'zod';
import {
  ApiErrorSchema,
  ChangePushSchema,
  COMMAND_TYPES,
  DecodedRowsPushSchema,
  ResourceTableViewSchema,
  SnapshotHeadPushSchema,
  SnapshotPushSchema,
  type ApiError,
  type ChangePush,
  type CommandArgs,
  type CommandResults,
  type CommandType,
  type SnapshotHeadPush,
  type SnapshotPush,
  type SnapshotRowsPush,
} from './protocol';
import { ApiRequestError } from './request-tracker';
import { CREDENTIAL_FORMS, parseCredential, RoleSchema, USER_NAME_PATTERN } from './users';

// --- Connections -----------------------------------------------------------------------------------

/** Most remembered connections (a console for several clusters, not an address book). */
export const MAX_SAVED_CONNECTIONS = 64;
/** Largest CA bundle accepted for a remote cluster (PEM text). */
export const MAX_CA_PEM_LENGTH = 64 * 1024;
export const MAX_LABEL_LENGTH = 64;
/** "host", "host:port" or "[v6]:port" as an operator types it; parsed in main (connection-target.ts). */
export const MAX_ADDRESS_LENGTH = 300;

const ConnectionIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be a connection id');
const LabelSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_LABEL_LENGTH, `must be at most ${MAX_LABEL_LENGTH} characters`)
  .regex(/^[^\p{Cc}\p{Zl}\p{Zp}]*$/u, 'must be one line of text');
/** The node's token or a user's "NAME:SECRET" (users.ts parseCredential), surrounding blanks ignored. */
const CredentialSchema = z
  .string()
  .max(256, 'must be at most 256 characters')
  .trim()
  .refine((text) => parseCredential(text) !== null, `must be ${CREDENTIAL_FORMS}`);
const CaPemSchema = z
  .string()
  .max(MAX_CA_PEM_LENGTH, `must be at most ${MAX_CA_PEM_LENGTH / 1024} KiB of PEM text`)
  .regex(/-----BEGIN CERTIFICATE-----/, 'must be PEM text starting with -----BEGIN CERTIFICATE-----');

export type ConnectionPhase = 'connecting' | 'connected' | 'disconnected';

/** Where the console is connected, as the UI shows it (never the credential). */
export const ConnectionStateSchema = z.strictObject({
  phase: z.enum(['connecting', 'connected', 'disconnected']),
  /** 'local': the agent on this host (127.0.0.1:7790 by default); 'remote': a remembered or typed cluster. */
  kind: z.enum(['local', 'remote']).nullable(),
  /** The remembered connection in use, if any. */
  id: ConnectionIdSchema.nullable(),
  label: z.string().max(MAX_LABEL_LENGTH).nullable(),
  /** "ws://127.0.0.1:7790/api", "wss://cluster.example:7790/api". */
  endpoint: z.string().max(MAX_ADDRESS_LENGTH + 32).nullable(),
  /** How the agent records this session in its audit log. */
  actor: z.string().max(256).nullable(),
  /** Who is signed in: the user, null for the node's token (root) and before the login. */
  user: z.string().regex(USER_NAME_PATTERN).nullable(),
  /** The session's role (what the console offers follows it); null before the login. */
  role: RoleSchema.nullable(),
  /** One line: why the console is not connected, or what it is doing. */
  detail: z.string().max(1024).nullable(),
});
export type ConnectionState = z.infer<typeof ConnectionStateSchema>;

export const SavedConnectionSchema = z.strictObject({
  id: ConnectionIdSchema,
  label: z.string().max(MAX_LABEL_LENGTH),
  endpoint: z.string().max(MAX_ADDRESS_LENGTH + 32),
  tls: z.boolean(),
  /** A private CA is pinned for this cluster. */
  hasCa: z.boolean(),
  /** Wall-clock ms of the last successful connection, null if never. */
  lastUsed: z.number().int().nonnegative().nullable(),
});
export type SavedConnection = z.infer<typeof SavedConnectionSchema>;

export const ConnectionListSchema = z.strictObject({
  saved: z.array(SavedConnectionSchema).max(MAX_SAVED_CONNECTIONS),
  local: z.strictObject({
    endpoint: z.string().max(MAX_ADDRESS_LENGTH + 32),
    /** A local agent answers its health check right now. */
    answering: z.boolean(),
    /** The console can start one (Linux, through an administrator password prompt). */
    canStart: z.boolean(),
  }),
  current: ConnectionStateSchema,
});
export type ConnectionList = z.infer<typeof ConnectionListSchema>;

export const ConnectTargetSchema = z.discriminatedUnion('kind', [
  /** The agent on this host, with its token file or the token remembered from starting it. */
  z.strictObject({ kind: z.literal('local') }),
  /** A remembered cluster. */
  z.strictObject({ kind: z.literal('saved'), id: ConnectionIdSchema }),
  /**
   * A cluster typed in the dialog. Any address but loopback is reached over TLS (wss): the agent
   * refuses to serve its token in clear text off the host. `credential`: the node's token or a
   * user's "NAME:SECRET". `ca`: PEM of a private CA to trust.
   */
  z.strictObject({
    kind: z.literal('remote'),
    label: LabelSchema,
    address: z.string().trim().min(1, 'must not be empty').max(MAX_ADDRESS_LENGTH, `must be at most ${MAX_ADDRESS_LENGTH} characters`),
    credential: CredentialSchema,
    ca: CaPemSchema.nullable(),
    remember: z.boolean(),
  }),
]);
export type ConnectTarget = z.infer<typeof ConnectTargetSchema>;

export const StartLocalAgentResultSchema = z.strictObject({
  /**
   * 'started' / 'already-running': connected to it now; 'cancelled': the operator declined the
   * password prompt (an answer, not an error); 'unsupported': not on this platform; 'failed': see
   * detail.
   */
  outcome: z.enum(['started', 'already-running', 'cancelled', 'unsupported', 'failed']),
  detail: z.string().max(1024),
  connection: ConnectionStateSchema,
});
export type StartLocalAgentResult = z.infer<typeof StartLocalAgentResultSchema>;

// --- The stream ------------------------------------------------------------------------------------

export const ConnectionMessageSchema = z.strictObject({ type: z.literal('connection'), connection: ConnectionStateSchema });
export const StreamMessageSchema = z.discriminatedUnion('type', [SnapshotPushSchema, ChangePushSchema, SnapshotHeadPushSchema, DecodedRowsPushSchema, ConnectionMessageSchema]);
export type StreamMessage = SnapshotPush | ChangePush | SnapshotHeadPush | SnapshotRowsPush | z.infer<typeof ConnectionMessageSchema>;

/** main -> renderer: every StreamMessage after `subscribe`. */
export const IPC_STREAM_CHANNEL = 'ipfo:stream';

// --- Agent commands ----------------------------------------------------------------------------------

/** main -> agent, for the renderer: one channel for every agent command, checked against the protocol's tables. */
export const IPC_REQUEST_CHANNEL = 'ipfo:request';

/** The agent commands the page may send: every one but the login (hello, auth) and subscribe, which main holds (the credential, the stream). */
export type IpcCommandType = Exclude<CommandType, 'hello' | 'auth' | 'subscribe'>;
export const IPC_COMMAND_TYPES = COMMAND_TYPES.filter((type): type is IpcCommandType => type !== 'hello' && type !== 'auth' && type !== 'subscribe');

export function isIpcCommandType(value: string): value is IpcCommandType {
  return (IPC_COMMAND_TYPES as readonly string[]).includes(value);
}

/** The single argument of the request channel; `args` is checked against COMMAND_ARGS[type] in main. */
export interface IpcRequest<T extends IpcCommandType = IpcCommandType> {
  type: T;
  args: CommandArgs[T];
}

// --- The other verbs -------------------------------------------------------------------------------

const NoArgs = z.strictObject({});

/** Every verb of window.ipfo besides `request`. The channel is 'ipfo:' + the verb. */
export const IPC_CONTRACT = {
  /** Starts (or restarts: a fresh snapshot) the stream on IPC_STREAM_CHANNEL; with a view, the paged stream. */
  subscribe: { channel: 'ipfo:subscribe', args: z.strictObject({ view: ResourceTableViewSchema.optional() }), result: z.strictObject({ subscribed: z.literal(true) }) },
  unsubscribe: { channel: 'ipfo:unsubscribe', args: NoArgs, result: z.strictObject({ subscribed: z.literal(false) }) },
  'connection.status': { channel: 'ipfo:connection.status', args: NoArgs, result: ConnectionStateSchema },
  'connection.list': { channel: 'ipfo:connection.list', args: NoArgs, result: ConnectionListSchema },
  'connection.connect': { channel: 'ipfo:connection.connect', args: ConnectTargetSchema, result: ConnectionStateSchema },
  'connection.forget': { channel: 'ipfo:connection.forget', args: z.strictObject({ id: ConnectionIdSchema }), result: z.strictObject({ forgotten: z.boolean() }) },
  'connection.disconnect': { channel: 'ipfo:connection.disconnect', args: NoArgs, result: ConnectionStateSchema },
  /** Starts the local agent in single-host mode through the OS password prompt, then connects to it. */
  'connection.startLocalAgent': { channel: 'ipfo:connection.startLocalAgent', args: NoArgs, result: StartLocalAgentResultSchema },
} as const;

export type IpcVerb = keyof typeof IPC_CONTRACT;
export const IPC_VERBS = Object.keys(IPC_CONTRACT) as IpcVerb[];
export type IpcArgs<V extends IpcVerb> = z.infer<(typeof IPC_CONTRACT)[V]['args']>;
/** What callers pass (before defaults and trimming are applied in main). */
export type IpcArgsInput<V extends IpcVerb> = z.input<(typeof IPC_CONTRACT)[V]['args']>;
export type IpcResult<V extends IpcVerb> = z.infer<(typeof IPC_CONTRACT)[V]['result']>;
export type IpcChannel<V extends IpcVerb> = (typeof IPC_CONTRACT)[V]['channel'];
/** The channel of every verb, exactly: the preload's own table must satisfy this type. */
export type IpcChannelTable = { readonly [V in IpcVerb]: IpcChannel<V> };

export function isIpcVerb(value: string): value is IpcVerb {
  return Object.prototype.hasOwnProperty.call(IPC_CONTRACT, value);
}

// --- Outcomes --------------------------------------------------------------------------------------

export const IpcErrorSchema = ApiErrorSchema;
export type IpcError = ApiError;
export type IpcOutcome<T> = { ok: true; value: T } | { ok: false; error: IpcError };

export function ipcOutcomeSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), value }),
    z.strictObject({ ok: z.literal(false), error: IpcErrorSchema }),
  ]);
}

/** The value of a successful outcome; throws ApiRequestError (the one error type of every client) for a failed one. */
export function unwrapOutcome<T>(outcome: IpcOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw ApiRequestError.fromApi(outcome.error);
}

export type ResourceTableView = z.infer<typeof ResourceTableViewSchema>;

// --- window.ipfo -----------------------------------------------------------------------------------

/** A verb whose argument fields are all optional may be called without one. */
type Call<V extends IpcVerb> = Record<never, never> extends IpcArgsInput<V>
  ? (args?: IpcArgsInput<V>) => Promise<IpcOutcome<IpcResult<V>>>
  : (args: IpcArgsInput<V>) => Promise<IpcOutcome<IpcResult<V>>>;

/** What the preload exposes as `window.ipfo` (and nothing else). */
export interface IpfoBridge {
  /** One agent command by its protocol name ('resource.move', 'snapshot', ...). */
  request<T extends IpcCommandType>(type: T, args: CommandArgs[T]): Promise<IpcOutcome<CommandResults[T]>>;
  /**
   * Calls `onMessage` with every StreamMessage: first a snapshot push (with `view`: the paged stream's
   * head and rows), then change pushes, and a 'connection' message when the connection changes.
   * Returns the function that stops it.
   */
  subscribe(onMessage: (message: StreamMessage) => void, view?: ResourceTableView): () => void;
  connection: {
    status: Call<'connection.status'>;
    list: Call<'connection.list'>;
    connect: Call<'connection.connect'>;
    forget: Call<'connection.forget'>;
    disconnect: Call<'connection.disconnect'>;
    startLocalAgent: Call<'connection.startLocalAgent'>;
  };
}
