// Parsing of the cluster commands that talk to an agent (resource, move, online, offline, node, status,
// events, bindings, user). Pure: bad input is a UsageError (exit 2) before any connection is made.
//
// The cluster's rules that need no cluster (address syntax and reserved ranges, network/broadcast
// addresses, repeated nodes, preferred owners outside the possible ones, failback hours) are checked
// here with the agent's own validator, so a typo fails at once; the rules that need the cluster
// (unknown node, duplicate name or address) come back from the agent as an 'invalid' error.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseCidr } from '../arp/addresses';
import { parseIpv6Cidr } from '../nd/addresses';
import { validateNodeName, validateResourceName, validateResourceSpec } from '../cluster/validate';
import { validateIfname } from '../net/interfaces';
import { formatOfFileName, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, TABLE_FORMATS, type TableFormat } from '../cluster/resource-table';
import { isLoopbackHost } from '../api/exposure';
import { ANNOUNCE_COUNT_MAX, ANNOUNCE_FORMS, ANNOUNCE_INTERVAL_MAX_MS, ANNOUNCE_INTERVAL_MIN_MS, ANNOUNCE_REFRESH_MAX_SEC, AUDIT_OUTCOMES, DEFEND_POLICIES, type FailbackPolicy, type ResourceSpecInput, type ResourceSpecPatch } from '../../preload/contract/domain';
import {
  BEST_NODE,
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  MAX_EVENTS_QUERY_LIMIT,
  type ActionResult,
  type CommandArgs,
  type CommandResults,
  type CommandType,
  type EventsFilter,
  type WhatIfScenario,
} from '../../preload/contract/protocol';
import { ROLES, UserNameSchema, type Role } from '../../preload/contract/users';
import { DEFAULT_HOOK_TIMEOUT_MS, DEFAULT_SYSLOG_TARGET, HookNameSchema, HookSpecSchema, MAX_HOOK_TIMEOUT_MS, type HookSpec, type HookTarget } from '../../preload/contract/hooks';
import { CHECK_INTERVAL_MAX_MS, CHECK_INTERVAL_MIN_MS, CHECK_TIMEOUT_MAX_MS, CHECK_TIMEOUT_MIN_MS, FALL_RISE_MAX, parseCheck } from '../../preload/contract/health';
import { MAX_GROUP_MEMBERS } from '../../preload/contract/groups';
import { BAN_FOR_MAX_SEC, parseThreshold, RETRIES_MAX, type FailoverThreshold } from '../../preload/contract/failure-policy';
// args.ts imports this file for its dispatch, so these names are used only inside functions (when
// args.ts has finished loading), never at module level.
import { DEFAULT_API, DEFAULT_API_SOCKET_DIR, DEFAULT_TOKEN_FILE, parseHostPort, UsageError } from './usage';

export const CLUSTER_COMMAND_NAMES = ['resource', 'group', 'move', 'online', 'offline', 'announce', 'node', 'status', 'events', 'bindings', 'user', 'hook', 'plan'] as const;
export type ClusterCommandName = (typeof CLUSTER_COMMAND_NAMES)[number];

export function isClusterCommandName(name: string): name is ClusterCommandName {
  return (CLUSTER_COMMAND_NAMES as readonly string[]).includes(name);
}

/** Where the agent is: --agent host:port or a socket path (default the local agent), and --token-file or --credential-file. */
export interface AgentAddress {
  host: string;
  port: number;
  /** --agent /path: the agent's Unix socket. */
  socketPath?: string | null;
  /** No --agent: the local agent's socket (the one in DEFAULT_API_SOCKET_DIR) when this user may use it, else host:port. */
  preferSocket?: boolean;
  tokenFile: string;
  /** --credential-file F: a user's credential ("NAME:SECRET"), used instead of the token file. */
  credentialFile?: string | null;
  tls: boolean;
  caFile: string | null;
}

/** What to do once connected. */
export type ClusterOperation =
  | { kind: 'resource-add'; spec: ResourceSpecInput }
  | { kind: 'resource-edit'; name: string; patch: ResourceSpecPatch }
  | { kind: 'resource-remove'; name: string }
  | { kind: 'resource-cleanup'; name: string; node?: string }
  | { kind: 'resource-list' }
  /** format: from --format, else the file name's extension. wait: until every created resource settles. */
  | { kind: 'resource-import'; file: string; format: TableFormat; skipInvalid: boolean; wait: boolean }
  /** output: a file, or null for stdout. */
  | { kind: 'resource-export'; format: TableFormat; output: string | null }
  /** target: a node name or BEST_NODE. */
  | { kind: 'move'; name: string; target: string }
  | { kind: 'online'; name: string }
  | { kind: 'offline'; name: string }
  | { kind: 'announce'; name: string }
  /** apartFrom: replaces the group's list when given. */
  | { kind: 'group-add'; name: string; resources: string[]; apartFrom?: string[] }
  /** resources: those leave the group; absent: the group is dissolved. */
  | { kind: 'group-remove'; name: string; resources?: string[] }
  | { kind: 'group-move'; name: string; target: string }
  | { kind: 'group-list' }
  | { kind: 'node-pause'; node: string }
  | { kind: 'node-resume'; node: string }
  /** until: wall-clock ms the window ends; null ends it now. */
  | { kind: 'node-maintenance'; node: string; until: number | null }
  | { kind: 'status' }
  | { kind: 'bindings' }
  /** `ipfo plan`: what the cluster would do on an event (changes nothing). */
  | { kind: 'plan'; scenario: WhatIfScenario }
  /** limit: how many past entries to show first (0 only with follow). */
  | { kind: 'events'; follow: boolean; limit: number; filter: EventsFilter }
  | { kind: 'user-add'; name: string; role: Role }
  | { kind: 'user-list' }
  | { kind: 'user-remove'; name: string }
  | { kind: 'user-rotate'; name: string }
  | { kind: 'hook-add'; spec: HookSpec }
  | { kind: 'hook-list' }
  | { kind: 'hook-remove'; name: string }
  | { kind: 'hook-test'; name: string }
  /** `ipfo <cluster command> --help`: print CLUSTER_USAGE, connect to nothing. */
  | { kind: 'help' };

/** The operations that send one command answered by an ActionResult. */
export type ActionOperation = Exclude<ClusterOperation, { kind: 'resource-list' | 'group-list' | 'resource-import' | 'resource-export' | 'status' | 'events' | 'bindings' | 'plan' | 'help' | `user-${string}` | `hook-${string}` }>;

/** The contract's commands answered by an ActionResult (derived, so a new one needs no entry here). */
export type ActionCommandType = { [T in CommandType]: CommandResults[T] extends ActionResult ? T : never }[CommandType];
export type ActionRequest<T extends ActionCommandType = ActionCommandType> = { [P in T]: { type: P; args: CommandArgs[P] } }[T];

/** The protocol request an action sends: the subcommand words are UI, the command names are the contract's. */
export function actionRequest(op: ActionOperation): ActionRequest {
  switch (op.kind) {
    case 'resource-add': return { type: 'resource.add', args: { spec: op.spec } };
    case 'resource-edit': return { type: 'resource.edit', args: { name: op.name, patch: op.patch } };
    case 'resource-remove': return { type: 'resource.remove', args: { name: op.name } };
    case 'resource-cleanup': return { type: 'resource.cleanup', args: { name: op.name, ...(op.node === undefined ? {} : { node: op.node }) } };
    case 'move': return { type: 'resource.move', args: { name: op.name, target: op.target } };
    case 'online': return { type: 'resource.online', args: { name: op.name } };
    case 'offline': return { type: 'resource.offline', args: { name: op.name } };
    case 'announce': return { type: 'resource.announce', args: { name: op.name } };
    case 'group-add': return { type: 'group.add', args: { name: op.name, resources: op.resources, ...(op.apartFrom === undefined ? {} : { apartFrom: op.apartFrom }) } };
    case 'group-remove': return { type: 'group.remove', args: { name: op.name, ...(op.resources === undefined ? {} : { resources: op.resources }) } };
    case 'group-move': return { type: 'group.move', args: { name: op.name, target: op.target } };
    case 'node-pause': return { type: 'node.pause', args: { name: op.node } };
    case 'node-resume': return { type: 'node.resume', args: { name: op.node } };
    case 'node-maintenance': return { type: 'node.maintenance', args: { name: op.node, until: op.until } };
  }
}

export interface ClusterCommand {
  kind: 'cluster';
  agent: AgentAddress;
  json: boolean;
  op: ClusterOperation;
}

// Written with the protocol's constants, not args.ts's (see the import note above); a unit test checks they agree.
export const CLUSTER_USAGE = `cluster commands (talk to a node agent; every one takes --agent host:port|/socket
--token-file F|--credential-file F [--tls [--ca F]] [--json]; defaults: the local agent on its socket in ${DEFAULT_API_SOCKET_DIR}/
when this user may use it (root), else at ${DEFAULT_API_HOST}:${DEFAULT_API_PORT}, with its token in /var/lib/ipfo/token (the node's
root credential: admin); --credential-file: a file holding a user's credential NAME:SECRET, readable only by its owner):
  resource add <name> <ip>/<prefix> [--owners n1,n2] [--preferred n1,n2] [--failback never|immediate|HH-HH]
        [--if node=ifname[,...]] [--offline] [--announce-form request|reply|both] [--defend never|once|always]
        [--announce-count N] [--announce-interval-ms MS] [--announce-refresh DURATION|off] [--maintenance DURATION|off]
        [--check CHECK ...] [--check-interval DURATION] [--check-timeout DURATION] [--fall N] [--rise N]
        [--retry N] [--ban-for DURATION] [--failover-threshold COUNT/WINDOW|off]
      Define an IP resource and bring it online (unless --offline). --owners: nodes allowed to hold it (default
      every node); --preferred: ordered preference; --failback HH-HH: move back to a preferred node only in that
      window of local hours (22-06 wraps midnight); --if: the interface a node uses (default the one already in
      the address's subnet). Exit 0 online (or accepted), 3 when it failed on a conflict (the line names the
      other MAC), 1 when it failed otherwise. --announce-count/--announce-interval-ms: the gratuitous ARPs sent
      when the address comes up (default 2, 2000 ms apart). --announce-refresh 60s: the holder announces the
      address again that often (1s to 1d; default off), for routers whose ARP caches outlive a move's
      announcements. --maintenance 30m: ARP alarms for the address are
      muted (still recorded) for that long (s, m, h or d); off ends it.
      --check (repeatable; all must pass): tcp:HOST:PORT (connection accepted), http://HOST[:PORT]/PATH or
      https://… (a 2xx or 3xx answer; append " =200" for an exact status; certificates are not verified),
      exec:/PROGRAM ARG… (exit 0; split at spaces, never by a shell; run as nobody when the agent is root),
      gateway or gateway:IP (an ARP probe answered: the default route's gateway, or IP). Every possible owner
      runs them every --check-interval (default 2s; 100ms to 1h) with --check-timeout each (default 1s); --fall
      failed runs in a row (default 3) make a node unhealthy, --rise passed runs (default 2) healthy again. The
      address goes only to a node passing them; an owner that fails them hands it to one that passes (a
      planned move); when none passes it stays where it is. --check off (edit) removes them.
      --retry N (default 1, 0..10): a failure of a node's own (the address cannot be registered there, its
      interface is missing) is tried again there N times (1 s, then 2 s, 4 s … apart), then that node is banned
      from the resource for --ban-for (default 10m; up to 7d) and another node takes it. --failover-threshold
      5/1h: after 5 moves caused by failures (bans, health moves) within the hour the resource stays where it is
      (failed if it has nowhere to stay) until a cleanup; default off. A conflict with a station outside the
      cluster is never moved away from: it fails the resource.
  resource edit <name> [--ip <ip>/<prefix>] [--owners ...] [--preferred ...] [--failback ...] [--if ...]
        [--online|--offline] [--announce-form ...] [--defend ...] [--announce-count N] [--announce-interval-ms MS]
        [--announce-refresh DURATION|off] [--maintenance DURATION|off] [--check CHECK ...|off] [--check-interval D]
        [--check-timeout D] [--fall N] [--rise N] [--retry N] [--ban-for D] [--failover-threshold N/W|off]
      Change the given settings; a list option replaces the whole list ("" clears it); --check replaces every
      check, the timing options alone keep them.
  resource rm <name>            Take the address down everywhere and delete the resource.
  resource list                 The resources as defined (owners, preference, failback, interfaces).
  resource cleanup <name> [--node N]
      Forget a failed resource's failure (it shows offline) so placement tries it again, lift the bans of the
      failure policy and reset its failover count on every node (--node: that node's only; the failure stays);
      its online/offline setting stays. Exit 4 when a node with a ban did not answer.
  resource import <file> [--format json|csv] [--skip-invalid] [--no-wait]
      Define many resources at once: a JSON array of resource definitions, or CSV with a header row (columns
      name, ip (a.b.c.d/nn), owners, preferred, failback, interfaces, enabled, announce-form, defend,
      announce-count, announce-interval-ms, announce-refresh-sec, maintenance-until, checks, check-interval-ms,
      check-timeout-ms, fall, rise; lists inside a cell separated by spaces, interfaces as node=ifname, checks as
      --check spells them between " | " or a JSON array). Every row is checked first: each bad one is printed as FILE:LINE: field:
      message and nothing is created (exit 2), unless --skip-invalid creates the good ones. Then created in
      batches with a progress bar, and waited for until online (--no-wait: not); exit 1 when some failed.
      Format: from the file's extension unless --format. At most ${MAX_IMPORT_ROWS} rows and
      ${MAX_IMPORT_BYTES / (1024 * 1024)} MiB.
  resource export [--format json|csv] [--output FILE]
      Every resource's definition, sorted by name, in the form import reads back unchanged (default json,
      or the --output file's extension).
  group add <group> <resource>... [--apart-from GROUP[,GROUP...]|off]
      Create a group, or add members to it: its addresses are placed, moved, drained and failed back
      together, never split (a check failing on any member moves them all). --apart-from keeps it off the
      nodes of those groups when another node can hold it (mutual); off clears the list.
  group rm <group> [<resource>...]
      Take members out of a group, or dissolve it; the addresses stay where they are.
  group move <group> <node>|--best
      Every member to <node> (or the best other node that may hold them all) in one batch.
  group list                    Each group: its members, where they are, the groups it keeps apart from.
  move <resource> <node>|--best
      Planned handoff to <node> (or the best other live node); prints the client-visible gap. A member of
      a group moves its whole group. Exit 1 when the move failed (the old owner still serves), 3 when it
      aborted on a conflict.
  online <resource>             Bring a resource online (clears a failure); exit 3 on a conflict.
  offline <resource>            Take a resource offline (the address leaves every node).
  announce <resource>           Its holder announces the address again now (gratuitous ARP), for stale ARP caches
                                on the LAN; recorded in the audit log. Exit 1 when it is not online or its holder
                                could not announce it, 4 when the holder cannot be reached.
  node pause <node>             Drain: every address of <node> moves to its best alternative; it takes no new ones.
  node resume <node>            Let <node> hold addresses again (resources with failback may come back).
  node maintenance <node> --for DURATION|--end
                                Mute the ARP alarms that involve <node> (recorded all the same) for DURATION
                                (e.g. 30m, 2h; s, m, h or d), or end that window now.
  plan --node-down NODE | --pause NODE | --check-fails RESOURCE@NODE
                                What the cluster would do if NODE died, were paused (drained), or failed RESOURCE's
                                health checks: each address that would move and where, that would stay and why, that
                                would go offline — from the planners the agents run, on the cluster as it is now.
                                Changes nothing. --json: { moves, stays, offline }.
  status                        Nodes (state, version, last seen), resources (state, owner, MAC, since, last
                                handoff) and ARP conflicts. --json: one object { nodes, resources, conflicts }.
  bindings                      Every node's ARP binding table as last saved in the cluster store (every 10 s
                                while frames arrive): IP, MAC, vendor, first and last seen, frames, MAC changes.
  events [--follow] [--limit N] [--target R] [--action A] [--outcome ok|failed|rejected|started]
      The audit log (who, when, what, outcome, handoff time); --follow keeps printing new entries until
      SIGINT/SIGTERM. --json: one object per line.
  user add <name> --role viewer|operator|admin
      A named user; prints its credential NAME:SECRET once (the cluster keeps only what checks it). Viewers read;
      operators also move, bring online/offline, clean up, pause, resume, set maintenance and probe; admins also
      add, edit and remove resources and manage users. Save it with: umask 077; cat > alice.cred
  user list                     The users: name, role, created (when, by whom), credential last rotated.
  user rm <name>                Remove a user; its open sessions end at once.
  user rotate <name>            A new credential for the user (printed once); the old one and its sessions end.
  hook add <name> --on EVENTS (--exec /PATH [ARG...] [--arg ARG]... | --webhook URL [--secret-file F] | --syslog [--syslog-target udp://HOST:PORT])
                                [--timeout SECONDS]
      Deliver every audit event named in EVENTS (comma-separated: move,failover,arp.conflict,...; arp.* or *)
      from now on, in audit order, at least once (the audit seq is the idempotency key), retried with backoff.
      exec: the program (absolute path, no shell) gets the event as JSON on stdin and IPFO_* variables;
      webhook: POST JSON, X-Ipfo-Signature: sha256=HMAC of the body with the secret in F (a file on every node);
      syslog: RFC 5424 over UDP (default udp://127.0.0.1:514). Admin only.
  hook list                     The hooks: events, target, delivery state (last seq delivered, last attempt,
                                last error, pending) and the agent that sends.
  hook rm <name>                Remove a hook (and its delivery state).
  hook test <name>              Deliver one test event (seq 0) now, from the agent asked; exit 1 if it failed.
  Exit 4 when the agent cannot be reached, refuses the credential, or the user's role may not do the command.`;

// --- Small option helpers ----------------------------------------------------------------------------

type Values = Record<string, string | boolean | string[] | undefined>;

/** An operation and the option values it was parsed from (the connection options are read from them later). */
interface Parsed {
  op: ClusterOperation;
  values: Values;
}

const CONNECTION_OPTIONS: ParseArgsConfig['options'] = {
  agent: { type: 'string' },
  'token-file': { type: 'string' },
  'credential-file': { type: 'string' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const SPEC_OPTIONS: ParseArgsConfig['options'] = {
  owners: { type: 'string' },
  preferred: { type: 'string' },
  failback: { type: 'string' },
  if: { type: 'string' },
  online: { type: 'boolean' },
  offline: { type: 'boolean' },
  'announce-form': { type: 'string' },
  defend: { type: 'string' },
  'announce-count': { type: 'string' },
  'announce-interval-ms': { type: 'string' },
  'announce-refresh': { type: 'string' },
  maintenance: { type: 'string' },
  check: { type: 'string', multiple: true },
  'check-interval': { type: 'string' },
  'check-timeout': { type: 'string' },
  fall: { type: 'string' },
  rise: { type: 'string' },
  retry: { type: 'string' },
  'ban-for': { type: 'string' },
  'failover-threshold': { type: 'string' },
};

const MILLIS_PATTERN = /^(\d{1,7})(ms|s|m)$/;
const MILLIS_UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** --check-interval / --check-timeout: "500ms", "2s", "1m" -> ms within [min, max]. */
function millisOption(option: string, raw: string, min: number, max: number): number {
  const match = MILLIS_PATTERN.exec(raw);
  const ms = match === null ? Number.NaN : Number(match[1]) * (MILLIS_UNIT[match[2] ?? ''] ?? Number.NaN);
  if (!(ms >= min && ms <= max)) throw new UsageError(`--${option} wants a duration from ${min} ms to ${max / 1000} s such as 500ms or 2s, got "${raw}"`);
  return ms;
}

/** --check (repeatable; "off" removes every check), --check-interval, --check-timeout, --fall, --rise. */
function healthOptions(values: Values): ResourceSpecPatch['health'] {
  const given = values.check === undefined ? [] : Array.isArray(values.check) ? values.check : [String(values.check)];
  const timing: { intervalMs?: number; timeoutMs?: number; fall?: number; rise?: number } = {};
  const interval = str(values['check-interval']);
  if (interval !== undefined) timing.intervalMs = millisOption('check-interval', interval, CHECK_INTERVAL_MIN_MS, CHECK_INTERVAL_MAX_MS);
  const timeout = str(values['check-timeout']);
  if (timeout !== undefined) timing.timeoutMs = millisOption('check-timeout', timeout, CHECK_TIMEOUT_MIN_MS, CHECK_TIMEOUT_MAX_MS);
  const fall = str(values.fall);
  if (fall !== undefined) timing.fall = integerOption('fall', fall, 1, FALL_RISE_MAX);
  const rise = str(values.rise);
  if (rise !== undefined) timing.rise = integerOption('rise', rise, 1, FALL_RISE_MAX);
  if (given.length === 1 && given[0] === 'off') {
    if (Object.keys(timing).length > 0) throw new UsageError('--check off removes the checks: it takes no --check-interval, --check-timeout, --fall or --rise');
    return null;
  }
  if (given.includes('off')) throw new UsageError('--check off cannot be given with other checks');
  const checks = given.map((text) => {
    const parsed = parseCheck(text);
    if (!parsed.ok) throw new UsageError(`--check ${parsed.error}`);
    return parsed.check;
  });
  if (checks.length === 0 && Object.keys(timing).length === 0) return undefined;
  return { ...(checks.length > 0 ? { checks } : {}), ...timing };
}

const DURATION_PATTERN = /^(\d{1,6})(s|m|h|d)$/;
export const DURATION_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A maintenance window longer than this is a mistake, not a plan. */
const MAX_MAINTENANCE_MS = 30 * 86_400_000;

/** "30m", "2h", "90s", "1d" -> ms. */
export function parseDuration(option: string, raw: string): number {
  const match = DURATION_PATTERN.exec(raw);
  const ms = match === null ? Number.NaN : Number(match[1]) * (DURATION_UNIT_MS[match[2] ?? ''] ?? Number.NaN);
  if (!(ms > 0)) throw new UsageError(`${option} wants a duration such as 30m, 2h or 90s, got "${raw}"`);
  if (ms > MAX_MAINTENANCE_MS) throw new UsageError(`${option}: at most 30d, got "${raw}"`);
  return ms;
}

/** --announce-refresh, --ban-for: "60s", "5m", "4h" -> whole seconds (a duration is at least 1s), at most `maxSec` (spelled `maxText`). */
function secondsOption(option: string, raw: string, maxSec: number, maxText: string): number {
  const seconds = parseDuration(option, raw) / 1000;
  if (seconds > maxSec) throw new UsageError(`${option}: at most ${maxText}, got "${raw}"`);
  return seconds;
}

/** A whole number option within [min, max]. */
function integerOption(option: string, raw: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function parseWith(command: string, argv: readonly string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: [...argv], options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    // node:util's messages run over several lines; an administrator gets the first one.
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]!.split('. ')[0]!.replace(/\.$/, '')}`);
  }
}

const str = (value: string | boolean | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

function positionalsExactly(command: string, positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`${command}: missing ${names[positionals.length]!}`);
  if (positionals.length > names.length) throw new UsageError(`${command}: unexpected argument "${positionals[names.length]!}"`);
  return [...positionals];
}

function resourceName(command: string, text: string): string {
  const check = validateResourceName(text);
  if (!check.ok) throw new UsageError(`${command}: ${check.message}`);
  return text;
}

function nodeName(command: string, text: string): string {
  const check = validateNodeName(text);
  if (!check.ok) throw new UsageError(`${command}: ${check.message}`);
  return text;
}

function choice<T extends string>(option: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${option} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

function agentAddress(values: Values): AgentAddress {
  const given = str(values.agent);
  const caFile = str(values.ca) ?? null;
  const tls = values.tls === true || caFile !== null;
  if (caFile === '') throw new UsageError('--ca wants a file name');
  const tokenFile = str(values['token-file']) ?? DEFAULT_TOKEN_FILE;
  if (tokenFile === '') throw new UsageError('--token-file wants a file name');
  const credentialFile = str(values['credential-file']) ?? null;
  if (credentialFile === '') throw new UsageError('--credential-file wants a file name');
  if (credentialFile !== null && values['token-file'] !== undefined) throw new UsageError('give --token-file or --credential-file, not both');
  const credential = credentialFile === null ? {} : { credentialFile };
  if (given?.startsWith('/')) {
    // The agent's Unix socket: local by nature, no TLS.
    if (tls) throw new UsageError('--agent with a socket path takes no --tls or --ca');
    const { host, port } = parseHostPort('agent', DEFAULT_API);
    return { host, port, socketPath: given, tokenFile, ...credential, tls, caFile };
  }
  const { host, port } = parseHostPort('agent', given ?? DEFAULT_API);
  // The login proves the token without sending it (handshake.ts), but what follows is in clear text
  // without TLS, and the agent itself serves a non-loopback address only with TLS: plain ws there
  // could only reach an impostor.
  if (!tls && !isLoopbackHost(host)) {
    throw new UsageError(`--agent ${host}:${port} is not on this host: add --tls (and --ca F for a self-signed certificate) so the session is not sent in clear text`);
  }
  return { host, port, tokenFile, ...credential, tls, caFile, ...(given === undefined ? { preferSocket: true } : {}) };
}

// --- Resource definitions ----------------------------------------------------------------------------

/** The CLI option (or argument) an operator typed for a field of a resource definition. */
export function optionForField(field: string, editing = false): string {
  const bare = field.replace(/^(spec|patch)\.?/, '');
  const top = bare.split('.')[0] ?? '';
  switch (top) {
    case '': return '';
    case 'name': return '<name>';
    case 'ip':
    case 'prefix': return editing ? '--ip' : '<ip>/<prefix>';
    case 'possibleOwners': return '--owners';
    case 'preferredOwners': return '--preferred';
    case 'failback': return '--failback';
    case 'interfaces': return '--if';
    case 'enabled': return editing ? '--online/--offline' : '--offline';
    case 'announceForm': return '--announce-form';
    case 'defendPolicy': return '--defend';
    case 'announceCount': return '--announce-count';
    case 'announceIntervalMs': return '--announce-interval-ms';
    case 'announceRefreshSec': return '--announce-refresh';
    case 'maintenanceUntil': return '--maintenance';
    case 'health': {
      const part = bare.split('.')[1];
      return part === 'intervalMs' ? '--check-interval' : part === 'timeoutMs' ? '--check-timeout' : part === 'fall' ? '--fall' : part === 'rise' ? '--rise' : '--check';
    }
    case 'retries': return '--retry';
    case 'banForSec': return '--ban-for';
    case 'failoverThreshold': return '--failover-threshold';
    case 'target': return '<node>';
    default: return bare;
  }
}

/** "n1,n2" -> ["n1", "n2"]; "" -> [] (every node). */
function nodeList(option: string, raw: string): string[] {
  if (raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const name = entry.trim();
    const check = validateNodeName(name);
    if (!check.ok) throw new UsageError(`--${option}: ${check.message}`);
    return name;
  });
}

const HOUR_PATTERN = /^(\d{1,2})-(\d{1,2})$/;

/** never | immediate | HH-HH (a window of local hours, [start, end), may wrap midnight). */
export function parseFailback(raw: string): FailbackPolicy {
  if (raw === 'never' || raw === 'immediate') return { mode: raw };
  const match = HOUR_PATTERN.exec(raw);
  if (match === null) throw new UsageError(`--failback must be never, immediate or a window of hours such as 22-06, got "${raw}"`);
  const startHour = Number(match[1]);
  const endHour = Number(match[2]);
  if (startHour > 23 || endHour > 23) throw new UsageError(`--failback hours must be 0..23, got "${raw}"`);
  if (startHour === endHour) throw new UsageError(`--failback window "${raw}" is empty: start and end must differ (use immediate for any hour)`);
  return { mode: 'window', startHour, endHour };
}

/** node=ifname[,node=ifname...]; "" -> {} (every node uses the interface in the address's subnet). */
export function parseInterfaces(raw: string): Record<string, string> {
  const map: Record<string, string> = {};
  if (raw.trim() === '') return map;
  for (const entry of raw.split(',')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw new UsageError(`--if wants node=interface pairs such as n1=eth1, got "${entry}"`);
    const node = entry.slice(0, equals).trim();
    const ifname = entry.slice(equals + 1).trim();
    const check = validateNodeName(node);
    if (!check.ok) throw new UsageError(`--if: ${check.message}`);
    try {
      validateIfname(ifname);
    } catch (error) {
      throw new UsageError(`--if ${node}: ${(error as Error).message}`);
    }
    if (Object.prototype.hasOwnProperty.call(map, node)) throw new UsageError(`--if: node "${node}" is given twice`);
    map[node] = ifname;
  }
  return map;
}

function address(option: string, raw: string): { ip: string; prefix: number } {
  if (!raw.includes('/')) throw new UsageError(`${option}: expected an address with its prefix such as 10.0.0.50/24 or 2001:db8::50/64, got ${JSON.stringify(raw.slice(0, 64))}`);
  try {
    // Any RFC 4291 spelling, sent in its RFC 5952 form; the cluster's rules (link-local...) are checkLocally's.
    return raw.includes(':') ? parseIpv6Cidr(raw) : parseCidr(raw);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
}

/** The settings common to add and edit, as far as the options give them. */
function specOptions(values: Values): ResourceSpecPatch {
  const patch: ResourceSpecPatch = {};
  const owners = str(values.owners);
  if (owners !== undefined) patch.possibleOwners = nodeList('owners', owners);
  const preferred = str(values.preferred);
  if (preferred !== undefined) patch.preferredOwners = nodeList('preferred', preferred);
  const failback = str(values.failback);
  if (failback !== undefined) patch.failback = parseFailback(failback);
  const interfaces = str(values.if);
  if (interfaces !== undefined) patch.interfaces = parseInterfaces(interfaces);
  if (values.online === true && values.offline === true) throw new UsageError('--online and --offline exclude each other');
  if (values.online === true) patch.enabled = true;
  if (values.offline === true) patch.enabled = false;
  const announceForm = choice('announce-form', str(values['announce-form']), ANNOUNCE_FORMS);
  if (announceForm !== undefined) patch.announceForm = announceForm;
  const defend = choice('defend', str(values.defend), DEFEND_POLICIES);
  if (defend !== undefined) patch.defendPolicy = defend;
  const count = str(values['announce-count']);
  if (count !== undefined) patch.announceCount = integerOption('announce-count', count, 1, ANNOUNCE_COUNT_MAX);
  const interval = str(values['announce-interval-ms']);
  if (interval !== undefined) patch.announceIntervalMs = integerOption('announce-interval-ms', interval, ANNOUNCE_INTERVAL_MIN_MS, ANNOUNCE_INTERVAL_MAX_MS);
  const refresh = str(values['announce-refresh']);
  if (refresh !== undefined) patch.announceRefreshSec = refresh === 'off' ? null : secondsOption('--announce-refresh', refresh, ANNOUNCE_REFRESH_MAX_SEC, '1d');
  const maintenance = str(values.maintenance);
  if (maintenance !== undefined) patch.maintenanceUntil = maintenance === 'off' ? null : Date.now() + parseDuration('--maintenance', maintenance);
  const health = healthOptions(values);
  if (health !== undefined) patch.health = health;
  const retry = str(values.retry);
  if (retry !== undefined) patch.retries = integerOption('retry', retry, 0, RETRIES_MAX);
  const banFor = str(values['ban-for']);
  if (banFor !== undefined) patch.banForSec = secondsOption('--ban-for', banFor, BAN_FOR_MAX_SEC, '7d');
  const threshold = str(values['failover-threshold']);
  if (threshold !== undefined) patch.failoverThreshold = threshold === 'off' ? null : thresholdOption(threshold);
  return patch;
}

/** --failover-threshold COUNT/WINDOW ("5/1h"). */
function thresholdOption(raw: string): FailoverThreshold {
  const parsed = parseThreshold(raw);
  if (!parsed.ok) throw new UsageError(`--failover-threshold: ${parsed.error}, got "${raw}"`);
  return parsed.threshold;
}

/**
 * The agent's validator on what was typed, with every node mentioned taken as known (whether they
 * exist is the agent's to say). Only problems in `fields` count: an edit leaves the rest as it is.
 */
function checkLocally(input: Record<string, unknown>, fields: ReadonlySet<string>, editing: boolean): void {
  const mentioned = [
    ...((input.possibleOwners as string[] | undefined) ?? []),
    ...((input.preferredOwners as string[] | undefined) ?? []),
    ...Object.keys((input.interfaces as Record<string, string> | undefined) ?? {}),
  ];
  const validation = validateResourceSpec(input, { nodes: mentioned, existing: [] });
  if (validation.ok) return;
  const problem = validation.errors.find((error) => fields.has(error.field.split('.')[0] ?? ''));
  if (problem !== undefined) throw new UsageError(`${optionForField(problem.field, editing)}: ${problem.message}`);
}

function parseNodeMaintenance(argv: readonly string[]): Parsed {
  const { values, positionals } = parseWith('node maintenance', argv, { for: { type: 'string' }, end: { type: 'boolean' } });
  if (values.help === true) return { op: { kind: 'help' }, values };
  const [node] = positionalsExactly('node maintenance', positionals, ['<node>']);
  const duration = str(values.for);
  if ((duration === undefined) === (values.end !== true)) throw new UsageError('node maintenance: give either --for DURATION or --end');
  const until = duration === undefined ? null : Date.now() + parseDuration('--for', duration);
  return { op: { kind: 'node-maintenance', node: nodeName('node maintenance', node!), until }, values };
}

const RESOURCE_SUBCOMMANDS = 'add, edit, rm, list, cleanup, import or export';

function parseResource(argv: readonly string[]): Parsed {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      const { values, positionals } = parseWith('resource add', rest, SPEC_OPTIONS);
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [nameText, cidr] = positionalsExactly('resource add', positionals, ['<name>', '<ip>/<prefix>']);
      const name = resourceName('resource add', nameText!);
      const { ip, prefix } = address('<ip>/<prefix>', cidr!);
      const spec: ResourceSpecInput = { name, ip, prefix, ...specOptions(values) };
      checkLocally(spec, new Set(Object.keys(spec)), false);
      return { op: { kind: 'resource-add', spec }, values };
    }
    case 'edit': {
      const { values, positionals } = parseWith('resource edit', rest, { ...SPEC_OPTIONS, ip: { type: 'string' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [nameText] = positionalsExactly('resource edit', positionals, ['<name>']);
      const name = resourceName('resource edit', nameText!);
      const patch = specOptions(values);
      const ipText = str(values.ip);
      if (ipText !== undefined) Object.assign(patch, address('--ip', ipText));
      if (Object.keys(patch).length === 0) throw new UsageError('resource edit: nothing to change (give at least one option, see ipfo help)');
      // Timing without checks changes the resource's current checks: only the agent knows them, and checks the result.
      const timingOnly = patch.health !== undefined && patch.health !== null && patch.health.checks === undefined;
      checkLocally({ name, ip: '192.0.2.1', prefix: 24, ...patch }, new Set(Object.keys(patch).filter((field) => !(timingOnly && field === 'health'))), true);
      return { op: { kind: 'resource-edit', name, patch }, values };
    }
    case 'rm':
    case 'remove': {
      const { values, positionals } = parseWith('resource rm', rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [nameText] = positionalsExactly('resource rm', positionals, ['<name>']);
      return { op: { kind: 'resource-remove', name: resourceName('resource rm', nameText!) }, values };
    }
    case 'cleanup': {
      const { values, positionals } = parseWith('resource cleanup', rest, { node: { type: 'string' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [nameText] = positionalsExactly('resource cleanup', positionals, ['<name>']);
      const nodeText = str(values.node);
      const node = nodeText === undefined ? undefined : nodeList('node', nodeText);
      if (node !== undefined && node.length !== 1) throw new UsageError('resource cleanup: --node wants one node name');
      return { op: { kind: 'resource-cleanup', name: resourceName('resource cleanup', nameText!), ...(node === undefined ? {} : { node: node[0]! }) }, values };
    }
    case 'import': {
      const { values, positionals } = parseWith('resource import', rest, { format: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, 'no-wait': { type: 'boolean' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [file] = positionalsExactly('resource import', positionals, ['<file>']);
      if (file === '') throw new UsageError('resource import: <file> wants a file name');
      const format = choice('format', str(values.format), TABLE_FORMATS) ?? formatOfFileName(file!);
      if (format === null) throw new UsageError(`resource import: cannot tell the format of "${file!}" from its name: give --format json or --format csv`);
      return { op: { kind: 'resource-import', file: file!, format, skipInvalid: values['skip-invalid'] === true, wait: values['no-wait'] !== true }, values };
    }
    case 'export': {
      const { values, positionals } = parseWith('resource export', rest, { format: { type: 'string' }, output: { type: 'string', short: 'o' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('resource export', positionals, []);
      const output = str(values.output) ?? null;
      if (output === '') throw new UsageError('--output wants a file name');
      const format = choice('format', str(values.format), TABLE_FORMATS) ?? (output === null ? null : formatOfFileName(output)) ?? 'json';
      return { op: { kind: 'resource-export', format, output }, values };
    }
    case 'list':
    case 'ls': {
      const { values, positionals } = parseWith('resource list', rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('resource list', positionals, []);
      return { op: { kind: 'resource-list' }, values };
    }
    case undefined:
      throw new UsageError(`resource: missing subcommand (${RESOURCE_SUBCOMMANDS})`);
    case '--help':
    case '-h':
      return { op: { kind: 'help' }, values: {} };
    default:
      throw new UsageError(`resource: unknown subcommand "${sub}" (${RESOURCE_SUBCOMMANDS})`);
  }
}

/** --node-down NODE | --pause NODE | --check-fails RESOURCE@NODE: exactly one. */
function parsePlan(argv: readonly string[]): Parsed {
  const { values, positionals } = parseWith('plan', argv, { 'node-down': { type: 'string' }, pause: { type: 'string' }, 'check-fails': { type: 'string' } });
  if (values.help === true) return { op: { kind: 'help' }, values };
  positionalsExactly('plan', positionals, []);
  const given = (['node-down', 'pause', 'check-fails'] as const).filter((option) => values[option] !== undefined);
  if (given.length !== 1) throw new UsageError('plan: give exactly one of --node-down NODE, --pause NODE, --check-fails RESOURCE@NODE');
  const option = given[0]!;
  const text = str(values[option]) ?? '';
  if (option === 'check-fails') {
    const at = text.lastIndexOf('@');
    if (at <= 0 || at === text.length - 1) throw new UsageError(`plan --check-fails wants RESOURCE@NODE such as web@n1, got "${text}"`);
    return { op: { kind: 'plan', scenario: { kind: 'check-fails', resource: resourceName('plan --check-fails', text.slice(0, at)), node: nodeName('plan --check-fails', text.slice(at + 1)) } }, values };
  }
  return { op: { kind: 'plan', scenario: { kind: option === 'pause' ? 'pause' : 'node-down', node: nodeName(`plan --${option}`, text) } }, values };
}

function parseEvents(argv: readonly string[]): Parsed {
  const { values, positionals } = parseWith('events', argv, {
    follow: { type: 'boolean', short: 'f' }, limit: { type: 'string' }, target: { type: 'string' }, action: { type: 'string' }, outcome: { type: 'string' },
  });
  if (values.help === true) return { op: { kind: 'help' }, values };
  positionalsExactly('events', positionals, []);
  const follow = values.follow === true;
  const min = follow ? 0 : 1;
  const limitText = str(values.limit);
  let limit = follow ? 10 : 50;
  if (limitText !== undefined) {
    if (!/^\d+$/.test(limitText)) throw new UsageError(`--limit must be a whole number, got "${limitText}"`);
    limit = Number(limitText);
    if (limit < min || limit > MAX_EVENTS_QUERY_LIMIT) {
      throw new UsageError(`--limit must be between ${min} and ${MAX_EVENTS_QUERY_LIMIT}${follow ? '' : ' (0 only with --follow)'}, got ${limit}`);
    }
  }
  const filter: EventsFilter = {};
  const target = str(values.target);
  if (target !== undefined) {
    if (target === '') throw new UsageError('--target wants a resource or node name');
    filter.target = target;
  }
  const action = str(values.action);
  if (action !== undefined) {
    if (action === '') throw new UsageError('--action wants an action such as resource.move');
    filter.action = action;
  }
  const outcome = choice('outcome', str(values.outcome), AUDIT_OUTCOMES);
  if (outcome !== undefined) filter.outcome = outcome;
  return { op: { kind: 'events', follow, limit, filter }, values };
}

function parseOperation(name: ClusterCommandName, argv: readonly string[]): Parsed {
  switch (name) {
    case 'resource':
      return parseResource(argv);
    case 'group':
      return parseGroup(argv);
    case 'move': {
      const { values, positionals } = parseWith('move', argv, { best: { type: 'boolean' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      if (positionals.length === 0) throw new UsageError('move: missing <resource>');
      const resource = resourceName('move', positionals[0]!);
      if (values.best === true) {
        if (positionals.length > 1) throw new UsageError(`move: give a node or --best, not both (got "${positionals[1]!}" and --best)`);
        return { op: { kind: 'move', name: resource, target: BEST_NODE }, values };
      }
      const [, target] = positionalsExactly('move', positionals, ['<resource>', '<node> (or --best)']);
      return { op: { kind: 'move', name: resource, target: target === BEST_NODE ? BEST_NODE : nodeName('move', target!) }, values };
    }
    case 'online':
    case 'offline':
    case 'announce': {
      const { values, positionals } = parseWith(name, argv, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [resource] = positionalsExactly(name, positionals, ['<resource>']);
      return { op: { kind: name, name: resourceName(name, resource!) }, values };
    }
    case 'node': {
      const [sub, ...rest] = argv;
      if (sub === '--help' || sub === '-h') return { op: { kind: 'help' }, values: {} };
      if (sub === 'maintenance') return parseNodeMaintenance(rest);
      if (sub !== 'pause' && sub !== 'resume') {
        throw new UsageError(sub === undefined ? 'node: missing subcommand (pause, resume or maintenance)' : `node: unknown subcommand "${sub}" (pause, resume or maintenance)`);
      }
      const { values, positionals } = parseWith(`node ${sub}`, rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [node] = positionalsExactly(`node ${sub}`, positionals, ['<node>']);
      return { op: { kind: sub === 'pause' ? 'node-pause' : 'node-resume', node: nodeName(`node ${sub}`, node!) }, values };
    }
    case 'status': {
      const { values, positionals } = parseWith('status', argv, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('status', positionals, []);
      return { op: { kind: 'status' }, values };
    }
    case 'bindings': {
      const { values, positionals } = parseWith('bindings', argv, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('bindings', positionals, []);
      return { op: { kind: 'bindings' }, values };
    }
    case 'plan':
      return parsePlan(argv);
    case 'events':
      return parseEvents(argv);
    case 'user':
      return parseUser(argv);
    case 'hook':
      return parseHook(argv);
  }
}

const GROUP_SUBCOMMANDS = 'add, rm, move or list';

function parseGroup(argv: readonly string[]): Parsed {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return { op: { kind: 'help' }, values: {} };
  switch (sub) {
    case 'add': {
      const { values, positionals } = parseWith('group add', rest, { 'apart-from': { type: 'string' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      if (positionals.length === 0) throw new UsageError('group add: missing <group>');
      const [name, ...members] = positionals;
      const apartText = str(values['apart-from']);
      const apartFrom = apartText === undefined ? undefined : apartText === 'off' ? [] : apartText.split(',').map((item) => resourceName('group add --apart-from', item.trim()));
      if (members.length === 0 && apartFrom === undefined) throw new UsageError('group add: name at least one <resource> (or change --apart-from)');
      if (members.length > MAX_GROUP_MEMBERS) throw new UsageError(`group add: a group has at most ${MAX_GROUP_MEMBERS} members, got ${members.length}`);
      return { op: { kind: 'group-add', name: resourceName('group add', name!), resources: members.map((member) => resourceName('group add', member)), ...(apartFrom === undefined ? {} : { apartFrom }) }, values };
    }
    case 'rm': {
      const { values, positionals } = parseWith('group rm', rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      if (positionals.length === 0) throw new UsageError('group rm: missing <group>');
      const [name, ...members] = positionals;
      return { op: { kind: 'group-remove', name: resourceName('group rm', name!), ...(members.length === 0 ? {} : { resources: members.map((member) => resourceName('group rm', member)) }) }, values };
    }
    case 'move': {
      const { values, positionals } = parseWith('group move', rest, { best: { type: 'boolean' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      if (positionals.length === 0) throw new UsageError('group move: missing <group>');
      const name = resourceName('group move', positionals[0]!);
      if (values.best === true) {
        if (positionals.length > 1) throw new UsageError(`group move: give a node or --best, not both (got "${positionals[1]!}" and --best)`);
        return { op: { kind: 'group-move', name, target: BEST_NODE }, values };
      }
      const [, target] = positionalsExactly('group move', positionals, ['<group>', '<node> (or --best)']);
      return { op: { kind: 'group-move', name, target: target === BEST_NODE ? BEST_NODE : nodeName('group move', target!) }, values };
    }
    case 'list': {
      const { values, positionals } = parseWith('group list', rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('group list', positionals, []);
      return { op: { kind: 'group-list' }, values };
    }
    default:
      throw new UsageError(sub === undefined ? `group: missing subcommand (${GROUP_SUBCOMMANDS})` : `group: unknown subcommand "${sub}" (${GROUP_SUBCOMMANDS})`);
  }
}

const USER_SUBCOMMANDS = 'add, list, rm or rotate';

function parseUser(argv: readonly string[]): Parsed {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return { op: { kind: 'help' }, values: {} };
  const userName = (command: string, text: string): string => {
    const check = UserNameSchema.safeParse(text);
    if (!check.success) throw new UsageError(`${command}: user name "${text}" ${check.error.issues[0]?.message ?? 'is not valid'}`);
    return text;
  };
  switch (sub) {
    case 'add': {
      const { values, positionals } = parseWith('user add', rest, { role: { type: 'string' } });
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [name] = positionalsExactly('user add', positionals, ['<name>']);
      const role = choice('role', str(values.role), ROLES);
      if (role === undefined) throw new UsageError(`user add: missing --role (${ROLES.join(', ')})`);
      return { op: { kind: 'user-add', name: userName('user add', name!), role }, values };
    }
    case 'list': {
      const { values, positionals } = parseWith('user list', rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('user list', positionals, []);
      return { op: { kind: 'user-list' }, values };
    }
    case 'rm':
    case 'rotate': {
      const { values, positionals } = parseWith(`user ${sub}`, rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [name] = positionalsExactly(`user ${sub}`, positionals, ['<name>']);
      return { op: { kind: sub === 'rm' ? 'user-remove' : 'user-rotate', name: userName(`user ${sub}`, name!) }, values };
    }
    default:
      throw new UsageError(sub === undefined ? `user: missing subcommand (${USER_SUBCOMMANDS})` : `user: unknown subcommand "${sub}" (${USER_SUBCOMMANDS})`);
  }
}

const HOOK_SUBCOMMANDS = 'add, list, rm or test';

function parseHook(argv: readonly string[]): Parsed {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return { op: { kind: 'help' }, values: {} };
  const hookName = (command: string, text: string): string => {
    const check = HookNameSchema.safeParse(text);
    if (!check.success) throw new UsageError(`${command}: hook name "${text}" ${check.error.issues[0]?.message ?? 'is not valid'}`);
    return text;
  };
  switch (sub) {
    case 'add': {
      const { values, positionals } = parseWith('hook add', rest, {
        on: { type: 'string' },
        exec: { type: 'string' },
        arg: { type: 'string', multiple: true },
        webhook: { type: 'string' },
        'secret-file': { type: 'string' },
        syslog: { type: 'boolean' },
        'syslog-target': { type: 'string' },
        timeout: { type: 'string' },
      });
      if (values.help === true) return { op: { kind: 'help' }, values };
      if (positionals.length === 0) throw new UsageError('hook add: missing <name>');
      const [name, ...extra] = positionals;
      const spec = hookSpecOf(hookName('hook add', name!), extra, values);
      return { op: { kind: 'hook-add', spec }, values };
    }
    case 'list': {
      const { values, positionals } = parseWith('hook list', rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      positionalsExactly('hook list', positionals, []);
      return { op: { kind: 'hook-list' }, values };
    }
    case 'rm':
    case 'test': {
      const { values, positionals } = parseWith(`hook ${sub}`, rest, {});
      if (values.help === true) return { op: { kind: 'help' }, values };
      const [name] = positionalsExactly(`hook ${sub}`, positionals, ['<name>']);
      return { op: { kind: sub === 'rm' ? 'hook-remove' : 'hook-test', name: hookName(`hook ${sub}`, name!) }, values };
    }
    default:
      throw new UsageError(sub === undefined ? `hook: missing subcommand (${HOOK_SUBCOMMANDS})` : `hook: unknown subcommand "${sub}" (${HOOK_SUBCOMMANDS})`);
  }
}

/** The hook `hook add` describes, checked as the agent checks it (HookSpecSchema): a bad one is a usage error. */
function hookSpecOf(name: string, extra: readonly string[], values: Values): HookSpec {
  const on = str(values.on);
  if (on === undefined) throw new UsageError('hook add: missing --on EVENTS (e.g. move,failover,arp.*)');
  const events = on.split(',').map((event) => event.trim()).filter((event) => event !== '');
  const kinds = [values.exec !== undefined, values.webhook !== undefined, values.syslog === true].filter(Boolean).length;
  if (kinds !== 1) throw new UsageError('hook add: give exactly one of --exec, --webhook or --syslog');
  const timeoutText = str(values.timeout);
  let timeoutMs = DEFAULT_HOOK_TIMEOUT_MS;
  if (timeoutText !== undefined) {
    const seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds * 1000 < 100 || seconds * 1000 > MAX_HOOK_TIMEOUT_MS) throw new UsageError(`hook add: --timeout must be 0.1 to ${MAX_HOOK_TIMEOUT_MS / 1000} seconds, got "${timeoutText}"`);
    timeoutMs = Math.round(seconds * 1000);
  }
  const args = [...extra, ...((values.arg as string[] | undefined) ?? [])];
  if (values.exec === undefined && (args.length > 0)) throw new UsageError(`hook add: unexpected argument "${args[0]!}" (program arguments go with --exec)`);
  if (values.webhook === undefined && values['secret-file'] !== undefined) throw new UsageError('hook add: --secret-file goes with --webhook');
  if (values.syslog !== true && values['syslog-target'] !== undefined) throw new UsageError('hook add: --syslog-target goes with --syslog');
  const target: HookTarget =
    values.exec !== undefined ? { kind: 'exec', path: str(values.exec) ?? '', args, timeoutMs }
    : values.webhook !== undefined ? { kind: 'webhook', url: str(values.webhook) ?? '', secretFile: str(values['secret-file']) ?? null, timeoutMs }
    : { kind: 'syslog', target: str(values['syslog-target']) ?? DEFAULT_SYSLOG_TARGET };
  const checked = HookSpecSchema.safeParse({ name, events, target });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    const option = field.startsWith('events') ? `--on "${String(events[Number(issue.path[1])] ?? on)}"` : field === 'target.path' ? '--exec' : field === 'target.url' ? '--webhook' : field === 'target.secretFile' ? '--secret-file' : field === 'target.target' ? '--syslog-target' : field;
    throw new UsageError(`hook add: ${option} ${issue.message}`);
  }
  return checked.data;
}

export function parseClusterCommand(name: ClusterCommandName, argv: readonly string[]): ClusterCommand {
  const { op, values } = parseOperation(name, argv);
  if (op.kind === 'help') {
    return { kind: 'cluster', agent: { host: DEFAULT_API_HOST, port: DEFAULT_API_PORT, tokenFile: DEFAULT_TOKEN_FILE, tls: false, caFile: null }, json: false, op };
  }
  return { kind: 'cluster', agent: agentAddress(values), json: values.json === true, op };
}
