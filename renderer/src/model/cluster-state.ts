// The console's copy of the cluster: a snapshot push replaces it, each change push after it applies
// on top (protocol.ts: pushes arrive in revision order, a change already in the snapshot is never
// sent, none is skipped; main/api/handler.ts: several changes made together may share a revision,
// and revisions may jump, so only a revision going BACKWARDS shows a broken stream). Pure and copy-on-write: a batch of pushes copies each touched collection
// once, so 1,000 changes a second cost a few copies per frame, not one per change. The resources,
// up to 100,000, are a BucketMap (bucket-map.ts): a batch copies only the buckets it writes. Each
// state also carries the resources' per-state counts and a short journal of the names each batch
// changed (resourceLog), so that the table can refresh only those rows (resource-table.ts).
//
// The paged stream (protocol.ts): a head replaces everything like a snapshot, but brings only the
// first page of the console's view; the rest of the resources follow in rows pushes while changes
// keep coming. Until the last rows push, `loading` says what is known: `resources` then holds the
// page and whatever changed since the head (exactly the rows the view can show for sure:
// resource-table.ts loadingRows), and the rows received so far wait in `loading.rows`, where a row
// already changed or removed since the head is never put. The last rows push makes them `resources`.
import type { AuditEntry, ConflictRecord, NodeRecord, RejectedStoreRecord, ResourceState, ResourceView, Snapshot } from '../../../preload/contract/domain';
import type { Change, Push, SnapshotHeadPush } from '../../../preload/contract/protocol';
import type { ResourceTableView } from '../../../preload/contract/resource-order';
import { RESOURCE_STATES } from '../../../preload/contract/domain';
import { BucketMap, type BucketMapEditor } from './bucket-map';
import { shareUnchanged } from './share-unchanged';

/** The newest audit entries a console keeps (the snapshot brings 200; the live stream adds to them). */
export const CONSOLE_EVENTS_LIMIT = 1_000;

/** A paged snapshot still arriving (see the header). */
export interface SnapshotLoading {
  /** The head's revision: rows pushes of another one belong to an abandoned snapshot. */
  readonly revision: number;
  /** The view the head's page was computed for. */
  readonly view: ResourceTableView;
  /** Resources in the snapshot, those passing the view's filter, per state: at the head's revision. */
  readonly resourceCount: number;
  readonly matching: number;
  readonly states: Readonly<Record<ResourceState, number>>;
  /**
   * The page's last row as it was at the head's revision; null when the page holds every matching
   * row. Every row of the view that sorts at or before it is known.
   */
  readonly boundary: ResourceView | null;
  /** Rows received (the last rows push must bring the total to resourceCount). */
  readonly received: number;
  /**
   * Written in place as pushes arrive (never read before the last rows push): the rows of the
   * snapshot received so far, and the names changed or removed since it. Writes are idempotent, so
   * a state updater run twice gives the same result.
   */
  readonly rows: BucketMapEditor<ResourceView>;
  readonly touched: Set<string>;
}

export interface ClusterState {
  /** Revision of the last push applied; null before the first snapshot. */
  readonly revision: number | null;
  /** Revision of the snapshot this copy started from: changes at or below it are already in. */
  readonly snapshotRevision: number | null;
  /**
   * Change pushes applied since that snapshot (pushes already in the snapshot or ignored do not
   * count): with the agent's count of changes sent, it tells whether any was dropped on the way.
   */
  readonly changesApplied: number;
  readonly nodes: ReadonlyMap<string, NodeRecord>;
  readonly resources: ReadonlyMap<string, ResourceView>;
  /** Keyed by conflictKey(node, address, theirMac). */
  readonly conflicts: ReadonlyMap<string, ConflictRecord>;
  /** Oldest first, by seq, at most the cap. */
  readonly events: readonly AuditEntry[];
  /** Store records the agents leave out (not what they claim to be), by store key. */
  readonly rejected: ReadonlyMap<string, RejectedStoreRecord>;
  /**
   * A change arrived with a revision below one already applied: the stream is out of order and this
   * copy cannot be trusted. The console then resubscribes (a fresh snapshot replaces everything).
   */
  readonly outOfSync: boolean;
  /** A paged snapshot whose rows are still arriving, null when `resources` is the whole cluster. */
  readonly loading: SnapshotLoading | null;
  /** Resources per state (of `resources`; while loading, the head's counts are the ones to show). */
  readonly resourceStates: Readonly<Record<ResourceState, number>>;
  /** What the last batches did to `resources` (see ResourceLog). */
  readonly resourceLog: ResourceLog;
}

/**
 * `version` counts the versions of `resources`; `recent` holds, for the newest few, the names each
 * one changed (added, replaced or removed), or null when it replaced the whole map (a snapshot, a
 * head, the last rows push). Who knows an older version can tell what changed since, if it is recent.
 */
export interface ResourceLog {
  readonly version: number;
  readonly recent: ReadonlyArray<{ readonly version: number; readonly names: readonly string[] | null }>;
}

/** Versions the journal keeps: a table that skipped more renders than that computes its rows afresh. */
const LOG_LENGTH = 16;

/** The names changed in `resources` since `version` (null: more than that, or unknown). */
export function resourceChangesSince(log: ResourceLog, version: number): string[] | null {
  if (version === log.version) return [];
  if (version > log.version) return null;
  const names: string[] = [];
  let expected = version + 1;
  for (const entry of log.recent) {
    if (entry.version < expected) continue;
    if (entry.version !== expected || entry.names === null) return null;
    for (const name of entry.names) names.push(name);
    expected++;
  }
  return expected === log.version + 1 ? names : null;
}

function zeroStates(): Record<ResourceState, number> {
  return Object.fromEntries(RESOURCE_STATES.map((state) => [state, 0])) as Record<ResourceState, number>;
}

function statesOf(resources: Iterable<ResourceView>): Record<ResourceState, number> {
  const states = zeroStates();
  for (const resource of resources) states[resource.status.state] += 1;
  return states;
}

export const EMPTY_CLUSTER: ClusterState = {
  revision: null,
  snapshotRevision: null,
  changesApplied: 0,
  nodes: new Map(),
  resources: BucketMap.empty<ResourceView>(),
  conflicts: new Map(),
  events: [],
  rejected: new Map(),
  outOfSync: false,
  loading: null,
  resourceStates: zeroStates(),
  resourceLog: { version: 0, recent: [] },
};

export function conflictKey(node: string, address: string, theirMac: string): string {
  return `${node}|${address}|${theirMac}`;
}

/** Applies pushes in order; returns `state` itself when none changed anything. */
export function applyPushes(state: ClusterState, pushes: readonly Push[], eventsCap = CONSOLE_EVENTS_LIMIT): ClusterState {
  const draft = new Draft(state, eventsCap);
  for (const push of pushes) draft.apply(push);
  return draft.result();
}

export function applyPush(state: ClusterState, push: Push, eventsCap = CONSOLE_EVENTS_LIMIT): ClusterState {
  return applyPushes(state, [push], eventsCap);
}

/** Mutable working copy of one batch; each collection is copied on its first write only. */
class Draft {
  private revision: number | null;
  private snapshotRevision: number | null;
  private changesApplied: number;
  private outOfSync: boolean;
  private nodes: Map<string, NodeRecord> | null = null;
  private resources: BucketMapEditor<ResourceView> | null = null;
  /** Names this batch changed in `resources`; null once it replaced the whole map. */
  private changedNames: string[] | null = [];
  private resourceStates: Record<ResourceState, number> | null = null;
  private conflicts: Map<string, ConflictRecord> | null = null;
  private events: AuditEntry[] | null = null;
  private rejected: Map<string, RejectedStoreRecord> | null = null;
  private loading: SnapshotLoading | null;
  private changed = false;

  /** The state this batch started from (`base` is replaced by a snapshot or a head). */
  private readonly before: ClusterState;

  constructor(
    private base: ClusterState,
    private readonly eventsCap: number,
  ) {
    this.before = base;
    this.revision = base.revision;
    this.snapshotRevision = base.snapshotRevision;
    this.changesApplied = base.changesApplied;
    this.outOfSync = base.outOfSync;
    this.loading = base.loading;
  }

  apply(push: Push): void {
    if (push.type === 'snapshot-head') {
      this.applyHead(push);
      return;
    }
    if (push.type === 'snapshot-rows') {
      const loading = this.loading;
      // Rows of an abandoned snapshot (a newer head came), or after the last rows push: nothing to do.
      if (loading === null || push.revision !== loading.revision || this.outOfSync) return;
      for (const row of push.resources) if (!loading.touched.has(row.name)) loading.rows.set(row.name, row);
      const received = loading.received + push.resources.length;
      this.changed = true;
      if (!push.done) {
        this.loading = { ...loading, received };
        return;
      }
      if (received !== loading.resourceCount) {
        // Rows lost or doubled on the way: this copy cannot be trusted (the console resubscribes).
        this.outOfSync = true;
        return;
      }
      const current = this.resourceMap();
      for (const name of loading.touched) {
        const value = current.get(name);
        if (value === undefined) loading.rows.delete(name);
        else loading.rows.set(name, value);
      }
      // Shared with no state that shows it: later changes of this batch write into it.
      this.resources = loading.rows;
      this.changedNames = null;
      this.loading = null;
      this.resourceStates = statesOf(loading.rows.result().values());
      return;
    }
    if (push.type === 'snapshot') {
      this.startOver(push.revision, push.snapshot, push.snapshot.resources, null);
      return;
    }
    if (push.type === 'changes') {
      for (const change of push.changes) this.apply(change);
      return;
    }
    // Before the first snapshot there is nothing to apply a change to; one at or below the
    // snapshot's revision is already in it; after an out-of-order push nothing more is trusted.
    if (this.revision === null || this.snapshotRevision === null || this.outOfSync) return;
    if (push.revision <= this.snapshotRevision) return;
    if (push.revision < this.revision) {
      this.outOfSync = true;
      this.changed = true;
      return;
    }
    this.revision = push.revision;
    this.changesApplied++;
    this.changed = true;
    this.applyChange(push.change);
  }

  private applyHead(push: SnapshotHeadPush): void {
    const last = push.page[push.page.length - 1];
    this.startOver(push.revision, push, push.page, {
      revision: push.revision,
      view: push.view,
      resourceCount: push.resourceCount,
      matching: push.matching,
      states: push.states,
      boundary: push.matching > push.page.length && last !== undefined ? last : null,
      received: 0,
      rows: BucketMap.empty<ResourceView>().edit(),
      touched: new Set(),
    });
  }

  /** A snapshot, or a head with its page as the resources: everything replaced, at `revision`. */
  private startOver(revision: number, parts: Omit<Snapshot, 'resources'>, resources: readonly ResourceView[], loading: SnapshotLoading | null): void {
    const { nodes, conflicts, events, rejected } = parts;
    this.base = {
      revision,
      snapshotRevision: revision,
      changesApplied: 0,
      nodes: new Map(nodes.map((node) => [node.name, node])),
      resources: mapByName(resources),
      conflicts: new Map(conflicts.map((conflict) => [conflictKey(conflict.node, conflict.address, conflict.theirMac), conflict])),
      events: capEvents([...events].sort((a, b) => a.seq - b.seq), this.eventsCap),
      rejected: new Map(rejected.map((record) => [record.key, record])),
      outOfSync: false,
      loading,
      resourceStates: statesOf(resources),
      resourceLog: this.base.resourceLog,
    };
    this.revision = this.snapshotRevision = revision;
    this.changesApplied = 0;
    this.outOfSync = false;
    this.loading = loading;
    this.nodes = this.conflicts = this.events = this.rejected = null;
    this.resources = null;
    this.resourceStates = null;
    this.changedNames = null;
    this.changed = true;
  }

  private applyChange(change: Change): void {
    switch (change.kind) {
      case 'node':
        this.nodeMap().set(change.node.name, change.node);
        return;
      case 'node-removed':
        this.nodeMap().delete(change.name);
        return;
      case 'resource':
        this.setResource(change.resource.name, change.resource);
        return;
      case 'resource-removed':
        this.setResource(change.name, undefined);
        return;
      case 'conflict': {
        const { node, address, theirMac } = change.conflict;
        this.conflictMap().set(conflictKey(node, address, theirMac), change.conflict);
        return;
      }
      case 'conflict-cleared':
        this.conflictMap().delete(conflictKey(change.node, change.address, change.theirMac));
        return;
      case 'audit':
        upsertEvent(this.eventList(), change.entry, this.eventsCap);
        return;
      case 'rejected':
        this.rejectedMap().set(change.record.key, change.record);
        return;
      case 'rejected-cleared':
        this.rejectedMap().delete(change.key);
        return;
    }
  }

  private nodeMap(): Map<string, NodeRecord> {
    return (this.nodes ??= new Map(this.base.nodes));
  }

  private resourceMap(): BucketMapEditor<ResourceView> {
    const base = this.base.resources;
    return (this.resources ??= (base instanceof BucketMap ? (base as BucketMap<ResourceView>) : BucketMap.of(base.values(), (resource) => resource.name)).edit());
  }

  /** A resource upserted (or removed: undefined), its state counted, its name noted. */
  private setResource(name: string, value: ResourceView | undefined): void {
    this.loading?.touched.add(name);
    const map = this.resourceMap();
    const before = map.get(name);
    if (value === undefined) map.delete(name);
    else map.set(name, before === undefined ? value : shareUnchanged(before, value));
    const states = (this.resourceStates ??= { ...this.base.resourceStates });
    if (before !== undefined) states[before.status.state] -= 1;
    if (value !== undefined) states[value.status.state] += 1;
    this.changedNames?.push(name);
  }

  private conflictMap(): Map<string, ConflictRecord> {
    return (this.conflicts ??= new Map(this.base.conflicts));
  }

  private rejectedMap(): Map<string, RejectedStoreRecord> {
    return (this.rejected ??= new Map(this.base.rejected));
  }

  private eventList(): AuditEntry[] {
    return (this.events ??= [...this.base.events]);
  }

  result(): ClusterState {
    if (!this.changed) return this.base;
    return {
      revision: this.revision,
      snapshotRevision: this.snapshotRevision,
      changesApplied: this.changesApplied,
      nodes: this.nodes ?? this.base.nodes,
      resources: this.resources?.result() ?? this.base.resources,
      conflicts: this.conflicts ?? this.base.conflicts,
      events: this.events ?? this.base.events,
      rejected: this.rejected ?? this.base.rejected,
      outOfSync: this.outOfSync,
      loading: this.loading,
      resourceStates: this.resourceStates ?? this.base.resourceStates,
      resourceLog: this.resources === null && this.base.resources === this.before.resources ? this.base.resourceLog : nextLog(this.base.resourceLog, this.changedNames),
    };
  }
}

/**
 * An audit entry is appended, or replaces the one with its seq (an operation logged as 'started'
 * is rewritten with its outcome). Keeps seq order and the newest `cap` entries.
 */
function upsertEvent(events: AuditEntry[], entry: AuditEntry, cap: number): void {
  const last = events[events.length - 1];
  if (last === undefined || entry.seq > last.seq) events.push(entry);
  else {
    const index = lowerBound(events, entry.seq);
    if (events[index]?.seq === entry.seq) events[index] = entry;
    else events.splice(index, 0, entry);
  }
  if (events.length > cap) events.splice(0, events.length - cap);
}

/** First index whose seq is >= seq (events sorted by seq). */
function lowerBound(events: readonly AuditEntry[], seq: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((events[middle]?.seq ?? Infinity) < seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

function capEvents(events: AuditEntry[], cap: number): AuditEntry[] {
  return events.length > cap ? events.slice(events.length - cap) : events;
}

/** The resources by name. */
function mapByName(resources: readonly ResourceView[]): BucketMap<ResourceView> {
  return BucketMap.of(resources, (resource) => resource.name);
}

function nextLog(log: ResourceLog, names: readonly string[] | null): ResourceLog {
  const version = log.version + 1;
  const recent = log.recent.length < LOG_LENGTH ? [...log.recent] : log.recent.slice(1);
  recent.push({ version, names });
  return { version, recent };
}
