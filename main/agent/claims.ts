// Taking and letting go of the addresses this node owns: a resource acquired as after a failover (key by
// compare-and-swap, then silence, then the claim), an owned one held again (after a restart or a fence),
// the claim itself and what its outcome means for the resource, and releases. Every rule about who may
// answer for an address while keys change hands is here; the planned move's handoff is planned-moves.ts.
import { performance } from 'node:perf_hooks';
import type { AcdConfig } from '../arp/acd';
import type { ResourceName, ResourceSpec } from '../cluster/model';
import type { ReleaseReason } from '../cluster/reconcile';
import { PacketIoError } from '../net/packet-io-error';
import type { Membership } from '../store/store';
import type { HostAddressCache } from './host-address-cache';
import type { InterfaceRecovery } from './interface-recovery';
import { LEASE_UNCONFIRMED, type HoldOutcome } from './local-addresses';
import type { NodeContext } from './node-context';
import type { ResourceRecords } from './resource-records';

/** After a failover the address has usually been silent for a while already: one quick confirmation. */
const QUIET_CHECK_PROBE: Partial<AcdConfig> = { probeCount: 1, probeIntervalMs: 20, probeWaitMs: 60 };


export interface ClaimsOptions {
  context: NodeContext;
  records: ResourceRecords;
  addresses: HostAddressCache;
  interfaces: InterfaceRecovery;
  /** Probe settings when taking over an unowned address (failover, first start). */
  takeoverProbe: Partial<AcdConfig>;
  /** The lease TTL: the longest a node that lost its key can go on answering (waitForSilence). */
  ttlSec: number;
}

export type SilenceOutcome = { kind: 'quiet' } | { kind: 'conflict'; mac: string } | { kind: 'timeout' } | { kind: 'interrupted' };

export class Claims {
  private readonly context: NodeContext;
  private readonly records: ResourceRecords;
  private readonly addresses: HostAddressCache;
  private readonly interfaces: InterfaceRecovery;
  private readonly takeoverProbe: Partial<AcdConfig>;
  private readonly ttlSec: number;

  constructor(options: ClaimsOptions) {
    this.context = options.context;
    this.records = options.records;
    this.addresses = options.addresses;
    this.interfaces = options.interfaces;
    this.takeoverProbe = options.takeoverProbe;
    this.ttlSec = options.ttlSec;
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
      if (!this.interfaces.recovering()) return this.records.fail(resource, iface.failure);
      // Our interface is down or being re-created: not the address's fault. Let the key go so a node
      // that can serve it takes it; a failed resource would wait for the operator.
      context.log(`${resource}: not held here while our interface recovers (${iface.failure.kind === 'interface-missing' ? iface.failure.detail : iface.failure.kind}); released`);
      await context.store.release(resource, context.node);
      return;
    }
    // One read of the interface for carrier and MAC: this runs once per resource in a mass takeover.
    const link = context.host.interfaceState(iface.ifname);
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
      // Not ours to take: another node may be able to; record why for the operator.
      return this.records.fail(resource, iface.failure);
    }
    const link = context.host.interfaceState(iface.ifname);
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
    // answers, and any other peer's, are expected until then; a stranger's is a conflict.
    const quiet = await this.waitForSilence(spec, iface.ifname, goingQuiet);
    if (quiet.kind === 'interrupted') {
      // Our interface failed while listening: not the address's fault. Let it go; placement decides again.
      await context.store.release(spec.name, context.node);
      return;
    }
    if (quiet.kind !== 'quiet') {
      await context.store.release(spec.name, context.node);
      return this.records.fail(spec.name, { kind: 'conflict', mac: quiet.kind === 'conflict' ? quiet.mac : goingQuiet });
    }
    await this.hold(spec, iface.ifname, { skipProbe: true }, previousMac === null ? 'online' : `failover from ${previous ?? '?'}`);
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
  private async hold(spec: ResourceSpec, ifname: string, acd: Partial<AcdConfig>, action: string, onPeer: 'stand-aside' | 'report' = 'stand-aside'): Promise<HoldOutcome> {
    const { context } = this;
    const started = performance.now();
    let outcome: HoldOutcome;
    try {
      outcome = await context.local.hold({ resource: spec.name, ip: spec.ip, prefix: spec.prefix, ifname, acd: { ...acd, ...claimSettings(spec) } });
    } catch (error) {
      // The interface failed between choosing it and opening its capture: a fault of the link, not of the address.
      const linkFault = error instanceof PacketIoError && ['NO_SUCH_INTERFACE', 'OPEN_FAILED', 'CAPTURE_LOST'].includes(error.code);
      outcome = { kind: 'failed', reason: linkFault ? 'link-down' : error instanceof Error ? error.message : String(error) };
      if (linkFault) context.log(`${spec.name}: not held: ${(error as Error).message}`);
    }
    switch (outcome.kind) {
      case 'ready':
        await this.records.putStatus(spec.name, { state: 'online', owner: context.node, ownerMac: outcome.mac, failure: null });
        await this.records.audit({ actor: context.node, action, target: spec.name, outcome: 'ok', detail: `${spec.ip}/${spec.prefix} on ${context.node} ${ifname} (${outcome.mac}) after ${Math.round(performance.now() - started)} ms`, handoffMs: null });
        context.emit({ type: 'holding', resource: spec.name });
        break;
      case 'used-by':
        await this.onProbeAnswered(spec, ifname, outcome.macs, action, onPeer);
        break;
      case 'failed':
        if (!(await context.store.release(spec.name, context.node)).ok) break;
        // The interface failed under the claim (InterfaceRecovery.onFault): the address is not at fault, and a
        // failed resource would wait for the operator. Unowned, it is placed again. The same when the
        // registration came after our lease may have ended (the process was held up): not the address's fault.
        if (outcome.reason === 'link-down' || outcome.reason === LEASE_UNCONFIRMED) break;
        await this.records.fail(spec.name, /No such|no such/.test(outcome.reason) ? { kind: 'interface-missing', node: context.node, detail: outcome.reason } : { kind: 'register-failed', node: context.node, detail: outcome.reason });
        break;
    }
    return outcome;
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
    const { context } = this;
    context.local.release(resource);
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
