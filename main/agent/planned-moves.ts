// Planned moves on this node: the owner's side (asking for drain, failback and stop moves, letting go)
// and the target's (trusted probe, take-over). What to do is decided by the pure machine in
// cluster/move-machine.ts; this file carries out its effects against the store, the local addresses and
// the release datagram, and keeps the little local state a move needs (the nonces of moves this node
// prepared, the resources it let go).
import type { AcdConfig } from '../arp/acd';
import type { NodeName, ResourceName, ResourceSpec, ResourceStatus, FailureReason } from '../cluster/model';
import { planDrain } from '../cluster/drain';
import { groupFailbackTarget, planApart, planGathering, withGroupMates } from '../cluster/group-moves';
import { failbackTarget } from '../cluster/failback';
import { nextBatches, nextWave } from '../cluster/move-waves';
import { requestBatch } from '../cluster/batch-machine';
import { failsChecks, placeBatch } from '../cluster/placement';
import { checkNotify, MAX_BATCH, type BatchMove, type Intent, type MoveIntent, type PreparedMove, type ReleasedMove, type RequestedMove } from '../cluster/intents';
import { afterProbe, afterTake, heardFrom, nextStep, onReleaseNotice, TRUSTED_PROBE, type MoveEffect, type TakeOutcome } from '../cluster/move-machine';
import type { AuditRecord, Membership } from '../store/store';
import type { ConvergenceMonitor } from './convergence-monitor';
import { verifyReleasedNotice, type HandoffChannel, type ReleasedNotice } from './handoff-channel';
import { BatchMoves } from './batch-moves';
import type { NodeContext } from './node-context';
import { describeFailure } from '../../preload/contract/failure-text';
import { healthKey, settleBeforeMovingMs } from '../../preload/contract/health';
import { failoverLimitReached, type FailoverMark } from '../../preload/contract/failure-policy';
import type { StatusFields } from './resource-records';
import { isLocalFailure, type LocalFailure } from '../cluster/failure-policy';
import { LEASE_UNCONFIRMED, LINK_DOWN } from './local-addresses';

/** What the moves need from the rest of the agent. */
/** How often a stopping node asks a move for one address (each refusal or failure ends one). */
const MAX_STOP_TRIES = 3;

/** The node's context (node-context.ts) and what moves need besides. */
export interface MovesContext extends Pick<NodeContext, 'node' | 'host' | 'fenced' | 'store' | 'local' | 'view' | 'membership' | 'leaseHealthy' | 'log'> {
  convergence: ConvergenceMonitor;
  handoff(): HandoffChannel | null;
  /** Runs work for a resource once at a time (busy, back-off after a throw, reconcile after). */
  guard(resource: ResourceName, work: () => Promise<void>): void;
  /** Runs work for a batch (`key`: its id) once at a time; its resources count as busy meanwhile. */
  guardMany(key: string, resources: readonly ResourceName[], work: () => Promise<void>): void;
  busy(resource: ResourceName): boolean;
  schedule(): void;
  ifnameFor(spec: ResourceSpec): { ok: true; ifname: string } | { ok: false; failure: FailureReason };
  /** This host's MACs. */
  ownMacs(): string[];
  peerMacs(): string[];
  /** An address of this host on `ifname` that is not ours to move (the datagram's return address). */
  stationAddress(ifname: string): string | null;
  /** Takes an unowned resource as after a failover (probe, register, announce). */
  acquire(resource: ResourceName, membership: Membership): Promise<void>;
  /** The claim settings a resource asks for (announce form, count, spacing, defend policy). */
  claimSettings(spec: ResourceSpec): Partial<AcdConfig>;
  audit(record: Omit<AuditRecord, 'at'>): Promise<void>;
  putStatus(resource: ResourceName, fields: StatusFields): Promise<void>;
  /** Moves caused by failures: every node's marks as they stand, and a mark for a health move this node asks. */
  failovers: { marks(): Iterable<{ failovers?: readonly FailoverMark[] }>; mark(resource: ResourceName): void; takeFailed(resource: ResourceName, failure: LocalFailure): Promise<void> };
  wallNow(): number;
  /** This node is stopping (it hands its addresses over and takes none). */
  stopping(): boolean;
}

export class PlannedMoves {
  /** Resources this node handed over and must not take back while the move intent lives. */
  private readonly handedOff = new Set<ResourceName>();
  /** Moves this node prepared as the target, by intent id (the release datagram must carry their nonce). */
  private readonly prepared = new Map<string, PreparedMove>();
  /** Many addresses towards one node at once (drain, failback): batch-moves.ts. */
  private readonly batches: BatchMoves;
  private batchCount = 0;
  /** Resources this node fails the checks of that no other node could take: said once, until that changes. */
  private readonly stranded = new Set<ResourceName>();
  /** Resources kept here at their failover threshold: audited once, until they move or the count is reset. */
  private readonly limited = new Set<ResourceName>();
  /** The pending wake-up of wakeAfter. */
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly context: MovesContext) {
    this.batches = new BatchMoves(context);
  }

  /** This node let `resource` go in a move or batch that is still open: reconcile must not take it back. */
  handedOver(resource: ResourceName): boolean {
    return this.handedOff.has(resource) || this.batches.handedOver(resource);
  }

  /** A move or batch record was deleted (it ended, here or on the other node); `intent`: the record as last seen, if known. */
  onDeleted(id: string, intent: Intent | null): void {
    if (isBatchId(id)) return this.batches.onDeleted(id);
    const resource = intent?.kind === 'move' ? intent.resource : resourceOfMoveId(id);
    if (resource !== null) this.handedOff.delete(resource);
    this.prepared.delete(id);
  }

  /**
   * A batch record just came from the store: its next step is taken now, not at the next reconcile (a
   * pass over 1,000 resources is paced during a drain, and each of a batch's four steps waited for one).
   */
  onBatchChanged(batch: BatchMove): void {
    const membership = this.context.membership();
    if (!membership || this.context.fenced() || !this.context.leaseHealthy()) return;
    this.batches.advance(batch, membership);
  }

  /** Every open move, looked at once per reconcile: the machine says what this node does next. */
  advance(membership: Membership): void {
    const node = this.context.node;
    const view = this.context.view();
    const now = Date.now();
    for (const intent of view.intents.values()) {
      if (intent.kind === 'batch') this.batches.advance(intent, membership);
      if (intent.kind !== 'move') continue;
      const effect = nextStep(intent, {
        me: node,
        now,
        owner: view.ownerOf(intent.resource),
        busy: this.context.busy(intent.resource),
        handedOff: this.handedOff.has(intent.resource),
        targetAlive: view.isAlive(intent.toNode),
        stopping: this.context.stopping(),
      });
      if (effect) this.carryOut(effect, membership);
    }
  }

  private carryOut(effect: MoveEffect, membership: Membership): void {
    const guard = (resource: ResourceName, work: () => Promise<void>): void => this.context.guard(resource, work);
    const resource = effect.type === 'write' ? effect.intent.resource : effect.move.resource;
    switch (effect.type) {
      case 'probe': return guard(resource, () => this.prepare(effect.move));
      case 'take-unowned': return guard(resource, () => this.takeUnowned(effect.move, membership));
      case 'take': return guard(resource, () => this.take(effect.move, membership));
      case 'let-go': return this.letGo(effect.move, effect.released);
      case 'abort': return guard(resource, () => this.abort(effect.move, effect.failure));
      case 'end': return guard(resource, () => this.end(effect.move, effect.failure));
      case 'write': return guard(resource, () => this.write(effect.intent));
    }
  }

  // ---- the owner asks ----------------------------------------------------------------------------

  /**
   * Drain (this node paused) and failback: this node, as owner, asks for planned moves: one batch per
   * target (the next when it ends), a single move where a target has only one address to take.
   */
  planOwn(): void {
    const { node, local } = this.context;
    const view = this.context.view();
    const me = view.nodes.get(node);
    const owned = [...view.owners.ownedBy(node)];
    if (owned.length === 0) return;
    const nodes = view.nodeViews();
    const groups = view.groups();
    const ownerOf = (resource: ResourceName): NodeName | null => view.ownerOf(resource);
    const wanted: Array<{ resource: ResourceName; to: NodeName; actor: string }> = [];
    if (me?.state === 'paused') {
      const plan = planDrain(node, view.specs(), view.ownerMap(), nodes, undefined, groups);
      for (const move of plan.moves) wanted.push({ resource: move.resource, to: move.to, actor: 'drain' });
    } else {
      const now = new Date();
      const self = nodes.find((n) => n.name === node);
      const failing: ResourceSpec[] = [];
      const healthy: ResourceSpec[] = [];
      for (const resource of owned) {
        const spec = view.resources.get(resource);
        if (!spec || !local.isReady(resource)) continue;
        if (self !== undefined && failsChecks(spec, self)) {
          // The latest verdict change on any node: its own turning failing, another's turning healthy.
          const key = healthKey(spec.health!);
          const latest = Math.max(0, ...nodes.map((n) => n.verdicts?.get(key)?.since ?? 0));
          const wait = settleBeforeMovingMs(spec.health!, latest, now.getTime());
          if (wait > 0) this.wakeAfter(wait);
          else failing.push(spec);
        } else healthy.push(spec);
      }
      // A check failing on any member moves the whole group (groups.ts): its mates here go with it.
      const leaving = failing.length === 0 ? failing : withGroupMates(failing, groups.active, ownerOf, node);
      const leavingGroups = new Set(leaving.map((spec) => spec.group).filter((group) => group !== undefined));
      const groupsLooked = new Set<string>();
      for (const spec of healthy) {
        this.stranded.delete(spec.name);
        this.limited.delete(spec.name);
        if (spec.group === undefined) {
          const target = failbackTarget(spec, node, nodes, now);
          if (target) wanted.push({ resource: spec.name, to: target, actor: 'failback' });
          continue;
        }
        if (leavingGroups.has(spec.group) || groupsLooked.has(spec.group)) continue;
        groupsLooked.add(spec.group);
        // A whole group fails back together; a split one gathers first (below).
        const members = groups.active.get(spec.group) ?? [];
        if (!members.every((member) => ownerOf(member.name) === node)) continue;
        const target = groupFailbackTarget(members, node, nodes, groups, now);
        if (target) for (const member of members) wanted.push({ resource: member.name, to: target, actor: 'failback' });
      }
      if (leaving.length > 0) this.planHealthMoves(leaving, wanted);
      const loads = view.owners.loads();
      for (const move of planGathering(node, groups.active, ownerOf, nodes, loads, groups)) {
        if (!wanted.some((other) => other.resource === move.resource)) wanted.push({ ...move, actor: 'group' });
      }
      for (const move of planApart(node, groups.active, ownerOf, nodes, loads, groups)) {
        if (!wanted.some((other) => other.resource === move.resource)) wanted.push({ ...move, actor: 'apart' });
      }
    }
    const underWay = (resource: ResourceName): boolean => view.movingTo(resource) !== null || this.context.busy(resource);
    const groupOf = (resource: ResourceName): string | undefined => view.resources.get(resource)?.group;
    const { batches, singles } = nextBatches(wanted, this.batches.openTargets(), underWay, MAX_BATCH, groupOf);
    for (const group of batches) {
      if (group[0]!.actor === 'health') for (const move of group) this.context.failovers.mark(move.resource);
      const batch = requestBatch(group.map((move) => move.resource), node, group[0]!.to, group[0]!.actor, Date.now(), `${Date.now().toString(36)}.${++this.batchCount}`);
      this.batches.request(batch).catch((error: unknown) => {
        this.context.view().intents.delete(batch.id);
        this.context.log(`batch ${batch.id}: not requested: ${String(error)}`);
      });
    }
    // Single moves in waves (move-waves.ts): all at once, 1,000 moves kept the lease timers of every node from running.
    for (const move of nextWave(singles, this.ownInFlight(), underWay)) {
      if (move.actor === 'health') this.context.failovers.mark(move.resource);
      void this.request(move.resource, move.to, move.actor);
    }
  }

  /**
   * This node fails the checks of `failing` (resources it holds): each goes to a healthy node as a planned
   * move (spread with running loads, as a drain); one that no node passes stays here, said once in the audit.
   */
  private planHealthMoves(failing: readonly ResourceSpec[], wanted: Array<{ resource: ResourceName; to: NodeName; actor: string }>): void {
    const { node } = this.context;
    const view = this.context.view();
    const placed = placeBatch(failing, view.nodeViews(), view.owners.loads(), [node], view.groups());
    const now = this.context.wallNow();
    const atLimit = (spec: ResourceSpec): boolean => spec.failoverThreshold !== undefined && failoverLimitReached(spec, this.context.failovers.marks(), now);
    // A group stays whole: one member at its threshold keeps every member here.
    const groupsAtLimit = new Set(failing.filter((spec) => spec.group !== undefined && atLimit(spec)).map((spec) => spec.group));
    for (const spec of failing) {
      // Its move is under way (and already counted): nothing to decide again until it ends.
      if (view.movingTo(spec.name) !== null || this.context.busy(spec.name)) continue;
      const to = placed.get(spec.name) ?? null;
      if (to !== null && (atLimit(spec) || (spec.group !== undefined && groupsAtLimit.has(spec.group)))) {
        if (spec.failoverThreshold !== undefined) this.stayAtLimit(spec);
        continue;
      }
      if (to !== null) {
        this.limited.delete(spec.name);
        this.stranded.delete(spec.name);
        wanted.push({ resource: spec.name, to, actor: 'health' });
      } else if (!this.stranded.has(spec.name)) {
        this.stranded.add(spec.name);
        void this.context
          .audit({ actor: `agent:${node}`, action: 'check.no-healthy-node', target: spec.name, outcome: 'failed', detail: `${node} fails the health checks of ${spec.name} and no other node passes them: it stays on ${node}`, handoffMs: null })
          .catch(() => undefined);
      }
    }
  }

  /**
   * The moves failures caused reached the resource's threshold (failover-threshold): it stays here though
   * this node fails its checks, and its status says so (once) until a cleanup resets the count.
   */
  private stayAtLimit(spec: ResourceSpec): void {
    const { node } = this.context;
    const status = this.context.view().statuses.get(spec.name);
    if (status === undefined || status.owner !== node) return;
    const { count, windowSec } = spec.failoverThreshold!;
    const failure = { kind: 'failover-limit' as const, count, windowSec, detail: `${node} fails its health checks and keeps it` };
    // The mark is written again if a later status write (a stale one from the watch, a claim's) dropped it; said once.
    if (status.failure?.kind !== 'failover-limit') {
      void this.context.putStatus(spec.name, { state: status.state, owner: status.owner, ownerMac: status.ownerMac, failure }).catch((error: unknown) => this.context.log(`${spec.name}: failover limit not recorded: ${String(error)}`));
    }
    if (this.limited.has(spec.name)) return;
    this.limited.add(spec.name);
    this.context.log(`${spec.name}: ${describeFailure(failure)}`);
    void this.context.audit({ actor: `agent:${node}`, action: 'failover.limit', target: spec.name, outcome: 'failed', detail: describeFailure(failure), handoffMs: null }).catch(() => undefined);
  }

  /** A reconcile again in `ms` (a health move waiting for its failure to settle): the earliest asked wins. */
  private wakeAfter(ms: number): void {
    const at = performance.now() + ms;
    if (this.wake !== null && this.wake.at <= at) return;
    if (this.wake !== null) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = null;
      this.context.schedule();
    }, ms + 10);
    timer.unref();
    this.wake = { at, timer };
  }

  /** Graceful stop: every address this node owns goes to the best other node. */
  /**
   * Asks a move away for every address this node owns that has none open, to its best other node
   * (a stopping one is paused to placement). Returns how many of its addresses are moving now: 0 when
   * no live node can take any of them.
   */
  async requestAllAway(actor: string, tries: Map<ResourceName, number> = new Map()): Promise<number> {
    const view = this.context.view();
    const nodes = view.nodeViews();
    // Where each goes, placed together: a group's members to one node (placement.ts).
    const mine = [...view.owners.ownedBy(this.context.node)].flatMap((resource) => view.resources.get(resource) ?? []);
    const targets = placeBatch(mine, nodes, view.owners.loads(), [this.context.node], view.groups());
    let moving = 0;
    for (const [resource, owner] of view.owners) {
      if (owner.node !== this.context.node) continue;
      if (view.batchOf(resource) !== undefined) {
        moving += 1; // its batch goes on (a stopping target ends it; then this asks again)
        continue;
      }
      const open = view.moveOf(resource);
      if (open !== undefined) {
        // Asked of a node that has stopped or is stopping before it looked at it: nobody will answer it.
        const unanswered = open.phase === 'requested' && (!view.isAlive(open.toNode) || view.isLeaving(open.toNode));
        if (!unanswered) {
          moving += 1;
          continue;
        }
        await this.context.store.deleteIntent(open.id, view.intentRevisions.get(open.id)).catch(() => undefined);
        view.intents.delete(open.id);
      }
      const to = targets.get(resource) ?? null;
      // A move that keeps failing (a conflict at the target) is not asked for again and again.
      if (to === null || (tries.get(resource) ?? 0) >= MAX_STOP_TRIES) continue;
      tries.set(resource, (tries.get(resource) ?? 0) + 1);
      await this.request(resource, to, actor).then(
        () => (moving += 1),
        () => undefined,
      );
    }
    return moving;
  }

  private ownInFlight(): number {
    let count = 0;
    for (const intent of this.context.view().intents.values()) if (intent.kind === 'move' && intent.fromNode === this.context.node) count++;
    return count;
  }

  async request(resource: ResourceName, to: NodeName, actor: string): Promise<string> {
    const view = this.context.view();
    const id = `move:${resource}:${Date.now().toString(36)}`;
    const intent: RequestedMove = { id, kind: 'move', phase: 'requested', resource, fromNode: view.ownerOf(resource), toNode: to, actor, createdAt: Date.now() };
    view.intents.set(id, intent);
    await this.context.store.putIntent(intent, 0);
    return id;
  }

  // ---- the target --------------------------------------------------------------------------------

  /** Target, step 1: the trusted probe. Only the current owner's MAC may answer. */
  private async prepare(move: RequestedMove): Promise<void> {
    const { local, node } = this.context;
    const view = this.context.view();
    const spec = view.resources.get(move.resource);
    if (!spec) return this.end(move, 'resource removed');
    const iface = this.context.ifnameFor(spec);
    if (!iface.ok) return this.end(move, describeFailure(iface.failure));
    const ownerMac = view.statuses.get(move.resource)?.ownerMac ?? null;
    // The status is written after the key changes hands: one that names our own MAC is older than the key.
    // The owner's write usually follows within milliseconds; guard tries again after its back-off, and the
    // move's timeout bounds the wait.
    if (ownerMac !== null && this.context.ownMacs().includes(ownerMac)) throw new Error(`the status still names this node's MAC ${ownerMac} as the owner's (older than the key): waiting for the owner's status`);
    const verdict = await local.probe({ resource: spec.name, ip: spec.ip, ifname: iface.ifname, trustedMac: ownerMac, acd: { ...TRUSTED_PROBE, probeForm: 'question', askingMacs: this.context.peerMacs() } });
    const heard = heardFrom(verdict, spec.ip, iface.ifname);
    const station = heard.kind === 'quiet' ? this.context.stationAddress(iface.ifname) : null;
    const handoff = this.context.handoff();
    const notify = handoff && station !== null ? handoff.notifyFor(station) : null;
    const effect = afterProbe(move, heard, node, notify);
    if (effect.type === 'end') return this.end(effect.move, effect.failure);
    if (effect.intent.phase === 'prepared') this.prepared.set(move.id, effect.intent);
    await this.write(effect.intent);
  }

  /**
   * Writes a phase the target decided. The view learns it at once, not when the watch brings our own
   * write back: a reconcile in between would still see "requested", prepare again and could overwrite
   * the owner's "released" with "prepared" — and the move would hang until it times out, with nobody
   * answering for the address.
   */
  private async write(intent: MoveIntent): Promise<void> {
    await this.context.store.putIntent(intent);
    const view = this.context.view();
    const seen = view.intents.get(intent.id);
    if (seen?.kind === 'move' && seen.phase === 'requested') view.intents.set(intent.id, intent);
  }

  /** Target: the owner says it let go (handoff-channel.ts). Acts only on a move it prepared, with its nonce, signed by the owner. */
  onReleasedNotice(notice: ReleasedNotice): void {
    if (isBatchId(notice.id)) return this.batches.onReleasedNotice(notice);
    const membership = this.context.membership();
    if (!membership || !this.context.leaseHealthy()) return;
    const prepared = this.prepared.get(notice.id);
    if (!prepared) return;
    const ownerKey = prepared.fromNode === null ? undefined : this.context.view().nodes.get(prepared.fromNode)?.handoffKey;
    if (ownerKey === undefined || !verifyReleasedNotice(ownerKey, notice)) {
      this.context.log(`${prepared.resource}: a release datagram for ${notice.id} not signed by ${prepared.fromNode ?? 'the owner'} was ignored (the store's word is awaited)`);
      return;
    }
    const released = onReleaseNotice(prepared, notice);
    if (!released) return;
    this.prepared.delete(notice.id);
    const resource = released.resource;
    if (this.context.busy(resource) || this.context.local.has(resource)) return; // the store's news will do
    this.context.guard(resource, () => this.take(released, membership));
  }

  /** Target, step 2: register and announce at once; take the key over in the same breath. */
  private async take(move: ReleasedMove, membership: Membership): Promise<void> {
    const { local, store, node } = this.context;
    const view = this.context.view();
    this.prepared.delete(move.id);
    const spec = view.resources.get(move.resource);
    if (!spec) return this.end(move, 'resource removed');
    const iface = this.context.ifnameFor(spec);
    if (!iface.ok) {
      if (isLocalFailure(iface.failure)) await this.context.failovers.takeFailed(spec.name, iface.failure);
      return this.end(move, describeFailure(iface.failure));
    }
    const from = move.fromNode ?? view.ownerOf(move.resource) ?? '';
    const holding = local.hold({ resource: spec.name, ip: spec.ip, prefix: spec.prefix, ifname: iface.ifname, acd: { skipProbe: true, trustedMac: view.statuses.get(spec.name)?.ownerMac ?? null, ...this.context.claimSettings(spec) } });
    const transfer = store.transfer(spec.name, from, membership);
    const [held, transferred] = await Promise.all([holding, transfer]);
    if (transferred.ok) view.owners.set(spec.name, { node, leaseId: membership.leaseId });
    const outcome: TakeOutcome = !transferred.ok
      ? { kind: 'transfer-lost', current: transferred.current?.node ?? null }
      : held.kind === 'ready' && !local.isReady(spec.name)
        ? // An interface fault dropped it after it was registered: placement finds a node that can serve it.
          { kind: 'not-held', reason: 'its interface failed during the take-over' }
        : held.kind === 'ready'
        ? { kind: 'held', mac: held.mac }
        : { kind: 'not-held', reason: held.kind === 'used-by' ? `conflict with ${held.macs.join(', ')}` : held.reason };
    // This node could not register it (not an interface fault, not a late lease): counted by the failure policy.
    if (transferred.ok && held.kind === 'failed' && held.reason !== LINK_DOWN && held.reason !== LEASE_UNCONFIRMED) {
      await this.context.failovers.takeFailed(spec.name, { kind: 'register-failed', node, detail: held.reason });
    }
    for (const effect of afterTake(move, outcome, this.context.wallNow())) {
      switch (effect.type) {
        case 'drop-local':
          local.release(spec.name);
          break;
        case 'release-key':
          await store.release(spec.name, node);
          break;
        case 'record-online': {
          const previous = view.statuses.get(spec.name);
          const status: ResourceStatus = { name: spec.name, state: 'online', owner: node, ownerMac: effect.mac, since: Date.now(), failure: null, lastHandoffMs: effect.handoffMs ?? previous?.lastHandoffMs ?? null };
          view.statuses.set(spec.name, status);
          await store.putStatus(status);
          await this.context.audit({ actor: move.actor, action: 'move', target: spec.name, outcome: 'ok', detail: `${from} -> ${node}`, handoffMs: effect.handoffMs });
          break;
        }
        case 'end':
          if (effect.failure !== null) await this.end(effect.move, effect.failure);
          else await store.deleteIntent(move.id);
          break;
      }
    }
  }

  /** A move of an address nobody holds (offline or failed) is bringing it online on the target. */
  private async takeUnowned(move: RequestedMove, membership: Membership): Promise<void> {
    await this.context.acquire(move.resource, membership);
    await this.end(move, this.context.view().ownerOf(move.resource) === this.context.node ? null : 'could not take the address');
  }

  private async end(move: MoveIntent, failure: string | null): Promise<void> {
    this.prepared.delete(move.id);
    if (failure !== null) await this.context.audit({ actor: move.actor, action: 'move', target: move.resource, outcome: 'failed', detail: failure, handoffMs: null });
    await this.context.store.deleteIntent(move.id).catch(() => false);
    this.context.view().intents.delete(move.id);
  }

  // ---- the owner lets go -------------------------------------------------------------------------

  /**
   * Owner: deregister at once (one netlink call) and tell the target. On a host that applies address
   * changes later (Windows) the target is told only once the removal has reached the host: one holder
   * at a time needs the old owner to have let go before it says so.
   */
  private letGo(move: PreparedMove, released: Omit<ReleasedMove, 'releasedAt'>): void {
    const { local } = this.context;
    this.handedOff.add(move.resource);
    const ifname = local.ifnameOf(move.resource);
    const mac = local.macOf(move.resource);
    const ip = this.context.view().resources.get(move.resource)?.ip;
    local.releaseMany([move.resource]);
    const settling = local.settled();
    if (settling === null) return this.tell(move, released, ifname, mac, ip);
    void settling.then(() => {
      if (ifname !== null && ip !== undefined && local.carries(ifname, ip)) {
        // Removing it failed (reported as a warning): the target is not told, and this node serves it again.
        this.context.log(`${move.resource}: not handed over: ${ip} is still on ${ifname} after its removal`);
        this.handedOff.delete(move.resource);
        this.context.schedule();
        return;
      }
      this.tell(move, released, ifname, mac, ip);
    });
  }

  /** Owner, after letting go: the release datagram, the straggler watch, and "released" in the store. */
  private tell(move: PreparedMove, released: Omit<ReleasedMove, 'releasedAt'>, ifname: string | null, mac: string | null, ip: string | undefined): void {
    const { convergence, store } = this.context;
    const releasedAt = this.context.wallNow();
    // Another agent wrote the notify field: checked again before anything is sent to it.
    const notify = checkNotify(move.notify);
    const handoff = this.context.handoff();
    let told = false;
    if (notify && handoff) {
      try {
        handoff.send(notify, { id: move.id, nonce: notify.nonce, releasedAt });
        told = true;
      } catch (error) {
        this.context.log(`${move.resource}: release datagram not sent: ${(error as Error).message}`);
      }
    }
    if (ifname !== null && mac !== null && ip !== undefined) convergence.handedOff(move.resource, ip, ifname, mac);
    store.putIntent({ ...released, releasedAt }).catch((error: unknown) => {
      this.context.log(`${move.resource}: could not record the release: ${String(error)}`);
      // A target that got the datagram may be taking the address now: the move's end (or timeout) decides.
      if (told) return;
      this.handedOff.delete(move.resource);
      this.context.schedule();
    });
  }

  /** Owner: the target never took the address after we let go: end the move and serve again. */
  private async abort(move: ReleasedMove, failure: string): Promise<void> {
    await this.end(move, failure);
    this.handedOff.delete(move.resource);
  }
}

/** Move ids are "move:<resource>:<n>" (request()): the resource survives the record's delete. */
function resourceOfMoveId(id: string): ResourceName | null {
  return /^move:(.+):[^:]+$/.exec(id)?.[1] ?? null;
}

function isBatchId(id: string): boolean {
  return id.startsWith('batch:');
}
