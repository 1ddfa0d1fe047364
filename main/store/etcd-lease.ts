// A membership in etcd: one lease kept alive over a keepalive stream, with a conservative local
// deadline. etcd resets a lease's clock when a keepalive *arrives*, which is after we *sent* it,
// so "send time of the last confirmed keepalive + TTL" is a moment before which the lease cannot
// have expired in etcd. The agent fences itself before that moment; if it passes without a
// confirmed renewal the membership is declared lost (and revoked, best effort, so its keys do not
// outlive the fencing by a full TTL).
import { EtcdLeaseInvalidError, type IDuplexStream, type ILeaseKeepAliveRequest, type ILeaseKeepAliveResponse, type LeaseClient } from 'etcd3';
import type { LeaseId, LeaseLossReason, Membership } from './store';
import type { NodeName } from '../cluster/model';

type KeepaliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

type MembershipState = 'alive' | 'lost' | 'revoked' | 'closed';

const STUCK_STREAM_MIN_MS = 1000;

export interface EtcdMembershipOptions {
  leases: LeaseClient;
  node: NodeName;
  leaseId: LeaseId;
  ttlSec: number;
  /** performance.now() when the grant request was sent: the lease lives at least until this + TTL. */
  grantSentAt: number;
  keepaliveIntervalMs: number;
  onRoundTrip?: (ms: number) => void;
  /** Told once when the membership ends in any way (the store forgets it). */
  onEnd: (membership: EtcdMembership) => void;
}

export class EtcdMembership implements Membership {
  readonly node: NodeName;
  readonly leaseId: LeaseId;
  readonly ttlSec: number;
  private readonly leases: LeaseClient;
  private readonly intervalMs: number;
  private readonly onEnd: (membership: EtcdMembership) => void;
  private readonly onRoundTrip: ((ms: number) => void) | undefined;
  private state: MembershipState = 'alive';
  private validUntilMs: number;
  private stream: KeepaliveStream | null = null;
  private opening = false;
  /** Send times of keepalives on the current stream still waiting for their response (FIFO). */
  private readonly pending: number[] = [];
  private readonly lostListeners = new Set<(reason: LeaseLossReason) => void>();
  private tickTimer: NodeJS.Timeout;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(options: EtcdMembershipOptions) {
    this.leases = options.leases;
    this.node = options.node;
    this.leaseId = options.leaseId;
    this.ttlSec = options.ttlSec;
    this.intervalMs = options.keepaliveIntervalMs;
    this.onEnd = options.onEnd;
    this.onRoundTrip = options.onRoundTrip;
    this.validUntilMs = options.grantSentAt + options.ttlSec * 1000;
    this.tickTimer = setInterval(() => this.tick(), this.intervalMs);
    this.armDeadline();
  }

  get ended(): boolean {
    return this.state !== 'alive';
  }

  validUntil(): number {
    return this.validUntilMs;
  }

  onLost(listener: (reason: LeaseLossReason) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  async revoke(): Promise<void> {
    if (this.state === 'revoked' || this.state === 'closed') return;
    const wasLost = this.state === 'lost';
    this.end('revoked');
    if (wasLost) return;
    await revokeLease(this.leases, this.leaseId);
  }

  /** Store close: stop renewing, keep the lease (its keys go when the TTL runs out). */
  close(): void {
    if (this.state === 'alive') this.end('closed');
  }

  private tick(): void {
    if (this.state !== 'alive') return;
    // A stream whose oldest keepalive has waited two periods (and at least a second) is stuck
    // (etcd restarted under it, a half-open connection): replace it rather than wait for the
    // transport to notice. Renewals need no disk write in etcd, so a healthy one answers fast.
    const oldest = this.pending[0];
    const stuckAfterMs = Math.max(2 * this.intervalMs, STUCK_STREAM_MIN_MS);
    if (this.stream !== null && oldest !== undefined && performance.now() - oldest > stuckAfterMs) this.dropStream();
    if (this.stream !== null) {
      this.send(this.stream);
      return;
    }
    if (this.opening) return;
    this.opening = true;
    this.leases.leaseKeepAlive().then(
      (stream) => {
        this.opening = false;
        if (this.state !== 'alive') {
          stream.end();
          return;
        }
        this.attach(stream);
        this.send(stream);
      },
      () => {
        this.opening = false; // etcd unreachable: the next tick tries again; the deadline decides.
      },
    );
  }

  private attach(stream: KeepaliveStream): void {
    this.stream = stream;
    this.pending.length = 0;
    const fail = (): void => {
      if (this.stream === stream) this.dropStream();
    };
    stream.on('data', (response) => {
      if (this.stream === stream) this.onResponse(response);
    });
    stream.on('error', fail);
    stream.on('end', fail);
  }

  /**
   * cancel() rather than end(): the stream failed or got stuck, so its connection is suspect, and
   * etcd3 answers a cancelled stream by resetting the host's channels - the next stream dials anew.
   */
  private dropStream(): void {
    const stream = this.stream;
    this.stream = null;
    this.pending.length = 0;
    if (stream !== null) {
      try {
        stream.cancel();
      } catch {
        // already closed
      }
    }
  }

  private send(stream: KeepaliveStream): void {
    this.pending.push(performance.now());
    try {
      stream.write({ ID: this.leaseId });
    } catch {
      this.dropStream();
    }
  }

  private onResponse(response: ILeaseKeepAliveResponse): void {
    const sentAt = this.pending.shift();
    if (sentAt === undefined || this.state !== 'alive') return;
    this.onRoundTrip?.(performance.now() - sentAt);
    const ttl = Number(response.TTL);
    if (!(ttl > 0)) {
      this.lose('revoked');
      return;
    }
    const until = sentAt + ttl * 1000;
    if (until > this.validUntilMs) {
      this.validUntilMs = until;
      this.armDeadline();
    }
  }

  private armDeadline(): void {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.checkDeadline(), Math.max(0, this.validUntilMs - performance.now()) + 1);
  }

  private checkDeadline(): void {
    if (this.state !== 'alive') return;
    if (performance.now() >= this.validUntilMs) this.lose('expired');
    else this.armDeadline();
  }

  /** The lease is gone (or may be): tell the listeners once. */
  lose(reason: LeaseLossReason): void {
    if (this.state !== 'alive') return;
    this.end('lost');
    // Past our deadline etcd may still hold the lease for a moment; revoking it lets a successor
    // take over now instead of waiting for etcd's own expiry. Unreachable etcd: it expires anyway.
    if (reason === 'expired') revokeLease(this.leases, this.leaseId).catch(() => undefined);
    for (const listener of [...this.lostListeners]) {
      try {
        listener(reason);
      } catch (error) {
        process.emitWarning(`membership lost listener failed: ${String(error)}`);
      }
    }
  }

  private end(state: Exclude<MembershipState, 'alive'>): void {
    this.state = state;
    clearInterval(this.tickTimer);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    const stream = this.stream;
    this.stream = null;
    this.pending.length = 0;
    if (stream !== null) {
      try {
        stream.end();
      } catch {
        // already closed
      }
    }
    this.onEnd(this);
  }
}

/** Revokes a lease; false when etcd no longer has it. */
export async function revokeLease(leases: LeaseClient, leaseId: LeaseId): Promise<boolean> {
  try {
    await leases.leaseRevoke({ ID: leaseId });
    return true;
  } catch (error) {
    if (error instanceof EtcdLeaseInvalidError) return false;
    throw error;
  }
}
