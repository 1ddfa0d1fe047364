// The cluster store for a single host without etcd: state in memory (file-state.ts), made durable
// in a directory (file-persistence.ts) before any write is acknowledged or any change is
// delivered to watchers. Several handles opened in one process share one core (the same
// directory, the same leases); another process is kept out by the lock file.
//
// Leases are process-local: a membership lives until revoked, until the handle that joined is
// closed (then for one more TTL, as an etcd lease whose keepalives stop), or until the process
// dies - so keys bound to leases (members, owners) are never written to disk, and a restarted
// process starts with no members and no owners.
import { mkdirSync, realpathSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { checkTrustedPath } from '../fs/trusted-path';
import type { NodeName, NodeRecord, NodeState, ResourceName, ResourceSpec, ResourceStatus } from '../cluster/model';
import type { Mac } from '../arp/frame';
import type { UserRecord } from '../../preload/contract/users';
import type { HookRecord, HookState } from '../../preload/contract/hooks';
import type { NodeHealth } from '../../preload/contract/health';
import { checkedForWrite } from './codec';
import { fitAuditRecord, type RejectedRecord } from './record-check';
import { FileState, type Commit, type KeyedCollection, type StoredEntry, type WriteOp, type AuditLine } from './file-state';
import { AuditLog, STATE_FILE, lockDirectory, readStateFile, removeStaleTemps, writeFileAtomic } from './file-persistence';
import { checkName } from './keys';
import { keptByJoin, withMaintenance } from './node-record';
import {
  DEFAULT_AUDIT_RETENTION,
  MAX_STORED_BINDINGS,
  MAX_REPLACED_RESOURCES,
  RevisionConflictError,
  distinctByName,
  StoreError,
  type AuditEntry,
  type BindingsRecord,
  type AuditQuery,
  type AuditRecord,
  type ChangeListener,
  type ClusterStore,
  type Intent,
  type IntentEntry,
  type JoinOptions,
  type LeaseId,
  type LeaseLossReason,
  type Membership,
  type MemberRecord,
  type PutResourcesResult,
  type NodeEntry,
  type OwnerEntry,
  type OwnerRecord,
  type OwnershipResult,
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

export interface FileStoreOptions {
  /** The store's directory (created if missing). */
  dir: string;
  auditRetention?: number;
  /** How many past changes a late watch(afterRevision) can still replay. */
  watchHistory?: number;
}

const DEFAULT_WATCH_HISTORY = 10_000;

type MembershipState = 'alive' | 'lost' | 'revoked' | 'detached';

class FileMembership implements Membership {
  private state: MembershipState = 'alive';
  private until = Infinity;
  private readonly lostListeners = new Set<(reason: LeaseLossReason) => void>();

  constructor(
    private readonly core: FileStoreCore,
    readonly node: NodeName,
    readonly leaseId: LeaseId,
    readonly ttlSec: number,
  ) {}

  get ended(): boolean {
    return this.state !== 'alive';
  }

  validUntil(): number {
    return this.until;
  }

  onLost(listener: (reason: LeaseLossReason) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  async revoke(): Promise<void> {
    if (this.state !== 'alive') return;
    this.state = 'revoked';
    await this.core.endLease(this.leaseId);
  }

  /** The joining handle closed: no more renewals, the lease runs out after its TTL. */
  detach(): void {
    if (this.state !== 'alive') return;
    this.state = 'detached';
    this.until = performance.now() + this.ttlSec * 1000;
    this.core.expireLater(this.leaseId, this.ttlSec * 1000);
  }

  lose(reason: LeaseLossReason): void {
    if (this.state !== 'alive') return;
    this.state = 'lost';
    for (const listener of [...this.lostListeners]) {
      try {
        listener(reason);
      } catch (error) {
        process.emitWarning(`membership lost listener failed: ${String(error)}`);
      }
    }
  }
}

interface Subscriber {
  after: Revision;
  queue: StoreChange[];
  scheduled: boolean;
  active: boolean;
  onChange: ChangeListener;
}

/** One directory's state, shared by every handle of this process. */
class FileStoreCore {
  private static readonly open = new Map<string, Promise<FileStoreCore>>();
  private static readonly closing = new Map<string, Promise<void>>();

  private refs = 0;
  private released = false;
  private pendingChanges: StoreChange[] = [];
  private pendingAudit: AuditLine[] = [];
  private dirty = false;
  private flushChain: Promise<void> = Promise.resolve();
  private readonly subscribers = new Set<Subscriber>();
  private history: StoreChange[] = [];
  /** Changes up to this revision can no longer be replayed. */
  private historyFloor: Revision;
  private readonly memberships = new Map<LeaseId, FileMembership>();
  private readonly expiryTimers = new Map<LeaseId, NodeJS.Timeout>();

  private constructor(
    readonly dir: string,
    readonly state: FileState,
    private readonly auditLog: AuditLog,
    private readonly releaseLock: () => void,
    readonly auditRetention: number,
    private readonly watchHistory: number,
  ) {
    this.historyFloor = state.revision;
  }

  static async acquire(options: FileStoreOptions): Promise<FileStoreCore> {
    // The directory and every one above it must be root's or this user's, not writable by others
    // (main/fs/trusted-path.ts): checked before it is created (what exists) and after (all of it).
    const label = `--store file:${options.dir}`;
    checkTrustedPath(options.dir, { label });
    if (process.platform === 'win32') await (await import('../service/windows-acl.js')).checkWindowsTrustedPath(options.dir, { label });
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const dir = realpathSync(checkTrustedPath(options.dir, { label }).resolved);
    for (;;) {
      // A core of this directory still closing holds the lock and may still write: wait for it.
      const closing = FileStoreCore.closing.get(dir);
      if (closing !== undefined) {
        await closing.catch(() => undefined);
        continue;
      }
      let opening = FileStoreCore.open.get(dir);
      if (opening === undefined) {
        opening = FileStoreCore.load(dir, options);
        FileStoreCore.open.set(dir, opening);
        opening.catch(() => FileStoreCore.open.delete(dir));
      }
      const core = await opening;
      if (core.released) continue; // its last handle closed while we waited
      core.refs += 1;
      return core;
    }
  }

  private static async load(dir: string, options: FileStoreOptions): Promise<FileStoreCore> {
    const releaseLock = lockDirectory(dir);
    try {
      removeStaleTemps(dir);
      const auditRetention = Math.max(1, options.auditRetention ?? DEFAULT_AUDIT_RETENTION);
      const disk = await readStateFile(dir);
      const { log, lines } = await AuditLog.open(dir);
      const state = FileState.fromDisk(disk, lines, auditRetention, randomBytes(6).toString('hex'));
      return new FileStoreCore(dir, state, log, releaseLock, auditRetention, options.watchHistory ?? DEFAULT_WATCH_HISTORY);
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  // --- writes ---------------------------------------------------------------------------------------

  /** Records a commit and resolves once it is on disk (and delivered to watchers). */
  async record(commit: Commit, auditLine?: AuditLine): Promise<void> {
    if (commit.changes.length === 0) return;
    this.pendingChanges.push(...commit.changes);
    if (commit.persistent) this.dirty = true;
    if (auditLine !== undefined) this.pendingAudit.push(auditLine);
    const flushed = this.flushChain.then(() => this.flushOnce());
    this.flushChain = flushed.catch(() => undefined);
    await flushed;
  }

  /** Group commit: one flush writes everything recorded since the previous one. */
  private async flushOnce(): Promise<void> {
    if (this.pendingChanges.length === 0) return;
    const changes = this.pendingChanges;
    const audit = this.pendingAudit;
    const dirty = this.dirty;
    this.pendingChanges = [];
    this.pendingAudit = [];
    this.dirty = false;
    // Captured now: later commits belong to the next flush.
    const stateText = dirty ? JSON.stringify(this.state.toDisk()) : null;
    const slack = Math.max(64, Math.ceil(this.auditRetention / 8));
    const rewriteAudit = audit.length > 0 && this.auditLog.lineCount + audit.length > this.auditRetention + slack;
    const retained = rewriteAudit ? [...this.state.retainedAudit()] : [];
    try {
      if (stateText !== null) await writeFileAtomic(join(this.dir, STATE_FILE), stateText);
      if (rewriteAudit) await this.auditLog.rewrite(retained);
      else await this.auditLog.append(audit);
    } catch (error) {
      // Outcome unknown to the writer (like a timeout); the next flush tries again.
      this.pendingChanges = [...changes, ...this.pendingChanges];
      this.pendingAudit = [...audit, ...this.pendingAudit];
      this.dirty ||= dirty;
      throw new StoreError('unavailable', `file store ${this.dir}: write failed: ${String(error)}`, { cause: error });
    }
    this.deliver(changes);
  }

  // --- leases ---------------------------------------------------------------------------------------

  register(membership: FileMembership): void {
    this.memberships.set(membership.leaseId, membership);
  }

  /** Revokes a lease now; false when it no longer existed. */
  async endLease(leaseId: LeaseId, lossReason?: LeaseLossReason): Promise<boolean> {
    const timer = this.expiryTimers.get(leaseId);
    if (timer !== undefined) clearTimeout(timer);
    this.expiryTimers.delete(leaseId);
    const membership = this.memberships.get(leaseId);
    this.memberships.delete(leaseId);
    const commit = this.state.revokeLease(leaseId);
    if (commit === null) return false;
    if (lossReason !== undefined) membership?.lose(lossReason);
    await this.record(commit);
    return true;
  }

  expireLater(leaseId: LeaseId, ms: number): void {
    this.expiryTimers.set(
      leaseId,
      setTimeout(() => {
        this.expiryTimers.delete(leaseId);
        this.endLease(leaseId).catch((error: unknown) => process.emitWarning(`file store: lease expiry not written: ${String(error)}`));
      }, ms),
    );
  }

  // --- watch ----------------------------------------------------------------------------------------

  private deliver(changes: readonly StoreChange[]): void {
    this.history.push(...changes);
    const excess = this.history.length - this.watchHistory;
    if (excess > 0) {
      const dropped = this.history.splice(0, excess);
      this.historyFloor = Math.max(this.historyFloor, dropped[dropped.length - 1]?.revision ?? 0);
    }
    for (const subscriber of this.subscribers) this.enqueue(subscriber, changes);
  }

  private enqueue(subscriber: Subscriber, changes: readonly StoreChange[]): void {
    for (const change of changes) if (change.revision > subscriber.after) subscriber.queue.push(change);
    if (subscriber.queue.length === 0 || subscriber.scheduled) return;
    subscriber.scheduled = true;
    // Delivered in a later microtask, in order, so a listener never runs inside a store call.
    queueMicrotask(() => {
      subscriber.scheduled = false;
      while (subscriber.active && subscriber.queue.length > 0) {
        const change = subscriber.queue.shift() as StoreChange;
        subscriber.after = change.revision;
        try {
          subscriber.onChange(change);
        } catch (error) {
          process.emitWarning(`cluster store watch: listener failed: ${String(error)}`);
        }
      }
    });
  }

  subscribe(afterRevision: Revision, onChange: ChangeListener, onReset: ResetListener): (() => void) | null {
    if (afterRevision < this.historyFloor) {
      queueMicrotask(() => onReset(`changes up to revision ${this.historyFloor} are no longer kept; take a new snapshot`));
      return null;
    }
    const subscriber: Subscriber = { after: afterRevision, queue: [], scheduled: false, active: true, onChange };
    this.subscribers.add(subscriber);
    this.enqueue(subscriber, this.history);
    return () => {
      subscriber.active = false;
      this.subscribers.delete(subscriber);
    };
  }

  // --- lifetime -------------------------------------------------------------------------------------

  async release(): Promise<void> {
    this.refs -= 1;
    if (this.refs > 0) return;
    this.released = true;
    FileStoreCore.open.delete(this.dir);
    for (const timer of this.expiryTimers.values()) clearTimeout(timer);
    this.expiryTimers.clear();
    this.subscribers.clear();
    const closing = this.flushChain.finally(() => {
      this.releaseLock();
      FileStoreCore.closing.delete(this.dir);
    });
    FileStoreCore.closing.set(this.dir, closing);
    await closing;
  }
}

function ownerEntry(resource: ResourceName, entry: StoredEntry): OwnerEntry {
  const owner = entry.value as OwnerRecord;
  return { resource, node: owner.node, leaseId: owner.leaseId, revision: entry.modRevision };
}

export class FileStore implements ClusterStore {
  readonly kind = 'file';
  private closed = false;
  private readonly joined = new Set<FileMembership>();
  private readonly unsubscribes = new Set<() => void>();

  private constructor(private readonly core: FileStoreCore) {}

  static async open(options: FileStoreOptions): Promise<FileStore> {
    return new FileStore(await FileStoreCore.acquire(options));
  }

  get dir(): string {
    return this.core.dir;
  }

  private get state(): FileState {
    if (this.closed) throw new StoreError('closed', 'the file store is closed');
    return this.core.state;
  }

  private revisionOf(collection: KeyedCollection, name: string): Revision {
    return this.state.get(collection, name)?.modRevision ?? 0;
  }

  private checkExpected(collection: KeyedCollection, name: string, expectRev: Revision | undefined): void {
    const actual = this.revisionOf(collection, name);
    if (expectRev !== undefined && actual !== expectRev) throw new RevisionConflictError(`${collection}/${name}`, expectRev, actual);
  }

  private async commit(ops: WriteOp[]): Promise<Revision> {
    const commit = this.state.commit(ops);
    await this.core.record(commit);
    return commit.revision;
  }

  private async putChecked(op: WriteOp, expectRev: Revision | undefined): Promise<Revision> {
    checkName(op.collection, op.name);
    this.checkExpected(op.collection, op.name, expectRev);
    return this.commit([op]);
  }

  private async deleteChecked(collection: KeyedCollection, name: string, expectRev: Revision | undefined): Promise<boolean> {
    this.checkExpected(collection, name, expectRev);
    if (this.state.get(collection, name) === undefined) return false;
    await this.commit([{ collection, name, value: null }]);
    return true;
  }

  /** Reads are synchronous in memory; errors still arrive as rejections, as from etcd. */
  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private values<C extends KeyedCollection>(collection: C): Array<{ name: string; entry: StoredEntry<C> }> {
    return this.state.list(collection).map(([name, entry]) => ({ name, entry: structuredClone(entry) as StoredEntry<C> }));
  }

  // --- membership ---------------------------------------------------------------------------------

  async join(node: NodeRecord, options: JoinOptions): Promise<Membership> {
    checkName('node', node.name);
    const state = this.state;
    const ttlSec = Math.max(1, Math.ceil(options.ttlSec));
    const leaseId = state.grantLease();
    const existing = state.get('nodes', node.name)?.value as NodeRecord | undefined;
    const record: NodeRecord = { ...node, ...keptByJoin(existing), state: existing?.state ?? node.state, lastSeen: Date.now() };
    const membership = new FileMembership(this.core, node.name, leaseId, ttlSec);
    this.core.register(membership);
    for (const earlier of this.joined) if (earlier.ended) this.joined.delete(earlier);
    this.joined.add(membership);
    await this.commit([
      { collection: 'nodes', name: node.name, value: record },
      { collection: 'members', name: node.name, value: { leaseId, joinedAt: record.lastSeen }, lease: leaseId },
    ]);
    return membership;
  }

  nodes(): Promise<NodeEntry[]> {
    return this.read(() => this.nodeEntries());
  }

  async markLeaving(membership: Membership): Promise<Revision> {
    const current = this.state.get('members', membership.node);
    const record = current?.value as MemberRecord | undefined;
    if (record === undefined || record.leaseId !== membership.leaseId) throw new StoreError('lease-lost', `node ${membership.node}: its member key is not this membership's`);
    return this.commit([{ collection: 'members', name: membership.node, value: { ...record, leaving: true }, lease: membership.leaseId }]);
  }

  private nodeEntries(): NodeEntry[] {
    return this.values('nodes').map(({ name, entry }) => {
      const member = this.state.get('members', name);
      return { node: entry.value, alive: member !== undefined, leaseId: member?.lease ?? null, revision: entry.modRevision };
    });
  }

  async setNodeState(name: NodeName, nodeState: Exclude<NodeState, 'down'>): Promise<Revision> {
    const existing = this.state.get('nodes', name);
    if (existing === undefined) throw new StoreError('not-found', `node ${name} is not known`);
    return this.commit([{ collection: 'nodes', name, value: { ...(existing.value as NodeRecord), state: nodeState } }]);
  }

  async setNodeMaintenance(name: NodeName, until: number | null): Promise<Revision> {
    const existing = this.state.get('nodes', name);
    if (existing === undefined) throw new StoreError('not-found', `node ${name} is not known`);
    return this.commit([{ collection: 'nodes', name, value: withMaintenance(existing.value as NodeRecord, until) }]);
  }

  async setNodeMacs(name: NodeName, macs: Record<string, Mac>): Promise<Revision> {
    const existing = this.state.get('nodes', name);
    if (existing === undefined) throw new StoreError('not-found', `node ${name} is not known`);
    return this.commit([{ collection: 'nodes', name, value: { ...(existing.value as NodeRecord), macs: { ...macs } } }]);
  }

  async removeNode(name: NodeName): Promise<boolean> {
    if (this.state.get('members', name) !== undefined) return false;
    return this.deleteChecked('nodes', name, undefined);
  }

  async revokeMembership(leaseId: LeaseId): Promise<boolean> {
    if (this.closed) throw new StoreError('closed', 'the file store is closed');
    return this.core.endLease(leaseId, 'revoked');
  }

  // --- resources ------------------------------------------------------------------------------------

  resources(): Promise<ResourceEntry[]> {
    return this.read(() => this.values('resources').map(({ entry }) => ({ spec: entry.value, revision: entry.modRevision })));
  }

  putResource(spec: ResourceSpec, expectRev?: Revision): Promise<Revision> {
    return this.putChecked({ collection: 'resources', name: spec.name, value: spec }, expectRev);
  }

  deleteResource(name: ResourceName, expectRev?: Revision): Promise<boolean> {
    return this.deleteChecked('resources', name, expectRev);
  }

  async replaceResources(entries: ReadonlyArray<{ spec: ResourceSpec; expectRev: Revision }>): Promise<Revision> {
    if (entries.length === 0 || entries.length > MAX_REPLACED_RESOURCES) throw new StoreError('invalid', `replaceResources takes 1 to ${MAX_REPLACED_RESOURCES} resources, got ${entries.length}`);
    for (const { spec, expectRev } of entries) {
      checkName('resources', spec.name);
      this.checkExpected('resources', spec.name, expectRev);
    }
    return this.commit(entries.map(({ spec }) => ({ collection: 'resources' as const, name: spec.name, value: spec })));
  }

  // --- users ----------------------------------------------------------------------------------------

  users(): Promise<UserEntry[]> {
    return this.read(() => this.values('users').map(({ entry }) => ({ user: entry.value, revision: entry.modRevision })));
  }

  async putUser(user: UserRecord, expectRev?: Revision): Promise<Revision> {
    return this.putChecked({ collection: 'users', name: user.name, value: checkedForWrite('users', user.name, user) }, expectRev);
  }

  deleteUser(name: string, expectRev?: Revision): Promise<boolean> {
    return this.deleteChecked('users', name, expectRev);
  }

  // --- event hooks ---------------------------------------------------------------------------------

  hooks(): Promise<{ hooks: HookEntry[]; rejected: RejectedRecord[] }> {
    return this.read(() => ({
      hooks: this.values('hooks').map(({ entry }) => ({ hook: entry.value, revision: entry.modRevision })),
      rejected: this.state.rejectedAtLoad.filter((record) => record.collection === 'hooks' && this.state.get('hooks', record.name) === undefined),
    }));
  }

  putHook(hook: HookRecord, expectRev?: Revision): Promise<Revision> {
    try {
      return this.putChecked({ collection: 'hooks', name: hook.name, value: checkedForWrite('hooks', hook.name, hook) }, expectRev);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async deleteHook(name: string, expectRev?: Revision): Promise<boolean> {
    this.checkExpected('hooks', name, expectRev);
    const ops: WriteOp[] = [];
    if (this.state.get('hooks', name) !== undefined) ops.push({ collection: 'hooks', name, value: null });
    if (this.state.get('hookstate', name) !== undefined) ops.push({ collection: 'hookstate', name, value: null });
    if (ops.length === 0) return false;
    await this.commit(ops);
    return ops[0]!.collection === 'hooks';
  }

  hookStates(): Promise<HookStateEntry[]> {
    return this.read(() => this.values('hookstate').map(({ entry }) => ({ state: entry.value, revision: entry.modRevision })));
  }

  putHookState(state: HookState, expectRev?: Revision): Promise<Revision> {
    try {
      return this.putChecked({ collection: 'hookstate', name: state.name, value: checkedForWrite('hookstate', state.name, state) }, expectRev);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  hookSender(): Promise<HookSenderRecord | null> {
    return this.read(() => structuredClone(this.state.get('hooksender', HOOK_SENDER_KEY)?.value ?? null) as HookSenderRecord | null);
  }

  async claimHookSender(membership: Membership): Promise<{ ok: boolean; current: HookSenderRecord | null }> {
    const current = this.state.get('hooksender', HOOK_SENDER_KEY)?.value as HookSenderRecord | undefined;
    if (current !== undefined) return { ok: current.leaseId === membership.leaseId, current: structuredClone(current) };
    if (membership.ended) throw new StoreError('lease-lost', `node ${membership.node}: the membership has ended`);
    const record: HookSenderRecord = { node: membership.node, leaseId: membership.leaseId };
    await this.commit([{ collection: 'hooksender', name: HOOK_SENDER_KEY, value: record, lease: membership.leaseId }]);
    return { ok: true, current: record };
  }

  // --- ownership ------------------------------------------------------------------------------------

  owners(): Promise<OwnerEntry[]> {
    return this.read(() => this.values('owners').map(({ name, entry }) => ownerEntry(name, entry)));
  }

  private currentOwner(resource: ResourceName): OwnerEntry | null {
    const entry = this.state.get('owners', checkName('resource', resource));
    return entry === undefined ? null : ownerEntry(resource, structuredClone(entry));
  }

  private async takeOwnership(resource: ResourceName, membership: Membership): Promise<OwnershipResult> {
    const owner: OwnerRecord = { node: membership.node, leaseId: membership.leaseId };
    await this.commit([{ collection: 'owners', name: resource, value: owner, lease: membership.leaseId }]);
    return { ok: true, current: this.currentOwner(resource) };
  }

  async acquire(resource: ResourceName, membership: Membership): Promise<OwnershipResult> {
    const current = this.currentOwner(resource);
    if (current !== null) return { ok: false, current };
    return this.takeOwnership(resource, membership);
  }

  async transfer(resource: ResourceName, from: NodeName, to: Membership): Promise<OwnershipResult> {
    const current = this.currentOwner(resource);
    if (current === null || current.node !== from) return { ok: false, current };
    return this.takeOwnership(resource, to);
  }

  /** One write for every key nobody owns; the others are reported as they stand. */
  async acquireMany(resources: readonly ResourceName[], membership: Membership): Promise<OwnershipResult[]> {
    const taken = resources.map((resource): OwnershipResult | null => {
      const current = this.currentOwner(resource);
      return current === null ? null : { ok: false, current };
    });
    const owner: OwnerRecord = { node: membership.node, leaseId: membership.leaseId };
    const ops: WriteOp[] = resources.flatMap((resource, i) => (taken[i] === null ? [{ collection: 'owners' as const, name: resource, value: owner, lease: membership.leaseId }] : []));
    if (ops.length > 0) await this.commit(ops);
    return resources.map((resource, i) => taken[i] ?? { ok: true, current: this.currentOwner(resource) });
  }

  /** One write for every key `from` owns; the others are reported as they stand. */
  async transferMany(resources: readonly ResourceName[], from: NodeName, to: Membership): Promise<OwnershipResult[]> {
    const refused = resources.map((resource): OwnershipResult | null => {
      const current = this.currentOwner(resource);
      return current === null || current.node !== from ? { ok: false, current } : null;
    });
    const owner: OwnerRecord = { node: to.node, leaseId: to.leaseId };
    const ops: WriteOp[] = resources.flatMap((resource, i) => (refused[i] === null ? [{ collection: 'owners' as const, name: resource, value: owner, lease: to.leaseId }] : []));
    if (ops.length > 0) await this.commit(ops);
    return resources.map((resource, i) => refused[i] ?? { ok: true, current: this.currentOwner(resource) });
  }

  async release(resource: ResourceName, node: NodeName): Promise<OwnershipResult> {
    const current = this.currentOwner(resource);
    if (current === null || current.node !== node) return { ok: false, current };
    await this.commit([{ collection: 'owners', name: resource, value: null }]);
    return { ok: true, current: null };
  }

  // --- status and intents --------------------------------------------------------------------------

  statuses(): Promise<StatusEntry[]> {
    return this.read(() => this.values('status').map(({ entry }) => ({ status: entry.value, revision: entry.modRevision })));
  }

  putStatus(status: ResourceStatus, expectRev?: Revision): Promise<Revision> {
    return this.putChecked({ collection: 'status', name: status.name, value: status }, expectRev);
  }

  async putStatuses(statuses: readonly ResourceStatus[]): Promise<void> {
    for (const status of statuses) checkName('status', status.name);
    if (statuses.length > 0) await this.commit(statuses.map((status) => ({ collection: 'status' as const, name: status.name, value: status })));
  }

  deleteStatus(name: ResourceName): Promise<boolean> {
    return this.deleteChecked('status', name, undefined);
  }

  async putBindings(record: BindingsRecord): Promise<Revision> {
    checkName('node', record.node);
    return this.putChecked({ collection: 'bindings', name: record.node, value: { ...record, bindings: record.bindings.slice(0, MAX_STORED_BINDINGS) } }, undefined);
  }

  bindings(): Promise<BindingsRecord[]> {
    return this.read(() => this.values('bindings').map(({ entry }) => entry.value));
  }

  putHealth(membership: Membership, record: NodeHealth): Promise<Revision> {
    if (record.node !== membership.node) return Promise.reject(new StoreError('invalid', `a health record of ${record.node} cannot be written under ${membership.node}'s lease`));
    return this.commit([{ collection: 'health', name: record.node, value: record, lease: membership.leaseId }]);
  }

  intents(): Promise<IntentEntry[]> {
    return this.read(() => this.values('intents').map(({ entry }) => ({ intent: entry.value, revision: entry.modRevision })));
  }

  putIntent(intent: Intent, expectRev?: Revision): Promise<Revision> {
    return this.putChecked({ collection: 'intents', name: intent.id, value: intent }, expectRev);
  }

  deleteIntent(id: string, expectRev?: Revision): Promise<boolean> {
    return this.deleteChecked('intents', id, expectRev);
  }

  // --- audit ------------------------------------------------------------------------------------------

  async appendAudit(record: AuditRecord): Promise<AuditEntry> {
    const { line, commit } = this.state.appendAudit(fitAuditRecord(record));
    await this.core.record(commit, line);
    return structuredClone(line.entry);
  }

  audit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return this.read(() => {
      const limit = query.limit ?? this.core.auditRetention;
      if (limit <= 0) return [];
      const lines = this.state.retainedAudit();
      const sinceSeq = query.sinceSeq;
      const selected = sinceSeq === undefined ? lines.slice(-limit) : lines.filter((line) => line.entry.seq > sinceSeq).slice(0, limit);
      return selected.map((line) => structuredClone(line.entry));
    });
  }

  // --- snapshot and watch -----------------------------------------------------------------------------

  snapshot(): Promise<StoreSnapshot> {
    return this.read(() => ({
      revision: this.state.revision,
      nodes: this.nodeEntries(),
      resources: this.values('resources').map(({ entry }) => ({ spec: entry.value, revision: entry.modRevision })),
      owners: this.values('owners').map(({ name, entry }) => ownerEntry(name, entry)),
      statuses: this.values('status').map(({ entry }) => ({ status: entry.value, revision: entry.modRevision })),
      intents: this.values('intents').map(({ entry }) => ({ intent: entry.value, revision: entry.modRevision })),
      users: this.values('users').map(({ entry }) => ({ user: entry.value, revision: entry.modRevision })),
      health: this.values('health').map(({ entry }) => entry.value),
      // Until the key is written again.
      rejected: this.state.rejectedAtLoad.filter((record) => this.state.get(record.collection as KeyedCollection, record.name) === undefined),
    }));
  }

  watch(afterRevision: Revision, onChange: ChangeListener, onReset: ResetListener = () => undefined): Promise<Unsubscribe> {
    return this.read(() => {
      if (this.closed) throw new StoreError('closed', 'the file store is closed');
      const unsubscribe = this.core.subscribe(afterRevision, onChange, onReset) ?? ((): void => undefined);
      this.unsubscribes.add(unsubscribe);
      return () => {
        this.unsubscribes.delete(unsubscribe);
        unsubscribe();
        return Promise.resolve();
      };
    });
  }

  reconnect(): void {
    // A file has no connection to drop.
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes.clear();
    for (const membership of this.joined) membership.detach();
    this.joined.clear();
    await this.core.release();
  }

  // --- bulk -----------------------------------------------------------------------------------------

  async putResources(specs: readonly ResourceSpec[]): Promise<PutResourcesResult> {
    const { unique, repeated } = distinctByName(specs);
    for (const spec of unique) checkName('resources', spec.name);
    const collided: ResourceName[] = [...repeated];
    const ops: WriteOp[] = [];
    for (const spec of unique) {
      if (this.state.get('resources', spec.name) !== undefined) collided.push(spec.name);
      else ops.push({ collection: 'resources', name: spec.name, value: spec });
    }
    // One commit: one revision and one write of the state file for the whole batch.
    const revision = ops.length === 0 ? 0 : await this.commit(ops);
    return { revision, collided };
  }
}
