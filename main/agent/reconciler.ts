// The reconcile pass: what this node should hold, from the pure planner (cluster/reconcile.ts), turned
// into work per resource — acquire, hold again, release, drop what is not ours — plus each pass's look
// at the open moves, the pre-flights asked of this node, the owners it watches as standby and the
// interfaces its ARP watch covers. Work runs one piece per resource at a time (resource-work.ts).
import type { NodeName, ResourceName } from '../cluster/model';
import { MAX_BATCH } from '../cluster/intents';
import { planReconcile, type ReleaseReason } from '../cluster/reconcile';
import type { Claims } from './claims';
import type { ClusterView } from './cluster-view';
import type { HostAddressCache } from './host-address-cache';
import { chooseInterface } from './interface-choice';
import type { InterfaceRecovery } from './interface-recovery';
import type { NodeContext } from './node-context';
import type { PlannedMoves } from './planned-moves';
import type { Preflight } from './preflight';
import type { Announcer } from './announcer';
import type { LocalFailures } from './local-failures';
import type { ResourceRecords } from './resource-records';
import type { ResourceWork } from './resource-work';
import { standbyTargets } from './standby';
import type { StandbyMonitor } from './standby-monitor';

export interface ReconcilerParts {
  context: NodeContext;
  work: ResourceWork;
  claims: Claims;
  moves: PlannedMoves;
  preflight: Preflight;
  announcer: Announcer;
  failures: LocalFailures;
  monitor: StandbyMonitor;
  interfaces: InterfaceRecovery;
  records: ResourceRecords;
  addresses: HostAddressCache;
  /** A standby revokes an owner that leaves ARP for its address unanswered this long (0 = never watch). */
  ownerSilenceMs: number;
  stopping(): boolean;
}

export class Reconciler {
  /** The view and its count of spec changes when the watched interfaces were last worked out. */
  private watchedSpecs: { view: ClusterView; changes: number } | null = null;
  /** What the standby targets were last worked out from: the same again gives the same targets. */
  private standbyInputs: { view: ClusterView; changes: number; stations: string; watching: boolean } | null = null;
  /** Takeover batches started (their work's key). */
  private takeovers = 0;

  constructor(private readonly parts: ReconcilerParts) {}

  async reconcile(): Promise<void> {
    const { context, work, claims, moves } = this.parts;
    const membership = context.membership();
    if (!membership || context.fenced() || !context.leaseHealthy()) return;
    const node: NodeName = context.node;
    const view = context.view();
    const plan = planReconcile(node, { specs: view.resources, owners: view.owners, ownedBy: (owner) => view.owners.ownedBy(owner), statuses: view.statuses, nodes: view.nodeViews(), groups: view.groups() });

    // Ownerships this node left bound to an earlier lease (an agent restarted at once) move to the new one
    // before that lease can expire and take them along.
    for (const resource of [...view.owners.ownedBy(node)]) {
      const owner = view.owners.get(resource)!;
      if (owner.leaseId !== membership.leaseId && !work.busy(resource)) {
        void work.guard(resource, async () => {
          const moved = await context.store.transfer(resource, node, membership);
          if (moved.ok) view.owners.set(resource, { node, leaseId: membership.leaseId });
        });
      }
    }
    // Rule 1: nothing is served without ownership (an incoming handoff holds before the transfer lands).
    for (const resource of context.local.resources()) {
      if (view.ownerOf(resource) !== node && !work.busy(resource)) claims.drop(resource, 'not owner');
    }
    const takingOver: ResourceName[] = [];
    const releasing: Array<{ resource: ResourceName; reason: ReleaseReason }> = [];
    for (const action of plan.actions) {
      if (work.busy(action.resource)) continue;
      // A retry not due yet, or this node banned from it (its record may not have reached the view yet).
      if (action.kind === 'acquire' && this.parts.failures.refuses(action.resource)) continue;
      if (action.kind === 'release') releasing.push({ resource: action.resource, reason: action.reason });
      else if (claims.claimsTogether(action.resource)) takingOver.push(action.resource);
      else void work.guard(action.resource, () => claims.acquire(action.resource, membership));
    }
    if (releasing.length === 1) void work.guard(releasing[0]!.resource, () => claims.release(releasing[0]!.resource, releasing[0]!.reason));
    else {
      for (let i = 0; i < releasing.length; i += MAX_BATCH) {
        const batch = releasing.slice(i, i + MAX_BATCH);
        void work.guardMany(`release:${batch[0]!.resource}..${batch.at(-1)!.resource}:${batch.length}`, batch.map((r) => r.resource), () => claims.releaseMany(batch));
      }
    }
    // A node's takeover, an import: the addresses placed here taken together (one probe burst, one netlink
    // batch, keys and statuses in transactions of 100); a single one as before.
    if (takingOver.length === 1) void work.guard(takingOver[0]!, () => claims.acquire(takingOver[0]!, membership));
    else {
      for (let i = 0; i < takingOver.length; i += MAX_BATCH) {
        const batch = takingOver.slice(i, i + MAX_BATCH);
        void work.guardMany(`takeover:${++this.takeovers}`, batch, () => claims.acquireMany(batch, membership));
      }
    }
    for (const resource of plan.hold) {
      if (context.local.has(resource) || work.busy(resource) || moves.handedOver(resource)) continue;
      void work.guard(resource, () => claims.holdOwned(resource));
    }
    for (const { resource, failure } of plan.unplaceable) {
      await this.parts.records.putStatus(resource, { state: 'failed', owner: null, ownerMac: null, failure });
    }
    const stopping = this.parts.stopping();
    moves.advance(membership);
    if (!stopping) moves.planOwn();
    this.parts.preflight.serve();
    this.parts.announcer.serve();
    this.parts.failures.serve();
    this.watchOwners(view, this.parts.ownerSilenceMs > 0 && !stopping);
    if (!stopping) this.watchResourceInterfaces();
  }

  /**
   * The owners this node watches as standby. Working the targets out walks every resource (a third of
   * a pass at 10,000), so it is done only when what they depend on changed: the view, the host's own
   * addresses, whether to watch at all — or when the monitor has something to try again.
   */
  private watchOwners(view: ClusterView, watching: boolean): void {
    const { monitor, addresses } = this.parts;
    const stations = addresses.stations().map((a) => `${a.ifname} ${a.ip}/${a.prefix}`).join(',');
    const inputs = { view, changes: view.placementChanges(), stations, watching };
    const last = this.standbyInputs;
    const same = last !== null && last.view === view && last.changes === inputs.changes && last.stations === stations && last.watching === watching;
    if (same && !monitor.needsUpdate()) return;
    this.standbyInputs = inputs;
    monitor.update(watching ? standbyTargets(view, this.parts.context.node, () => addresses.stations()) : []);
  }

  /** The ARP watch covers every interface this node would carry a virtual address on (over ND too for an IPv6 one). */
  private watchResourceInterfaces(): void {
    const { context } = this.parts;
    const view = context.view();
    if (this.watchedSpecs?.view === view && this.watchedSpecs.changes === view.resources.changes) return;
    this.watchedSpecs = { view, changes: view.resources.changes };
    const addresses = this.parts.addresses.stations();
    const ifnames = new Set<string>();
    const nd = new Set<string>();
    for (const spec of view.resources.values()) {
      const choice = chooseInterface(spec, context.node, addresses);
      if (!choice.ok) continue;
      ifnames.add(choice.ifname);
      if (spec.ip.includes(':')) nd.add(choice.ifname);
    }
    this.parts.interfaces.watch(ifnames, nd);
  }
}
