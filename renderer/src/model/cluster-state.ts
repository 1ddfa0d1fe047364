// The console's copy of the cluster: a snapshot push replaces it, each change push after it applies
// on top (protocol.ts: pushes arrive in revision order, a change already in the snapshot is never
// sent, none is skipped; main/api/handler.ts: several changes made together may share a revision,
// and revisions may jump, so only a revision going BACKWARDS shows a broken stream). Pure and copy-on-write: a batch of pushes copies each touched collection
// once, so 1,000 changes a second on 10,000 resources cost a few map copies per frame, not one
// per change.
import type { AuditEntry, ConflictRecord, NodeRecord, RejectedStoreRecord, ResourceView } from '../../../preload/contract/domain';
import type { Change, Push } from '../../../preload/contract/protocol';

/** The newest audit entries a console keeps (the snapshot brings 200; the live stream adds to them). */
export const CONSOLE_EVENTS_LIMIT = 1_000;

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
}

export const EMPTY_CLUSTER: ClusterState = {
  revision: null,
  snapshotRevision: null,
  changesApplied: 0,
  nodes: new Map(),
  resources: new Map(),
  conflicts: new Map(),
  events: [],
  rejected: new Map(),
  outOfSync: false,
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
  private resources: Map<string, ResourceView> | null = null;
  private conflicts: Map<string, ConflictRecord> | null = null;
  private events: AuditEntry[] | null = null;
  private rejected: Map<string, RejectedStoreRecord> | null = null;
  private changed = false;

  constructor(
    private base: ClusterState,
    private readonly eventsCap: number,
  ) {
    this.revision = base.revision;
    this.snapshotRevision = base.snapshotRevision;
    this.changesApplied = base.changesApplied;
    this.outOfSync = base.outOfSync;
  }

  apply(push: Push): void {
    if (push.type === 'snapshot') {
      const { nodes, resources, conflicts, events, rejected } = push.snapshot;
      this.base = {
        revision: push.revision,
        snapshotRevision: push.revision,
        changesApplied: 0,
        nodes: new Map(nodes.map((node) => [node.name, node])),
        resources: mapByName(resources),
        conflicts: new Map(conflicts.map((conflict) => [conflictKey(conflict.node, conflict.address, conflict.theirMac), conflict])),
        events: capEvents([...events].sort((a, b) => a.seq - b.seq), this.eventsCap),
        rejected: new Map(rejected.map((record) => [record.key, record])),
        outOfSync: false,
      };
      this.revision = this.snapshotRevision = push.revision;
      this.changesApplied = 0;
      this.outOfSync = false;
      this.nodes = this.conflicts = this.events = this.rejected = null;
      // Made by this batch and shared with no earlier state: changes later in the batch (the
      // stream keeps flowing while a snapshot of 10,000 resources is parsed) write into it directly.
      this.resources = this.base.resources as Map<string, ResourceView>;
      this.changed = true;
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

  private applyChange(change: Change): void {
    switch (change.kind) {
      case 'node':
        this.nodeMap().set(change.node.name, change.node);
        return;
      case 'node-removed':
        this.nodeMap().delete(change.name);
        return;
      case 'resource':
        this.resourceMap().set(change.resource.name, change.resource);
        return;
      case 'resource-removed':
        this.resourceMap().delete(change.name);
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

  private resourceMap(): Map<string, ResourceView> {
    return (this.resources ??= new Map(this.base.resources));
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
      resources: this.resources ?? this.base.resources,
      conflicts: this.conflicts ?? this.base.conflicts,
      events: this.events ?? this.base.events,
      rejected: this.rejected ?? this.base.rejected,
      outOfSync: this.outOfSync,
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

/** 10,000 resources without 10,000 temporary [key, value] pairs. */
function mapByName(resources: readonly ResourceView[]): Map<string, ResourceView> {
  const map = new Map<string, ResourceView>();
  for (const resource of resources) map.set(resource.name, resource);
  return map;
}
