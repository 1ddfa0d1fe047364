// The move dialog's pre-flight: "is this address free, or answered by its owner only?" — asked of the
// node that would take it, since only a node on the address's LAN segment, with the interface the move
// would use, hears the right answers. The agent a console is connected to may be another node: it then
// writes a probe intent naming the node; that node's agent probes and writes the outcome into the
// intent; the asker reads it and deletes the intent.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PROBE_TIMEOUT_MS, type ProbeOutcome } from '../cluster/intents';
import type { NodeName } from '../cluster/model';
import { AskedIntents, type AskedIntentsContext } from './asked-intents';
import { chooseInterface } from './interface-choice';
import type { NodeContext } from './node-context';
import { TRUSTED_PROBE } from '../cluster/move-machine';
import { maxPrefixOf } from '../../preload/contract/ip-address';

export interface PreflightContext extends AskedIntentsContext {
  /** Probes `ip` here. */
  probeHere(ip: string): Promise<ProbeOutcome>;
}

export class Preflight {
  private readonly asked: AskedIntents<'probe'>;

  constructor(private readonly context: PreflightContext) {
    this.asked = new AskedIntents(context, 'probe', PROBE_TIMEOUT_MS);
  }

  /** Probes `ip` on `node`: here, or through the store on another node. */
  async run(node: NodeName, ip: string, actor: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeOutcome | { ok: false; timedOut: true }> {
    if (node === this.context.node) return this.context.probeHere(ip);
    const id = `probe:${node}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    return this.asked.ask({ id, kind: 'probe', node, ip, outcome: null, actor, createdAt: Date.now() }, timeoutMs);
  }

  /** Answers the probe intents that name this node (called on every reconcile). */
  serve(): void {
    this.asked.serve((intent) => this.context.probeHere(intent.ip).catch((error: unknown): ProbeOutcome => ({ ok: false, message: error instanceof Error ? error.message : String(error) })));
  }
}

/** Who answers ARP (IPv6: neighbour discovery) for `ip` on this node's segment? The owner's MAC is expected, not a conflict. */
export async function probeFromHere(context: Pick<NodeContext, 'node' | 'view' | 'local' | 'host'>, ip: string): Promise<ProbeOutcome> {
  const started = performance.now();
  const view = context.view();
  const spec = [...view.resources.values()].find((r) => r.ip === ip) ?? null;
  const ownerMac = spec ? view.statuses.get(spec.name)?.ownerMac ?? null : null;
  const choice = chooseInterface(spec ?? { ip, prefix: maxPrefixOf(ip), interfaces: {} }, context.node, context.host.addresses.listAll(undefined, ip.includes(':') ? 'both' : 'ipv4'));
  if (!choice.ok) return { ok: false, message: choice.detail };
  // Our own answers never reach the probe (the capture's echoes of our frames are ignored), so when this
  // node is the owner, "the owner answered" is known without asking.
  const ownedHere = spec !== null && context.local.isReady(spec.name);
  const heard = await context.local.probe({ resource: spec?.name ?? ip, ip, ifname: choice.ifname, trustedMac: ownedHere ? null : ownerMac, acd: { ...TRUSTED_PROBE, probeForm: 'question', askingMacs: view.peerMacs(context.node) } });
  if (heard.interrupted) return { ok: false, message: `interface ${choice.ifname} failed during the probe` };
  const ownerAnswered = ownedHere || heard.trustedAnswered;
  return {
    ok: true,
    verdict: heard.macs.length > 0 ? 'conflict' : ownerAnswered ? 'owner-only' : 'free',
    answeredBy: [...(ownerAnswered && ownerMac ? [ownerMac] : []), ...heard.macs],
    ownerMac,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
  };
}
