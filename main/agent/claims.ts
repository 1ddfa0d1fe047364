// Taking and letting go of the addresses this node owns: a resource acquired as after a failover (key by
// compare-and-swap, then silence, then the claim), an owned one held again (after a restart or a fence),
// the claim itself and what its outcome means for the resource, and releases. Every rule about who may
// answer for an address while keys change hands is here; the planned move's handoff is planned-moves.ts.
import { performance } from 'node:perf_hooks';
import type { AcdConfig } from '../arp/acd';
import type { FailureReason, ResourceName, ResourceSpec } from '../cluster/model';
import { isLocalFailure } from '../cluster/failure-policy';
import type { ReleaseReason } from '../cluster/reconcile';
import { silenceSubject, type SilenceIntent } from '../cluster/intents';
import { describeTakeoverGap, takeoverGapMs } from '../cluster/takeover-gap';
import type { Membership } from '../store/store';
import type { ClusterView } from './cluster-view';
import type { HostAddressCache } from './host-address-cache';
import { probeAll } from './batch-probe';
import type { InterfaceRecovery } from './interface-recovery';
import type { LocalFailures } from './local-failures';
import { holdFailureReason, LEASE_UNCONFIRMED, LINK_DOWN, type HoldOutcome } from './local-addresses';
import type { NodeContext } from './node-context';
import type { ResourceRecords } from './resource-records';

/** After a failover the address has usually been silent for a while already: one quick confirmation. */
/** Why an address is held here: a first claim, one found still registered here, or a failover from a node. */
type HeldAs = 'online' | 're-adopted' | { failoverFrom: string; evidence?: SilenceIntent };

/** The audit action for holding an address (a failover's previous owner is in its detail). */
function actionText(as: HeldAs): string {
  return typeof as === 'object' ? 'failover' : as;
}

/** The standby's evidence about `node`'s silence, if the view holds one. */
function silenceEvidence(view: ClusterView, node: string): SilenceIntent | undefined {
  const intent = view.intents.forSubject(silenceSubject(node), 'silence');
  return intent?.kind === 'silence' ? intent : undefined;
}

const QUIET_CHECK_PROBE: Partial<AcdConfig> = { probeCount: 1, probeIntervalMs: 20, probeWaitMs: 60 };

/** The failure of an interface named for this node that does not exist. */
function missingInterface(node: string, ifname: string): FailureReason {
  return { kind: 'interface-missing', node, detail: `no interface ${ifname} on ${node}` };
}

/** Releases whose store writes are in flight at once (releaseMany). */
const RELEASE_WRITES_AT_ONCE = 32;

export interface ClaimsOptions {
  context: NodeContext;
  records: ResourceRecords;
  addresses: HostAddressCache;
  interfaces: InterfaceRecovery;
  /** The failure policy: a failure of this node's own is tried again here, then the node banned (not the resource failed). */
  failures: LocalFailures;
  /** Probe settings when taking over an unowned address (failover, first start). */
  takeoverProbe: Partial<AcdConfig>;
  /** The lease TTL: the longest a node that lost its key can go on answering (waitForSilence). */
  ttlSec: number;
  /**
   * Whether this node itself just found `owner` silent on `ifname` (its standby's verdict, young enough:
   * cluster/failover-profile.ts freshVerdictMs): the takeover then needs no second look for the old MAC.
   */
  sawSilent?: (owner: string, ifname: string) => boolean;
  /** Addresses just taken over from a failed node (held, announced): the stations are told (convergence-monitor.ts). */
  tookOver?: (held: ReadonlyArray<{ resource: ResourceName; ip: string; prefix: number; ifname: string; mac: string; from: string }>) => void;
}

/** An address being claimed: taken over from `previous`, whose MAC may answer until it goes quiet, or (null) claimed first. */
interface Takeover {
  spec: ResourceSpec;
  ifname: string;
  previous: string | null;
  goingQuiet: string | null;
}

export type SilenceOutcome = { kind: 'quiet' } | { kind: 'conflict'; mac: string } | { kind: 'timeout' } | { kind: 'interrupted' };

export class Claims {
  private readonly context: NodeContext;
  private readonly records: ResourceRecords;
  private readonly addresses: HostAddressCache;
  private readonly interfaces: InterfaceRecovery;
  private readonly failures: LocalFailures;
  private readonly takeoverProbe: Partial<AcdConfig>;
  private readonly ttlSec: number;
  private readonly tookOver: ClaimsOptions['tookOver'];
  private readonly sawSilent: NonNullable<ClaimsOptions['sawSilent']>;

  constructor(options: ClaimsOptions) {
    this.context = options.context;
    this.records = options.records;
    this.addresses = options.addresses;
    this.interfaces = options.interfaces;
    this.failures = options.failures;
    this.takeoverProbe = options.takeoverProbe;
    this.ttlSec = options.ttlSec;
    this.tookOver = options.tookOver;
    this.sawSilent = options.sawSilent ?? (() => false);
  }

  /** The old owner was found silent here a moment ago: its silence needs no second look. */
  private silentHere(c: Pick<Takeover, 'previous' | 'goingQuiet' | 'ifname'>): boolean {
    return c.previous !== null && c.goingQuiet !== null && c.previous !== this.context.node && this.sawSilent(c.previous, c.ifname);
  }

  private peerMacs(): string[] {
    return this.context.view().peerMacs(this.context.node);
  }

  private nameOf(mac: string): string {
    return this.context.view().nodeOfMac(this.context.node, mac) ?? mac;
  }

  /** Holds an address whose key is ours: re-adopted without probing when still registered (agent restart). */
  async holdOwned(resource: ResourceName): Promise<void> {
    const { context } = this;
    const spec = context.view().resources.get(resource);
    if (!spec) return;
    const iface = this.addresses.interfaceFor(spec);
    if (!iface.ok) {
      if (!this.interfaces.recovering()) return this.failHere(resource, iface.failure);
      // Our interface is down or being re-created: not the address's fault. Let the key go so a node
      // that can serve it takes it; a failed resource would wait for the operator.
      context.log(`${resource}: not held here while our interface recovers (${iface.failure.kind === 'interface-missing' ? iface.failure.detail : iface.failure.kind}); released`);
      await context.store.release(resource, context.node);
      return;
    }
    // One read of the interface for carrier and MAC: this runs once per resource in a mass takeover.
    const link = context.host.interfaceState(iface.ifname);
    if (link === null && !this.interfaces.recovering()) {
      await context.store.release(resource, context.node);
      return this.failHere(resource, missingInterface(context.node, iface.ifname));
    }
    if (!link?.carrier || !this.interfaces.confirmedSinceLoss(iface.ifname)) return; // held again when the link returns
    if (!this.interfaces.macKnown(iface.ifname, link.mac)) return; // held again once our record names the MAC we would claim with
    if (this.addresses.isPresent(spec, iface.ifname)) {
      await this.hold(spec, iface.ifname, { skipProbe: true }, 're-adopted');
      return;
    }
    // Taking an address back (after a fence): our belief may be the stale one — a standby that heard us
    // silent may be revoking our lease and taking the address over. A peer's claim-probe is a conflict
    // here (we stand aside), and after a silent probe the store has the last word: the key must still be
    // ours, read after the probe, right before we register. A revocation the probe did not hear about
    // (its probe fell before ours, or was still queued behind our capture's backlog) then stops us.
    const acd: Partial<AcdConfig> = { ...this.takeoverProbe, askingMacs: this.peerMacs(), peerProbes: 'claim' };
    const heard = await context.local.probe({ resource: spec.name, ip: spec.ip, ifname: iface.ifname, trustedMac: null, acd });
    if (heard.interrupted) return; // the interface failed under the probe: held again when it is back
    if (heard.macs.length > 0) {
      await this.onProbeAnswered(spec, iface.ifname, heard.macs, 'online', 'stand-aside');
      return;
    }
    const membership = context.membership();
    if (!membership || context.fenced() || !context.leaseHealthy()) return;
    const still = await context.store.transfer(spec.name, context.node, membership);
    if (!still.ok) {
      context.log(`${spec.name}: not taken back: the key is ${still.current?.node ?? 'nobody'}'s now (our lease was revoked while we probed)`);
      return;
    }
    await this.hold(spec, iface.ifname, { skipProbe: true }, 'online');
  }

  /** Takes an unowned resource as after a failover: the key by compare-and-swap, then silence, then the claim. */
  async acquire(resource: ResourceName, membership: Membership): Promise<void> {
    const { context } = this;
    const view = context.view();
    const spec = view.resources.get(resource);
    if (!spec) return;
    const iface = this.addresses.interfaceFor(spec);
    if (!iface.ok) {
      // While our interface recovers, the address waits (placement gives it to us again when it is back).
      if (this.interfaces.recovering()) return;
      // Not ours to take: another node may be able to (the failure policy bans this node after its retries).
      return this.failHere(resource, iface.failure);
    }
    const link = context.host.interfaceState(iface.ifname);
    // An interface named for this node that does not exist (and is not coming back from a fault): this node's failure.
    if (link === null && !this.interfaces.recovering()) return this.failHere(resource, missingInterface(context.node, iface.ifname));
    if (!link?.carrier || !this.interfaces.macKnown(iface.ifname, link.mac)) return;
    const result = await context.store.acquire(resource, membership);
    if (!result.ok) return;
    view.owners.set(resource, { node: context.node, leaseId: membership.leaseId });
    const previousStatus = view.statuses.get(resource);
    const previous = previousStatus?.owner ?? null;
    const previousMac = previous !== null && previous !== context.node ? previousStatus?.ownerMac ?? null : null;
    await this.records.putStatus(resource, { state: 'online-pending', owner: context.node, ownerMac: null, failure: null });
    if (this.addresses.isPresent(spec, iface.ifname)) {
      await this.hold(spec, iface.ifname, { skipProbe: true }, 're-adopted');
      return;
    }
    let goingQuiet = previousMac;
    if (goingQuiet === null) {
      // The key is ours (compare-and-swap): a peer's probe is a question, or a stale belief that yields to ours.
      const peers = this.peerMacs();
      const outcome = await this.hold(spec, iface.ifname, { ...this.takeoverProbe, askingMacs: peers }, 'online', 'report');
      if (outcome.kind !== 'used-by' || !outcome.macs.every((mac) => peers.includes(mac))) return;
      // A peer answered: it still holds the address on a belief that ended with its lease (fenced, then
      // revoked by a standby) and goes quiet within a lease TTL. Wait for that as after a failover.
      goingQuiet = outcome.macs[0]!;
      context.log(`${spec.name}: ${this.nameOf(goingQuiet)} still answers for ${spec.ip} though the key is ours: waiting until it goes quiet`);
    }
    // Failover: the previous owner may still be going quiet (its fence runs on its own clock). Its
    // answers, and any other peer's, are expected until then; a stranger's is a conflict. Unless this
    // node's standby has just heard it fall silent: that silence is the look (docs/ARCHITECTURE.md).
    const quiet: SilenceOutcome = this.silentHere({ previous, goingQuiet: previousMac, ifname: iface.ifname }) ? { kind: 'quiet' } : await this.waitForSilence(spec, iface.ifname, goingQuiet);
    if (quiet.kind === 'interrupted') {
      // Our interface failed while listening: not the address's fault. Let it go; placement decides again.
      await context.store.release(spec.name, context.node);
      return;
    }
    if (quiet.kind !== 'quiet') {
      await context.store.release(spec.name, context.node);
      return this.records.fail(spec.name, { kind: 'conflict', mac: quiet.kind === 'conflict' ? quiet.mac : goingQuiet });
    }
    await this.hold(spec, iface.ifname, { skipProbe: true }, previousMac === null || previous === null ? 'online' : { failoverFrom: previous });
  }

  /**
   * Whether acquire() of `resource` may go with others in one batch (acquireMany): a failover from a
   * previous owner whose MAC the status names, or a first claim (nobody held it: a new or imported
   * resource). An address this node held last, or still registered here, goes through acquire().
   */
  claimsTogether(resource: ResourceName): boolean {
    const view = this.context.view();
    const spec = view.resources.get(resource);
    const status = view.statuses.get(resource);
    if (!spec || status?.owner === this.context.node) return false;
    if (status?.owner && !status.ownerMac) return false;
    const iface = this.addresses.interfaceFor(spec);
    return iface.ok && !this.addresses.isPresent(spec, iface.ifname);
  }

  /**
   * acquire() for many addresses at once (a node's takeover, an import), each under the same rules: keys
   * by compare-and-swap (transactions of 100), then silence — the old owner's and every peer's answers
   * are waited out for at most one lease TTL, a stranger's fails that address — asked of all of them at
   * once (batch-probe.ts; a first claim's first round with the takeover probe's timing), then one netlink
   * batch, the announcements, statuses in transactions of 100. Addresses that do not qualify here
   * (claimsTogether) are left to acquire() on a later pass. Unlike acquire()'s claim, the batch's
   * questions do not hear a stranger that only probes for the address at the same moment (RFC 5227's
   * simultaneous probe); one that answers or announces is heard.
   */
  async acquireMany(resources: readonly ResourceName[], membership: Membership): Promise<void> {
    const { context } = this;
    const view = context.view();
    const started = performance.now();
    const usable = new Map<string, boolean>();
    const missing = new Set<string>();
    const candidates: Takeover[] = [];
    for (const resource of resources) {
      if (!this.claimsTogether(resource)) continue;
      const spec = view.resources.get(resource)!;
      const status = view.statuses.get(resource);
      const iface = this.addresses.interfaceFor(spec);
      if (!iface.ok) continue;
      let ok = usable.get(iface.ifname);
      if (ok === undefined) {
        const link = context.host.interfaceState(iface.ifname);
        ok = link !== null && link.carrier && this.interfaces.macKnown(iface.ifname, link.mac);
        usable.set(iface.ifname, ok);
        if (link === null && !this.interfaces.recovering()) missing.add(iface.ifname);
      }
      if (missing.has(iface.ifname)) {
        await this.failHere(resource, missingInterface(context.node, iface.ifname));
        continue;
      }
      const previous = status?.owner ?? null;
      if (ok) candidates.push({ spec, ifname: iface.ifname, previous, goingQuiet: previous === null ? null : (status?.ownerMac ?? null) });
    }
    if (candidates.length === 0) return;
    const won = await context.store.acquireMany(candidates.map((c) => c.spec.name), membership);
    const mine = candidates.filter((_, i) => won[i]!.ok);
    for (const c of mine) view.owners.set(c.spec.name, { node: context.node, leaseId: membership.leaseId });
    await this.records.putStatuses(mine.map((c) => ({ resource: c.spec.name, fields: { state: 'online-pending', owner: context.node, ownerMac: null, failure: null } })));
    const quiet = await this.waitForSilenceOfAll(mine);
    await this.holdTaken(quiet, (c) => (c.previous === null ? 'online' : { failoverFrom: c.previous }), started, `${resources.length} addresses`, `${candidates.length - mine.length} keys taken by others meanwhile, ${mine.length - quiet.length} not quiet`);
  }

  /**
   * The addresses of `from` this node has just found silent itself (its standby's verdict), taken
   * straight from it: the keys move to this node's lease by compare-and-swap on the owner's name
   * (transactions of 100; the revocation of its lease waits for them, standby.ts), and the addresses are
   * held at once — the verdict was the look for its MAC, and no status goes through online-pending (the
   * next one says where the address is). One store write before the registration instead of three (the
   * revocation, its news, the key): docs/ARCHITECTURE.md argues why this still makes one holder. A key
   * that moved meanwhile (the revocation came first) is left to the reconcile's takeover.
   */
  async takeFromSilent(resources: readonly ResourceName[], from: string, evidence: SilenceIntent, membership: Membership, keysMoved: () => void): Promise<void> {
    const { context } = this;
    const view = context.view();
    const started = performance.now();
    const candidates: Takeover[] = [];
    for (const resource of resources) {
      const spec = view.resources.get(resource);
      const status = view.statuses.get(resource);
      // The caller chose these from the same view (standbyTargets); checked again because taking an address
      // whose owner is not `from`, or that is disabled, is exactly the mistake this path must never make.
      if (!spec?.enabled || status?.owner !== from || !status.ownerMac || !this.claimsTogether(resource)) continue;
      const iface = this.addresses.interfaceFor(spec);
      if (!iface.ok) continue;
      const link = context.host.interfaceState(iface.ifname);
      if (link === null || !link.carrier || !this.interfaces.macKnown(iface.ifname, link.mac)) continue;
      candidates.push({ spec, ifname: iface.ifname, previous: from, goingQuiet: status.ownerMac });
    }
    if (candidates.length === 0) return;
    const won = await context.store.transferMany(candidates.map((c) => c.spec.name), from, membership).finally(keysMoved);
    const mine = candidates.filter((_, i) => won[i]!.ok);
    for (const c of mine) view.owners.set(c.spec.name, { node: context.node, leaseId: membership.leaseId });
    await this.holdTaken(mine, () => ({ failoverFrom: from, evidence }), started, `${resources.length} addresses of silent ${from}`, `${candidates.length - mine.length} keys gone meanwhile`);
  }

  /** Addresses whose keys are ours and whose silence is settled: one netlink batch, the announcements, the records. */
  private async holdTaken(quiet: readonly Takeover[], reasonOf: (c: Takeover) => HeldAs, started: number, asked: string, notes: string): Promise<void> {
    const { context } = this;
    const outcomes = context.local.holdMany(quiet.map((c) => ({ resource: c.spec.name, ip: c.spec.ip, prefix: c.spec.prefix, ifname: c.ifname, acd: { skipProbe: true, ...claimSettings(c.spec) } })));
    const held = await Promise.all(outcomes);
    const ready = quiet.flatMap((c, i) => {
      const outcome = held[i]!;
      return outcome.kind === 'ready' ? [{ ...c, mac: outcome.mac }] : [];
    });
    await this.recordHeld(ready.map((r) => ({ ...r, as: reasonOf(r) })), started);
    await Promise.all(quiet.flatMap((c, i) => {
      const outcome = held[i]!;
      return outcome.kind === 'ready' ? [] : [this.recordNotHeld(c.spec, c.ifname, outcome, actionText(reasonOf(c)), 'stand-aside')];
    }));
    const firsts = ready.filter((r) => r.previous === null).length;
    context.log(`claimed together: ${ready.length} of ${asked} held after ${Math.round(performance.now() - started)} ms (${ready.length - firsts} failovers, ${firsts} first claims; ${notes})`);
  }

  /**
   * waitForSilence for many addresses, asked together: those only silence answers, once it does. The
   * others had their key let go: an interface fault under the probe (placement decides again), a
   * stranger's answer or an old owner that never went quiet (a conflict).
   */
  private async waitForSilenceOfAll(taking: readonly Takeover[]): Promise<Takeover[]> {
    const { context } = this;
    const deadline = performance.now() + this.ttlSec * 1000 + 500;
    const seenSilent = new Set(taking.filter((c) => this.silentHere(c)));
    const quiet: Takeover[] = [...seenSilent];
    let waiting = taking.filter((c) => !seenSilent.has(c));
    let unheard = false;
    let round = 0;
    /** The last peer heard for an address whose first claim met one (its MAC names the conflict if it never goes quiet). */
    const peerHeard = new Map<ResourceName, string>();
    const giveUp = async (c: Takeover, mac: string | null): Promise<void> => {
      await context.store.release(c.spec.name, context.node);
      if (mac !== null) await this.records.fail(c.spec.name, { kind: 'conflict', mac });
    };
    while (waiting.length > 0 && performance.now() < deadline) {
      const peers = this.peerMacs();
      // A first claim's first look is the takeover probe (acquire()'s); after that, quick confirmations.
      const timing = round++ === 0 && waiting.some((c) => c.previous === null) ? this.takeoverProbe : QUIET_CHECK_PROBE;
      const heard = await probeAll(context.host, context.local, waiting.map((c) => ({ resource: c.spec.name, ip: c.spec.ip, ifname: c.ifname, trustedMac: c.goingQuiet })), { ...timing, askingMacs: peers });
      // Nothing is known from a round the capture dropped frames in: ask again.
      unheard = heard.kind === 'dropped';
      if (heard.kind === 'dropped') continue;
      const still: Takeover[] = [];
      for (const c of waiting) {
        const answer = heard.heard.get(c.spec.name);
        if (answer === undefined || answer.interrupted) {
          await giveUp(c, null);
          continue;
        }
        const stranger = answer.macs.find((mac) => !peers.includes(mac));
        if (answer.macs.length > 0) peerHeard.set(c.spec.name, answer.macs[0]!);
        if (stranger !== undefined) await giveUp(c, stranger);
        else if (answer.macs.length > 0 || answer.trustedAnswered) still.push(c);
        else quiet.push(c);
      }
      waiting = still;
    }
    // Answered until the end: the old owner never went quiet (a conflict) — or, if nothing could be heard, nobody knows: placement decides again.
    await Promise.all(waiting.map((c) => giveUp(c, unheard ? null : (c.goingQuiet ?? peerHeard.get(c.spec.name) ?? null))));
    return quiet;
  }

  /**
   * Probes until only silence answers — at most one lease TTL, the fencing bound of the node that answers.
   * Only peers may answer meanwhile: the old owner, or a node holding the address on a belief that ended
   * with its lease (possibly under another MAC of its own: its interface just took a new one).
   */
  private async waitForSilence(spec: ResourceSpec, ifname: string, oldMac: string): Promise<SilenceOutcome> {
    const deadline = performance.now() + this.ttlSec * 1000 + 500;
    while (performance.now() < deadline) {
      const peers = this.peerMacs();
      const answer = await this.context.local.probe({ resource: spec.name, ip: spec.ip, ifname, trustedMac: oldMac, acd: { ...QUIET_CHECK_PROBE, askingMacs: peers } });
      if (answer.interrupted) return { kind: 'interrupted' };
      const strangers = answer.macs.filter((mac) => !peers.includes(mac));
      if (strangers.length > 0) return { kind: 'conflict', mac: strangers[0]! };
      if (answer.macs.length > 0) continue;
      if (!answer.trustedAnswered) return { kind: 'quiet' };
    }
    return { kind: 'timeout' };
  }

  /**
   * Claims the address here and records the outcome. A conflict with a stranger fails the resource; one
   * with a peer (acting on a stale belief, or taking it over) does not: `onPeer` 'stand-aside' lets the key
   * go so placement decides again, 'report' leaves it to the caller.
   */
  private async hold(spec: ResourceSpec, ifname: string, acd: Partial<AcdConfig>, as: HeldAs, onPeer: 'stand-aside' | 'report' = 'stand-aside'): Promise<HoldOutcome> {
    const started = performance.now();
    let outcome: HoldOutcome;
    try {
      outcome = await this.context.local.hold({ resource: spec.name, ip: spec.ip, prefix: spec.prefix, ifname, acd: { ...acd, ...claimSettings(spec) } });
    } catch (error) {
      outcome = { kind: 'failed', reason: holdFailureReason(error) };
    }
    if (outcome.kind === 'ready') await this.recordHeld([{ spec, ifname, mac: outcome.mac, as }], started);
    else await this.recordNotHeld(spec, ifname, outcome, actionText(as), onPeer);
    return outcome;
  }

  /**
   * Addresses now held here (registered and announced): their status (one batch of writes), an audit entry
   * each, the event. A failover's entry carries the gap clients saw, when a standby's evidence covers it.
   */
  private async recordHeld(held: ReadonlyArray<{ spec: ResourceSpec; ifname: string; mac: string; as: HeldAs }>, started: number): Promise<void> {
    const { context } = this;
    const announcedAt = Date.now();
    const view = context.view();
    const gaps = held.map(({ as }) => (typeof as === 'object' ? takeoverGapMs(as.evidence ?? silenceEvidence(view, as.failoverFrom), announcedAt) : null));
    await this.records.putStatuses(held.map(({ spec, mac, as }, i) => ({ resource: spec.name, fields: { state: 'online', owner: context.node, ownerMac: mac, failure: null, ...(typeof as === 'object' ? { lastHandoffMs: gaps[i]! } : {}) } })));
    const ms = Math.round(performance.now() - started);
    const failovers = held.flatMap(({ spec, ifname, mac, as }) => (typeof as === 'object' ? [{ resource: spec.name, ip: spec.ip, prefix: spec.prefix, ifname, mac, from: as.failoverFrom }] : []));
    if (failovers.length > 0) this.tookOver?.(failovers);
    await Promise.all(held.map(({ spec, ifname, mac, as }, i) => {
      const where = `${spec.ip}/${spec.prefix} on ${context.node} ${ifname} (${mac}) after ${ms} ms`;
      return this.records.audit({ actor: context.node, action: actionText(as), target: spec.name, outcome: 'ok', detail: typeof as === 'object' ? `${describeTakeoverGap(as.failoverFrom, gaps[i]!)}: ${where}` : where, handoffMs: gaps[i]! });
    }));
    for (const { spec } of held) {
      this.failures.held(spec.name);
      context.emit({ type: 'holding', resource: spec.name });
    }
  }

  /** A claim that did not end in holding the address: what that means for the key and the resource. */
  private async recordNotHeld(spec: ResourceSpec, ifname: string, outcome: Exclude<HoldOutcome, { kind: 'ready' }>, action: string, onPeer: 'stand-aside' | 'report'): Promise<void> {
    const { context } = this;
    if (outcome.kind === 'used-by') return this.onProbeAnswered(spec, ifname, outcome.macs, action, onPeer);
    if (outcome.reason === LINK_DOWN) context.log(`${spec.name}: not held: the interface ${ifname} failed`);
    if (!(await context.store.release(spec.name, context.node)).ok) return;
    // The interface failed under the claim (InterfaceRecovery.onFault): the address is not at fault, and a
    // failed resource would wait for the operator. Unowned, it is placed again. The same when the
    // registration came after our lease may have ended (the process was held up): not the address's fault.
    if (outcome.reason === LINK_DOWN || outcome.reason === LEASE_UNCONFIRMED) return;
    await this.failHere(spec.name, /No such|no such/.test(outcome.reason) ? { kind: 'interface-missing', node: context.node, detail: outcome.reason } : { kind: 'register-failed', node: context.node, detail: outcome.reason });
  }

  /** A failure here: this node's own (tried again, then banned: local-failures.ts), or the resource's. */
  private failHere(resource: ResourceName, failure: FailureReason): Promise<void> {
    return isLocalFailure(failure) ? this.failures.onFailure(resource, failure) : this.records.fail(resource, failure);
  }

  /** Our probe for the address met `macs`: a peer's claim or answer (see hold's onPeer), or a stranger's (a conflict). */
  private async onProbeAnswered(spec: ResourceSpec, ifname: string, macs: readonly string[], action: string, onPeer: 'stand-aside' | 'report'): Promise<void> {
    const { context } = this;
    const mac = macs[0] ?? 'unknown';
    const peers = this.peerMacs();
    const byPeers = macs.every((m) => peers.includes(m));
    context.log(`${spec.name}: ${action}: the probe on ${ifname} met ${macs.map((m) => this.nameOf(m)).join(', ')}`);
    if (byPeers && onPeer === 'report') return;
    const released = await context.store.release(spec.name, context.node);
    // Only an owner may declare the resource failed: if the key is not ours any more (our lease was
    // revoked while we could not hear about it), whoever answered is the rightful new owner.
    if (!released.ok) context.log(`${spec.name}: ${mac} answered and the key is ${released.current?.node ?? 'nobody'}'s: standing down`);
    else if (byPeers) context.log(`${spec.name}: a peer claims it: key let go, placement decides again`);
    else await this.records.fail(spec.name, { kind: 'conflict', mac });
  }

  /** The resource is not this node's any more (removed, disabled, placed elsewhere): address, key and status go. */
  async release(resource: ResourceName, reason: ReleaseReason): Promise<void> {
    this.context.local.release(resource);
    await this.recordReleased(resource, reason);
  }

  /**
   * Many resources released at once (an import cleared, a node's resources removed): the addresses go
   * in one netlink batch. One removal per address read the interface's whole list each time: 3,333
   * removed in one pass blocked the event loop for 2.6 s and the node lost its lease.
   */
  async releaseMany(releases: ReadonlyArray<{ resource: ResourceName; reason: ReleaseReason }>): Promise<void> {
    this.context.local.releaseMany(releases.map((r) => r.resource));
    // The store's side a few at a time: 3,333 releases' writes sent at once (key, status, audit each)
    // kept etcd from confirming anyone's keepalives, and every node fenced.
    let failed = 0;
    let firstFailure: unknown = null;
    for (let i = 0; i < releases.length; i += RELEASE_WRITES_AT_ONCE) {
      const written = await Promise.allSettled(releases.slice(i, i + RELEASE_WRITES_AT_ONCE).map((r) => this.recordReleased(r.resource, r.reason)));
      for (const w of written) {
        if (w.status !== 'rejected') continue;
        failed++;
        firstFailure ??= w.reason;
      }
    }
    if (failed > 0) throw new Error(`${failed} of ${releases.length} releases not recorded: ${String(firstFailure)}`);
  }

  private async recordReleased(resource: ResourceName, reason: ReleaseReason): Promise<void> {
    const { context } = this;
    await context.store.release(resource, context.node);
    if (reason === 'removed') await context.store.deleteStatus(resource);
    else if (reason === 'disabled') await this.records.putStatus(resource, { state: 'offline', owner: null, ownerMac: null, failure: null });
    await this.records.audit({ actor: context.node, action: 'release', target: resource, outcome: 'ok', detail: reason, handoffMs: null });
    context.emit({ type: 'released', resource });
  }

  /** The address goes at once (the key is not ours): nothing is written, the owner of the key speaks for it. */
  drop(resource: ResourceName, why: string): void {
    this.context.local.release(resource);
    this.context.emit({ type: 'released', resource });
    this.context.log(`${resource}: dropped (${why})`);
  }
}

/** The claim settings a resource asks for: announce form and policy, and its own GARP count and spacing where set. */
export function claimSettings(spec: ResourceSpec): Partial<AcdConfig> {
  return {
    announceForm: spec.announceForm,
    defendPolicy: spec.defendPolicy,
    ...(spec.announceCount === undefined ? {} : { announceCount: spec.announceCount }),
    ...(spec.announceIntervalMs === undefined ? {} : { announceIntervalMs: spec.announceIntervalMs }),
  };
}
