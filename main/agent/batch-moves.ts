// Batch moves on this node (a drain or a failback of many addresses towards one node): the owner's side
// (letting go of every address in one netlink batch, one datagram, one record) and the target's (the
// trusted probe of every address, the take-over in one netlink batch, the keys in transactions of 100,
// the statuses in one write per 100). What to do is decided by cluster/batch-machine.ts.
import type { ResourceName, ResourceStatus } from '../cluster/model';
import { afterBatchProbe, afterBatchTake, nextBatchStep, onBatchReleaseNotice, type BatchEffect } from '../cluster/batch-machine';
import { checkNotify, movingOf, type BatchExclusion, type BatchMove, type PreparedBatch, type ReleasedBatch, type RequestedBatch } from '../cluster/intents';
import { heardFrom, TRUSTED_PROBE, type ProbeHeard, type TakeOutcome } from '../cluster/move-machine';
import { RevisionConflictError, type Membership } from '../store/store';
import { LEASE_UNCONFIRMED, LINK_DOWN, type HoldOutcome, type HoldRequest } from './local-addresses';
import { isLocalFailure, type LocalFailure } from '../cluster/failure-policy';
import { probeAll, type BatchProbeRequest } from './batch-probe';
import { verifyReleasedNotice, type ReleasedNotice } from './handoff-channel';
import type { MovesContext } from './planned-moves';
import { describeFailure } from '../../preload/contract/failure-text';

export class BatchMoves {
  /** Resources this node let go in a batch still open: reconcile must not take them back. */
  private readonly handedOff = new Set<ResourceName>();
  /** The resources let go, by batch id (a deleted record's change carries only its id). */
  private readonly handedBatches = new Map<string, readonly ResourceName[]>();
  /** Batches this node prepared as the target, by id (the datagram must carry their nonce). */
  private readonly prepared = new Map<string, PreparedBatch>();
  /** When this node's probe of a batch ran (wall-clock ms), for the line that reports the batch. */
  private readonly probedAt = new Map<string, { started: number; ended: number }>();

  constructor(private readonly context: MovesContext) {}

  handedOver(resource: ResourceName): boolean {
    return this.handedOff.has(resource);
  }

  /** Open batches this node asked for, by target. */
  openTargets(): Set<string> {
    const targets = new Set<string>();
    for (const intent of this.context.view().intents.values()) if (intent.kind === 'batch' && intent.fromNode === this.context.node) targets.add(intent.toNode);
    return targets;
  }

  onDeleted(id: string): void {
    for (const resource of this.handedBatches.get(id) ?? []) this.handedOff.delete(resource);
    this.handedBatches.delete(id);
    this.prepared.delete(id);
  }

  /** One open batch, looked at on a reconcile: the machine says what this node does next. */
  advance(batch: BatchMove, membership: Membership): void {
    const view = this.context.view();
    const effect = nextBatchStep(batch, {
      me: this.context.node,
      now: Date.now(),
      busy: this.context.busy(batch.id),
      handedOff: this.handedBatches.has(batch.id),
      ownerAlive: view.isAlive(batch.fromNode),
      targetAlive: view.isAlive(batch.toNode),
      stopping: this.context.stopping(),
    });
    if (effect) this.carryOut(effect, membership);
  }

  private carryOut(effect: BatchEffect, membership: Membership): void {
    const guardMany = (key: string, resources: readonly ResourceName[], work: () => Promise<void>): void => this.context.guardMany(key, resources, work);
    switch (effect.type) {
      case 'probe': return guardMany(effect.batch.id, effect.batch.resources, () => this.prepare(effect.batch));
      case 'take': return guardMany(effect.batch.id, movingOf(effect.batch), () => this.take(effect.batch, membership));
      case 'let-go': return this.letGo(effect.batch, effect.released);
      case 'write': return guardMany(effect.batch.id, [], () => this.write(effect.batch, effect.excluded));
      case 'end': return guardMany(effect.batch.id, [], () => this.end(effect.batch, effect.failures));
      case 'abort': return guardMany(effect.batch.id, [], () => this.abort(effect.batch, effect.failure));
    }
  }

  /** Owner: asks `to` to take these addresses in one batch. */
  async request(batch: RequestedBatch): Promise<void> {
    this.context.view().intents.set(batch.id, batch);
    await this.context.store.putIntent(batch, 0);
  }

  // ---- the target --------------------------------------------------------------------------------

  /**
   * Target, step 1: the trusted probe of every address at once (only the owner's MAC may answer). A probe
   * during which the capture dropped frames proves nothing (a stranger's answer may be among them): the
   * batch is probed again after the work's back-off.
   */
  private async prepare(batch: RequestedBatch): Promise<void> {
    const view = this.context.view();
    const unprobed: BatchExclusion[] = [];
    const requests: BatchProbeRequest[] = [];
    for (const resource of batch.resources) {
      const spec = view.resources.get(resource);
      if (!spec) {
        unprobed.push({ resource, detail: 'resource removed' });
        continue;
      }
      const owner = view.ownerOf(resource);
      if (owner !== batch.fromNode) {
        unprobed.push({ resource, detail: `held by ${owner ?? 'nobody'} now, not ${batch.fromNode}` });
        continue;
      }
      const iface = this.context.ifnameFor(spec);
      if (!iface.ok) {
        unprobed.push({ resource, detail: describeFailure(iface.failure) });
        continue;
      }
      const ownerMac = view.statuses.get(resource)?.ownerMac ?? null;
      if (ownerMac !== null && this.context.ownMacs().includes(ownerMac)) throw new Error(`${resource}: the status still names this node's MAC ${ownerMac} as the owner's (older than the key): waiting for the owner's status`);
      requests.push({ resource, ip: spec.ip, ifname: iface.ifname, trustedMac: ownerMac });
    }
    const probeStarted = Date.now();
    const heard = await this.probe(batch, requests);
    this.probedAt.set(batch.id, { started: probeStarted, ended: Date.now() });
    const station = [...new Set(requests.map((r) => r.ifname))].map((ifname) => this.context.stationAddress(ifname)).find((address) => address !== null) ?? null;
    const handoff = this.context.handoff();
    const notify = handoff && station !== null ? handoff.notifyFor(station) : null;
    const effect = afterBatchProbe(batch, heard, unprobed, notify, (resource) => view.resources.get(resource)?.group);
    if (effect.type === 'end') return this.end(effect.batch, effect.failures);
    if (effect.type !== 'write' || effect.batch.phase !== 'prepared') throw new Error(`internal: a batch probe ended in ${effect.type}`);
    this.prepared.set(batch.id, effect.batch);
    await this.write(effect.batch, effect.excluded);
  }

  /** Who answers for each address (batch-probe.ts; one by one where the host has no answer capture). */
  private async probe(batch: RequestedBatch, requests: readonly BatchProbeRequest[]): Promise<Map<ResourceName, ProbeHeard>> {
    const verdicts = await probeAll(this.context.host, this.context.local, requests, { ...TRUSTED_PROBE, probeForm: 'question', askingMacs: this.context.peerMacs() });
    if (verdicts.kind === 'dropped') throw new Error(`batch ${batch.id}: the answer capture on ${verdicts.ifname} dropped ${verdicts.count} frames during the probe; probing again`);
    const heard = new Map<ResourceName, ProbeHeard>();
    for (const { resource, ip, ifname } of requests) {
      const verdict = verdicts.heard.get(resource);
      heard.set(resource, verdict === undefined ? { kind: 'interrupted', ifname } : heardFrom(verdict, ip, ifname));
    }
    return heard;
  }

  /**
   * Writes a phase over the record this node read (compare-and-swap: an owner that ended the batch
   * meanwhile is not overruled), auditing the addresses left out. The view learns it at once.
   */
  private async write(batch: BatchMove, excluded: readonly BatchExclusion[]): Promise<void> {
    await this.auditFailures(batch, excluded);
    const view = this.context.view();
    try {
      await this.context.store.putIntent(batch, view.intentRevisions.get(batch.id));
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
      this.prepared.delete(batch.id);
      this.context.log(`batch ${batch.id} changed or ended before this node wrote ${batch.phase}: left alone`);
      return;
    }
    const seen = view.intents.get(batch.id);
    if (seen?.kind === 'batch' && seen.phase === 'requested') view.intents.set(batch.id, batch);
  }

  /** Target: the owner's datagram (handoff-channel.ts), for a batch this node prepared, signed by the owner. */
  onReleasedNotice(notice: ReleasedNotice): void {
    const membership = this.context.membership();
    if (!membership || !this.context.leaseHealthy()) return;
    const prepared = this.prepared.get(notice.id);
    if (!prepared) return;
    const ownerKey = this.context.view().nodes.get(prepared.fromNode)?.handoffKey;
    if (ownerKey === undefined || !verifyReleasedNotice(ownerKey, notice)) {
      this.context.log(`batch ${notice.id}: a release datagram not signed by ${prepared.fromNode} was ignored (the store's word is awaited)`);
      return;
    }
    const released = onBatchReleaseNotice(prepared, notice);
    if (!released || this.context.busy(released.id)) return;
    this.prepared.delete(notice.id);
    this.context.guardMany(released.id, movingOf(released), () => this.take(released, membership));
  }

  /** Target, step 2: register every address in one batch and announce, take the keys over in the same breath. */
  private async take(batch: ReleasedBatch, membership: Membership): Promise<void> {
    const { local, store, node } = this.context;
    const view = this.context.view();
    this.prepared.delete(batch.id);
    const outcomes = new Map<ResourceName, TakeOutcome>();
    const requests: HoldRequest[] = [];
    /** Held here already (the datagram's take and then the store's word, or an earlier claim): only the key moves. */
    const already: ResourceName[] = [];
    /** This node could not carry them (its interface missing, its registration refused): the failure policy counts them. */
    const refused: Array<{ resource: ResourceName; failure: LocalFailure }> = [];
    for (const resource of movingOf(batch)) {
      const spec = view.resources.get(resource);
      const iface = spec ? this.context.ifnameFor(spec) : null;
      if (iface?.ok === false && isLocalFailure(iface.failure)) refused.push({ resource, failure: iface.failure });
      if (!spec || !iface?.ok) {
        outcomes.set(resource, { kind: 'not-held', reason: spec ? describeFailure((iface as Extract<typeof iface, { ok: false }>).failure) : 'resource removed' });
        continue;
      }
      if (local.has(resource)) {
        already.push(resource);
        continue;
      }
      requests.push({ resource, ip: spec.ip, prefix: spec.prefix, ifname: iface.ifname, acd: { skipProbe: true, trustedMac: view.statuses.get(resource)?.ownerMac ?? null, ...this.context.claimSettings(spec) } });
    }
    const taking = [...requests.map((r) => r.resource), ...already];
    const holding = [...local.holdMany(requests), ...already.map((resource): Promise<HoldOutcome> => {
      const mac = local.macOf(resource);
      return Promise.resolve(local.isReady(resource) && mac !== null ? { kind: 'ready', mac } : { kind: 'failed', reason: 'its earlier claim is not ready' });
    })];
    const [held, transferred] = await Promise.all([Promise.all(holding), store.transferMany(taking, batch.fromNode, membership)]);
    taking.forEach((resource, i) => {
      const moved = transferred[i]!;
      const hold = held[i]!;
      if (moved.ok) view.owners.set(resource, { node, leaseId: membership.leaseId });
      if (moved.ok && hold.kind === 'failed' && hold.reason !== LINK_DOWN && hold.reason !== LEASE_UNCONFIRMED && !already.includes(resource)) {
        refused.push({ resource, failure: { kind: 'register-failed', node, detail: hold.reason } });
      }
      outcomes.set(
        resource,
        !moved.ok
          ? { kind: 'transfer-lost', current: moved.current?.node ?? null }
          : hold.kind === 'ready' && !local.isReady(resource)
            ? // An interface fault dropped it after it was registered: placement finds a node that can serve it.
              { kind: 'not-held', reason: 'its interface failed during the take-over' }
            : hold.kind === 'ready'
            ? { kind: 'held', mac: hold.mac }
            : { kind: 'not-held', reason: hold.kind === 'used-by' ? `conflict with ${hold.macs.join(', ')}` : hold.reason },
      );
    });
    const heldAt = this.context.wallNow();
    const result = afterBatchTake(batch, outcomes, heldAt);
    const probed = this.probedAt.get(batch.id);
    this.probedAt.delete(batch.id);
    this.context.log(
      `batch ${batch.id}: ${result.online.length} of ${batch.resources.length} addresses taken from ${batch.fromNode} ${Math.round(heldAt - batch.createdAt)} ms after the request` +
        (probed === undefined ? '' : ` (probe ${probed.started - batch.createdAt} ms after it, ${probed.ended - probed.started} ms long; released ${Math.round(batch.releasedAt - probed.ended)} ms after; held ${Math.round(heldAt - batch.releasedAt)} ms after that)`) +
        (result.failures.length === 0 ? '' : `; ${result.failures.length} not taken`),
    );
    for (const resource of result.drop) local.release(resource);
    const now = Date.now();
    const statuses: ResourceStatus[] = result.online.map(({ resource, mac, handoffMs }) => ({ name: resource, state: 'online', owner: node, ownerMac: mac, since: now, failure: null, lastHandoffMs: handoffMs }));
    for (const status of statuses) view.statuses.set(status.name, status);
    await Promise.all([
      store.putStatuses(statuses),
      ...result.releaseKeys.map((resource) => store.release(resource, node)),
      ...result.online.map(({ resource, handoffMs }) => this.context.audit({ actor: batch.actor, action: 'move', target: resource, outcome: 'ok', detail: `${batch.fromNode} -> ${node}`, handoffMs })),
    ]);
    for (const { resource, failure } of refused) await this.context.failovers.takeFailed(resource, failure);
    await this.end(batch, result.failures);
  }

  private async end(batch: BatchMove, failures: readonly BatchExclusion[]): Promise<void> {
    this.prepared.delete(batch.id);
    this.probedAt.delete(batch.id);
    await this.auditFailures(batch, failures);
    await this.context.store.deleteIntent(batch.id).catch(() => false);
    this.context.view().intents.delete(batch.id);
  }

  private async auditFailures(batch: BatchMove, failures: readonly BatchExclusion[]): Promise<void> {
    await Promise.all(failures.map(({ resource, detail }) => this.context.audit({ actor: batch.actor, action: 'move', target: resource, outcome: 'failed', detail, handoffMs: null })));
  }

  // ---- the owner lets go -------------------------------------------------------------------------

  /** Owner: deregister every moving address at once (one netlink batch) and tell the target. */
  private letGo(batch: PreparedBatch, released: Omit<ReleasedBatch, 'releasedAt'>): void {
    const { local } = this.context;
    const view = this.context.view();
    const moving = movingOf(batch);
    this.handedBatches.set(batch.id, moving);
    for (const resource of moving) this.handedOff.add(resource);
    const where = moving.map((resource) => ({ resource, ifname: local.ifnameOf(resource), mac: local.macOf(resource), ip: view.resources.get(resource)?.ip }));
    local.releaseMany(moving);
    const settling = local.settled();
    if (settling === null) return this.tell(batch, released, where);
    void settling.then(() => {
      const still = where.filter((w) => w.ifname !== null && w.ip !== undefined && local.carries(w.ifname, w.ip));
      if (still.length > 0) {
        // Removing them failed (reported as warnings): the target is not told, and this node serves them again.
        this.context.log(`batch ${batch.id}: not handed over: ${still.length} addresses still on this host after their removal`);
        this.takeBack(batch.id);
        return;
      }
      this.tell(batch, released, where);
    });
  }

  /** Owner, after letting go: the datagram, the straggler watch, and "released" in the store. */
  private tell(batch: PreparedBatch, released: Omit<ReleasedBatch, 'releasedAt'>, where: ReadonlyArray<{ resource: ResourceName; ifname: string | null; mac: string | null; ip: string | undefined }>): void {
    const { convergence, store } = this.context;
    const releasedAt = this.context.wallNow();
    const notify = checkNotify(batch.notify);
    const handoff = this.context.handoff();
    if (notify && handoff) {
      try {
        handoff.send(notify, { id: batch.id, nonce: notify.nonce, releasedAt });
      } catch (error) {
        this.context.log(`batch ${batch.id}: release datagram not sent: ${(error as Error).message}`);
      }
    }
    for (const { resource, ifname, mac, ip } of where) if (ifname !== null && mac !== null && ip !== undefined) convergence.handedOff(resource, ip, ifname, mac);
    // Over the prepared record this node read: a target that ended the batch meanwhile does not see it come back as released.
    store.putIntent({ ...released, releasedAt }, this.context.view().intentRevisions.get(batch.id)).catch((error: unknown) => {
      this.context.log(`batch ${batch.id}: could not record the release: ${String(error)}`);
      // Whatever the target did meanwhile, the keys say who holds what: this node holds again only those
      // still its own, after a probe and a compare-and-swap on the key (claims.ts holdOwned).
      this.takeBack(batch.id);
    });
  }

  /** Owner: the target never took the addresses after we let go: end the batch and serve them again. */
  private async abort(batch: ReleasedBatch, failure: string): Promise<void> {
    await this.end(batch, movingOf(batch).map((resource) => ({ resource, detail: failure })));
    this.takeBack(batch.id);
  }

  private takeBack(id: string): void {
    this.onDeleted(id);
    this.context.schedule();
  }
}
