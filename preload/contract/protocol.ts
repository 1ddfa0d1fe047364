// The agent protocol: the one API through which the CLI, the Electron main process and the web
// console talk to a node agent. JSON text messages over a WebSocket at path /api (API_PATH).
//
//   client -> agent   { id, type: <command>, ...args }                    (a request)
//   agent -> client   { id, ok: true, result } | { id, ok: false, error }  (its reply; id null when
//                                                                          the request had no usable id)
//   agent -> client   { type: 'snapshot', revision, snapshot }           (stream pushes, after
//                     { type: 'change', revision, change }                 `subscribe`)
//                     { type: 'snapshot-head', revision, view, ... }       (the paged stream:
//                     { type: 'snapshot-rows', revision, rows, done }       `subscribe { view }`)
//                     { type: 'changes', changes: [{ revision, change }] }
//
// Rules both sides keep:
// - Every message is validated against the schemas below; objects are strict (an unknown key is an
//   error, so a typo never silently means "default"), strings, arrays and messages are bounded.
// - The first request must be `hello`, the second `auth` (the challenge–response of handshake.ts:
//   no secret crosses the wire); nothing else is served before `auth` succeeds. After it, every
//   command is checked against the session's role (users.ts COMMAND_ROLES): 'forbidden' otherwise.
// - Replies may come in any order (long commands such as a move run concurrently); match them by id.
// - Pushes come in revision order. A `snapshot` push replaces everything the client holds; each
//   `change` push after it applies on top. A client never sees a change already contained in the
//   snapshot it holds, and never misses one.
// - The paged stream (`subscribe { view }`, what the console asks for): the first screen must not
//   wait for the whole cluster. The snapshot at revision R then comes in parts:
//     1. one `snapshot-head` at R: everything but the resources (nodes, conflicts, events, rejected),
//        the counts (resources, those passing the view's filter, per state) and the view's first page
//        (resource-order.ts: the first `pageSize` rows of that filter and order, at R). It replaces
//        everything the client holds, like a snapshot; the subscribe reply follows it;
//     2. `snapshot-rows` pushes at R: every resource of the snapshot exactly once, first page included,
//        in the view's order, in chunks of at most MAX_ROWS_PER_CHUNK in the compact encoding of
//        compact-rows.ts; the last one says `done`, and the rows received must then number the
//        head's `resourceCount`;
//     3. the changes above R, as always, but several to a message: `changes` pushes ({ type:
//        'changes', changes: [{ revision, change }, ...] }, what the agent had within a frame or so,
//        in order: a thousand changes a second are then ~60 messages, not a thousand events for
//        the console's main thread). They may come BETWEEN the rows pushes: a change is
//        newer than any row at R, so a row of the snapshot arrives after a change of that resource
//        (or its removal) is dropped by the client, never applied over it. "Snapshot, then every
//        change exactly once" holds per resource.
//   A new `snapshot-head` (after a reset) starts over; rows pushes of another revision than the
//   head's are ignored. Until `done`, the client knows exactly the first rows of the head's view that
//   sort at or before the page's last row (the page, and the resources changed since R); for any
//   other view it waits for the rest.
//
// The brief also sketched an `{ type: 'event', event }` push for the audit log. Audit entries are
// part of the snapshot (its latest events), so they travel as `change` pushes ({ kind: 'audit' })
// instead: one ordered stream with one revision counter is what makes "snapshot, then every change
// exactly once" checkable; a second unordered channel would reopen the gap between the two.
//
// Like domain.ts this file imports nothing from main/ or Node: the browser compiles against it.
import { z } from 'zod';
import {
  AuditEntrySchema,
  MAX_APART_FROM,
  ConflictRecordSchema,
  DurationSchema,
  IpAddressSchema,
  NodeBindingsSchema,
  TimestampSchema,
  MacSchema,
  MAX_NAME_LENGTH,
  MAX_SNAPSHOT_NODES,
  NameSchema,
  NodeRecordSchema,
  ResourceSpecInputSchema,
  ResourceSpecPatchSchema,
  ResourceSpecSchema,
  MAX_SNAPSHOT_RESOURCES,
  RejectedStoreRecordSchema,
  ResourceViewSchema,
  SnapshotSchema,
  TextSchema,
  AUDIT_OUTCOMES,
  type AuditEntry,
  type ResourceView,
  FailureReasonSchema,
  RESOURCE_STATES,
} from './domain';
import { decodeRows } from './compact-rows';
import { MAX_GROUP_MEMBERS } from './groups';
import { RESOURCE_COLUMNS, SORT_DIRECTIONS } from './resource-order';
import { MAX_USERS, RoleSchema, UserInfoSchema, UserNameSchema, USER_NAME_PATTERN } from './users';
import { HookDeliveryResultSchema, HookInfoSchema, HookNameSchema, HookRecordSchema, HookSpecSchema, MAX_HOOKS } from './hooks';

/**
 * Bumped on any incompatible change; the hello and auth replies carry it so a client can refuse a
 * mismatch. 2: challenge–response login (hello, then auth with a proof) instead of the token in auth.
 * 3: named users with roles (hello's `user`, SCRAM-style keys in handshake.ts; auth answers the role).
 */
export const PROTOCOL_VERSION = 3;

export { API_PATH } from './api-path';
export const HEALTH_PATH = '/healthz';

/**
 * The agent API's default port. 7790 is unassigned by IANA and not used by common services; the
 * agent listens on 127.0.0.1:7790 unless `--api host:port` says otherwise.
 */
export const DEFAULT_API_PORT = 7790;
export const DEFAULT_API_HOST = '127.0.0.1';

/**
 * Largest message a client may send (the server enforces it in the WebSocket layer, before parsing:
 * a resource definition is far below 4 KiB; a resource.import batch is filled up to it). Server-to-client
 * messages are larger (a snapshot of 10,000 resources is megabytes) and bounded by MAX_SERVER_MESSAGE_BYTES.
 */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
export const MAX_SERVER_MESSAGE_BYTES = 128 * 1024 * 1024;

export const MAX_REQUEST_ID_LENGTH = 64;
/** A handshake nonce or proof (handshake.ts): 32 bytes as 64 lowercase hex digits. */
export const Hex32Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
export const MAX_EVENTS_QUERY_LIMIT = 1_000;

/** Most rows of one resource.import request (the message size usually binds first: ~200 rows). */
export const MAX_IMPORT_BATCH_ROWS = 1_000;

/** A bad row of a resource.import request: its index in `rows`, the field and what is wrong. */
export const ImportIssueSchema = z.strictObject({ index: z.number().int().nonnegative(), field: z.string().max(256), message: TextSchema });
export type ImportIssue = z.infer<typeof ImportIssueSchema>;

/** Target of resource.move that means "the best live node" (node names may therefore not be "best"). */
export const BEST_NODE = 'best';

// --- Requests ------------------------------------------------------------------------------------

export const RequestIdSchema = z.string().min(1, 'must not be empty').max(MAX_REQUEST_ID_LENGTH);

/**
 * What program a client says it is ("cli:alice", "console"), for the agent's log. A label, not an
 * identity: the audit log's actor comes from the credential (the user, or "root" for the node
 * token) and the peer address the agent saw ("alice@127.0.0.1"), which the client cannot forge.
 */
export const ClientLabelSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:@+-]+$/, "may contain only letters, digits and . _ : @ + -");

export const EventsFilterSchema = z.strictObject({
  actor: z.string().max(256).optional(),
  /** Exact, or a prefix followed by '*' ("arp.*"). */
  action: z.string().max(64).optional(),
  target: z.string().max(MAX_NAME_LENGTH).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  /** Case-insensitive substring of actor, action, target or detail. */
  text: z.string().max(256).optional(),
});
export type EventsFilter = z.infer<typeof EventsFilterSchema>;

/** "arp.*" matches every action starting with "arp."; anything else must be equal. */
function actionMatches(action: string, wanted: string): boolean {
  return wanted.endsWith('*') ? action.startsWith(wanted.slice(0, -1)) : action === wanted;
}

/**
 * Whether an audit entry passes an events.query filter: exact fields, and `text` as a case-insensitive
 * substring of actor, action, target or detail. One rule for the agent's query and a client's live follow.
 */
export function auditEntryMatches(entry: Pick<AuditEntry, 'actor' | 'action' | 'target' | 'outcome' | 'detail'>, filter: EventsFilter): boolean {
  if (filter.actor !== undefined && entry.actor !== filter.actor) return false;
  if (filter.action !== undefined && !actionMatches(entry.action, filter.action)) return false;
  if (filter.target !== undefined && entry.target !== filter.target) return false;
  if (filter.outcome !== undefined && entry.outcome !== filter.outcome) return false;
  if (filter.text !== undefined) {
    const needle = filter.text.toLowerCase();
    return [entry.actor, entry.action, entry.target ?? '', entry.detail ?? ''].some((field) => field.toLowerCase().includes(needle));
  }
  return true;
}

/** Most rows of a first page (a tall screen shows ~60). */
export const MAX_PAGE_ROWS = 500;
/** Most resources in one 'snapshot-rows' push. */
export const MAX_ROWS_PER_CHUNK = 5_000;
export const MAX_VIEW_FILTER_LENGTH = 256;

/** The console's Resources table view (resource-order.ts): its first page comes before the rest. */
export const ResourceTableViewSchema = z.strictObject({
  sort: z.strictObject({ column: z.enum(RESOURCE_COLUMNS), direction: z.enum(SORT_DIRECTIONS) }),
  filter: z.string().max(MAX_VIEW_FILTER_LENGTH),
  pageSize: z.number().int().min(1).max(MAX_PAGE_ROWS),
});

/** A what-if (`ipfo plan`): an event the cluster would react to. */
export const WhatIfSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('node-down'), node: NameSchema }),
  z.strictObject({ kind: z.literal('pause'), node: NameSchema }),
  z.strictObject({ kind: z.literal('check-fails'), resource: NameSchema, node: NameSchema }),
]);
export type WhatIfScenario = z.infer<typeof WhatIfSchema>;

/** What the cluster would do: the planners the agents run, on the cluster right after the event. */
export const WhatIfPlanSchema = z.strictObject({
  moves: z.array(z.strictObject({ resource: NameSchema, from: NameSchema, to: NameSchema })).max(MAX_SNAPSHOT_RESOURCES),
  stays: z.array(z.strictObject({ resource: NameSchema, node: NameSchema, why: TextSchema })).max(MAX_SNAPSHOT_RESOURCES),
  offline: z.array(z.strictObject({ resource: NameSchema, from: NameSchema, why: TextSchema })).max(MAX_SNAPSHOT_RESOURCES),
});

/** The arguments of each command (the request without id and type). */
export const COMMAND_ARGS = {
  /** Must be the first request: the client's nonce (and label); the reply proves the agent knows the token. */
  hello: z.strictObject({ protocol: z.number().int(), clientNonce: Hex32Schema, client: ClientLabelSchema.optional(), user: UserNameSchema.optional() }),
  /** Must be the second request, sent only after the agent's proof checked out: the client's proof. */
  auth: z.strictObject({ proof: Hex32Schema }),
  /** The whole cluster, once. */
  snapshot: z.strictObject({}),
  /**
   * A snapshot push, the reply, then a change push for every change (see the header). Once per
   * connection. With `view`: the paged stream, the first page of that view first (see the header).
   */
  subscribe: z.strictObject({ view: ResourceTableViewSchema.optional() }),
  'resource.add': z.strictObject({ spec: ResourceSpecInputSchema }),
  'resource.edit': z.strictObject({ name: NameSchema, patch: ResourceSpecPatchSchema }),
  'resource.remove': z.strictObject({ name: NameSchema }),
  /** target: a node name, or BEST_NODE for the best live possible owner. */
  'resource.move': z.strictObject({ name: NameSchema, target: NameSchema }),
  'resource.online': z.strictObject({ name: NameSchema }),
  'resource.offline': z.strictObject({ name: NameSchema }),
  /** Clears a failed resource's failure (it shows offline) so placement tries it again; a no-op otherwise. */
  /** `node`: only that node's bans and failover count (the resource's failure stays). */
  'resource.cleanup': z.strictObject({ name: NameSchema, node: NameSchema.optional() }),
  /** Re-announce the address now (gratuitous ARP from its holder, wherever the agent asked is): for stale caches on the LAN. */
  'resource.announce': z.strictObject({ name: NameSchema }),
  /**
   * Creates the group or adds members to it (groups.ts); `apartFrom`, when given, replaces the groups it is
   * kept apart from. Every member is written in one transaction; a resource in another group is refused.
   */
  'group.add': z.strictObject({ name: NameSchema, resources: z.array(NameSchema).max(MAX_GROUP_MEMBERS), apartFrom: z.array(NameSchema).max(MAX_APART_FROM).optional() }),
  /** Takes `resources` out of the group, or (without them) dissolves it: the addresses stay where they are. */
  'group.remove': z.strictObject({ name: NameSchema, resources: z.array(NameSchema).max(MAX_GROUP_MEMBERS).optional() }),
  /** Moves every member to `target` (a node, or BEST_NODE) as one batch. resource.move of a member does the same. */
  'group.move': z.strictObject({ name: NameSchema, target: NameSchema }),
  /** Drain: every address of the node moves to its best alternative; the node takes no new ones. */
  'node.pause': z.strictObject({ name: NameSchema }),
  'node.resume': z.strictObject({ name: NameSchema }),
  /** Mutes the node's ARP alarms until `until` (wall-clock ms); null ends the window. */
  'node.maintenance': z.strictObject({ name: NameSchema, until: TimestampSchema.nullable() }),
  /** Pre-flight of a move: `node` probes `ip` and reports who answered. Sends ARP, changes nothing. */
  probe: z.strictObject({ node: NameSchema, ip: IpAddressSchema }),
  /**
   * The audit log. limit: at most this many entries (default 100). since: only entries with a larger
   * seq, oldest first (without it: the newest `limit` entries, oldest first).
   */
  'events.query': z.strictObject({
    limit: z.number().int().min(1).max(MAX_EVENTS_QUERY_LIMIT).optional(),
    since: z.number().int().nonnegative().optional(),
    filter: EventsFilterSchema.optional(),
  }),
  /** Every node's ARP binding table as last saved in the cluster store. */
  'bindings.query': z.strictObject({}),
  /** A new user with a new credential (printed once: the store keeps only its verifier). */
  'user.add': z.strictObject({ name: UserNameSchema, role: RoleSchema }),
  'user.list': z.strictObject({}),
  /** Removes the user; its open sessions are closed. */
  'user.remove': z.strictObject({ name: UserNameSchema }),
  /** A new credential for the user; the old one stops working and its sessions are closed. */
  'user.rotate': z.strictObject({ name: UserNameSchema }),
  /** A new event hook (preload/contract/hooks.ts): delivered from the audit entry after the newest one now. */
  'hook.add': z.strictObject({ hook: HookSpecSchema }),
  /** The hooks with their delivery state, the sending agent, and hook records left out as not hooks. */
  'hook.list': z.strictObject({}),
  'hook.remove': z.strictObject({ name: HookNameSchema }),
  /** One test event (seq 0) delivered by the agent asked, now; the hook's delivery state is not touched. */
  'hook.test': z.strictObject({ name: HookNameSchema }),
  /**
   * Bulk create (`ipfo resource import`): every row is checked first (as resource.add, plus a name or
   * address twice among the rows); with any bad row and no skipInvalid nothing is created. A large import
   * is sent in batches (a request must fit MAX_CLIENT_MESSAGE_BYTES: about 300 rows); the CLI checks the
   * whole file before the first batch, so a bad row anywhere creates nothing. The agent checks a batch
   * against the batches it created before it, also those its view has not brought in yet, so a client
   * may send the next batch before the answer to the last.
   */
  'resource.import': z.strictObject({ rows: z.array(ResourceSpecInputSchema).min(1).max(MAX_IMPORT_BATCH_ROWS), skipInvalid: z.boolean() }),
  /** Every resource's definition, sorted by name: what `ipfo resource import` takes back unchanged. */
  'resource.export': z.strictObject({}),
  /** What the cluster would do if the node died, were paused, or failed the resource's checks (changes nothing). */
  plan: z.strictObject({ scenario: WhatIfSchema }),
} as const;

export type CommandType = keyof typeof COMMAND_ARGS;
export const COMMAND_TYPES = Object.keys(COMMAND_ARGS) as CommandType[];
export type CommandArgs = { [T in CommandType]: z.infer<(typeof COMMAND_ARGS)[T]> };

export function isCommandType(value: string): value is CommandType {
  return Object.prototype.hasOwnProperty.call(COMMAND_ARGS, value);
}

/** A whole request as sent on the wire. */
export type Request = { [T in CommandType]: { id: string; type: T } & CommandArgs[T] }[CommandType];

/** The login's requests (handshake.ts): the server's own, never an operator's command. */
export type LoginCommandType = 'hello' | 'auth';
export function isLoginCommand(type: CommandType): type is LoginCommandType {
  return type === 'hello' || type === 'auth';
}

/** Commands the agent's ApiHandler carries out (hello, auth, snapshot and subscribe are the server's own). */
export type ApiCommandType = Exclude<CommandType, LoginCommandType | 'snapshot' | 'subscribe'>;
export const SERVICE_COMMAND_TYPES = COMMAND_TYPES.filter(
  (type): type is ApiCommandType => !isLoginCommand(type) && type !== 'snapshot' && type !== 'subscribe',
);
/** A service command: the request without its id. */
export type ApiCommand = { [T in ApiCommandType]: { type: T } & CommandArgs[T] }[ApiCommandType];

// --- Results -------------------------------------------------------------------------------------

/** The outcome of a command that changes the cluster. */
export const ActionResultSchema = z.strictObject({
  /**
   * 'done': the cluster reached the requested state (e.g. the address answers from its new node);
   * 'accepted': recorded, the agents carry it out now; follow the change stream for its progress.
   */
  outcome: z.enum(['done', 'accepted']),
  /** One line for a human, or null. */
  detail: TextSchema.nullable(),
  /** The audit entry that records this command, when one was written. */
  auditSeq: z.number().int().positive().nullable(),
  /** The resource acted on, as it stands now (null for node commands and after a remove). */
  resource: ResourceViewSchema.nullable(),
  /** The node acted on, as it stands now (null for resource commands). */
  node: NodeRecordSchema.nullable(),
  /** Client-visible gap of the handoff this command caused, when it waited for one. */
  handoffMs: DurationSchema.nullable(),
  /** How long the command took in the agent. */
  durationMs: DurationSchema.nullable(),
});
export type ActionResult = z.infer<typeof ActionResultSchema>;

/**
 * Can `node` take `ip`? 'free': nobody answered; 'owner-only': only the current owner's MAC
 * answered (the expected case before a planned move); 'conflict': some other station answered.
 */
export const ProbeVerdictSchema = z.enum(['free', 'owner-only', 'conflict']);
export const ProbeResultSchema = z.strictObject({
  node: NameSchema,
  ip: IpAddressSchema,
  verdict: ProbeVerdictSchema,
  /** Every MAC that answered, in order of first answer. */
  answeredBy: z.array(MacSchema).max(64),
  /** The MAC of the address's current owner in the cluster, null when nobody holds it. */
  ownerMac: MacSchema.nullable(),
  durationMs: DurationSchema,
});
export type ProbeResult = z.infer<typeof ProbeResultSchema>;

export const RevisionSchema = z.number().int().nonnegative();

/** A user credential as printed: "NAME:SECRET" (users.ts parseCredential). */
const CredentialTextSchema = z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}:[0-9a-f]{64}$/);

export const COMMAND_RESULTS = {
  hello: z.strictObject({
    protocol: z.number().int(),
    serverNonce: Hex32Schema,
    /** HMAC(ServerKey, the "server" transcript): the client checks it before it sends its own proof. */
    serverProof: Hex32Schema,
  }),
  auth: z.strictObject({
    protocol: z.number().int(),
    /** How this session appears in the audit log ("alice@10.0.0.9", "root@127.0.0.1"). */
    actor: z.string().max(256),
    /** The user signed in; null for the node's token (the local root). */
    user: z.string().regex(USER_NAME_PATTERN).nullable(),
    role: RoleSchema,
  }),
  snapshot: z.strictObject({ revision: RevisionSchema, snapshot: SnapshotSchema }),
  /** The revision of the snapshot push that preceded this reply. */
  subscribe: z.strictObject({ revision: RevisionSchema }),
  'resource.add': ActionResultSchema,
  'resource.edit': ActionResultSchema,
  'resource.remove': ActionResultSchema,
  'resource.move': ActionResultSchema,
  'resource.online': ActionResultSchema,
  'resource.offline': ActionResultSchema,
  'resource.cleanup': ActionResultSchema,
  'resource.announce': ActionResultSchema,
  'group.add': ActionResultSchema,
  'group.remove': ActionResultSchema,
  'group.move': ActionResultSchema,
  'node.pause': ActionResultSchema,
  'node.resume': ActionResultSchema,
  'node.maintenance': ActionResultSchema,
  probe: ProbeResultSchema,
  /** Oldest first. */
  'events.query': z.strictObject({ entries: z.array(AuditEntrySchema).max(MAX_EVENTS_QUERY_LIMIT) }),
  'bindings.query': z.strictObject({ nodes: z.array(NodeBindingsSchema).max(MAX_SNAPSHOT_NODES) }),
  /** `credential` ("NAME:SECRET") is shown this once; nobody can read it back. */
  'user.add': z.strictObject({ user: UserInfoSchema, credential: CredentialTextSchema }),
  'user.list': z.strictObject({ users: z.array(UserInfoSchema).max(MAX_USERS) }),
  'user.remove': z.strictObject({ user: UserInfoSchema }),
  'user.rotate': z.strictObject({ user: UserInfoSchema, credential: CredentialTextSchema }),
  'hook.add': z.strictObject({ hook: HookRecordSchema }),
  'hook.list': z.strictObject({ hooks: z.array(HookInfoSchema).max(MAX_HOOKS), sender: NameSchema.nullable(), rejected: z.array(RejectedStoreRecordSchema).max(MAX_HOOKS) }),
  'hook.remove': z.strictObject({ hook: HookRecordSchema }),
  'hook.test': z.strictObject({ hook: HookNameSchema, node: NameSchema, delivery: HookDeliveryResultSchema }),
  'resource.import': z.strictObject({
    /** The names created, in row order (empty when a bad row refused the whole request). */
    created: z.array(NameSchema).max(MAX_IMPORT_BATCH_ROWS),
    /** Every problem of every bad row (index into `rows`; field as resource.add's); at most 8 per row. */
    invalid: z.array(ImportIssueSchema).max(MAX_IMPORT_BATCH_ROWS * 8),
    /** Good rows the store refused because a resource of that name appeared meanwhile (not overwritten). */
    collided: z.array(z.strictObject({ index: z.number().int().nonnegative(), name: NameSchema })).max(MAX_IMPORT_BATCH_ROWS),
    /** The audit entry of the import, when anything was created. */
    auditSeq: z.number().int().positive().nullable(),
    durationMs: DurationSchema.nullable(),
  }),
  'resource.export': z.strictObject({ specs: z.array(ResourceSpecSchema).max(MAX_SNAPSHOT_RESOURCES) }),
  plan: WhatIfPlanSchema,
} as const satisfies Record<CommandType, z.ZodType>;

export type CommandResults = { [T in CommandType]: z.infer<(typeof COMMAND_RESULTS)[T]> };

// --- Errors --------------------------------------------------------------------------------------

export const ERROR_CODES = [
  // The request itself (the agent changed nothing):
  'bad-json', //        not a JSON object
  'unknown-type', //    `type` names no command
  'bad-request', //     arguments of the wrong shape (see field / issues)
  'unauthenticated', // a command before auth, or a client of another protocol (the connection is then closed, 4401)
  'auth-failed', //     wrong proof (the connection is then closed, 4401)
  'busy', //            too many requests of this connection still running, or (at auth) too many sessions
  'forbidden', //       the session's role may not run this command (users.ts COMMAND_ROLES); nothing changed
  // The cluster's answer:
  'invalid', //         well-formed but against the cluster's rules (validate.ts messages per field)
  'not-found', //       no such resource or node
  'conflict', //        the cluster changed meanwhile, or the address is in use (detail says which)
  'unavailable', //     the cluster store or the target node cannot be reached now
  'failed', //          carried out and failed (e.g. the move aborted; the old owner still serves)
  'internal', //        a bug in the agent; details are in its log, not here
  // Raised by the client library only, never sent:
  'timeout',
  'closed',
  'protocol', //        the agent sent something that breaks this contract
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const FieldIssueSchema = z.strictObject({
  /** Dotted path of the argument in the request ("spec.ip", "patch.failback.startHour"), "" for the whole. */
  field: z.string().max(256),
  message: TextSchema,
});
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

export const ApiErrorSchema = z.strictObject({
  code: z.enum(ERROR_CODES),
  /** One line fit to show verbatim. */
  message: TextSchema,
  /** The argument at fault (the first of `issues`), for a form to put the message next to. */
  field: z.string().max(256).optional(),
  /** Every problem found, when there are several (a resource form shows them all at once). */
  issues: z.array(FieldIssueSchema).max(64).optional(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

// --- Server messages -----------------------------------------------------------------------------

/**
 * One change to the snapshot, keyed as follows: nodes by name, resources by name, conflicts by
 * (node, address, theirMac); an upsert replaces the whole record. 'audit' appends an entry (a
 * console keeps the newest SNAPSHOT_EVENTS_LIMIT).
 */
export const ChangeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('node'), node: NodeRecordSchema }),
  z.strictObject({ kind: z.literal('node-removed'), name: NameSchema }),
  z.strictObject({ kind: z.literal('resource'), resource: ResourceViewSchema }),
  z.strictObject({ kind: z.literal('resource-removed'), name: NameSchema }),
  z.strictObject({ kind: z.literal('conflict'), conflict: ConflictRecordSchema }),
  z.strictObject({ kind: z.literal('conflict-cleared'), node: NameSchema, address: IpAddressSchema, theirMac: MacSchema }),
  z.strictObject({ kind: z.literal('audit'), entry: AuditEntrySchema }),
  /** A store record the agents leave out, or (cleared) a key that holds a good record again or none. */
  z.strictObject({ kind: z.literal('rejected'), record: RejectedStoreRecordSchema }),
  z.strictObject({ kind: z.literal('rejected-cleared'), key: z.string().max(2048) }),
]);
export type Change = z.infer<typeof ChangeSchema>;

export const SnapshotPushSchema = z.strictObject({ type: z.literal('snapshot'), revision: RevisionSchema, snapshot: SnapshotSchema });
export const ChangePushSchema = z.strictObject({ type: z.literal('change'), revision: RevisionSchema, change: ChangeSchema });

const CountSchema = z.number().int().min(0).max(MAX_SNAPSHOT_RESOURCES);
/** Resources per state at the head's revision. */
export const StateCountsSchema = z.strictObject(Object.fromEntries(RESOURCE_STATES.map((state) => [state, CountSchema])) as Record<(typeof RESOURCE_STATES)[number], typeof CountSchema>);

/** The paged stream's first message (see the header): everything the first screen shows. */
export const SnapshotHeadPushSchema = z.strictObject({
  type: z.literal('snapshot-head'),
  revision: RevisionSchema,
  view: ResourceTableViewSchema,
  /** Resources in the snapshot; the rows pushes bring exactly this many. */
  resourceCount: CountSchema,
  /** Of them, those passing the view's filter. */
  matching: CountSchema,
  states: StateCountsSchema,
  /** The view's first rows (at most view.pageSize), in its order. */
  page: z.array(ResourceViewSchema).max(MAX_PAGE_ROWS),
  nodes: SnapshotSchema.shape.nodes,
  conflicts: SnapshotSchema.shape.conflicts,
  events: SnapshotSchema.shape.events,
  rejected: SnapshotSchema.shape.rejected,
});

/** compact-rows.ts; every decoded resource is checked against ResourceViewSchema. */
export const CompactRowsSchema = z.strictObject({
  specs: z.array(ResourceSpecSchema.omit({ name: true, ip: true, prefix: true })).max(MAX_ROWS_PER_CHUNK),
  failures: z.array(FailureReasonSchema).max(MAX_ROWS_PER_CHUNK),
  strings: z.array(z.string().max(MAX_NAME_LENGTH)).max(2 * MAX_ROWS_PER_CHUNK),
  cells: z.array(z.union([z.string().max(MAX_NAME_LENGTH), z.number(), z.null()])).max(10 * MAX_ROWS_PER_CHUNK),
  raw: z.array(ResourceViewSchema).max(MAX_ROWS_PER_CHUNK),
});

const isResourceViewByContract = (row: unknown): boolean => ResourceViewSchema.safeParse(row).success;

/**
 * Part of the paged snapshot at `revision`: on the wire `rows` (compact), once parsed `resources`.
 * The parse decodes the rows and checks each resource against the contract.
 */
export const SnapshotRowsPushSchema = z
  .strictObject({ type: z.literal('snapshot-rows'), revision: RevisionSchema, rows: CompactRowsSchema, done: z.boolean() })
  .transform((push, context) => {
    const resources = decodeRows(push.rows, isResourceViewByContract, MAX_ROWS_PER_CHUNK);
    if (resources === null) {
      context.addIssue({ code: 'custom', message: 'rows that do not decode to valid resources', path: ['rows'] });
      return z.NEVER;
    }
    return { type: push.type, revision: push.revision, resources, done: push.done };
  });

/** A rows push as parsed (and as the Electron bridge carries it: structured clone needs no compact form). */
export const DecodedRowsPushSchema = z.strictObject({
  type: z.literal('snapshot-rows'),
  revision: RevisionSchema,
  resources: z.array(ResourceViewSchema).max(MAX_ROWS_PER_CHUNK),
  done: z.boolean(),
});

/** Changes in one 'changes' push at most. */
export const MAX_CHANGES_PER_PUSH = 1_000;

/**
 * The paged stream's changes, several to a message (see the header): on the wire each item is a
 * change push without its type, once parsed a change push. Their revisions keep the stream's order.
 */
export const ChangesPushSchema = z
  .strictObject({
    type: z.literal('changes'),
    changes: z.array(z.strictObject({ revision: RevisionSchema, change: ChangeSchema })).min(1).max(MAX_CHANGES_PER_PUSH),
  })
  .transform((push) => ({ type: push.type, changes: push.changes.map(({ revision, change }): ChangePush => ({ type: 'change', revision, change })) }));

export const PushSchema = z.union([SnapshotPushSchema, ChangePushSchema, SnapshotHeadPushSchema, SnapshotRowsPushSchema, ChangesPushSchema]);
export type SnapshotPush = z.infer<typeof SnapshotPushSchema>;
export type ChangePush = z.infer<typeof ChangePushSchema>;
export type SnapshotHeadPush = z.infer<typeof SnapshotHeadPushSchema>;
export type SnapshotRowsPush = { type: 'snapshot-rows'; revision: number; resources: ResourceView[]; done: boolean };
export type ChangesPush = { type: 'changes'; changes: ChangePush[] };
/** A push as parsed (rows decoded, changes as change pushes). */
export type Push = SnapshotPush | ChangePush | SnapshotHeadPush | SnapshotRowsPush | ChangesPush;
// The parsed pushes are exactly the Push type (a rows push's transform included).
type ParsedPush = z.output<typeof PushSchema>;
export const PUSH_TYPE_AGREES: [ParsedPush] extends [Push] ? ([Push] extends [ParsedPush] ? true : false) : false = true;
/** A rows push as the agent sends it. */
export type SnapshotRowsWirePush = z.input<typeof SnapshotRowsPushSchema>;
/** Several changes as the agent sends them. */
export type ChangesWirePush = z.input<typeof ChangesPushSchema>;
/** A push as the agent sends it. */
export type WirePush = SnapshotPush | ChangePush | SnapshotHeadPush | SnapshotRowsWirePush | ChangesWirePush;

/** A reply's result is checked against COMMAND_RESULTS of the request's type by whoever knows that type. */
export const ReplySchema = z.discriminatedUnion('ok', [
  z.strictObject({ id: RequestIdSchema.nullable(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: RequestIdSchema.nullable(), ok: z.literal(false), error: ApiErrorSchema }),
]);
export type Reply = z.infer<typeof ReplySchema>;
export type SuccessReply<T extends CommandType> = { id: string; ok: true; result: CommandResults[T] };
export type ErrorReply = { id: string | null; ok: false; error: ApiError };

// --- WebSocket close codes -----------------------------------------------------------------------
// A client that leaves more than a few snapshots' worth of messages unread is dropped without a
// close frame (the client sees 1006); it may reconnect and subscribe again.

export const CLOSE_CODES = {
  /** Server shutting down. */
  goingAway: 1001,
  /** Too many bad messages in a short time. */
  policy: 1008,
  /** A message above MAX_CLIENT_MESSAGE_BYTES (sent by the WebSocket layer). */
  tooBig: 1009,
  /** No auth, late auth or a wrong proof (4000 + HTTP 401). */
  unauthorized: 4401,
  /** Authenticated, but the agent already serves its most sessions: try again later (as 1013). */
  tryAgainLater: 1013,
} as const;
