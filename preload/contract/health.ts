// Health checks (issue 14 §1): what a resource's service must answer on a node for that node to hold
// its address. Shared by the agent (which runs the checks and places by their results), the CLI (which
// parses `--check`) and the console (which shows them), so it is pure: zod only, no Node.
//
// A resource's checks, interval, timeout, fall and rise form its health *profile*. Every possible owner
// runs each profile once per interval, whatever the number of resources that share it (a hundred VIPs
// of one haproxy cost one check a node), and publishes one result per profile in its live health record
// (`health/<node>`, bound to its lease: a node that died or restarted has no results until it checked
// again). A profile is named by `healthKey`, a hash of its canonical form, so the record stays small.
import { z } from 'zod';
import { IPV4_PATTERN } from './ipv4';
import type { NodeName } from './domain';
import { FailoverMarkSchema, MAX_BANS, MAX_FAILOVER_MARKS, NodeBanSchema, type FailoverMark, type NodeBan } from './failure-policy';

export type HealthCheck =
  /** A TCP connection to HOST:PORT is accepted. */
  | { kind: 'tcp'; host: string; port: number }
  /** An HTTP(S) GET of the URL answers with `expectStatus` (absent: any 2xx or 3xx). TLS certificates are not verified. */
  | { kind: 'http'; url: string; expectStatus?: number }
  /** The program exits 0 (an argument array, no shell; unprivileged when the agent runs as root). */
  | { kind: 'exec'; argv: string[] }
  /** An ARP probe of `ip` (absent: the default route's gateway) is answered on the resource's interface. */
  | { kind: 'gateway'; ip?: string };

export interface HealthSpec {
  /** All must pass (1..MAX_CHECKS). */
  checks: HealthCheck[];
  intervalMs: number;
  /** Per check run; at most the interval. */
  timeoutMs: number;
  /** Consecutive failed runs that make a healthy node unhealthy. */
  fall: number;
  /** Consecutive passed runs that make an unhealthy node healthy again. */
  rise: number;
}

export const MAX_CHECKS = 8;
export const MAX_EXEC_ARGS = 16;
export const MAX_EXEC_ARG_LENGTH = 256;
export const MAX_URL_LENGTH = 512;
export const MAX_HOST_LENGTH = 253;
export const CHECK_INTERVAL_MIN_MS = 100;
export const CHECK_INTERVAL_MAX_MS = 3_600_000;
export const CHECK_TIMEOUT_MIN_MS = 50;
export const CHECK_TIMEOUT_MAX_MS = 60_000;
export const FALL_RISE_MAX = 100;
export const HEALTH_DEFAULTS = { intervalMs: 2_000, timeoutMs: 1_000, fall: 3, rise: 2 } as const;

const HOST_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const URL_PATTERN = /^https?:\/\/[^\s/?#]+(?:[/?#][^\s]*)?$/;
// No NUL (the kernel would cut the argument) and no other control characters in a program's arguments.
// eslint-disable-next-line no-control-regex
const ARG_PATTERN = /^[^\u0000-\u001f\u007f]*$/;

export const HealthCheckSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tcp'), host: z.string().max(MAX_HOST_LENGTH).regex(HOST_PATTERN, 'must be a host name or an IPv4 address'), port: z.number().int().min(1).max(65_535) }),
  z.strictObject({
    kind: z.literal('http'),
    url: z.string().max(MAX_URL_LENGTH).regex(URL_PATTERN, 'must be an http:// or https:// URL'),
    expectStatus: z.number().int().min(100).max(599).optional(),
  }),
  z.strictObject({
    kind: z.literal('exec'),
    argv: z
      .array(z.string().min(1).max(MAX_EXEC_ARG_LENGTH).regex(ARG_PATTERN, 'must not contain control characters'))
      .min(1)
      .max(MAX_EXEC_ARGS)
      .refine((argv) => argv[0]?.startsWith('/') === true, 'the program must be an absolute path'),
  }),
  z.strictObject({ kind: z.literal('gateway'), ip: z.string().regex(IPV4_PATTERN, 'must be an IPv4 address').optional() }),
]);

export const HealthSpecSchema = z
  .strictObject({
    checks: z.array(HealthCheckSchema).min(1, 'must name at least one check').max(MAX_CHECKS),
    intervalMs: z.number().int().min(CHECK_INTERVAL_MIN_MS).max(CHECK_INTERVAL_MAX_MS),
    timeoutMs: z.number().int().min(CHECK_TIMEOUT_MIN_MS).max(CHECK_TIMEOUT_MAX_MS),
    fall: z.number().int().min(1).max(FALL_RISE_MAX),
    rise: z.number().int().min(1).max(FALL_RISE_MAX),
  })
  .refine((spec) => spec.timeoutMs <= spec.intervalMs, { message: 'the timeout must not exceed the interval', path: ['timeoutMs'] });

/** One profile's result on one node, as its health record carries it. */
export interface HealthResult {
  /** healthKey() of the profile. */
  key: string;
  healthy: boolean;
  /** The last run's reason: what failed, or what passed ("tcp 127.0.0.1:80 accepted in 1 ms"). */
  reason: string;
  /** Wall-clock ms since `healthy` has held. */
  since: number;
}

/** A node's live health record: one result per profile it runs; a profile without one is not known yet. */
export interface NodeHealth {
  node: NodeName;
  results: HealthResult[];
  /** The resources this node is banned from after failures here, and the moves its failures caused (failure-policy.ts). */
  bans?: NodeBan[];
  failovers?: FailoverMark[];
}

/** Most profiles one node reports: 4,096 × ~150 bytes stays far below etcd's 1.5 MiB request limit. */
export const MAX_HEALTH_PROFILES = 4_096;
export const MAX_HEALTH_REASON_LENGTH = 200;

export const HealthResultSchema = z.strictObject({
  key: z.string().regex(/^[0-9a-f]{16}$/, 'must be a profile key (16 hex digits)'),
  healthy: z.boolean(),
  reason: z.string().max(MAX_HEALTH_REASON_LENGTH),
  since: z.number().int().nonnegative(),
});

export const NodeHealthSchema = z.strictObject({
  node: z.string().min(1).max(128),
  results: z.array(HealthResultSchema).max(MAX_HEALTH_PROFILES),
  bans: z.array(NodeBanSchema).max(MAX_BANS).optional(),
  failovers: z.array(FailoverMarkSchema).max(MAX_FAILOVER_MARKS).optional(),
});

// --- Profile keys -----------------------------------------------------------------------------------

/** The canonical form: the fields in a fixed order, so equal profiles give equal keys on every agent. */
function canonical(spec: HealthSpec): string {
  const checks = spec.checks.map((check) => {
    switch (check.kind) {
      case 'tcp': return ['tcp', check.host, check.port];
      case 'http': return ['http', check.url, check.expectStatus ?? null];
      case 'exec': return ['exec', ...check.argv];
      case 'gateway': return ['gateway', check.ip ?? null];
    }
  });
  return JSON.stringify([checks, spec.intervalMs, spec.timeoutMs, spec.fall, spec.rise]);
}

/** FNV-1a over UTF-16 code units, 32 bits, from a chosen basis. */
function fnv1a(text: string, basis: number): number {
  let hash = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const keys = new WeakMap<HealthSpec, string>();

/**
 * A profile's name in health records: two independent 32-bit hashes of its canonical form (16 hex
 * digits). Cached per spec object: placement asks for it for every resource on every pass.
 */
export function healthKey(spec: HealthSpec): string {
  let key = keys.get(spec);
  if (key === undefined) {
    const text = canonical(spec);
    key = fnv1a(text, 0x811c9dc5).toString(16).padStart(8, '0') + fnv1a(text, 0x2166136b).toString(16).padStart(8, '0');
    keys.set(spec, key);
  }
  return key;
}

// --- The CLI's spelling -----------------------------------------------------------------------------

export type ParsedCheck = { ok: true; check: HealthCheck } | { ok: false; error: string };

/**
 * `tcp:HOST:PORT`, `http://…` or `https://…` (a trailing ` =CODE`: the status expected), `exec:/path/to/program [args…]` (split at spaces, never by a
 * shell: an argument cannot contain a space; the API takes any array), `gateway` or `gateway:IP`.
 */
export function parseCheck(text: string): ParsedCheck {
  const trimmed = text.trim();
  let check: HealthCheck;
  if (/^https?:\/\//i.test(trimmed)) {
    const expect = / =(\d{3})$/.exec(trimmed);
    check = expect === null ? { kind: 'http', url: trimmed } : { kind: 'http', url: trimmed.slice(0, expect.index), expectStatus: Number(expect[1]) };
  }
  else if (trimmed.startsWith('tcp:')) {
    const rest = trimmed.slice(4);
    const colon = rest.lastIndexOf(':');
    const port = Number(rest.slice(colon + 1));
    if (colon <= 0 || !/^\d+$/.test(rest.slice(colon + 1))) return { ok: false, error: `"${text}": a TCP check is tcp:HOST:PORT` };
    check = { kind: 'tcp', host: rest.slice(0, colon), port };
  } else if (trimmed.startsWith('exec:')) {
    check = { kind: 'exec', argv: trimmed.slice(5).split(/ +/).filter((arg) => arg !== '') };
  } else if (trimmed === 'gateway') check = { kind: 'gateway' };
  else if (trimmed.startsWith('gateway:')) check = { kind: 'gateway', ip: trimmed.slice(8) };
  else return { ok: false, error: `"${text}": a check is tcp:HOST:PORT, http(s)://HOST[:PORT]/PATH, exec:/PROGRAM [ARGS…], gateway or gateway:IP` };
  const parsed = HealthCheckSchema.safeParse(check);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, error: `"${text}": ${issue.path.length > 0 ? `${issue.path.join('.')} ` : ''}${issue.message}` };
  }
  return { ok: true, check: parsed.data };
}

/** The CLI's spelling of a check (parseCheck's inverse); an HTTP check's expected status follows as " =CODE". */
export function formatCheck(check: HealthCheck): string {
  switch (check.kind) {
    case 'tcp': return `tcp:${check.host}:${check.port}`;
    case 'http': return check.expectStatus === undefined ? check.url : `${check.url} =${check.expectStatus}`;
    case 'exec': return `exec:${check.argv.join(' ')}`;
    case 'gateway': return check.ip === undefined ? 'gateway' : `gateway:${check.ip}`;
  }
}

// --- Reading a node's results ---------------------------------------------------------------------

/** A node's results by profile key, as placement reads them. */
export type HealthByProfile = ReadonlyMap<string, HealthResult>;

const byProfile = new WeakMap<NodeHealth, HealthByProfile>();

/** The record's results by key (cached per record object: records are replaced, never changed). */
export function resultsByProfile(record: NodeHealth): HealthByProfile {
  let map = byProfile.get(record);
  if (map === undefined) {
    map = new Map(record.results.map((result) => [result.key, result]));
    byProfile.set(record, map);
  }
  return map;
}

const byList = new WeakMap<readonly HealthResult[], HealthByProfile>();

/** A node record's verdicts as the API carries them (a list), by profile key; empty when it has none. */
export function verdictsOf(results: readonly HealthResult[] | undefined): HealthByProfile {
  if (results === undefined) return EMPTY;
  let map = byList.get(results);
  if (map === undefined) {
    map = new Map(results.map((result) => [result.key, result]));
    byList.set(results, map);
  }
  return map;
}
const EMPTY: HealthByProfile = new Map();

/** What a console says about a resource's health: its holder's verdict and where it passes. */
export interface ResourceHealth {
  /** 'none': no checks; else the holder's verdict ('unknown': not checked there yet, or nobody holds it). */
  state: 'none' | 'passing' | 'failing' | 'unknown';
  /** The holder's last reason (what failed, or what passed); null when unknown. */
  reason: string | null;
  /** Live nodes passing the checks, and failing them, in name order. */
  passing: NodeName[];
  failing: NodeName[];
  /** One line when the address cannot follow its service: the holder fails and no other node passes. */
  stuck: string | null;
}

export function resourceHealth(spec: { health?: HealthSpec; possibleOwners: readonly NodeName[] }, holder: NodeName | null, nodes: ReadonlyArray<{ name: NodeName; state: string; health?: HealthResult[] }>): ResourceHealth {
  if (spec.health === undefined) return { state: 'none', reason: null, passing: [], failing: [], stuck: null };
  const key = healthKey(spec.health);
  const passing: NodeName[] = [];
  const failing: NodeName[] = [];
  let own: HealthResult | undefined;
  for (const node of [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const result = verdictsOf(node.health).get(key);
    if (node.name === holder) own = result;
    if (result === undefined || node.state === 'down' || (spec.possibleOwners.length > 0 && !spec.possibleOwners.includes(node.name))) continue;
    (result.healthy ? passing : failing).push(node.name);
  }
  const state = own === undefined ? 'unknown' : own.healthy ? 'passing' : 'failing';
  const others = passing.filter((name) => name !== holder);
  const stuck = state === 'failing' && holder !== null && others.length === 0 ? `fails on ${holder} and no other node passes: it stays on ${holder}` : null;
  return { state, reason: own?.reason ?? null, passing, failing, stuck };
}

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3})$/i;

/**
 * Whether a failure of the profile is this node's alone: every check asks the node itself (a program, or
 * TCP/HTTP on loopback). Otherwise (a gateway, a remote host) the same failure may be reaching every node
 * at once, a fraction of an interval apart.
 */
export function isLocalProfile(spec: HealthSpec): boolean {
  return spec.checks.every((check) => {
    switch (check.kind) {
      case 'exec': return true;
      case 'tcp': return LOOPBACK_HOST.test(check.host);
      case 'http': return LOOPBACK_HOST.test(new URL(check.url).hostname);
      case 'gateway': return false;
    }
  });
}

/** Slack for a verdict to reach the store and every agent's view. */
const VERDICT_PROPAGATION_MS = 250;

/**
 * How long a failing owner waits before it hands the address on: none for a local profile. Otherwise
 * until the latest verdict change on any node (`latestChange`: its own turning failing, or another node's
 * turning healthy) is an interval plus a timeout plus a little old — another node's run may start up to an
 * interval later and take its whole timeout — so that a failure, or a recovery, every node sees (the router
 * died, or came back) has reached every verdict and nothing moves to a node about to turn. Measured in the
 * lab: without it the address moved once, to the node whose verdict turned last, both when the router
 * died and when it came back.
 */
export function settleBeforeMovingMs(spec: HealthSpec, latestChange: number, now: number): number {
  return isLocalProfile(spec) ? 0 : Math.max(0, latestChange + spec.intervalMs + spec.timeoutMs + VERDICT_PROPAGATION_MS - now);
}
