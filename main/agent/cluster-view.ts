// A node's local mirror of the cluster store: a snapshot at revision R, then every change after R
// applied in order (store.watch guarantees none is missed). Read by the reconciler and the API.
import { bannedResources } from '../../preload/contract/failure-policy';
import type { NodeName, NodeRecord, ResourceName, ResourceSpec, ResourceStatus } from '../cluster/model';
import type { NodeView, Owners } from '../cluster/placement';
import type { MemberRecord, OwnerRecord, RejectedRecord, Revision, StoreChange, StoreSnapshot } from '../store/store';
import { parseIntent, subjectsOf, type BatchMove, type Intent, type MoveIntent } from '../cluster/intents';
import { isStationMac } from '../arp/acd-config';
import type { UserRecord } from '../../preload/contract/users';
import type { GroupName } from '../../preload/contract/groups';
import { groupFactsOf, type GroupFacts } from '../../preload/contract/placement';
import { resultsByProfile, type HealthByProfile, type NodeHealth } from '../../preload/contract/health';

/**
 * A map that counts its changes: work derived from it (the standby's targets, the watched interfaces)
 * is done again only when the count moved, not on every pass over 10,000 resources.
 */
export class CountedMap<K, V> extends Map<K, V> {
  /** Changes so far (sets, deletes, clears); only ever grows. */
  changes = 0;

  override set(key: K, value: V): this {
    this.changes++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.changes++;
    return had;
  }

  override clear(): void {
    this.changes++;
    super.clear();
  }
}

/**
 * The open intents by id, indexed by kind and subject (a move's resource, each resource of a batch) as well: "is a move of X under way?" is asked for
 * every resource on every reconcile, and a drain of 1,000 addresses has 1,000 intents open — a scan
 * per question made reconcile quadratic (seconds of blocked event loop per drain).
 */
class IntentMap extends CountedMap<string, Intent> {
  private readonly bySubject = new Map<string, Intent>();

  private static indexKey(kind: Intent['kind'], subject: string): string {
    return `${kind}\u0000${subject}`;
  }

  override set(id: string, intent: Intent): this {
    const previous = super.get(id);
    if (previous) this.unindex(previous);
    super.set(id, intent);
    for (const subject of subjectsOf(intent)) this.bySubject.set(IntentMap.indexKey(intent.kind, subject), intent);
    return this;
  }

  override delete(id: string): boolean {
    const previous = super.get(id);
    if (!previous) return false;
    super.delete(id);
    const orphaned = this.unindex(previous);
    // Another open intent for the same subject (rare: a stale one) takes its place in the index.
    if (orphaned.size > 0) {
      for (const other of super.values()) {
        if (other.kind !== previous.kind) continue;
        for (const subject of subjectsOf(other)) if (orphaned.has(subject)) this.bySubject.set(IntentMap.indexKey(other.kind, subject), other);
      }
    }
    return true;
  }

  /** Takes `intent` out of the index; returns the subjects it was indexed under. */
  private unindex(intent: Intent): Set<string> {
    const removed = new Set<string>();
    for (const subject of subjectsOf(intent)) {
      const key = IntentMap.indexKey(intent.kind, subject);
      if (this.bySubject.get(key) !== intent) continue;
      this.bySubject.delete(key);
      removed.add(subject);
    }
    return removed;
  }

  override clear(): void {
    super.clear();
    this.bySubject.clear();
  }

  forSubject(subject: string, kind: Intent['kind']): Intent | undefined {
    return this.bySubject.get(IntentMap.indexKey(kind, subject));
  }
}

const NO_RESOURCES: ReadonlySet<ResourceName> = new Set();
const NO_HEALTH: HealthByProfile = new Map();

/**
 * The ownership keys, indexed by node as well: "what does this node own?" is asked several times a
 * pass, and a scan of 10,000 keys per question was a good part of a pass.
 */
class OwnerMap extends CountedMap<ResourceName, OwnerRecord> {
  private readonly byNode = new Map<NodeName, Set<ResourceName>>();

  override set(resource: ResourceName, owner: OwnerRecord): this {
    const previous = super.get(resource);
    if (previous) this.byNode.get(previous.node)?.delete(resource);
    super.set(resource, owner);
    let owned = this.byNode.get(owner.node);
    if (!owned) this.byNode.set(owner.node, (owned = new Set()));
    owned.add(resource);
    return this;
  }

  override delete(resource: ResourceName): boolean {
    const previous = super.get(resource);
    if (!previous) return false;
    super.delete(resource);
    this.byNode.get(previous.node)?.delete(resource);
    return true;
  }

  override clear(): void {
    super.clear();
    this.byNode.clear();
  }

  /** The resources `node` owns now (a live view: do not change the map while iterating it). */
  ownedBy(node: NodeName): ReadonlySet<ResourceName> {
    return this.byNode.get(node) ?? NO_RESOURCES;
  }

  /**
   * How many addresses each node owns (placement's loads; countLoads of the owners, from the index: every
   * pass asks, and building a 10,000-key object to count it was ~5 % of an agent's CPU during an import).
   */
  loads(): Record<NodeName, number> {
    const loads: Record<NodeName, number> = {};
    for (const [node, owned] of this.byNode) if (owned.size > 0) loads[node] = owned.size;
    return loads;
  }
}

export class ClusterView {
  revision: Revision = 0;
  readonly nodes = new CountedMap<NodeName, NodeRecord>();
  readonly members = new CountedMap<NodeName, MemberRecord>();
  readonly resources = new CountedMap<ResourceName, ResourceSpec>();
  readonly owners = new OwnerMap();
  readonly statuses = new CountedMap<ResourceName, ResourceStatus>();
  readonly intents = new IntentMap();
  readonly users = new Map<string, UserRecord>();
  /** Live nodes' health records: their checks' verdicts by profile (health/<node>, bound to their leases). */
  readonly health = new CountedMap<NodeName, NodeHealth>();
  /** The store revision each resource's spec was last written at: an edit writes only over the one it read. */
  readonly resourceRevisions = new Map<ResourceName, Revision>();
  /** The store revision each open intent was last written at: its next write is a compare-and-swap on it. */
  readonly intentRevisions = new Map<string, Revision>();
  /** The store revision each user was last written at: a rotate or remove writes only over the one it read. */
  readonly userRevisions = new Map<string, Revision>();
  /** Records the store left out as not what they claim to be, by "collection/name", until the key changes again. */
  readonly rejected = new Map<string, RejectedRecord>();

  /** `onRejected`: an intent another agent wrote that is not what it claims to be (left out). */
  static fromSnapshot(snapshot: StoreSnapshot, onRejected: (id: string, reason: string) => void = () => undefined): ClusterView {
    const view = new ClusterView();
    view.revision = snapshot.revision;
    for (const entry of snapshot.nodes) {
      view.nodes.set(entry.node.name, entry.node);
      if (entry.alive && entry.leaseId !== null) view.members.set(entry.node.name, { leaseId: entry.leaseId, joinedAt: entry.node.lastSeen });
    }
    for (const entry of snapshot.resources) {
      view.resources.set(entry.spec.name, entry.spec);
      view.resourceRevisions.set(entry.spec.name, entry.revision);
    }
    for (const entry of snapshot.owners) view.owners.set(entry.resource, { node: entry.node, leaseId: entry.leaseId });
    for (const entry of snapshot.statuses) view.statuses.set(entry.status.name, entry.status);
    for (const entry of snapshot.users) {
      view.users.set(entry.user.name, entry.user);
      view.userRevisions.set(entry.user.name, entry.revision);
    }
    for (const record of snapshot.health ?? []) view.health.set(record.node, record);
    for (const record of snapshot.rejected ?? []) view.rejected.set(`${record.collection}/${record.name}`, record);
    for (const entry of snapshot.intents) {
      const parsed = parseIntent(entry.intent);
      if (parsed.ok) {
        view.intents.set(parsed.intent.id, parsed.intent);
        view.intentRevisions.set(parsed.intent.id, entry.revision);
      } else onRejected(entry.intent.id, parsed.reason);
    }
    return view;
  }

  apply(change: StoreChange): void {
    this.revision = Math.max(this.revision, change.revision);
    // Any change of a key settles what was said about its last record; a rejected put says it again.
    const id = `${change.collection}/${change.name}`;
    this.rejected.delete(id);
    if (change.kind === 'delete' && change.rejected !== undefined) this.rejected.set(id, change.rejected);
    const maps = {
      nodes: this.nodes,
      members: this.members,
      resources: this.resources,
      owners: this.owners,
      status: this.statuses,
      intents: this.intents,
      users: this.users,
      health: this.health,
    } as const;
    if (change.collection === 'audit' || change.collection === 'bindings' || change.collection === 'hooks' || change.collection === 'hookstate' || change.collection === 'hooksender') return;
    const revisions =
      change.collection === 'resources' ? this.resourceRevisions
      : change.collection === 'intents' ? this.intentRevisions
      : change.collection === 'users' ? this.userRevisions
      : null;
    if (revisions !== null) {
      if (change.kind === 'put') revisions.set(change.name, change.revision);
      else revisions.delete(change.name);
    }
    const map = maps[change.collection] as Map<string, unknown>;
    if (change.kind === 'put') map.set(change.name, change.value);
    else map.delete(change.name);
  }

  /** Changes so far of everything placement and the standby read (only ever grows). */
  placementChanges(): number {
    return this.nodes.changes + this.members.changes + this.resources.changes + this.owners.changes + this.statuses.changes + this.intents.changes + this.health.changes;
  }

  isAlive(node: NodeName): boolean {
    return this.members.has(node);
  }

  /** The node is alive but stopping (its member record says `leaving`). */
  isLeaving(node: NodeName): boolean {
    return this.members.get(node)?.leaving === true;
  }

  /**
   * Nodes as placement sees them: a node without a live membership is down, whatever its record says;
   * a stopping one is paused (it takes nothing new; its own addresses it hands over itself).
   */
  nodeViews(): NodeView[] {
    return [...this.nodes.values()].map((node) => ({
      name: node.name,
      state: !this.isAlive(node.name) ? 'down' : this.isLeaving(node.name) ? 'paused' : node.state,
      // A node without a record has not checked anything yet: no verdict, so no resource with checks.
      verdicts: this.healthOf(node.name),
      banned: bannedResources(this.health.get(node.name)?.bans),
    }));
  }

  /** A node's verdicts by profile (empty before its first check, or when it is down). */
  healthOf(node: NodeName): HealthByProfile {
    const record = this.health.get(node);
    return record === undefined ? NO_HEALTH : resultsByProfile(record);
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

  private groupCache: { resources: number; owners: number; facts: GroupFacts & { active: Map<GroupName, ResourceSpec[]> } } | null = null;

  /**
   * Each group's enabled members and the nodes they are owned on (groups.ts), worked out again only when
   * the resources or the owners changed: placement asks on every pass.
   */
  groups(): GroupFacts & { active: Map<GroupName, ResourceSpec[]> } {
    const cached = this.groupCache;
    if (cached !== null && cached.resources === this.resources.changes && cached.owners === this.owners.changes) return cached.facts;
    const facts = groupFactsOf(this.resources, (resource) => this.ownerOf(resource));
    this.groupCache = { resources: this.resources.changes, owners: this.owners.changes, facts };
    return facts;
  }

  statusList(): ResourceStatus[] {
    return [...this.statuses.values()];
  }

  /**
   * The MACs of every node but `me` (ACD askingMacs): RFC 5227's simultaneous-probe rule, made to know the store.
   * A peer asks who holds an address with a probe marked as a question (the standby watching the owner,
   * a move's pre-flight): never a conflict — taken as one, it failed a move naming the standby, and after
   * a long store outage it failed every owner re-taking its addresses. A peer's plain probe precedes a
   * registration: the node that won the key by compare-and-swap ignores it (the prober acts on a stale
   * belief and yields), the node that takes back an address after a fence treats it as a conflict and
   * stands aside (its own belief may be the stale one). A peer that *answers* for the address is
   * acting on a stale belief that ends with its lease: waited for (Claims.acquire), stood aside for (Claims.hold).
   */
  peerMacs(me: NodeName): string[] {
    const macs = new Set<string>();
    for (const [name, record] of this.nodes) {
      if (name === me) continue;
      for (const mac of Object.values(record.macs)) if (isStationMac(mac)) macs.add(mac);
    }
    return [...macs];
  }

  /** The node other than `me` one of whose interfaces has `mac`, if any. */
  nodeOfMac(me: NodeName, mac: string): NodeName | null {
    for (const [name, record] of this.nodes) if (name !== me && Object.values(record.macs).includes(mac)) return name;
    return null;
  }

  /** A named user as the store last said (null: no such user, or its record was left out). */
  user(name: string): UserRecord | null {
    return this.users.get(name) ?? null;
  }

  /** The open move of a resource, if any. */
  moveOf(resource: ResourceName): MoveIntent | undefined {
    const intent = this.intents.forSubject(resource, 'move');
    return intent?.kind === 'move' ? intent : undefined;
  }

  /** The open batch a resource is part of, if any. */
  batchOf(resource: ResourceName): BatchMove | undefined {
    const intent = this.intents.forSubject(resource, 'batch');
    return intent?.kind === 'batch' ? intent : undefined;
  }

  /** Where a move or batch under way takes the resource (null: none under way). */
  movingTo(resource: ResourceName): NodeName | null {
    if (this.intents.size === 0) return null;
    return (this.moveOf(resource) ?? this.batchOf(resource))?.toNode ?? null;
  }
}
