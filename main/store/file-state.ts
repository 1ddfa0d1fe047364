// The file store's state in memory (pure; no I/O, no clock): keyed entries with etcd's revision
// bookkeeping (one store revision per commit, create/mod revision per key), leases that own keys,
// and the retained tail of the audit log. Persistence (file-persistence.ts) writes what
// toDisk() returns; leased keys are never written, because leases end with the process.
import { checkRecord, rejectedRecord, type RejectedRecord } from './record-check';
import { StoreError, type AuditEntry, type AuditRecord, type Collection, type CollectionValues, type LeaseId, type Revision, type StoreChange } from './store';

export type KeyedCollection = Exclude<Collection, 'audit'>;

/** Collections written to disk; members, owners and health are bound to leases and live in memory only. */
export const PERSISTENT_COLLECTIONS = ['nodes', 'resources', 'status', 'intents', 'bindings', 'users', 'hooks', 'hookstate'] as const;
export type PersistentCollection = (typeof PERSISTENT_COLLECTIONS)[number];
const KEYED_COLLECTIONS: readonly KeyedCollection[] = ['nodes', 'members', 'resources', 'owners', 'status', 'intents', 'bindings', 'users', 'health', 'hooks', 'hookstate', 'hooksender'];

export interface StoredEntry<C extends KeyedCollection = KeyedCollection> {
  value: CollectionValues[C];
  createRevision: Revision;
  modRevision: Revision;
  lease: LeaseId | null;
}

export type WriteOp = {
  [C in KeyedCollection]: { collection: C; name: string } & ({ value: CollectionValues[C]; lease?: LeaseId } | { value: null });
}[KeyedCollection];

export interface DiskEntry {
  value: unknown;
  create: Revision;
  mod: Revision;
}

export const STATE_FORMAT = 'ipfo-file-store/1';

export interface DiskState {
  format: typeof STATE_FORMAT;
  revision: Revision;
  entries: Record<PersistentCollection, Record<string, DiskEntry>>;
}

/** A retained audit entry and the store revision it was appended at. */
export interface AuditLine {
  revision: Revision;
  entry: AuditEntry;
}

export interface Commit {
  revision: Revision;
  changes: StoreChange[];
  /** True when a persistent collection changed (the state file must be rewritten). */
  persistent: boolean;
}

function isPersistent(collection: Collection): collection is PersistentCollection {
  return (PERSISTENT_COLLECTIONS as readonly string[]).includes(collection);
}

export class FileState {
  private currentRevision: Revision = 0;
  private readonly tables = new Map<KeyedCollection, Map<string, StoredEntry>>(KEYED_COLLECTIONS.map((c) => [c, new Map()]));
  private readonly leases = new Map<LeaseId, Set<string>>();
  private auditLines: AuditLine[] = [];
  private lastAuditSeq = 0;
  private leaseCounter = 0;
  /** Records of the state file that were not what they claimed to be, left out at load (record-check.ts). */
  readonly rejectedAtLoad: RejectedRecord[] = [];

  constructor(
    private readonly auditRetention: number,
    /** Makes lease IDs unique across processes sharing the directory over time. */
    private readonly leasePrefix: string,
  ) {}

  get revision(): Revision {
    return this.currentRevision;
  }

  get(collection: KeyedCollection, name: string): StoredEntry | undefined {
    return this.tables.get(collection)?.get(name);
  }

  list(collection: KeyedCollection): Array<[string, StoredEntry]> {
    return [...(this.tables.get(collection) ?? new Map<string, StoredEntry>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  grantLease(): LeaseId {
    this.leaseCounter += 1;
    const id = `${this.leasePrefix}-${this.leaseCounter}`;
    this.leases.set(id, new Set());
    return id;
  }

  hasLease(id: LeaseId): boolean {
    return this.leases.has(id);
  }

  /** Applies the ops at one new revision (nothing happens, and no revision is used, if none changes a key). */
  commit(ops: readonly WriteOp[]): Commit {
    for (const op of ops) {
      if (op.value !== null && op.lease !== undefined && !this.leases.has(op.lease)) {
        throw new StoreError('lease-lost', `lease ${op.lease} no longer exists`);
      }
    }
    const revision = this.currentRevision + 1;
    const changes: StoreChange[] = [];
    let persistent = false;
    for (const op of ops) {
      const table = this.tables.get(op.collection);
      if (table === undefined) continue;
      const previous = table.get(op.name);
      if (previous !== undefined && previous.lease !== null) this.leases.get(previous.lease)?.delete(`${op.collection}/${op.name}`);
      if (op.value === null) {
        if (previous === undefined) continue;
        table.delete(op.name);
        changes.push({ revision, collection: op.collection, name: op.name, kind: 'delete', value: null });
      } else {
        const lease = op.lease ?? null;
        const value = structuredClone(op.value);
        table.set(op.name, { value, createRevision: previous?.createRevision ?? revision, modRevision: revision, lease });
        if (lease !== null) this.leases.get(lease)?.add(`${op.collection}/${op.name}`);
        changes.push({ revision, collection: op.collection, name: op.name, kind: 'put', value: structuredClone(value) } as StoreChange);
      }
      if (isPersistent(op.collection)) persistent = true;
    }
    if (changes.length > 0) this.currentRevision = revision;
    return { revision: changes.length > 0 ? revision : this.currentRevision, changes, persistent };
  }

  /** Ends a lease and deletes its keys (one revision). Null when the lease did not exist. */
  revokeLease(id: LeaseId): Commit | null {
    const keys = this.leases.get(id);
    if (keys === undefined) return null;
    const ops = [...keys].sort().map((key): WriteOp => {
      const slash = key.indexOf('/');
      return { collection: key.slice(0, slash) as KeyedCollection, name: key.slice(slash + 1), value: null };
    });
    const commit = this.commit(ops);
    this.leases.delete(id);
    return commit;
  }

  appendAudit(record: AuditRecord): { line: AuditLine; commit: Commit } {
    this.lastAuditSeq += 1;
    this.currentRevision += 1;
    const entry: AuditEntry = { ...structuredClone(record), seq: this.lastAuditSeq };
    const line = { revision: this.currentRevision, entry };
    this.auditLines.push(line);
    const changes: StoreChange[] = [{ revision: this.currentRevision, collection: 'audit', name: String(entry.seq), kind: 'put', value: structuredClone(entry) }];
    const excess = this.auditLines.length - this.auditRetention;
    if (excess > 0) {
      for (const dropped of this.auditLines.splice(0, excess)) {
        changes.push({ revision: this.currentRevision, collection: 'audit', name: String(dropped.entry.seq), kind: 'delete', value: null });
      }
    }
    return { line, commit: { revision: this.currentRevision, changes, persistent: false } };
  }

  /** Retained audit lines, oldest first. */
  retainedAudit(): readonly AuditLine[] {
    return this.auditLines;
  }

  toDisk(): DiskState {
    const entries = Object.fromEntries(
      PERSISTENT_COLLECTIONS.map((collection) => [
        collection,
        Object.fromEntries(this.list(collection).map(([name, entry]) => [name, { value: entry.value, create: entry.createRevision, mod: entry.modRevision }])),
      ]),
    ) as DiskState['entries'];
    return { format: STATE_FORMAT, revision: this.currentRevision, entries };
  }

  /** Rebuilds the state from the state file and the audit lines that survived (oldest first). */
  static fromDisk(disk: DiskState | null, audit: readonly AuditLine[], auditRetention: number, leasePrefix: string): FileState {
    const state = new FileState(auditRetention, leasePrefix);
    if (disk !== null) {
      const format: unknown = disk.format;
      if (format !== STATE_FORMAT) throw new StoreError('corrupt', `state file format ${JSON.stringify(format)} is not ${STATE_FORMAT}`);
      state.currentRevision = disk.revision;
      for (const collection of PERSISTENT_COLLECTIONS) {
        const table = state.tables.get(collection);
        for (const [name, stored] of Object.entries(disk.entries[collection] ?? {})) {
          // A record that is not one (the file edited by hand, or by someone else) is left out and reported.
          const checked = checkRecord(collection, name, stored.value);
          if (checked.ok) table?.set(name, { value: checked.value, createRevision: stored.create, modRevision: stored.mod, lease: null });
          else state.rejectedAtLoad.push(rejectedRecord(collection, name, `${collection}/${name}`, checked.reason, stored.mod));
        }
      }
    }
    state.auditLines = audit.slice(-auditRetention).map((line) => ({ revision: line.revision, entry: line.entry }));
    const last = audit[audit.length - 1];
    if (last !== undefined) {
      state.lastAuditSeq = last.entry.seq;
      state.currentRevision = Math.max(state.currentRevision, last.revision);
    }
    return state;
  }
}
