// The move dialog's pre-flight: "is this address free, or answered by its owner only?" — asked of the
// node that would take it, since only a node on the address's LAN segment, with the interface the move
// would use, hears the right answers. The agent a console is connected to may be another node: it then
// writes a probe intent naming the node; that node's agent probes and writes the outcome into the
// intent; the asker reads it and deletes the intent.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PROBE_TIMEOUT_MS, type ProbeIntent, type ProbeOutcome } from '../cluster/intents';
import type { NodeName } from '../cluster/model';
import type { ClusterStore, StoreChange } from '../store/store';
import type { ClusterView } from './cluster-view';
import { chooseInterface } from './interface-choice';
import type { NodeContext } from './node-context';
import { TRUSTED_PROBE } from '../cluster/move-machine';

/** A probe intent nobody deleted (its asker died) is removed by the node it names after this long. */
const STALE_PROBE_MS = 60_000;

export interface PreflightContext {
  node: NodeName;
  store: ClusterStore;
  view(): ClusterView;
  /** Probes `ip` here. */
  probeHere(ip: string): Promise<ProbeOutcome>;
  /** Subscribes to the view's changes (the agent's change stream); returns the unsubscribe. */
  onChange(listener: (change: StoreChange) => void): () => void;
  log(line: string): void;
}

export class Preflight {
  /** Probe intents this node is answering now. */
  private readonly serving = new Set<string>();

  constructor(private readonly context: PreflightContext) {}

  /** Probes `ip` on `node`: here, or through the store on another node. */
  async run(node: NodeName, ip: string, actor: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeOutcome | { ok: false; timedOut: true }> {
    if (node === this.context.node) return this.context.probeHere(ip);
    const id = `probe:${node}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    const intent: ProbeIntent = { id, kind: 'probe', node, ip, outcome: null, actor, createdAt: Date.now() };
    const answered = this.outcomeOf(id, timeoutMs);
    try {
      await this.context.store.putIntent(intent, 0);
      return (await answered.outcome) ?? { ok: false, timedOut: true };
    } finally {
      answered.cancel();
      await this.context.store.deleteIntent(id).catch(() => false);
    }
  }

  /** The outcome written into intent `id`, or null after `timeoutMs`. Listens before the intent is written. */
  private outcomeOf(id: string, timeoutMs: number): { outcome: Promise<ProbeOutcome | null>; cancel: () => void } {
    let cancel = (): void => undefined;
    const outcome = new Promise<ProbeOutcome | null>((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const unsubscribe = this.context.onChange((change) => {
        if (change.collection === 'intents' && change.kind === 'put' && change.name === id && change.value.kind === 'probe' && change.value.outcome !== null) finish(change.value.outcome);
      });
      const finish = (value: ProbeOutcome | null): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      };
      cancel = () => finish(null);
    });
    return { outcome, cancel };
  }

  /** Answers the probe intents that name this node (called on every reconcile). */
  serve(): void {
    const now = Date.now();
    for (const intent of this.context.view().intents.values()) {
      if (intent.kind !== 'probe' || intent.node !== this.context.node || this.serving.has(intent.id)) continue;
      if (now - intent.createdAt > STALE_PROBE_MS) {
        this.serving.add(intent.id);
        void this.context.store.deleteIntent(intent.id).catch(() => false).finally(() => this.serving.delete(intent.id));
        continue;
      }
      // An outcome is written once; one older than its asker's patience is left for the asker to delete.
      if (intent.outcome !== null || now - intent.createdAt > PROBE_TIMEOUT_MS) continue;
      this.serving.add(intent.id);
      void this.answer(intent).finally(() => this.serving.delete(intent.id));
    }
  }

  private async answer(intent: ProbeIntent): Promise<void> {
    const outcome = await this.context.probeHere(intent.ip).catch((error: unknown): ProbeOutcome => ({ ok: false, message: error instanceof Error ? error.message : String(error) }));
    // Only if the asker still waits: a compare-and-swap on the revision the view last saw it at, so a
    // deleted intent does not come back (and one rewritten meanwhile is not overwritten).
    const revision = this.context.view().intentRevisions.get(intent.id);
    if (revision === undefined) return;
    await this.context.store.putIntent({ ...intent, outcome }, revision).catch((error: unknown) => this.context.log(`probe ${intent.id}: outcome not written: ${String(error)}`));
  }
}

/** Who answers ARP for `ip` on this node's segment? The owner's MAC is expected, not a conflict. */
export async function probeFromHere(context: Pick<NodeContext, 'node' | 'view' | 'local' | 'host'>, ip: string): Promise<ProbeOutcome> {
  const started = performance.now();
  const view = context.view();
  const spec = [...view.resources.values()].find((r) => r.ip === ip) ?? null;
  const ownerMac = spec ? view.statuses.get(spec.name)?.ownerMac ?? null : null;
  const choice = chooseInterface(spec ?? { ip, prefix: 32, interfaces: {} }, context.node, context.host.addresses.listAll());
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
