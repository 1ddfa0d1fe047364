// The cluster store: the one interface the agent, the API and the CLI use to share cluster state.
// Two implementations keep the same promises (test/lab/store-contract.ts checks them on both):
// EtcdStore (multi-node, main/store/etcd-store.ts) and FileStore (one host, main/store/file-store.ts).
//
// Every stored value is JSON. Every entry carries the store revision at which it last changed;
// passing that revision back (`expectRev`) makes a write conditional (compare-and-swap).
//
// Consistent reading without gaps: snapshot() returns the state at one revision R; a watch
// started with watch(R, ...) then delivers every change with a revision above R, in revision
// order, each exactly once - so nothing that happened between the snapshot and the watch is
// lost and nothing is counted twice. If the store can no longer replay from R (history
// compacted), the watch calls onReset instead and the consumer takes a new snapshot.
import type { ConflictRecord, NodeName, NodeRecord, NodeState, ResourceName, ResourceSpec, ResourceStatus } from '../cluster/model';
import type { Mac } from '../arp/frame';
import type { RejectedRecord } from './record-check';
import type { NodeHealth } from '../../preload/contract/health';
import { MAX_BINDINGS_PER_NODE, type AuditLine, type AuditOutcome, type NodeBindings, type StationBinding } from '../../preload/contract/domain';
import type { UserRecord } from '../../preload/contract/users';
import type { HookRecord, HookState } from '../../preload/contract/hooks';

/** A store revision: grows with every change; 0 means "absent" when used as an expectation. */
export type Revision = number;

/** A lease (etcd: the int64 lease ID as a decimal string). */
export type LeaseId = string;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A node as the store sees it: the persistent record, and whether a live membership backs it. */
export interface NodeEntry {
  /** As last written. `state` is the administrative state ('up' or 'paused'); liveness is `alive`. */
  node: NodeRecord;
  alive: boolean;
  /** The lease of the live membership, null when not alive. */
  leaseId: LeaseId | null;
  /** Revision of the record (for conditional updates). */
  revision: Revision;
}

/** The live half of a node: present only while the node's membership lease lives. */
export interface MemberRecord {
  leaseId: LeaseId;
  /** Wall-clock ms of the join. */
  joinedAt: number;
  /** The node is stopping (markLeaving): peers ask it to take nothing and take nothing from it by a move. */
  leaving?: true;
}

export interface ResourceEntry {
  spec: ResourceSpec;
  revision: Revision;
}

/** Who holds a resource's address: a key bound to the owner's lease, gone when the lease ends. */
export interface OwnerRecord {
  node: NodeName;
  leaseId: LeaseId;
}

export interface OwnerEntry extends OwnerRecord {
  resource: ResourceName;
  revision: Revision;
}

export interface StatusEntry {
  status: ResourceStatus;
  revision: Revision;
}

/** What agents ask of each other (moves, pre-flight probes): a tagged union, see cluster/intents.ts. */
export type { Intent, IntentKind } from '../cluster/intents';
import type { Intent } from '../cluster/intents';

export interface IntentEntry {
  intent: Intent;
  revision: Revision;
}

/** A named user (preload/contract/users.ts): persistent, like a resource. */
export interface UserEntry {
  user: UserRecord;
  revision: Revision;
}

/** An event hook (preload/contract/hooks.ts): persistent, like a user. */
export interface HookEntry {
  hook: HookRecord;
  revision: Revision;
}

/** A hook's delivery state, written by the sending agent (compare-and-swap at the revision it read). */
export interface HookStateEntry {
  state: HookState;
  revision: Revision;
}

/** The hooks' sender: the one agent that delivers every hook's events, its key bound to its lease. */
export interface HookSenderRecord {
  node: NodeName;
  leaseId: LeaseId;
}

/** The name of the sender's key in the hooksender collection. */
export const HOOK_SENDER_KEY = 'sender';

export type { AuditOutcome };
export type { RejectedRecord };

/** One line of the audit log (the contract's AuditLine) as the store keeps it. */
export interface AuditRecord extends AuditLine {
  /** What the ARP watch saw, for entries it writes (actions "arp.*"): shared with every agent's consoles. */
  arp?: ArpRecord;
}

/** The structured part of an ARP watch entry. */
export type ArpRecord =
  | { kind: 'conflict'; conflict: ConflictRecord }
  | { kind: 'handoff'; ip: string; fromMac: string; toMac: string; fromNode: NodeName | null; toNode: NodeName }
  | { kind: 'duplicate'; ip: string; macs: string[]; vendors: Array<string | null> }
  | { kind: 'convergence'; ip: string; stations: number; converged: string[]; stale: string[]; afterMs: number | null };

/** One station as a node's ARP watch saw it last (the watch's history, kept in the store). */
export type StoredBinding = StationBinding;

/** A node's binding table: one record per node, replaced as it changes, the most recently seen first. */
export type BindingsRecord = NodeBindings;

/** The bound on a node's stored table: older stations beyond it are left out. */
export const MAX_STORED_BINDINGS = MAX_BINDINGS_PER_NODE;

export interface AuditEntry extends AuditRecord {
  /** 1, 2, 3 ... without gaps, in append order. */
  seq: number;
}

export interface AuditQuery {
  /** At most this many entries (the newest ones when `sinceSeq` is absent). */
  limit?: number;
  /** Only entries with a larger seq (the oldest of those first). */
  sinceSeq?: number;
}

/** The default number of audit entries kept; older ones are deleted as new ones arrive. */
export const DEFAULT_AUDIT_RETENTION = 10_000;

export interface StoreSnapshot {
  /** Every change with a larger revision is a change after this snapshot. */
  revision: Revision;
  nodes: NodeEntry[];
  resources: ResourceEntry[];
  owners: OwnerEntry[];
  statuses: StatusEntry[];
  intents: IntentEntry[];
  users: UserEntry[];
  /** Records left out because they are not what they claim to be (record-check.ts); absent = none. */
  rejected?: RejectedRecord[];
  /** Live nodes' health records (bound to their leases); absent = none. */
  health?: NodeHealth[];
}

/** The values of each collection, as carried by changes. */
export interface CollectionValues {
  nodes: NodeRecord;
  members: MemberRecord;
  resources: ResourceSpec;
  owners: OwnerRecord;
  status: ResourceStatus;
  intents: Intent;
  audit: AuditEntry;
  bindings: BindingsRecord;
  users: UserRecord;
  health: NodeHealth;
  hooks: HookRecord;
  hookstate: HookState;
  hooksender: HookSenderRecord;
}

export type Collection = keyof CollectionValues;

export const COLLECTIONS: readonly Collection[] = ['nodes', 'members', 'resources', 'owners', 'status', 'intents', 'audit', 'bindings', 'users', 'health', 'hooks', 'hookstate', 'hooksender'];

/**
 * One change: `collection`/`name` is the key; deletes carry no value. Changes made together share a
 * revision. A put of a record that is not one (record-check.ts) arrives as a delete that says why
 * (`rejected`): the key no longer holds a usable record.
 */
export type StoreChange = {
  [C in Collection]: { revision: Revision; collection: C; name: string } & (
    | { kind: 'put'; value: CollectionValues[C] }
    | { kind: 'delete'; value: null; rejected?: RejectedRecord }
  );
}[Collection];

export type ChangeListener = (change: StoreChange) => void;
export type ResetListener = (reason: string) => void;
export type Unsubscribe = () => Promise<void>;

/**
 * Result of an ownership operation. `current` is the owner after the operation when `ok`, or the
 * owner that made it fail (null: nobody) when not.
 */
export interface OwnershipResult {
  ok: boolean;
  current: OwnerEntry | null;
}

export type LeaseLossReason =
  /** The store says the lease is gone (revoked by a peer, or expired there). */
  | 'revoked'
  /** No renewal confirmed before validUntil(): the lease may already have expired in the store. */
  | 'expired';

export interface JoinOptions {
  /** Lease time-to-live in seconds (etcd grants at least 2). */
  ttlSec: number;
  /** Renewal period; default a quarter of the TTL. */
  keepaliveIntervalMs?: number;
  /** Told each renewal's round trip to the store, ms (for the metrics; a store without renewals never calls it). */
  onRoundTrip?: (ms: number) => void;
}

/** A node's membership: a lease kept alive automatically until revoked, lost or the store closes. */
export interface Membership {
  readonly node: NodeName;
  readonly leaseId: LeaseId;
  /** The TTL the store granted (may exceed the one asked for). */
  readonly ttlSec: number;
  /**
   * Until this moment (performance.now() ms) the lease is certainly alive in the store: the send
   * time of the last confirmed renewal plus the TTL, as the store cannot have started counting
   * before the request left. A node fences itself before this moment when renewals fail.
   * Infinity when the lease cannot expire on its own (file store, while this process runs).
   */
  validUntil(): number;
  /** True once revoked or lost; a lost membership never comes back (join again). */
  readonly ended: boolean;
  /** Called once when the lease is lost (not on revoke() or store close()). Returns an unsubscribe. */
  onLost(listener: (reason: LeaseLossReason) => void): () => void;
  /** Ends the membership now: every key bound to the lease (member, ownerships) goes at once. */
  revoke(): Promise<void>;
}

export interface ClusterStore {
  readonly kind: 'etcd' | 'file';

  // --- Membership -------------------------------------------------------------------------------
  /**
   * Writes the node's record and its member key bound to a new lease. An existing record keeps its
   * administrative state (a paused node stays paused across agent restarts) and its maintenance window; other fields are
   * replaced. A node that joins again while its previous lease still lives gets a new lease; keys
   * of the old lease (its ownerships) stay until that lease ends or are moved with transfer().
   */
  join(node: NodeRecord, options: JoinOptions): Promise<Membership>;
  nodes(): Promise<NodeEntry[]>;
  /** Changes a node's administrative state (throws not-found for an unknown node). */
  setNodeState(name: NodeName, state: Exclude<NodeState, 'down'>): Promise<Revision>;
  /** Starts (until = wall-clock ms) or ends (null) a node's maintenance window; kept across joins. */
  setNodeMaintenance(name: NodeName, until: number | null): Promise<Revision>;
  /**
   * Replaces the MACs a node's record names (an interface of the node took another MAC): peers recognise
   * the node's ARP by them. Throws not-found for an unknown node.
   */
  setNodeMacs(name: NodeName, macs: Record<string, Mac>): Promise<Revision>;
  /**
   * Says the membership's node is stopping: its member key (same lease) gets `leaving`. Peers then
   * treat it as paused for placement, so a cluster stopping all at once does not wait on moves to
   * nodes that are leaving too. Throws lease-lost when the lease is gone.
   */
  markLeaving(membership: Membership): Promise<Revision>;
  /** Forgets a node that is not alive; false when it is alive or unknown. */
  removeNode(name: NodeName): Promise<boolean>;
  /**
   * Ends someone's lease now (a candidate that saw the owner stop answering ARP), deleting every
   * key bound to it. False when the lease was already gone.
   */
  revokeMembership(leaseId: LeaseId): Promise<boolean>;

  // --- Resources (operator specs) -----------------------------------------------------------------
  resources(): Promise<ResourceEntry[]>;
  /** expectRev: undefined = unconditional, 0 = must not exist, n = must be at revision n. */
  putResource(spec: ResourceSpec, expectRev?: Revision): Promise<Revision>;
  /** False when absent (and no expectRev given). */
  deleteResource(name: ResourceName, expectRev?: Revision): Promise<boolean>;
  /**
   * Replaces existing resources in one transaction, each only at the revision given: all are written or
   * none (RevisionConflictError names a key that changed meanwhile). A group's members change together.
   * At most MAX_REPLACED_RESOURCES.
   */
  replaceResources(entries: ReadonlyArray<{ spec: ResourceSpec; expectRev: Revision }>): Promise<Revision>;

  // --- Users --------------------------------------------------------------------------------------
  users(): Promise<UserEntry[]>;
  /**
   * expectRev as for putResource. A record that is not one (UserRecordSchema, a reserved name) is
   * refused with 'invalid' and nothing is written: every reader would leave it out.
   */
  putUser(user: UserRecord, expectRev?: Revision): Promise<Revision>;
  /** False when absent (and no expectRev given). */
  deleteUser(name: string, expectRev?: Revision): Promise<boolean>;

  // --- Event hooks --------------------------------------------------------------------------------
  /** The hooks; a record that is not one (HookRecordSchema) is left out and named in `rejected`, never run. */
  hooks(): Promise<{ hooks: HookEntry[]; rejected: RejectedRecord[] }>;
  /** expectRev as for putResource; a record that is not one is refused with 'invalid'. */
  putHook(hook: HookRecord, expectRev?: Revision): Promise<Revision>;
  /** Deletes the hook and its delivery state; false when absent (and no expectRev given). */
  deleteHook(name: string, expectRev?: Revision): Promise<boolean>;
  hookStates(): Promise<HookStateEntry[]>;
  /** expectRev as for putResource (the sender writes at the revision it read: a stale sender's write fails). */
  putHookState(state: HookState, expectRev?: Revision): Promise<Revision>;
  /** The current sender, or null when no live agent holds the key. */
  hookSender(): Promise<HookSenderRecord | null>;
  /** Makes the membership's node the sender if nobody is (creates the key bound to its lease); the sender after. */
  claimHookSender(membership: Membership): Promise<{ ok: boolean; current: HookSenderRecord | null }>;

  // --- Ownership ------------------------------------------------------------------------------------
  owners(): Promise<OwnerEntry[]>;
  /** Takes the resource for the membership's node if nobody owns it (the key does not exist). */
  acquire(resource: ResourceName, membership: Membership): Promise<OwnershipResult>;
  /** acquire() for many (a node's takeover): in transactions of up to 100 keys; results in the order asked. */
  acquireMany(resources: readonly ResourceName[], membership: Membership): Promise<OwnershipResult[]>;
  /** Moves ownership from `from` to the membership's node in one step, only if `from` owns it now. */
  transfer(resource: ResourceName, from: NodeName, to: Membership): Promise<OwnershipResult>;
  /** transfer() for many (a batch move): in transactions of up to 100 keys; results in the order asked. */
  transferMany(resources: readonly ResourceName[], from: NodeName, to: Membership): Promise<OwnershipResult[]>;
  /** Gives the resource up, only if `node` owns it. */
  release(resource: ResourceName, node: NodeName): Promise<OwnershipResult>;

  // --- Status, intents, audit -------------------------------------------------------------------
  statuses(): Promise<StatusEntry[]>;
  putStatus(status: ResourceStatus, expectRev?: Revision): Promise<Revision>;
  /** Many statuses, unconditionally, in transactions of up to 100 keys (a batch move's one status write). */
  putStatuses(statuses: readonly ResourceStatus[]): Promise<void>;
  deleteStatus(name: ResourceName): Promise<boolean>;
  intents(): Promise<IntentEntry[]>;
  putIntent(intent: Intent, expectRev?: Revision): Promise<Revision>;
  deleteIntent(id: string, expectRev?: Revision): Promise<boolean>;
  /** Appends an entry; the oldest entries beyond the retention are deleted. */
  appendAudit(record: AuditRecord): Promise<AuditEntry>;
  /** Entries oldest first. */
  audit(query?: AuditQuery): Promise<AuditEntry[]>;
  /** Replaces a node's ARP binding table (at most MAX_STORED_BINDINGS entries are kept). */
  putBindings(record: BindingsRecord): Promise<Revision>;
  /** Every node's binding table. */
  bindings(): Promise<BindingsRecord[]>;
  /**
   * Replaces the membership's node's health record (its checks' verdicts), bound to its lease: a node
   * that dies or restarts has none until it checked again. Throws lease-lost when the lease is gone.
   */
  putHealth(membership: Membership, record: NodeHealth): Promise<Revision>;

  // --- Consistent reads and the change stream -------------------------------------------------------
  snapshot(): Promise<StoreSnapshot>;
  /** Delivers every change with revision > afterRevision, in order. See the header comment. */
  watch(afterRevision: Revision, onChange: ChangeListener, onReset?: ResetListener): Promise<Unsubscribe>;

  /**
   * Stops keepalives and watches and releases connections or files. Leases are not revoked: their
   * keys go when the TTL runs out (revoke() first for a graceful leave).
   */
  close(): Promise<void>;
  /**
   * Drops the connections to the store; the next call dials anew (keepalives and watches resume by
   * themselves). For when the host's source address changed under them (stations-behind-ours.ts): a
   * connection opened from a virtual address dies when that address moves away. The file store has none.
   */
  reconnect(): void;

  // --- Bulk ---------------------------------------------------------------------------------------
  /**
   * Creates many resources (resource.import): each only if no resource of that name exists (as
   * putResource with expectRev 0); an existing one is left as it is and its name returned in
   * `collided` (also a name given twice: the later one). etcd: transactions of at most
   * PUT_RESOURCES_TXN_KEYS keys, each all-or-nothing, so watchers see the specs arrive in a few
   * revisions; file store: one write. `revision`: the store's revision after the last write (0 when
   * nothing was written).
   */
  putResources(specs: readonly ResourceSpec[]): Promise<PutResourcesResult>;
}

/** What putResources did: the store revision reached and the names it did not create. */
export interface PutResourcesResult {
  revision: Revision;
  collided: ResourceName[];
}

/** The most keys one etcd transaction of putResources writes (etcd's default --max-txn-ops is 128). */
export const PUT_RESOURCES_TXN_KEYS = 100;

export type StoreErrorCode =
  /** A conditional write found another revision (see RevisionConflictError). */
  | 'conflict'
  | 'not-found'
  /** The membership's lease no longer exists. */
  | 'lease-lost'
  /** The store could not be reached in time. */
  | 'unavailable'
  /** The store refused our credentials: TLS handshake, authentication, or permission (etcd-refusal.ts). */
  | 'refused'
  /** Bad argument (e.g. a name that cannot be a key). */
  | 'invalid'
  /** A stored value is not what this version writes. */
  | 'corrupt'
  | 'closed'
  /** The file store is in use by another process. */
  | 'locked';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** Resources replaceResources writes at once (one etcd transaction; a group is at most 32). */
export const MAX_REPLACED_RESOURCES = 64;

export class RevisionConflictError extends StoreError {
  constructor(
    readonly key: string,
    readonly expected: Revision,
    /** The revision found; 0 = the key does not exist. */
    readonly actual: Revision,
  ) {
    super(
      'conflict',
      actual === 0
        ? `${key} does not exist (expected revision ${expected})`
        : expected === 0
          ? `${key} already exists (at revision ${actual})`
          : `${key} changed: expected revision ${expected}, found ${actual}`,
    );
    this.name = 'RevisionConflictError';
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}

/** The specs with each name once (the first), and the names given again. */
export function distinctByName(specs: readonly ResourceSpec[]): { unique: ResourceSpec[]; repeated: ResourceName[] } {
  const seen = new Set<string>();
  const unique: ResourceSpec[] = [];
  const repeated: ResourceName[] = [];
  for (const spec of specs) {
    if (seen.has(spec.name)) repeated.push(spec.name);
    else {
      seen.add(spec.name);
      unique.push(spec);
    }
  }
  return { unique, repeated };
}
