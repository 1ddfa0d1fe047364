// The cluster store on etcd (v3 API through the etcd3 client). Every conditional write is one
// etcd transaction; every multi-part read is one transaction too, so it sees a single revision.
// Key layout: keys.ts. Membership and keepalive: etcd-lease.ts. Change stream: etcd-watch.ts.
import {
  ClientClosedError,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  type ICompare,
  type IEvent,
  type IKeyValue,
  type IOptions,
  type IRangeRequest,
  type IRequestOp,
  type ITxnResponse,
} from 'etcd3';
import type { NodeName, NodeRecord, NodeState, ResourceName, ResourceSpec, ResourceStatus } from '../cluster/model';
import type { Mac } from '../arp/frame';
import type { UserRecord } from '../../preload/contract/users';
import type { HookRecord, HookState } from '../../preload/contract/hooks';
import type { NodeHealth } from '../../preload/contract/health';
import { checkedForWrite, decodeOwner, decodeRecord, encodeJson, encodeOwnerNode } from './codec';
import { fitAuditRecord, rejectedRecord, type RejectedRecord } from './record-check';
import { keptByJoin, withMaintenance } from './node-record';
import { EtcdMembership, revokeLease } from './etcd-lease';
import { RangeWatch } from './etcd-watch';
import { KeyLayout, checkName, prefixEnd } from './keys';
import { connectionReason, refusalOf, unreachableHint, type RefusalContext } from './etcd-refusal';
import {
  DEFAULT_AUDIT_RETENTION,
  MAX_STORED_BINDINGS,
  PUT_RESOURCES_TXN_KEYS,
  distinctByName,
  MAX_REPLACED_RESOURCES,
  RevisionConflictError,
  StoreError,
  isStoreError,
  type AuditEntry,
  type BindingsRecord,
  type AuditQuery,
  type AuditRecord,
  type ChangeListener,
  type ClusterStore,
  type Collection,
  type CollectionValues,
  type Intent,
  type IntentEntry,
  type JoinOptions,
  type LeaseId,
  type Membership,
  type NodeEntry,
  type OwnerEntry,
  type OwnershipResult,
  type PutResourcesResult,
  type ResetListener,
  type ResourceEntry,
  type Revision,
  type StatusEntry,
  type StoreChange,
  type StoreSnapshot,
  type Unsubscribe,
  type UserEntry,
  type HookEntry,
  type HookStateEntry,
  type HookSenderRecord,
  HOOK_SENDER_KEY,
} from './store';

export interface EtcdStoreOptions {
  /** `host:port` of each etcd member. */
  endpoints: string[];
  /** Several clusters can share one etcd: keys live under ipfo/<cluster>/. */
  cluster?: string;
  auditRetention?: number;
  /** Deadline of every unary call (streams have none: their deadlines are the lease's). */
  callTimeoutMs?: number;
  /** TLS to etcd (https, verified with `ca`; a client certificate with cert and key); plain http when absent. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** An etcd user (etcd's authentication and RBAC). See main/store/etcd-access.ts. */
  auth?: { username: string; password: string };
}

const DEFAULT_CALL_TIMEOUT_MS = 3000;
const CAS_ATTEMPTS = 50;
/** Audit entries per transaction: etcd allows 128 operations in one (counter + entries + trim). */
const AUDIT_BATCH = 100;
/** Keys one transaction of a batch writes (etcd refuses more than --max-txn-ops, 128 by default). */
const KEYS_PER_TXN = 100;

function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * etcd3 wraps calls in a retry policy and a per-host circuit breaker that, once open, refuses
 * calls for 5 s - long enough to lose a 2 s lease after etcd comes back. Timing here belongs to
 * the lease deadline and the caller, so calls go straight through.
 */
const passThrough = {
  // Always a promise, also when fn throws: etcd3 attaches .catch() to what execute returns.
  execute: (fn: (context: unknown) => unknown) => Promise.resolve().then(() => fn({ attempt: 0 })),
} as unknown as Policy;

function isUnreachable(error: unknown): boolean {
  return error instanceof GRPCUnavailableError || error instanceof GRPCDeadlineExceededError || error instanceof GRPCCancelledError;
}

function storeErrorOf(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  if (error instanceof EtcdLeaseInvalidError) return new StoreError('lease-lost', 'the lease no longer exists in etcd', { cause: error });
  if (error instanceof ClientClosedError) return new StoreError('closed', 'the etcd store is closed', { cause: error });
  if (isUnreachable(error)) return new StoreError('unavailable', `etcd unreachable: ${(error as Error).message}`, { cause: error });
  return error;
}

/**
 * etcd certificates name their members by IP address (subjectAltName IP:...), and grpc-js passes the
 * address as the TLS server name, which Node reports once per process as DEP0123 ("Setting the TLS
 * ServerName to an IP address is not permitted"): a line on an agent's stderr that reads like a fault
 * and is none (the certificate is still checked against the address). Only that warning is dropped.
 */
let serverNameWarningMuted = false;
function muteIpServerNameWarning(): void {
  if (serverNameWarningMuted) return;
  serverNameWarningMuted = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === 'DEP0123') return;
    emitWarning(...args);
  });
}

function revisionOf(kv: IKeyValue | undefined): Revision {
  return kv === undefined ? 0 : Number(kv.mod_revision);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class EtcdStore implements ClusterStore {
  readonly kind = 'etcd';
  private readonly client: Etcd3;
  private readonly keys: KeyLayout;
  private readonly auditRetention: number;
  private readonly auditQueue: Array<{ record: AuditRecord; resolve: (entry: AuditEntry) => void; reject: (error: unknown) => void }> = [];
  private auditFlushing = false;
  private readonly memberships = new Set<EtcdMembership>();
  private readonly watches = new Set<RangeWatch>();
  private readonly refusalContext: RefusalContext;
  private closed = false;

  private constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new StoreError('invalid', 'no etcd endpoint given');
    this.keys = new KeyLayout(options.cluster);
    this.auditRetention = Math.max(1, options.auditRetention ?? DEFAULT_AUDIT_RETENTION);
    const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const scheme = options.tls === undefined ? 'http' : 'https';
    const hosts = options.endpoints.map((endpoint) => `${scheme}://${endpoint}`);
    this.refusalContext = { urls: hosts, prefix: this.keys.root, tls: options.tls !== undefined, clientCert: options.tls?.cert !== undefined, user: options.auth?.username ?? null };
    if (options.tls !== undefined) muteIpServerNameWarning();
    this.client = new Etcd3({
      hosts,
      ...(options.tls === undefined
        ? {}
        : { credentials: { rootCertificate: options.tls.ca, privateKey: options.tls.key, certChain: options.tls.cert } }),
      ...(options.auth === undefined ? {} : { auth: { username: options.auth.username, password: options.auth.password } }),
      grpcOptions: {
        // Reconnect within a second of etcd coming back, not after grpc's default backoff (up to 2 min).
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        // Notice a silently dead connection (cut link); etcd refuses pings more often than every 5 s.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 3000,
        // A full audit read (10,000 entries) or snapshot of a large cluster exceeds grpc's 4 MiB default.
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      },
      faultHandling: { host: () => passThrough, global: passThrough },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    });
  }

  /**
   * Connects and checks that etcd answers and lets us read and write the cluster's keys: StoreError
   * 'unavailable' if it does not answer, 'refused' (one line: what, where, the likely fix) if it
   * turns down our TLS handshake, our user or our permissions.
   */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.checkAccess();
    } catch (error) {
      await store.close();
      const refusal = refusalOf(error, store.refusalContext);
      if (refusal !== null) throw refusal;
      const storeError = storeErrorOf(error);
      if (isStoreError(storeError, 'unavailable')) {
        const reason = error instanceof GRPCUnavailableError ? connectionReason(error.message) : (error as Error).message;
        throw new StoreError('unavailable', `cannot reach etcd at ${store.refusalContext.urls.join(', ')} (${reason})${unreachableHint(error, store.refusalContext)}`, { cause: error });
      }
      throw storeError;
    }
    return store;
  }

  /**
   * One transaction whose comparison never holds (no key has a create revision below 0): etcd checks
   * the permissions of both branches before it looks at the comparison, so a user who may not read
   * the cluster's prefix or write in it is refused here, at start, and nothing is written.
   */
  private async checkAccess(): Promise<void> {
    const root = Buffer.from(this.keys.root);
    const response = await this.client.kv.txn({
      compare: [{ key: root, target: 'Create', result: 'Less', create_revision: 0 }],
      success: [EtcdStore.put(`${this.keys.root}meta/access-check`, '')],
      failure: [{ request_range: { key: root, range_end: prefixEnd(this.keys.root), count_only: true } }],
    });
    if (response.succeeded) throw new StoreError('corrupt', 'etcd answered a comparison that cannot hold as if it held: not an etcd this agent can trust');
  }

  // --- plumbing -----------------------------------------------------------------------------------

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', 'the etcd store is closed');
    try {
      return await fn();
    } catch (error) {
      // A refusal at run time (a role revoked, a password changed) says what and why, as at start.
      throw refusalOf(error, this.refusalContext) ?? storeErrorOf(error);
    }
  }

  private txn(compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
    return this.call(() => this.client.kv.txn({ compare, success, failure }));
  }

  private rangeOf(prefix: string, extra: IRangeRequest = {}): IRequestOp {
    return { request_range: { key: Buffer.from(prefix), range_end: prefixEnd(prefix), ...extra } };
  }

  private async rangeKey(key: string): Promise<IKeyValue | undefined> {
    const response = await this.call(() => this.client.kv.range({ key: Buffer.from(key) }));
    return response.kvs[0];
  }

  private async rangePrefix(prefix: string, extra: IRangeRequest = {}): Promise<IKeyValue[]> {
    const op = this.rangeOf(prefix, extra).request_range ?? {};
    const response = await this.call(() => this.client.kv.range(op));
    return response.kvs;
  }

  private nameOf(kv: IKeyValue, collection: Collection): string {
    return kv.key.toString().slice(this.keys.dir(collection).length);
  }

  /** A record as read, checked in full (record-check.ts): a bad one is left out, and reported in `rejected` when given. */
  private record<C extends Collection>(collection: C, kv: IKeyValue, rejected?: RejectedRecord[]): CollectionValues[C] | null {
    const name = this.nameOf(kv, collection);
    const checked = decodeRecord(collection, name, kv.value.toString());
    if (checked.ok) return checked.value;
    rejected?.push(rejectedRecord(collection, name, kv.key.toString(), checked.reason, revisionOf(kv)));
    return null;
  }

  private modCompare(key: string, revision: Revision): ICompare {
    return { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: revision };
  }

  private static put(key: string, value: string, lease?: LeaseId): IRequestOp {
    return { request_put: { key: Buffer.from(key), value: Buffer.from(value), ...(lease === undefined ? {} : { lease }) } };
  }

  private static del(key: string): IRequestOp {
    return { request_delete_range: { key: Buffer.from(key) } };
  }

  private static getOp(key: string): IRequestOp {
    return { request_range: { key: Buffer.from(key) } };
  }

  /** Put, unconditional or at an expected revision (0 = must not exist). Returns the new revision. */
  private async putJson(key: string, value: unknown, expectRev: Revision | undefined): Promise<Revision> {
    const compare = expectRev === undefined ? [] : [this.modCompare(key, expectRev)];
    const response = await this.txn(compare, [EtcdStore.put(key, encodeJson(value))], [EtcdStore.getOp(key)]);
    if (!response.succeeded) throw new RevisionConflictError(key, expectRev ?? 0, revisionOf(response.responses[0]?.response_range.kvs[0]));
    return Number(response.header.revision);
  }

  /** Delete, unconditional (false when absent) or at an expected revision (0: must not exist). */
  private async deleteKey(key: string, expectRev: Revision | undefined): Promise<boolean> {
    if (expectRev === undefined) {
      const response = await this.call(() => this.client.kv.deleteRange({ key: Buffer.from(key) }));
      return Number(response.deleted) > 0;
    }
    const response = await this.txn([this.modCompare(key, expectRev)], [EtcdStore.del(key)], [EtcdStore.getOp(key)]);
    if (!response.succeeded) throw new RevisionConflictError(key, expectRev, revisionOf(response.responses[0]?.response_range.kvs[0]));
    return expectRev !== 0;
  }

  // --- membership ---------------------------------------------------------------------------------

  async join(node: NodeRecord, options: JoinOptions): Promise<Membership> {
    checkName('node', node.name);
    const nodeKey = this.keys.key('nodes', node.name);
    const grantSentAt = performance.now();
    const grant = await this.call(() => this.client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(options.ttlSec)) }));
    const leaseId = grant.ID;
    const ttlSec = Number(grant.TTL);
    try {
      for (let attempt = 0; ; attempt += 1) {
        const existing = await this.rangeKey(nodeKey);
        // A record that is not one (written by something else) keeps nothing: it is replaced.
        const previous = existing === undefined ? undefined : (this.record('nodes', existing) ?? undefined);
        const record: NodeRecord = { ...node, ...keptByJoin(previous), state: previous?.state ?? node.state, lastSeen: Date.now() };
        const member = { leaseId, joinedAt: record.lastSeen };
        const response = await this.txn(
          [this.modCompare(nodeKey, revisionOf(existing))],
          [EtcdStore.put(nodeKey, encodeJson(record)), EtcdStore.put(this.keys.key('members', node.name), encodeJson(member), leaseId)],
        );
        if (response.succeeded) break;
        if (attempt >= CAS_ATTEMPTS) throw new StoreError('conflict', `node ${node.name}: record keeps changing, join gave up`);
      }
    } catch (error) {
      await revokeLease(this.client.leaseClient, leaseId).catch(() => undefined);
      throw error;
    }
    const membership = new EtcdMembership({
      leases: this.client.leaseClient,
      node: node.name,
      leaseId,
      ttlSec,
      grantSentAt,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? (ttlSec * 1000) / 4,
      ...(options.onRoundTrip ? { onRoundTrip: options.onRoundTrip } : {}),
      onEnd: (ended) => this.memberships.delete(ended),
    });
    this.memberships.add(membership);
    return membership;
  }

  async nodes(): Promise<NodeEntry[]> {
    const response = await this.txn([], [this.rangeOf(this.keys.dir('nodes')), this.rangeOf(this.keys.dir('members'))]);
    return this.nodeEntries(response.responses[0]?.response_range.kvs ?? [], response.responses[1]?.response_range.kvs ?? []);
  }

  private nodeEntries(nodeKvs: IKeyValue[], memberKvs: IKeyValue[], rejected?: RejectedRecord[]): NodeEntry[] {
    const leases = new Map<string, LeaseId>();
    for (const kv of memberKvs) {
      // A member key lives only as long as its lease: one bound to none would keep a node "alive" forever.
      if (kv.lease === '0') rejected?.push(rejectedRecord('members', this.nameOf(kv, 'members'), kv.key.toString(), 'member key not bound to a lease', revisionOf(kv)));
      else if (this.record('members', kv, rejected) !== null) leases.set(this.nameOf(kv, 'members'), kv.lease);
    }
    return nodeKvs.flatMap((kv) => {
      const node = this.record('nodes', kv, rejected);
      if (node === null) return [];
      const leaseId = leases.get(node.name) ?? null;
      return [{ node, alive: leaseId !== null, leaseId, revision: revisionOf(kv) }];
    });
  }

  setNodeState(name: NodeName, state: Exclude<NodeState, 'down'>): Promise<Revision> {
    return this.updateNode(name, (record) => ({ ...record, state }), 'state');
  }

  setNodeMaintenance(name: NodeName, until: number | null): Promise<Revision> {
    return this.updateNode(name, (record) => withMaintenance(record, until), 'maintenance window');
  }

  setNodeMacs(name: NodeName, macs: Record<string, Mac>): Promise<Revision> {
    return this.updateNode(name, (record) => ({ ...record, macs: { ...macs } }), 'MACs');
  }

  private async updateNode(name: NodeName, change: (record: NodeRecord) => NodeRecord, what: string): Promise<Revision> {
    const key = this.keys.key('nodes', name);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const existing = await this.rangeKey(key);
      if (existing === undefined) throw new StoreError('not-found', `node ${name} is not known`);
      const rejected: RejectedRecord[] = [];
      const current = this.record('nodes', existing, rejected);
      if (current === null) throw new StoreError('corrupt', `${key}: ${rejected[0]?.reason ?? 'not a node record'} (write it again with \`ipfo\` or delete it)`);
      const record = change(current);
      try {
        return await this.putJson(key, record, revisionOf(existing));
      } catch (error) {
        if (!(error instanceof RevisionConflictError)) throw error;
      }
    }
    throw new StoreError('conflict', `node ${name}: record keeps changing, ${what} not set`);
  }

  async removeNode(name: NodeName): Promise<boolean> {
    const nodeKey = this.keys.key('nodes', name);
    const memberKey = this.keys.key('members', name);
    const response = await this.txn(
      [
        { key: Buffer.from(memberKey), target: 'Create', result: 'Equal', create_revision: 0 },
        { key: Buffer.from(nodeKey), target: 'Create', result: 'Greater', create_revision: 0 },
      ],
      [EtcdStore.del(nodeKey)],
    );
    return response.succeeded;
  }

  async markLeaving(membership: Membership): Promise<Revision> {
    const memberKey = this.keys.key('members', membership.node);
    const current = await this.rangeKey(memberKey);
    const record = current === undefined ? null : this.record('members', current);
    if (record === null || record.leaseId !== membership.leaseId) throw new StoreError('lease-lost', `node ${membership.node}: its member key is not this membership's`);
    // Only while the key is still this lease's: a rejoin in between keeps its own record.
    const response = await this.txn([this.modCompare(memberKey, revisionOf(current))], [EtcdStore.put(memberKey, encodeJson({ ...record, leaving: true }), membership.leaseId)]);
    if (!response.succeeded) throw new StoreError('lease-lost', `node ${membership.node}: its member key changed`);
    return Number(response.header.revision);
  }

  async revokeMembership(leaseId: LeaseId): Promise<boolean> {
    const revoked = await this.call(() => revokeLease(this.client.leaseClient, leaseId));
    // One of ours: say so now rather than at its next keepalive.
    for (const membership of this.memberships) if (membership.leaseId === leaseId) membership.lose('revoked');
    return revoked;
  }

  // --- resources ------------------------------------------------------------------------------------

  async resources(): Promise<ResourceEntry[]> {
    const kvs = await this.rangePrefix(this.keys.dir('resources'));
    return kvs.flatMap((kv) => {
      const spec = this.record('resources', kv);
      return spec === null ? [] : [{ spec, revision: revisionOf(kv) }];
    });
  }

  putResource(spec: ResourceSpec, expectRev?: Revision): Promise<Revision> {
    return this.putJson(this.keys.key('resources', spec.name), spec, expectRev);
  }

  deleteResource(name: ResourceName, expectRev?: Revision): Promise<boolean> {
    return this.deleteKey(this.keys.key('resources', name), expectRev);
  }

  async replaceResources(entries: ReadonlyArray<{ spec: ResourceSpec; expectRev: Revision }>): Promise<Revision> {
    if (entries.length === 0 || entries.length > MAX_REPLACED_RESOURCES) throw new StoreError('invalid', `replaceResources takes 1 to ${MAX_REPLACED_RESOURCES} resources, got ${entries.length}`);
    const keyed = entries.map(({ spec, expectRev }) => ({ key: this.keys.key('resources', spec.name), spec, expectRev }));
    const response = await this.txn(
      keyed.map(({ key, expectRev }) => this.modCompare(key, expectRev)),
      keyed.map(({ key, spec }) => EtcdStore.put(key, encodeJson(spec))),
      keyed.map(({ key }) => EtcdStore.getOp(key)),
    );
    if (!response.succeeded) {
      const found = keyed.map(({ key, expectRev }, index) => ({ key, expectRev, actual: revisionOf(response.responses[index]?.response_range.kvs[0]) }));
      const changed = found.find(({ expectRev, actual }) => expectRev !== actual) ?? found[0]!;
      throw new RevisionConflictError(changed.key, changed.expectRev, changed.actual);
    }
    return Number(response.header.revision);
  }

  // --- event hooks ---------------------------------------------------------------------------------

  async hooks(): Promise<{ hooks: HookEntry[]; rejected: RejectedRecord[] }> {
    const rejected: RejectedRecord[] = [];
    const kvs = await this.rangePrefix(this.keys.dir('hooks'));
    const hooks = kvs.flatMap((kv) => {
      const hook = this.record('hooks', kv, rejected);
      return hook === null ? [] : [{ hook, revision: revisionOf(kv) }];
    });
    return { hooks, rejected };
  }

  putHook(hook: HookRecord, expectRev?: Revision): Promise<Revision> {
    return this.putJson(this.keys.key('hooks', hook.name), checkedForWrite('hooks', hook.name, hook), expectRev);
  }

  async deleteHook(name: string, expectRev?: Revision): Promise<boolean> {
    const key = this.keys.key('hooks', name);
    const stateKey = this.keys.key('hookstate', name);
    const compare = expectRev === undefined ? [] : [this.modCompare(key, expectRev)];
    const response = await this.txn(compare, [{ request_delete_range: { key: Buffer.from(key), prev_kv: false } }, EtcdStore.del(stateKey)], [EtcdStore.getOp(key)]);
    if (!response.succeeded) throw new RevisionConflictError(key, expectRev ?? 0, revisionOf(response.responses[0]?.response_range.kvs[0]));
    return Number(response.responses[0]?.response_delete_range.deleted ?? 0) > 0;
  }

  async hookStates(): Promise<HookStateEntry[]> {
    const kvs = await this.rangePrefix(this.keys.dir('hookstate'));
    return kvs.flatMap((kv) => {
      const state = this.record('hookstate', kv);
      return state === null ? [] : [{ state, revision: revisionOf(kv) }];
    });
  }

  putHookState(state: HookState, expectRev?: Revision): Promise<Revision> {
    return this.putJson(this.keys.key('hookstate', state.name), checkedForWrite('hookstate', state.name, state), expectRev);
  }

  async hookSender(): Promise<HookSenderRecord | null> {
    const kv = await this.rangeKey(this.keys.key('hooksender', HOOK_SENDER_KEY));
    // A sender key bound to no lease would never go: not a sender.
    if (kv === undefined || kv.lease === '0') return null;
    const record = this.record('hooksender', kv);
    return record !== null && record.leaseId === kv.lease ? record : null;
  }

  async claimHookSender(membership: Membership): Promise<{ ok: boolean; current: HookSenderRecord | null }> {
    const key = this.keys.key('hooksender', HOOK_SENDER_KEY);
    const record: HookSenderRecord = { node: membership.node, leaseId: membership.leaseId };
    const response = await this.txn(
      [{ key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }],
      [EtcdStore.put(key, encodeJson(record), membership.leaseId)],
      [EtcdStore.getOp(key)],
    );
    if (response.succeeded) return { ok: true, current: record };
    const current = await this.hookSender();
    return { ok: current?.leaseId === membership.leaseId, current };
  }

  // --- users ----------------------------------------------------------------------------------------

  async users(): Promise<UserEntry[]> {
    const kvs = await this.rangePrefix(this.keys.dir('users'));
    return kvs.flatMap((kv) => {
      const user = this.record('users', kv);
      return user === null ? [] : [{ user, revision: revisionOf(kv) }];
    });
  }

  async putUser(user: UserRecord, expectRev?: Revision): Promise<Revision> {
    return this.putJson(this.keys.key('users', user.name), checkedForWrite('users', user.name, user), expectRev);
  }

  deleteUser(name: string, expectRev?: Revision): Promise<boolean> {
    return this.deleteKey(this.keys.key('users', name), expectRev);
  }

  // --- ownership ------------------------------------------------------------------------------------

  private ownerEntry(kv: IKeyValue, rejected?: RejectedRecord[]): OwnerEntry | null {
    const resource = this.nameOf(kv, 'owners');
    const owner = decodeOwner(resource, kv.value.toString(), kv.lease);
    if (owner.ok) return { resource, node: owner.node, leaseId: kv.lease, revision: revisionOf(kv) };
    rejected?.push(rejectedRecord('owners', resource, kv.key.toString(), owner.reason, revisionOf(kv)));
    return null;
  }

  async owners(): Promise<OwnerEntry[]> {
    const kvs = await this.rangePrefix(this.keys.dir('owners'));
    return kvs.flatMap((kv) => this.ownerEntry(kv) ?? []);
  }

  private async ownershipTxn(resource: ResourceName, compare: ICompare, success: IRequestOp, after: (revision: Revision) => OwnerEntry | null): Promise<OwnershipResult> {
    const key = this.keys.key('owners', resource);
    const response = await this.txn([compare], [success], [EtcdStore.getOp(key)]);
    if (response.succeeded) return { ok: true, current: after(Number(response.header.revision)) };
    const kv = response.responses[0]?.response_range.kvs[0];
    return { ok: false, current: kv === undefined ? null : this.ownerEntry(kv) };
  }

  acquire(resource: ResourceName, membership: Membership): Promise<OwnershipResult> {
    const key = this.keys.key('owners', resource);
    return this.ownershipTxn(
      resource,
      { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 },
      EtcdStore.put(key, encodeOwnerNode(membership.node), membership.leaseId),
      (revision) => ({ resource, node: membership.node, leaseId: membership.leaseId, revision }),
    );
  }

  /** One transaction per 100 keys, all sent at once, each creating its keys only if none exists; a failed one is retried key by key. */
  async acquireMany(resources: readonly ResourceName[], membership: Membership): Promise<OwnershipResult[]> {
    const results = await Promise.all(chunked(resources, KEYS_PER_TXN).map(async (chunk) => {
      const keys = chunk.map((resource) => Buffer.from(this.keys.key('owners', resource)));
      const compare: ICompare[] = keys.map((key) => ({ key, target: 'Create', result: 'Equal', create_revision: 0 }));
      const response = await this.txn(compare, keys.map((key) => ({ request_put: { key, value: Buffer.from(encodeOwnerNode(membership.node)), lease: membership.leaseId } })));
      if (!response.succeeded) return Promise.all(chunk.map((resource) => this.acquire(resource, membership)));
      const revision = Number(response.header.revision);
      return chunk.map((resource): OwnershipResult => ({ ok: true, current: { resource, node: membership.node, leaseId: membership.leaseId, revision } }));
    }));
    return results.flat();
  }

  transfer(resource: ResourceName, from: NodeName, to: Membership): Promise<OwnershipResult> {
    const key = this.keys.key('owners', resource);
    return this.ownershipTxn(
      resource,
      { key: Buffer.from(key), target: 'Value', result: 'Equal', value: Buffer.from(encodeOwnerNode(from)) },
      EtcdStore.put(key, encodeOwnerNode(to.node), to.leaseId),
      (revision) => ({ resource, node: to.node, leaseId: to.leaseId, revision }),
    );
  }

  /**
   * One transaction per 100 keys, all sent at once: each moves its keys only if `from` owns every one of
   * them; a transaction that fails (one key moved meanwhile) is retried key by key.
   */
  async transferMany(resources: readonly ResourceName[], from: NodeName, to: Membership): Promise<OwnershipResult[]> {
    const chunks = chunked(resources, KEYS_PER_TXN);
    const results = await Promise.all(chunks.map(async (chunk) => {
      const keys = chunk.map((resource) => Buffer.from(this.keys.key('owners', resource)));
      const compare: ICompare[] = keys.map((key) => ({ key, target: 'Value', result: 'Equal', value: Buffer.from(encodeOwnerNode(from)) }));
      const response = await this.txn(compare, keys.map((key) => ({ request_put: { key, value: Buffer.from(encodeOwnerNode(to.node)), lease: to.leaseId } })));
      if (!response.succeeded) return Promise.all(chunk.map((resource) => this.transfer(resource, from, to)));
      const revision = Number(response.header.revision);
      return chunk.map((resource): OwnershipResult => ({ ok: true, current: { resource, node: to.node, leaseId: to.leaseId, revision } }));
    }));
    return results.flat();
  }

  release(resource: ResourceName, node: NodeName): Promise<OwnershipResult> {
    const key = this.keys.key('owners', resource);
    return this.ownershipTxn(
      resource,
      { key: Buffer.from(key), target: 'Value', result: 'Equal', value: Buffer.from(encodeOwnerNode(node)) },
      EtcdStore.del(key),
      () => null,
    );
  }

  // --- status and intents --------------------------------------------------------------------------

  async statuses(): Promise<StatusEntry[]> {
    const kvs = await this.rangePrefix(this.keys.dir('status'));
    return kvs.flatMap((kv) => {
      const status = this.record('status', kv);
      return status === null ? [] : [{ status, revision: revisionOf(kv) }];
    });
  }

  putStatus(status: ResourceStatus, expectRev?: Revision): Promise<Revision> {
    return this.putJson(this.keys.key('status', status.name), status, expectRev);
  }

  async putStatuses(statuses: readonly ResourceStatus[]): Promise<void> {
    await Promise.all(chunked(statuses, KEYS_PER_TXN).map((chunk) => this.txn([], chunk.map((status) => EtcdStore.put(this.keys.key('status', status.name), encodeJson(status))))));
  }

  deleteStatus(name: ResourceName): Promise<boolean> {
    return this.deleteKey(this.keys.key('status', name), undefined);
  }

  async intents(): Promise<IntentEntry[]> {
    const kvs = await this.rangePrefix(this.keys.dir('intents'));
    return kvs.flatMap((kv) => {
      const intent = this.record('intents', kv);
      return intent === null ? [] : [{ intent, revision: revisionOf(kv) }];
    });
  }

  putIntent(intent: Intent, expectRev?: Revision): Promise<Revision> {
    return this.putJson(this.keys.key('intents', intent.id), intent, expectRev);
  }

  deleteIntent(id: string, expectRev?: Revision): Promise<boolean> {
    return this.deleteKey(this.keys.key('intents', id), expectRev);
  }

  // --- audit ------------------------------------------------------------------------------------------

  /**
   * Seq comes from a counter taken by compare-and-swap, so entries are numbered without gaps. Appends
   * of this process are queued and written together (up to AUDIT_BATCH per transaction): during a drain
   * of 1,000 addresses three agents append thousands of entries, and one CAS round per entry made them
   * contend until they gave up.
   */
  appendAudit(record: AuditRecord): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      this.auditQueue.push({ record: fitAuditRecord(record), resolve, reject });
      void this.flushAudit();
    });
  }

  private async flushAudit(): Promise<void> {
    if (this.auditFlushing) return;
    this.auditFlushing = true;
    try {
      while (this.auditQueue.length > 0) {
        const batch = this.auditQueue.splice(0, AUDIT_BATCH);
        try {
          const entries = await this.appendAuditBatch(batch.map((item) => item.record));
          batch.forEach((item, i) => item.resolve(entries[i]!));
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.auditFlushing = false;
    }
  }

  private async appendAuditBatch(records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    const counterKey = this.keys.auditSeqKey;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      const counter = await this.rangeKey(counterKey);
      // A counter that is not one (written by something else) is taken from the newest audit key instead.
      const counted = counter === undefined ? 0 : auditSeqOf(counter.value.toString());
      const first = (counted ?? (await this.lastAuditSeq())) + 1;
      const entries: AuditEntry[] = records.map((record, i) => ({ ...record, seq: first + i }));
      const last = first + records.length - 1;
      const success = [EtcdStore.put(counterKey, String(last)), ...entries.map((entry) => EtcdStore.put(this.keys.auditKey(entry.seq), encodeJson(entry)))];
      const oldestKept = last - this.auditRetention + 1;
      if (oldestKept > 1) {
        success.push({ request_delete_range: { key: Buffer.from(this.keys.dir('audit')), range_end: Buffer.from(this.keys.auditKey(oldestKept)) } });
      }
      const response = await this.txn([this.modCompare(counterKey, revisionOf(counter))], success);
      if (response.succeeded) return entries;
      await pause(Math.random() * 5 * (attempt + 1));
    }
    throw new StoreError('conflict', 'audit log: too much contention, entries not appended');
  }

  /** The seq of the newest well-formed audit key (0 when none). */
  private async lastAuditSeq(): Promise<number> {
    const dir = this.keys.dir('audit');
    const kvs = await this.rangePrefix(dir, { limit: 100, sort_target: 'Key', sort_order: 'Descend', keys_only: true });
    for (const kv of kvs) {
      const seq = auditSeqOf(kv.key.toString().slice(dir.length));
      if (seq !== null) return seq;
    }
    return 0;
  }

  // --- ARP bindings ---------------------------------------------------------------------------------

  async putBindings(record: BindingsRecord): Promise<Revision> {
    return this.putJson(this.keys.key('bindings', record.node), { ...record, bindings: record.bindings.slice(0, MAX_STORED_BINDINGS) }, undefined);
  }

  async bindings(): Promise<BindingsRecord[]> {
    const kvs = await this.rangePrefix(this.keys.dir('bindings'));
    return kvs.flatMap((kv) => this.record('bindings', kv) ?? []);
  }

  // --- health ---------------------------------------------------------------------------------------

  async putHealth(membership: Membership, record: NodeHealth): Promise<Revision> {
    if (record.node !== membership.node) throw new StoreError('invalid', `a health record of ${record.node} cannot be written under ${membership.node}'s lease`);
    const key = this.keys.key('health', record.node);
    const response = await this.txn([], [EtcdStore.put(key, encodeJson(record), membership.leaseId)]);
    return Number(response.header.revision);
  }

  /** Health records bound to a live lease; one bound to none would say a dead node is healthy forever. */
  private healthRecords(kvs: IKeyValue[], rejected: RejectedRecord[]): NodeHealth[] {
    return kvs.flatMap((kv) => {
      if (kv.lease === '0') {
        rejected.push(rejectedRecord('health', this.nameOf(kv, 'health'), kv.key.toString(), 'health record not bound to a lease', revisionOf(kv)));
        return [];
      }
      return this.record('health', kv, rejected) ?? [];
    });
  }

  async audit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? this.auditRetention;
    if (limit <= 0) return [];
    const dir = this.keys.dir('audit');
    let kvs: IKeyValue[];
    if (query.sinceSeq !== undefined) {
      const from = this.keys.auditKey(Math.max(0, Math.floor(query.sinceSeq)) + 1);
      const response = await this.call(() =>
        this.client.kv.range({ key: Buffer.from(from), range_end: prefixEnd(dir), limit, sort_target: 'Key', sort_order: 'Ascend' }),
      );
      kvs = response.kvs;
    } else {
      kvs = (await this.rangePrefix(dir, { limit, sort_target: 'Key', sort_order: 'Descend' })).reverse();
    }
    return kvs.flatMap((kv) => this.record('audit', kv) ?? []);
  }

  // --- snapshot and watch -----------------------------------------------------------------------------

  async snapshot(): Promise<StoreSnapshot> {
    const collections: Collection[] = ['nodes', 'members', 'resources', 'owners', 'status', 'intents', 'users', 'health'];
    const response = await this.txn([], collections.map((collection) => this.rangeOf(this.keys.dir(collection))));
    const kvs = (index: number): IKeyValue[] => response.responses[index]?.response_range.kvs ?? [];
    const rejected: RejectedRecord[] = [];
    const entries = <T>(index: number, read: (kv: IKeyValue) => T | null): T[] => kvs(index).flatMap((kv) => read(kv) ?? []);
    return {
      revision: Number(response.header.revision),
      nodes: this.nodeEntries(kvs(0), kvs(1), rejected),
      resources: entries(2, (kv) => {
        const spec = this.record('resources', kv, rejected);
        return spec === null ? null : { spec, revision: revisionOf(kv) };
      }),
      owners: entries(3, (kv) => this.ownerEntry(kv, rejected)),
      statuses: entries(4, (kv) => {
        const status = this.record('status', kv, rejected);
        return status === null ? null : { status, revision: revisionOf(kv) };
      }),
      intents: entries(5, (kv) => {
        const intent = this.record('intents', kv, rejected);
        return intent === null ? null : { intent, revision: revisionOf(kv) };
      }),
      users: entries(6, (kv) => {
        const user = this.record('users', kv, rejected);
        return user === null ? null : { user, revision: revisionOf(kv) };
      }),
      health: this.healthRecords(kvs(7), rejected),
      rejected,
    };
  }

  private changeOf(event: IEvent, revision: Revision): StoreChange | null {
    const key = event.kv.key.toString();
    const parsed = this.keys.parse(key);
    if (parsed === null) return null; // meta keys are bookkeeping, not cluster state
    const { collection, name } = parsed;
    if (event.type === 'Delete') return { revision, collection, name, kind: 'delete', value: null };
    const text = event.kv.value.toString();
    let checked: { ok: true; value: unknown } | { ok: false; reason: string };
    if (collection === 'owners') {
      const owner = decodeOwner(name, text, event.kv.lease);
      checked = owner.ok ? { ok: true, value: { node: owner.node, leaseId: event.kv.lease } } : owner;
    } else if (collection === 'members' && event.kv.lease === '0') {
      checked = { ok: false, reason: 'member key not bound to a lease' };
    } else if (collection === 'health' && event.kv.lease === '0') {
      checked = { ok: false, reason: 'health record not bound to a lease' };
    } else {
      checked = decodeRecord(collection, name, text);
    }
    // A record that is not one replaces whatever the key held: readers see the key as absent, and why.
    if (!checked.ok) return { revision, collection, name, kind: 'delete', value: null, rejected: rejectedRecord(collection, name, key, checked.reason, revision) };
    return { revision, collection, name, kind: 'put', value: checked.value } as StoreChange;
  }

  async watch(afterRevision: Revision, onChange: ChangeListener, onReset: ResetListener = () => undefined): Promise<Unsubscribe> {
    if (this.closed) throw new StoreError('closed', 'the etcd store is closed');
    const watch: RangeWatch = new RangeWatch({
      watchClient: this.client.watchClient,
      key: Buffer.from(this.keys.root),
      rangeEnd: prefixEnd(this.keys.root),
      afterRevision,
      onEvent: (event, revision) => {
        let change: StoreChange | null;
        try {
          change = this.changeOf(event, revision);
        } catch (error) {
          process.emitWarning(`cluster store watch: skipped an unreadable change: ${String(error)}`);
          return;
        }
        if (change === null) return;
        try {
          onChange(change);
        } catch (error) {
          process.emitWarning(`cluster store watch: listener failed: ${String(error)}`);
        }
      },
      onReset: (reason) => {
        this.watches.delete(watch);
        onReset(reason);
      },
    });
    try {
      await watch.start();
    } catch (error) {
      throw storeErrorOf(error);
    }
    this.watches.add(watch);
    return async () => {
      this.watches.delete(watch);
      await watch.stop();
    };
  }

  reconnect(): void {
    if (this.closed) return;
    // etcd3 has no public call for this; its pool's hosts do (resetAllServices: what it does itself after
    // a recoverable error). Checked, so another etcd3 version is a line in the log, not a crash.
    const hosts = (this.client as unknown as { pool?: { hosts?: unknown } }).pool?.hosts;
    if (!Array.isArray(hosts) || !hosts.every((host) => typeof (host as { resetAllServices?: unknown }).resetAllServices === 'function')) {
      throw new StoreError('unavailable', 'cannot reconnect to etcd: this etcd3 version keeps its connections elsewhere');
    }
    for (const host of hosts as Array<{ resetAllServices(): void }>) host.resetAllServices();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const membership of [...this.memberships]) membership.close();
    await Promise.all([...this.watches].map((watch) => watch.stop()));
    this.watches.clear();
    this.client.close();
  }

  // --- bulk -----------------------------------------------------------------------------------------

  async putResources(specs: readonly ResourceSpec[]): Promise<PutResourcesResult> {
    // Every key is checked before anything is written: a bad name fails the call, not half of it.
    const { unique, repeated } = distinctByName(specs);
    const entries = unique.map((spec) => ({ spec, key: this.keys.key('resources', spec.name) }));
    const collided: ResourceName[] = [...repeated];
    let revision = 0;
    const chunks: Array<typeof entries> = [];
    for (let i = 0; i < entries.length; i += PUT_RESOURCES_TXN_KEYS) chunks.push(entries.slice(i, i + PUT_RESOURCES_TXN_KEYS));
    // A few transactions at once: etcd batches concurrent proposals into one raft round.
    const PARALLEL = 4;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        let chunk = chunks[next++]!;
        // Create-only: every key must not exist. When one does, the transaction wrote nothing; the
        // failure branch says which exist, and the rest is tried again without them.
        while (chunk.length > 0) {
          const response = await this.txn(
            chunk.map(({ key }) => this.modCompare(key, 0)),
            chunk.map(({ key, spec }) => EtcdStore.put(key, encodeJson(spec))),
            chunk.map(({ key }) => ({ request_range: { key: Buffer.from(key), keys_only: true } })),
          );
          revision = Math.max(revision, Number(response.header.revision));
          if (response.succeeded) break;
          const present = new Set(response.responses.flatMap((r) => (r.response_range.kvs.length > 0 ? [r.response_range.kvs[0]!.key.toString()] : [])));
          if (present.size === 0) throw new StoreError('conflict', 'putResources: a create-only transaction failed but no key exists');
          for (const entry of chunk) if (present.has(entry.key)) collided.push(entry.spec.name);
          chunk = chunk.filter((entry) => !present.has(entry.key));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, chunks.length) }, worker));
    return { revision, collided };
  }
}

/** A stored audit sequence number (the counter's value, or an audit key's name): digits only, a safe integer; else null. */
function auditSeqOf(text: string): number | null {
  if (!/^[0-9]{1,16}$/.test(text)) return null;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? seq : null;
}
