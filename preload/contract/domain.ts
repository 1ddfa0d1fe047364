// The cluster's vocabulary as the agent protocol, the Electron preload and the renderer see it:
// plain JSON-safe TypeScript types, each with a zod schema that checks a value received from the
// other side of a socket or an IPC channel.
//
// This file is shared with the browser and the sandboxed preload, so it imports nothing from
// main/ and nothing from Node (zod only). main/cluster/model.ts re-exports these types for the
// engine; the `Same<>` checks at the end of this file fail the build if a schema and its type drift
// apart.
//
// Two levels of checking on purpose: these schemas check SHAPE and canonical forms (a MAC is six
// lowercase hex pairs, a prefix an integer 1..32); the cluster's RULES (unknown node, duplicate
// address, network address of the subnet...) stay in main/cluster/validate.ts, which knows the
// cluster and reports every problem per form field.
import { z } from 'zod';
import { IPV4_PATTERN } from './ipv4';
import { isResourceIp, MAX_IP_TEXT } from './ip-address';
import { HealthResultSchema, HealthSpecSchema, MAX_HEALTH_PROFILES, type HealthResult, type HealthSpec } from './health';
import { BAN_FOR_MAX_SEC, BAN_FOR_MIN_SEC, FailoverThresholdSchema, MAX_BANS, NodeBanSchema, RETRIES_MAX, type FailoverThreshold, type NodeBan } from './failure-policy';

// --- Scalars ---------------------------------------------------------------------------------------

/** Canonical MAC: six lowercase two-digit hex groups joined by ':' (as main/arp/frame.ts). */
export type Mac = string;
/** Canonical IPv4: dotted quad, decimal, no leading zeros (as main/arp/frame.ts). */
export type Ipv4 = string;
/** A resource's address: canonical IPv4, or IPv6 in RFC 5952 form (lowercase, shortest, "::" once). */
export type IpAddress = string;
export type NodeName = string;
export type ResourceName = string;

/** Longest name a protocol message may carry; the cluster's own rule (63, validate.ts) is stricter. */
export const MAX_NAME_LENGTH = 128;
/** Longest free text (a failure detail, an audit line) a message may carry. */
export const MAX_TEXT_LENGTH = 1024;
/** Most entries of any list of node names or interfaces in one resource. */
export const MAX_OWNERS = 64;
/** Groups one group may be kept apart from. */
export const MAX_APART_FROM = 16;
/** Most MACs one node reports (one per interface). */
export const MAX_INTERFACES = 64;

export const MAC_PATTERN = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

export const MacSchema = z.string().regex(MAC_PATTERN, 'must be a MAC address such as "02:00:00:00:00:01" (lowercase)');
export const Ipv4Schema = z.string().regex(IPV4_PATTERN, 'must be an IPv4 address such as "10.0.0.50"');
/** A resource's address: a canonical dotted quad or the RFC 5952 text of an IPv6 address (issue 18). */
export const IpAddressSchema = z
  .string()
  .max(MAX_IP_TEXT)
  .refine(isResourceIp, 'must be an IPv4 address such as "10.0.0.50" or an IPv6 address in RFC 5952 form such as "2001:db8::50"');
export const NameSchema = z.string().min(1, 'must not be empty').max(MAX_NAME_LENGTH);
export const TextSchema = z.string().max(MAX_TEXT_LENGTH);
/** Wall-clock milliseconds since the epoch. */
export const TimestampSchema = z.number().int().nonnegative();
/** A duration in milliseconds (may be fractional: handoff gaps are measured below 1 ms). */
export const DurationSchema = z.number().nonnegative();

const NodeNamesSchema = z.array(NameSchema).max(MAX_OWNERS);
const InterfaceMapSchema = z
  .record(NameSchema, NameSchema)
  .refine((map) => Object.keys(map).length <= MAX_OWNERS, `must have at most ${MAX_OWNERS} entries`);

// --- Nodes -----------------------------------------------------------------------------------------

export type NodeState = 'up' | 'down' | 'paused';
export const NODE_STATES = ['up', 'down', 'paused'] as const satisfies readonly NodeState[];

export interface NodeRecord {
  name: NodeName;
  state: NodeState;
  agentVersion: string;
  /** Wall-clock ms of the last heartbeat the cluster saw. */
  lastSeen: number;
  /** MAC per interface, as the agent reported them (lets peers recognise each other's ARP). */
  macs: Record<string, Mac>;
  /** Under maintenance until this wall-clock ms: its ARP alarms are muted (still recorded). Absent = not. */
  maintenanceUntil?: number;
  /** The Ed25519 public key (raw, base64url) the node's release datagrams are signed with; made at each agent start. */
  handoffKey?: string;
  /**
   * Its health checks' verdicts, one per profile (health.ts), from its live health record: the agent API
   * adds them for consoles; never stored in the node record itself.
   */
  health?: HealthResult[];
  /** The resources it is banned from after failures there (failure-policy.ts), from the same record; API only. */
  bans?: NodeBan[];
}

export const NodeRecordSchema = z.strictObject({
  name: NameSchema,
  state: z.enum(NODE_STATES),
  agentVersion: z.string().max(64),
  lastSeen: TimestampSchema,
  macs: z
    .record(NameSchema, MacSchema)
    .refine((map) => Object.keys(map).length <= MAX_INTERFACES, `must have at most ${MAX_INTERFACES} entries`),
  maintenanceUntil: TimestampSchema.optional(),
  handoffKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an Ed25519 public key (43 base64url characters)').optional(),
  health: z.array(HealthResultSchema).max(MAX_HEALTH_PROFILES).optional(),
  bans: z.array(NodeBanSchema).max(MAX_BANS).optional(),
});

// --- Resources -------------------------------------------------------------------------------------

/** As main/arp/acd-config.ts. */
export type AnnounceForm = 'request' | 'reply' | 'both';
export const ANNOUNCE_FORMS = ['request', 'reply', 'both'] as const satisfies readonly AnnounceForm[];
/** RFC 5227 §2.4 (a) never defend, (b) defend once then yield, (c) always defend. */
export type DefendPolicy = 'never' | 'once' | 'always';
export const DEFEND_POLICIES = ['never', 'once', 'always'] as const satisfies readonly DefendPolicy[];

/**
 * What happens when a more preferred owner comes back: move back at once, in a window, or never.
 * The window is [startHour, endHour) in the nodes' local hours (0..23, start != end) and may wrap
 * midnight: 22..6 allows 22:00 to 05:59.
 */
export type FailbackPolicy = { mode: 'never' } | { mode: 'immediate' } | { mode: 'window'; startHour: number; endHour: number };

const HourSchema = z.number().int().min(0).max(23);
export const FailbackPolicySchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('never') }),
  z.strictObject({ mode: z.literal('immediate') }),
  z.strictObject({ mode: z.literal('window'), startHour: HourSchema, endHour: HourSchema }),
]);

/** An IP resource as the operator defines it. */
export interface ResourceSpec {
  name: ResourceName;
  /** A dotted quad, or an IPv6 address in RFC 5952 form. */
  ip: IpAddress;
  /** 1..32 for IPv4, 1..128 for IPv6. */
  prefix: number;
  /** Nodes allowed to hold the address; empty = every node. */
  possibleOwners: NodeName[];
  /** Ordered preference (a subset of possible owners); the first live one is the best. */
  preferredOwners: NodeName[];
  failback: FailbackPolicy;
  /** Interface per node; a node without an entry uses the interface already in the resource's subnet. */
  interfaces: Record<NodeName, string>;
  /** Operator wants it online (true) or offline (false). */
  enabled: boolean;
  announceForm: AnnounceForm;
  defendPolicy: DefendPolicy;
  /** Gratuitous ARPs sent when the address comes up on a node (default 2), and their spacing (default 2000 ms). */
  announceCount?: number;
  announceIntervalMs?: number;
  /**
   * Re-announce the held address this often (s): for routers and switches whose ARP caches outlive the
   * gratuitous ARPs of a move. Absent = never (the default). Only the confirmed holder refreshes.
   */
  announceRefreshSec?: number;
  /** Under maintenance until this wall-clock ms: ARP alarms for its address are muted (still recorded). */
  maintenanceUntil?: number;
  /** The service's health checks (health.ts): only a node passing them holds the address. Absent = none. */
  health?: HealthSpec;
  /** Failure policy (failure-policy.ts): tries again on the node where it failed, absent = 1. */
  retries?: number;
  /** How long a node is banned from the resource after its retries (s); absent = 600. */
  banForSec?: number;
  /** Moves caused by failures allowed within a window; absent = no limit. */
  failoverThreshold?: FailoverThreshold;
  /** The group it belongs to (groups.ts): its addresses are placed, moved, drained and failed back together. Absent = none. */
  group?: ResourceName;
  /** Groups this one is kept off the nodes of when it can; every member carries its group's list. */
  apartFrom?: ResourceName[];
}

/** Bounds of the per-resource GARP settings (as main/arp/acd-config.ts accepts them). */
export const ANNOUNCE_COUNT_MAX = 10;
export const ANNOUNCE_INTERVAL_MIN_MS = 10;
export const ANNOUNCE_INTERVAL_MAX_MS = 60_000;
/** Bounds of the periodic re-announcement (one second to one day). */
export const ANNOUNCE_REFRESH_MIN_SEC = 1;
export const ANNOUNCE_REFRESH_MAX_SEC = 86_400;

export const ResourceSpecSchema = z.strictObject({
  name: NameSchema,
  ip: IpAddressSchema,
  // The family's own bound (32 for IPv4) is the cluster's rule: validate.ts, which every stored record passes too.
  prefix: z.number().int().min(1).max(128),
  possibleOwners: NodeNamesSchema,
  preferredOwners: NodeNamesSchema,
  failback: FailbackPolicySchema,
  interfaces: InterfaceMapSchema,
  enabled: z.boolean(),
  announceForm: z.enum(ANNOUNCE_FORMS),
  defendPolicy: z.enum(DEFEND_POLICIES),
  announceCount: z.number().int().min(1).max(ANNOUNCE_COUNT_MAX).optional(),
  announceIntervalMs: z.number().int().min(ANNOUNCE_INTERVAL_MIN_MS).max(ANNOUNCE_INTERVAL_MAX_MS).optional(),
  announceRefreshSec: z.number().int().min(ANNOUNCE_REFRESH_MIN_SEC).max(ANNOUNCE_REFRESH_MAX_SEC).optional(),
  maintenanceUntil: TimestampSchema.optional(),
  health: HealthSpecSchema.optional(),
  retries: z.number().int().min(0).max(RETRIES_MAX).optional(),
  banForSec: z.number().int().min(BAN_FOR_MIN_SEC).max(BAN_FOR_MAX_SEC).optional(),
  failoverThreshold: FailoverThresholdSchema.optional(),
  group: NameSchema.optional(),
  apartFrom: z.array(NameSchema).max(MAX_APART_FROM).optional(),
});

/**
 * A resource definition as an operator TYPES it (console form, CLI, script): the fields of
 * ResourceSpec with the JSON types they must have, most of them optional (defaults are filled in by
 * main/cluster/validate.ts, which also accepts "a.b.c.d/nn" in `ip` and reports the cluster's rules
 * per field). Unknown fields are rejected here already: a typo such as "prefered" must not silently
 * fall back to a default.
 */
export const ResourceSpecInputSchema = z.strictObject({
  name: z.string().max(MAX_NAME_LENGTH),
  ip: z.string().max(64),
  prefix: z.number().optional(),
  possibleOwners: z.array(z.string().max(MAX_NAME_LENGTH)).max(MAX_OWNERS).optional(),
  preferredOwners: z.array(z.string().max(MAX_NAME_LENGTH)).max(MAX_OWNERS).optional(),
  failback: z
    .discriminatedUnion('mode', [
      z.strictObject({ mode: z.literal('never') }),
      z.strictObject({ mode: z.literal('immediate') }),
      z.strictObject({ mode: z.literal('window'), startHour: z.number(), endHour: z.number() }),
    ])
    .optional(),
  interfaces: z
    .record(z.string().max(MAX_NAME_LENGTH), z.string().max(MAX_NAME_LENGTH))
    .refine((map) => Object.keys(map).length <= MAX_OWNERS, `must have at most ${MAX_OWNERS} entries`)
    .optional(),
  enabled: z.boolean().optional(),
  announceForm: z.enum(ANNOUNCE_FORMS).optional(),
  defendPolicy: z.enum(DEFEND_POLICIES).optional(),
  // Checked in detail by the agent (main/cluster/validate.ts), which reports every problem by field.
  announceCount: z.number().optional(),
  announceIntervalMs: z.number().optional(),
  /** Seconds; null turns the periodic re-announcement off. */
  announceRefreshSec: z.number().nullable().optional(),
  /** Wall-clock ms; null ends a maintenance window. */
  maintenanceUntil: z.number().nullable().optional(),
  /** Checks with optional timing (validate.ts fills in the defaults and checks each field); null removes them. */
  health: z
    .strictObject({
      /** Required when the resource has no checks yet; an edit may give only the timing. */
      checks: z.array(z.unknown()).max(64).optional(),
      intervalMs: z.number().optional(),
      timeoutMs: z.number().optional(),
      fall: z.number().optional(),
      rise: z.number().optional(),
    })
    .nullable()
    .optional(),
  /** Null: back to the default. */
  retries: z.number().nullable().optional(),
  banForSec: z.number().nullable().optional(),
  /** Null: no limit. */
  failoverThreshold: z.strictObject({ count: z.number(), windowSec: z.number() }).nullable().optional(),
  /** Null: in no group. Written by the group commands (`group.add`), which keep a group's members alike. */
  group: z.string().max(MAX_NAME_LENGTH).nullable().optional(),
  /** Null: apart from no group. */
  apartFrom: z.array(z.string().max(MAX_NAME_LENGTH)).max(MAX_APART_FROM).nullable().optional(),
});
export type ResourceSpecInput = z.infer<typeof ResourceSpecInputSchema>;

/** The fields to change in resource.edit; at least one. */
export const ResourceSpecPatchSchema = ResourceSpecInputSchema.partial().refine(
  (patch) => Object.keys(patch).length > 0,
  'must change at least one field',
);
export type ResourceSpecPatch = z.infer<typeof ResourceSpecPatchSchema>;

export type ResourceState = 'offline' | 'online-pending' | 'online' | 'offline-pending' | 'failed';
export const RESOURCE_STATES = ['offline', 'online-pending', 'online', 'offline-pending', 'failed'] as const satisfies readonly ResourceState[];

export type FailureReason =
  | { kind: 'conflict'; mac: Mac }
  | { kind: 'no-eligible-node' }
  /** Nodes could take it, but none passes its health checks (yet). */
  | { kind: 'no-healthy-node' }
  | { kind: 'interface-missing'; node: NodeName; detail: string }
  | { kind: 'register-failed'; node: NodeName; detail: string }
  /** Every live node that may hold it is banned after failures there (failure-policy.ts); tried again when a ban ends. */
  | { kind: 'banned-everywhere' }
  /** Its moves caused by failures reached the threshold: it stays where it is (or, failed, waits for a cleanup). */
  | { kind: 'failover-limit'; count: number; windowSec: number; detail: string };

export const FailureReasonSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('conflict'), mac: MacSchema }),
  z.strictObject({ kind: z.literal('no-eligible-node') }),
  z.strictObject({ kind: z.literal('no-healthy-node') }),
  z.strictObject({ kind: z.literal('interface-missing'), node: NameSchema, detail: TextSchema }),
  z.strictObject({ kind: z.literal('register-failed'), node: NameSchema, detail: TextSchema }),
  z.strictObject({ kind: z.literal('banned-everywhere') }),
  z.strictObject({ kind: z.literal('failover-limit'), count: z.number().int().min(1), windowSec: z.number().int().min(1), detail: TextSchema }),
]);

/** What the cluster observes about a resource. */
export interface ResourceStatus {
  name: ResourceName;
  state: ResourceState;
  owner: NodeName | null;
  ownerMac: Mac | null;
  /** Wall-clock ms since the current state began. */
  since: number;
  failure: FailureReason | null;
  /** Client-visible gap of the last handoff, ms (null before the first). */
  lastHandoffMs: number | null;
}

export const ResourceStatusSchema = z.strictObject({
  name: NameSchema,
  state: z.enum(RESOURCE_STATES),
  owner: NameSchema.nullable(),
  ownerMac: MacSchema.nullable(),
  since: TimestampSchema,
  failure: FailureReasonSchema.nullable(),
  lastHandoffMs: DurationSchema.nullable(),
});

/** A resource as consoles show it: the operator's definition and what the cluster observes. */
export type ResourceView = ResourceSpec & { status: ResourceStatus };

export const ResourceViewSchema = ResourceSpecSchema.extend({ status: ResourceStatusSchema });

// --- Conflicts and the audit log -------------------------------------------------------------------

/**
 * Another station claims one of our addresses (RFC 5227 §2.4): one record per observing node,
 * address and foreign MAC, updated as frames arrive. Key: (node, address, theirMac).
 */
export interface ConflictRecord {
  /** The node whose ARP monitor saw the frames. */
  node: NodeName;
  address: Ipv4;
  /** 802.1Q VLAN id of the frames, null when untagged. */
  vlan: number | null;
  /** Our MAC for the address, when known. */
  ourMac: Mac | null;
  theirMac: Mac;
  /** The manufacturer registered for their MAC's OUI, "(locally administered)", or null when unknown. */
  theirVendor: string | null;
  /** The resource whose address is claimed; null for a plain (non-cluster) address. */
  resource: string | null;
  /** Wall-clock ms. */
  firstSeen: number;
  lastSeen: number;
  /** Conflicting frames seen. */
  count: number;
  /** Whether we defended the address (re-announced) at least once in this episode. */
  defended: boolean;
  /** Seen while the resource or a node involved was under maintenance: recorded, not an alarm. */
  muted: boolean;
}

export const ConflictRecordSchema = z.strictObject({
  node: NameSchema,
  /** IPv4, or IPv6 in RFC 5952 form: a claim of an IPv6 resource defends it over neighbour discovery. */
  address: IpAddressSchema,
  vlan: z.number().int().min(0).max(4095).nullable(),
  ourMac: MacSchema.nullable(),
  theirMac: MacSchema,
  theirVendor: z.string().max(256).nullable(),
  resource: NameSchema.nullable(),
  firstSeen: TimestampSchema,
  lastSeen: TimestampSchema,
  count: z.number().int().nonnegative(),
  defended: z.boolean(),
  muted: z.boolean(),
});

/** How an operation went; 'started' marks one still running. */
export type AuditOutcome = 'ok' | 'failed' | 'rejected' | 'started';
export const AUDIT_OUTCOMES = ['ok', 'failed', 'rejected', 'started'] as const satisfies readonly AuditOutcome[];

/**
 * One line of the audit log as the agent writes it: who did what, when, to what, and how it went.
 * The store keeps it with an ARP part (main/store/store.ts AuditRecord); consoles get it numbered.
 */
export interface AuditLine {
  /** Wall-clock ms. */
  at: number;
  /** Who asked: the authenticated API session ("cli:alice@127.0.0.1"), or the agent itself ("agent:n1"). */
  actor: string;
  /** The command or automatic action ("resource.move", "failover", ...). */
  action: string;
  /** The resource or node acted on. */
  target: string | null;
  outcome: AuditOutcome;
  detail: string | null;
  /** Client-visible gap of a handoff, ms. */
  handoffMs: number | null;
}

/** An audit line as consoles see it. */
export interface AuditEntry extends AuditLine {
  /** 1, 2, 3 ... without gaps, in append order. */
  seq: number;
  /** How long the whole operation took, ms. */
  durationMs: number | null;
}

export const AuditEntrySchema = z.strictObject({
  seq: z.number().int().positive(),
  at: TimestampSchema,
  actor: z.string().max(256),
  action: z.string().max(64),
  target: z.string().max(MAX_NAME_LENGTH).nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  detail: TextSchema.nullable(),
  durationMs: DurationSchema.nullable(),
  handoffMs: DurationSchema.nullable(),
});

// --- ARP bindings (the watch's table, kept in the cluster store) -----------------------------------

/** As main/store/store.ts StoredBinding: one station as a node's ARP watch saw it last. */
export interface StationBinding {
  /** A dotted quad (ARP), or RFC 5952 text (IPv6 neighbour discovery: a station's link-local address too). */
  ip: string;
  vlan: number | null;
  mac: Mac;
  vendor: string | null;
  firstSeen: number;
  lastSeen: number;
  count: number;
  changes: number;
}

export interface NodeBindings {
  node: NodeName;
  /** Wall-clock ms of the node's last save. */
  at: number;
  bindings: StationBinding[];
}

/** As main/store/store.ts MAX_STORED_BINDINGS. */
export const MAX_BINDINGS_PER_NODE = 4096;

export const StationBindingSchema = z.strictObject({
  ip: IpAddressSchema,
  vlan: z.number().int().min(0).max(4095).nullable(),
  mac: MacSchema,
  vendor: z.string().max(256).nullable(),
  firstSeen: TimestampSchema,
  lastSeen: TimestampSchema,
  count: z.number().int().nonnegative(),
  changes: z.number().int().nonnegative(),
});

export const NodeBindingsSchema = z.strictObject({
  node: NameSchema,
  at: TimestampSchema,
  bindings: z.array(StationBindingSchema).max(MAX_BINDINGS_PER_NODE),
});

// --- The snapshot ----------------------------------------------------------------------------------

/** Most audit entries a snapshot carries (the newest); older ones through events.query. */
export const SNAPSHOT_EVENTS_LIMIT = 200;
/** Bounds that keep a hostile or broken agent from making a console allocate without limit. */
export const MAX_SNAPSHOT_NODES = 1_000;
export const MAX_SNAPSHOT_RESOURCES = 100_000;
export const MAX_SNAPSHOT_CONFLICTS = 10_000;

/** Most rejected records a snapshot carries. */
export const MAX_SNAPSHOT_REJECTED = 1_000;

/**
 * A record in the cluster store that is not what it claims to be (written by something other than an
 * agent, or broken): the agents leave it out as if its key were absent, and say so here.
 */
export interface RejectedStoreRecord {
  /** The store's collection: nodes, members, resources, owners, status, intents, audit, bindings. */
  collection: string;
  /** The record's name (the last part of its key). */
  name: string;
  /** The whole store key. */
  key: string;
  reason: string;
  /** The store revision it was written at. */
  revision: number;
}

export const RejectedStoreRecordSchema = z.strictObject({
  collection: z.string().max(32),
  name: z.string().max(1024),
  key: z.string().max(2048),
  reason: TextSchema,
  revision: z.number().int().nonnegative(),
});

/** The whole cluster as a console shows it. */
export interface Snapshot {
  nodes: NodeRecord[];
  resources: ResourceView[];
  conflicts: ConflictRecord[];
  /** The latest audit entries (at most SNAPSHOT_EVENTS_LIMIT), oldest first. */
  events: AuditEntry[];
  /** Store records the agents left out (at most MAX_SNAPSHOT_REJECTED). */
  rejected: RejectedStoreRecord[];
}

export const SnapshotSchema = z.strictObject({
  nodes: z.array(NodeRecordSchema).max(MAX_SNAPSHOT_NODES),
  resources: z.array(ResourceViewSchema).max(MAX_SNAPSHOT_RESOURCES),
  conflicts: z.array(ConflictRecordSchema).max(MAX_SNAPSHOT_CONFLICTS),
  events: z.array(AuditEntrySchema).max(SNAPSHOT_EVENTS_LIMIT),
  rejected: z.array(RejectedStoreRecordSchema).max(MAX_SNAPSHOT_REJECTED),
});

// --- Compile-time agreement of every schema with its type ------------------------------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

/** Never used at run time: the build fails here when a schema and its type disagree. */
export type DomainSchemasAgreeWithTypes = [
  Assert<Same<NodeRecord, z.infer<typeof NodeRecordSchema>>>,
  Assert<Same<FailbackPolicy, z.infer<typeof FailbackPolicySchema>>>,
  Assert<Same<ResourceSpec, z.infer<typeof ResourceSpecSchema>>>,
  Assert<Same<FailureReason, z.infer<typeof FailureReasonSchema>>>,
  Assert<Same<ResourceStatus, z.infer<typeof ResourceStatusSchema>>>,
  Assert<Same<ResourceView, z.infer<typeof ResourceViewSchema>>>,
  Assert<Same<ConflictRecord, z.infer<typeof ConflictRecordSchema>>>,
  Assert<Same<AuditEntry, z.infer<typeof AuditEntrySchema>>>,
  Assert<Same<Snapshot, z.infer<typeof SnapshotSchema>>>,
  Assert<Same<RejectedStoreRecord, z.infer<typeof RejectedStoreRecordSchema>>>,
  Assert<Same<NodeBindings, z.infer<typeof NodeBindingsSchema>>>,
];
