// This node as a standby: which owners it watches on the wire (those whose addresses it is first in
// line for), and what it does when one stops answering — it ends the owner's lease at once rather than
// when it expires, and the reconcile then takes the address like any unowned one (Claims.acquire).
// The watching itself is standby-monitor.ts.
import { bestNode } from '../cluster/placement';
import { healthKey } from '../../preload/contract/health';
import type { NodeName } from '../cluster/model';
import type { InterfaceAddress } from '../host/address-types';
import type { ClusterView } from './cluster-view';
import { chooseInterface } from './interface-choice';
import type { NodeContext } from './node-context';
import type { ResourceRecords } from './resource-records';
import type { Silence, Watched } from './standby-monitor';
import { SILENCE_EVIDENCE_MS, type SilenceIntent } from '../cluster/intents';

/**
 * The owners `me` is first standby for, each with the address to watch and the interface to watch it on:
 * online resources of a live owner, not being moved. `addresses` (the host's station addresses,
 * interface-choice.ts) is read only when there is one to watch.
 */
export function standbyTargets(view: ClusterView, me: NodeName, addresses: () => readonly InterfaceAddress[]): Watched[] {
  const nodes = view.nodeViews();
  const targets: Watched[] = [];
  let listed: readonly InterfaceAddress[] | null = null;
  // Who stands by depends only on the owner and the spec's owner lists: thousands of resources share a
  // handful of answers, worked out once per pass.
  const standbyFor = new Map<string, NodeName | null>();
  for (const [resource, owner] of view.owners) {
    if (owner.node === me) continue;
    const spec = view.resources.get(resource);
    const status = view.statuses.get(resource);
    if (!spec?.enabled || status?.state !== 'online' || status.owner !== owner.node) continue;
    // Health checks narrow who may stand by: resources with a profile share answers only with its others.
    const profile = spec.health === undefined ? '' : `\u0002${healthKey(spec.health)}`;
    const key = spec.preferredOwners.length === 0 && spec.possibleOwners.length === 0 && profile === '' ? owner.node : `${owner.node}\u0000${spec.preferredOwners.join('\u0000')}\u0001${spec.possibleOwners.join('\u0000')}${profile}`;
    let standby = standbyFor.get(key);
    if (standby === undefined) standbyFor.set(key, (standby = bestNode(spec, nodes, { exclude: [owner.node] })));
    if (standby !== me || view.movingTo(resource) !== null) continue;
    listed ??= addresses();
    const choice = chooseInterface(spec, me, listed);
    if (choice.ok) targets.push({ resource, ip: spec.ip, ifname: choice.ifname, owner: owner.node, ownerLeaseId: owner.leaseId });
  }
  return targets;
}

/**
 * The owner stopped answering for an address: its lease ends now (unless it changed meanwhile), and the
 * audit says why. The evidence goes into the store too (a silence intent: when the owner last answered),
 * so the nodes that take its addresses over can tell the gap clients saw (cluster/takeover-gap.ts).
 * `takeOver` comes first: this node takes the addresses it stands by for straight from the owner
 * (Claims.takeFromSilent); the revocation waits until their keys have moved (it would remove them).
 */
export async function revokeSilentOwner(context: NodeContext, records: ResourceRecords, target: Watched, silence: Silence, takeOver?: (evidence: SilenceIntent) => Promise<void>): Promise<void> {
  const { silentMs, evidence, lastHeardMsAgo } = silence;
  if (!context.leaseHealthy() || context.view().owners.get(target.resource)?.leaseId !== target.ownerLeaseId) return;
  context.log(`${target.owner} silent on ARP for ${target.ip} for ${Math.round(silentMs)} ms (${evidence}): revoking its lease`);
  const now = Date.now();
  const intent: SilenceIntent = { id: `silence:${target.owner}:${now.toString(36)}`, kind: 'silence', actor: context.node, createdAt: now, node: target.owner, lastHeardAt: lastHeardMsAgo === null ? null : Math.round(now - lastHeardMsAgo) };
  const takenHere = takeOver?.(intent);
  // Written alongside the revocation, not before it: a takeover's claim takes longer than this write.
  void context.store.putIntent(intent, 0).then(
    () => void setTimeout(() => void context.store.deleteIntent(intent.id).catch(() => false), SILENCE_EVIDENCE_MS).unref(),
    (error: unknown) => context.log(`could not record the silence of ${target.owner}: ${String(error)} (its takeover's gap will be unknown)`),
  );
  await takenHere;
  const revoked = await context.store.revokeMembership(target.ownerLeaseId).catch((error: unknown) => {
    context.log(`could not revoke ${target.owner}'s lease: ${String(error)}`);
    return false;
  });
  if (revoked) {
    await records.audit({ actor: context.node, action: 'takeover', target: target.resource, outcome: 'ok', detail: `${target.owner} left ${target.ip} unanswered for ${Math.round(silentMs)} ms; its lease was revoked`, handoffMs: null });
  }
}

/** Silence intents whose writer did not delete them (it died within the minute): removed by any node. */
export function removeStaleSilence(context: Pick<NodeContext, 'store' | 'view'>, now = Date.now()): void {
  for (const intent of context.view().intents.values()) {
    if (intent.kind === 'silence' && now - intent.createdAt > 2 * SILENCE_EVIDENCE_MS) void context.store.deleteIntent(intent.id).catch(() => false);
  }
}
