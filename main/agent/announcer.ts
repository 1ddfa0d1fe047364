// Announcing held addresses again, after their first announcements: the periodic refresh a resource
// asks for (`announceRefreshSec`, cluster/announce-refresh.ts decides which are due) and the operator's
// "announce now" (resource.announce). Only the holder can announce, and only while its lease is
// confirmed: a node resumed after a freeze must not announce an address a standby may have taken
// (the same rule as the claims' permitSend). The agent an operator is connected to may not hold the
// address: it then asks the holder through an announce intent (asked-intents.ts).
import { randomBytes } from 'node:crypto';
import type { AcdEvent } from '../arp/acd';
import { dueRefreshes, type RefreshCandidate } from '../cluster/announce-refresh';
import { PROBE_TIMEOUT_MS, type AnnounceOutcome } from '../cluster/intents';
import type { NodeName, ResourceName } from '../cluster/model';
import { AskedIntents, type AskedIntentsContext } from './asked-intents';

/** How long the asker waits for the holder's outcome (as for a probe). */
export const ANNOUNCE_TIMEOUT_MS = PROBE_TIMEOUT_MS;

export interface AnnouncerContext extends AskedIntentsContext {
  /** Announces a held, ready address once more here: its MAC and interface, or null when it is not held ready here. */
  reannounceHere(resource: ResourceName): { mac: string; ifname: string } | null;
  /** This node may send ARP for what it holds: its lease is confirmed (the claims' permitSend). */
  maySend(): boolean;
  /** Monotonic ms. */
  now(): number;
}

export class Announcer {
  /** When each address held here was last announced (its first announcements, a defence, a refresh). */
  private readonly lastAnnounced = new Map<ResourceName, number>();
  private readonly asked: AskedIntents<'announce'>;

  constructor(private readonly context: AnnouncerContext) {
    this.asked = new AskedIntents(context, 'announce', ANNOUNCE_TIMEOUT_MS);
  }

  /** A claim's event here: keeps the time of the last announcement of each held address. */
  onClaimEvent(resource: ResourceName, event: AcdEvent): void {
    if (event.type === 'announced' || event.type === 'reannounced' || event.type === 'defended') this.lastAnnounced.set(resource, this.context.now());
    else if (event.type === 'down') this.lastAnnounced.delete(resource);
  }

  /** One refresh pass (every second): the held addresses whose refresh is due, a bounded number at once. */
  refresh(): number {
    if (this.lastAnnounced.size === 0 || !this.context.maySend()) return 0;
    const { resources } = this.context.view();
    const candidates: RefreshCandidate[] = [];
    for (const [resource, lastAnnouncedAt] of this.lastAnnounced) {
      const everySec = resources.get(resource)?.announceRefreshSec;
      if (everySec !== undefined) candidates.push({ resource, everyMs: everySec * 1000, lastAnnouncedAt });
    }
    if (candidates.length === 0) return 0;
    let sent = 0;
    // A refresh that went out comes back as the claim's 'reannounced' event (onClaimEvent), which restarts its period.
    for (const resource of dueRefreshes(candidates, this.context.now())) {
      // Not held ready after all (an event not seen yet): forget it until its next announcement.
      if (this.context.reannounceHere(resource) === null) this.lastAnnounced.delete(resource);
      else sent++;
    }
    return sent;
  }

  /** Announces `resource` now from `node` (its holder): here, or through the store on that node. */
  async run(node: NodeName, resource: ResourceName, actor: string, timeoutMs = ANNOUNCE_TIMEOUT_MS): Promise<AnnounceOutcome | { ok: false; timedOut: true }> {
    if (node === this.context.node) return this.announceHere(resource);
    const id = `announce:${node}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    return this.asked.ask({ id, kind: 'announce', node, resource, outcome: null, actor, createdAt: Date.now() }, timeoutMs);
  }

  /** Answers the announce intents that name this node (called on every reconcile). */
  serve(): void {
    this.asked.serve((intent) => Promise.resolve(this.announceHere(intent.resource)));
  }

  private announceHere(resource: ResourceName): AnnounceOutcome {
    const { node } = this.context;
    if (!this.context.maySend()) return { ok: false, message: `${node} cannot announce ${resource}: its lease is not confirmed (it may no longer hold the address)` };
    const sent = this.context.reannounceHere(resource);
    if (sent === null) return { ok: false, message: `${resource} is not held on ${node} (it may be moving): nothing announced` };
    return { ok: true, ...sent };
  }
}
