// The node's membership and what it licenses: joining (and joining again after the lease was lost),
// and carrying out cluster/fencing.ts every tick — every address dropped before the lease can end in
// the store, held again only after a keepalive sent since the fence was confirmed, and the kernel
// lifetime of every address renewed only from a confirmed lease (the dead-man switch when this
// process freezes). The argument is in docs/ARCHITECTURE.md ("Fencing").
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { addressesFresh, checkLease, fenced, joinedState, leaseHealthy, renewed, type FenceState, type LeaseView } from '../cluster/fencing';
import type { NodeRecord } from '../cluster/model';
import type { Membership } from '../store/store';
import { monotonicNsAt, type LeaseDeadlineFile } from './lease-deadline';
import type { NodeContext } from './node-context';
import { plural } from '../../preload/contract/plural';

const REJOIN_DELAY_MS = 1000;

export interface LeaseKeeperOptions {
  context: Pick<NodeContext, 'node' | 'store' | 'local' | 'emit' | 'log'>;
  ttlSec: number;
  /** Kernel lifetime of our addresses; null when the lease cannot expire (file store): no renewals. */
  lifetimeSec: number | null;
  /** Where a restarted agent finds this lease's deadline (null without lifetimes). */
  deadlineFile: LeaseDeadlineFile | null;
  nodeRecord(): NodeRecord;
  /** After every join: the view is read again from a fresh snapshot. */
  joined(): Promise<void>;
  /** The lease was confirmed again after a fence: what we saw while cut off may be stale. */
  unfenced(): void;
  stopping(): boolean;
  /** Each renewal's round trip to the store, ms (the metrics). */
  onRoundTrip?: (ms: number) => void;
}

export class LeaseKeeper {
  private current: Membership | null = null;
  /** Fenced or not, and how long the kernel keeps our addresses. */
  private fencing: FenceState;
  /** This process's event-loop delay since the last renewal: tells a stalled process from late keepalives when addresses run out. */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private deadlineFailing = false;
  /** A rejoin loop runs (onLost). */
  private rejoining = false;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.fencing = joinedState(0, null);
  }

  membership(): Membership | null {
    return this.current;
  }

  fenced(): boolean {
    return this.fencing.fenced;
  }

  healthy(): boolean {
    return leaseHealthy(this.view(), performance.now());
  }

  /** Claims may send ARP: the lease is healthy and our addresses' lifetimes were renewed from it. */
  permitSend(): boolean {
    return this.healthy() && addressesFresh(this.fencing, this.options.lifetimeSec, performance.now());
  }

  /** The latest moment (process.hrtime.bigint() ns) a new address may reach the kernel: the lease's end as last confirmed. */
  registrationDeadline(): bigint | undefined {
    return this.options.lifetimeSec === null || !this.current ? undefined : monotonicNsAt(this.current.validUntil());
  }

  private view(): LeaseView | null {
    const membership = this.current;
    return membership ? { ended: membership.ended, validUntil: membership.validUntil(), ttlMs: membership.ttlSec * 1000 } : null;
  }

  async join(): Promise<void> {
    const { context, ttlSec } = this.options;
    // Renew eight times per TTL: the lease's known deadline then stays close to a full TTL ahead, which is the
    // time a restarted agent has to take over the addresses of its predecessor.
    const membership = await context.store.join(this.options.nodeRecord(), { ttlSec, keepaliveIntervalMs: (ttlSec * 1000) / 8, ...(this.options.onRoundTrip ? { onRoundTrip: this.options.onRoundTrip } : {}) });
    this.current = membership;
    this.fencing = joinedState(performance.now(), this.options.lifetimeSec);
    // Only the current membership's loss fences: a lost one from before must not drop what a newer one holds.
    const unsubscribe = membership.onLost((reason) => {
      if (this.current === membership) this.onLost(reason);
    });
    this.loopDelay.enable();
    context.emit({ type: 'joined', leaseId: membership.leaseId });
    context.log(`joined as ${context.node} (lease ${membership.leaseId}, ttl ${membership.ttlSec} s)`);
    try {
      await this.options.joined();
    } catch (error) {
      // Joined but not resynchronised (etcd overloaded): this membership is given up, so the next try
      // starts clean. Kept alive, each failed try left one behind whose later loss started another
      // rejoin loop: 1,800 failed rejoins in two minutes on an overloaded node.
      unsubscribe();
      if (this.current === membership) this.current = null;
      void membership.revoke().catch(() => undefined);
      throw error;
    }
  }

  /** One fencing step (every tick): fence, unfence or renew, as cluster/fencing.ts decides. */
  check(): void {
    const { context, lifetimeSec } = this.options;
    const lease = this.view();
    const now = performance.now();
    const { state, effects } = checkLease(this.fencing, lease, { now, holding: context.local.resources().length, lifetimeSec });
    this.fencing = state;
    for (const effect of effects) {
      switch (effect.type) {
        case 'fence':
          this.dropAll(
            effect.cause === 'stalled'
              ? `addresses not renewed for ${Math.round(effect.sinceRenewMs)} ms (process stalled, or keepalives confirmed too late: the last confirmed one was sent ${Math.round(effect.lastConfirmedSendAgoMs)} ms ago; longest event-loop delay meanwhile ${Math.round(this.loopDelay.max / 1e6)} ms)`
              : `lease not confirmed since ${Math.round(effect.lastConfirmedSendAgoMs)} ms`,
          );
          if (effect.cause === 'stalled') this.loopDelay.reset();
          break;
        case 'unfence':
          context.log('lease confirmed again: resynchronising before reclaiming addresses');
          this.options.unfenced();
          break;
        case 'renew': {
          if (!context.local.renew(effect.lifetimeSec, monotonicNsAt(effect.notAfter))) {
            context.log(`renewal not sent: it came ${Math.round(performance.now() - effect.notAfter)} ms after its deadline (the process was held up after deciding it)`);
            break;
          }
          this.fencing = renewed(this.fencing, now, effect.lifetimeSec, performance.now() - now);
          this.loopDelay.reset();
          if (lease) this.recordDeadline(lease.validUntil);
          break;
        }
      }
    }
  }

  /** For a restarted agent (lease-deadline.ts); a failure is logged once until it works again. */
  private recordDeadline(validUntil: number): void {
    const problem = this.options.deadlineFile?.write(validUntil) ?? null;
    if (problem !== null && !this.deadlineFailing) this.options.context.log(`warning: ${problem} (a restarted agent will not keep this one's addresses)`);
    this.deadlineFailing = problem !== null;
  }

  /** The fence's effect: every address goes at once, without defending anything. */
  private dropAll(reason: string): void {
    const { context } = this.options;
    const count = context.local.resources().length;
    context.local.fenceAll();
    context.emit({ type: 'fenced', reason, addresses: count });
    context.log(`fenced (${reason}): dropped ${plural(count, 'address')}`);
  }

  private onLost(reason: string): void {
    this.options.context.emit({ type: 'lease-lost', reason });
    this.fencing = fenced(this.fencing, performance.now());
    this.dropAll(`lease ${reason}`);
    this.current = null;
    if (this.options.stopping() || this.rejoining) return;
    // One rejoin loop at a time, until a join and its resynchronisation both succeed.
    this.rejoining = true;
    const retry = (): void => {
      if (this.options.stopping()) {
        this.rejoining = false;
        return;
      }
      this.join().then(
        () => (this.rejoining = false),
        (error: unknown) => {
          this.options.context.log(`rejoin failed: ${(error as Error).message}`);
          setTimeout(retry, REJOIN_DELAY_MS);
        },
      );
    };
    setTimeout(retry, REJOIN_DELAY_MS);
  }

  /** The membership ends (a clean stop): the lease is revoked in the store. */
  async leave(): Promise<void> {
    await this.current?.revoke().catch(() => undefined);
  }

  close(): void {
    this.loopDelay.disable();
  }
}
