// A node's local mirror of the cluster store: a snapshot at revision R, then every change after R
// applied in order (store.watch guarantees none is missed). Read by the reconciler and the API.
import type { NodeName, NodeRecord, ResourceName, ResourceSpec, ResourceStatus } from '../cluster/model';
import type { NodeView, Owners } from '../cluster/placement';
import type { Intent, MemberRecord, OwnerRecord, Revision, StoreChange, StoreSnapshot } from '../store/store';

export class ClusterView {
  revision: Revision = 0;
  readonly nodes = new Map<NodeName, NodeRecord>();
  readonly members = new Map<NodeName, MemberRecord>();
  readonly resources = new Map<ResourceName, ResourceSpec>();
  readonly owners = new Map<ResourceName, OwnerRecord>();
  readonly statuses = new Map<ResourceName, ResourceStatus>();
  readonly intents = new Map<string, Intent>();

  static fromSnapshot(snapshot: StoreSnapshot): ClusterView {
    const view = new ClusterView();
    view.revision = snapshot.revision;
    for (const entry of snapshot.nodes) {
      view.nodes.set(entry.node.name, entry.node);
      if (entry.alive && entry.leaseId !== null) view.members.set(entry.node.name, { leaseId: entry.leaseId, joinedAt: entry.node.lastSeen });
    }
    for (const entry of snapshot.resources) view.resources.set(entry.spec.name, entry.spec);
    for (const entry of snapshot.owners) view.owners.set(entry.resource, { node: entry.node, leaseId: entry.leaseId });
    for (const entry of snapshot.statuses) view.statuses.set(entry.status.name, entry.status);
    for (const entry of snapshot.intents) view.intents.set(entry.intent.id, entry.intent);
    return view;
  }

  apply(change: StoreChange): void {
    this.revision = Math.max(this.revision, change.revision);
    const maps = {
      nodes: this.nodes,
      members: this.members,
      resources: this.resources,
      owners: this.owners,
      status: this.statuses,
      intents: this.intents,
    } as const;
    if (change.collection === 'audit') return;
    const map = maps[change.collection] as Map<string, unknown>;
    if (change.kind === 'put') map.set(change.name, change.value);
    else map.delete(change.name);
  }

  isAlive(node: NodeName): boolean {
    return this.members.has(node);
  }

  /** Nodes as placement sees them: a node without a live membership is down, whatever its record says. */
  nodeViews(): NodeView[] {
    return [...this.nodes.values()].map((node) => ({ name: node.name, state: this.isAlive(node.name) ? node.state : 'down' }));
  }

  ownerMap(): Owners {
    const owners: Record<ResourceName, NodeName | null> = {};
    for (const [resource, owner] of this.owners) owners[resource] = owner.node;
    return owners;
  }

  ownerOf(resource: ResourceName): NodeName | null {
    return this.owners.get(resource)?.node ?? null;
  }

  specs(): ResourceSpec[] {
    return [...this.resources.values()];
  }

  statusList(): ResourceStatus[] {
    return [...this.statuses.values()];
  }

  /** The open move (or probe) intent for a resource, if any. */
  intentFor(resource: ResourceName, kind: Intent['kind']): Intent | undefined {
    for (const intent of this.intents.values()) if (intent.kind === kind && intent.target === resource) return intent;
    return undefined;
  }
}
