// Bookkeeping for udp-stream, free of sockets and clocks: the caller passes
// every send and reply with its time (ms on one monotonic clock), and gets back
// owner changes as they happen and a summary at the end.
import type { EchoReply } from './echo-protocol';

export interface OwnerChange {
  type: 'owner';
  /** Host that answered this reply. */
  host: string;
  /** Host that answered the reply before it (null for the very first reply). */
  previous: string | null;
  /** True the first time this host answers at all. */
  first: boolean;
  seq: number;
  /** Arrival time of the reply, ms since the stream started. */
  atMs: number;
}

export interface ReplyGap {
  /** Longest silence between two consecutive replies, ms. */
  ms: number;
  fromMs: number;
  toMs: number;
  seqBefore: number;
  seqAfter: number;
  hostBefore: string;
  hostAfter: string;
}

export interface StreamSummary {
  type: 'summary';
  sent: number;
  /** Distinct sequence numbers answered. */
  received: number;
  /** Sequence numbers sent and never answered (sent - received). */
  lost: number;
  /** Lost sequence numbers as inclusive [from, to] ranges (the first MAX_LOST_RANGES). */
  lostRanges: Array<[number, number]>;
  lostRangesTruncated: boolean;
  /** Longest run of consecutive unanswered sequence numbers. */
  longestLossRun: { fromSeq: number; toSeq: number; count: number } | null;
  /** Longest silence between consecutive replies, ms (null with fewer than two replies). */
  longestGapMs: number | null;
  longestGap: ReplyGap | null;
  /** Replies per answering host (duplicates included). */
  perHost: Record<string, number>;
  firstReplyMs: Record<string, number>;
  lastReplyMs: Record<string, number>;
  ownerChanges: number;
  duplicates: number;
  /** Replies that did not answer one of our datagrams. */
  foreign: number;
  sendErrors: number;
  rttMs: { min: number; p50: number; p99: number; max: number } | null;
  /** Mean spacing of sends actually achieved, ms. */
  achievedIntervalMs: number | null;
  /**
   * Longest spacing between two consecutive sends, ms: a reply gap about this
   * long is the sender stalling (CPU, GC), not the network.
   */
  longestSendGapMs: number | null;
  lastSendMs: number | null;
}

export const MAX_LOST_RANGES = 50;

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export class StreamStats {
  private readonly sendTimes: number[] = [];
  private replied = new Uint8Array(1024);
  private readonly rtts: number[] = [];
  private readonly perHost = new Map<string, number>();
  private readonly firstReply = new Map<string, number>();
  private readonly lastReply = new Map<string, number>();
  private answered = 0;
  private duplicates = 0;
  private foreign = 0;
  private sendErrors = 0;
  private ownerChanges = 0;
  private currentOwner: string | null = null;
  private lastArrival: { atMs: number; seq: number; host: string } | null = null;
  private longestGap: ReplyGap | null = null;
  private longestSendGap: number | null = null;

  get sent(): number {
    return this.sendTimes.length;
  }

  /** Distinct sequence numbers answered so far. */
  get received(): number {
    return this.answered;
  }

  /** Records a send and returns its sequence number (0, 1, 2, ...). */
  recordSend(atMs: number): number {
    const seq = this.sendTimes.length;
    const previous = this.sendTimes[seq - 1];
    if (previous !== undefined && (this.longestSendGap === null || atMs - previous > this.longestSendGap)) this.longestSendGap = atMs - previous;
    this.sendTimes.push(atMs);
    if (seq >= this.replied.length) {
      const grown = new Uint8Array(this.replied.length * 2);
      grown.set(this.replied);
      this.replied = grown;
    }
    return seq;
  }

  recordSendError(): void {
    this.sendErrors += 1;
  }

  recordReply(reply: EchoReply, atMs: number): OwnerChange | null {
    const seq = reply.seq;
    const sentAt = seq === null ? undefined : this.sendTimes[seq];
    if (seq === null || sentAt === undefined) {
      this.foreign += 1;
      return null;
    }
    this.perHost.set(reply.host, (this.perHost.get(reply.host) ?? 0) + 1);
    this.lastReply.set(reply.host, atMs);
    if (this.replied[seq] === 1) {
      this.duplicates += 1;
      return null;
    }
    this.replied[seq] = 1;
    this.answered += 1;
    this.rtts.push(atMs - sentAt);
    this.trackGap(atMs, seq, reply.host);
    const first = !this.firstReply.has(reply.host);
    if (first) this.firstReply.set(reply.host, atMs);
    if (reply.host === this.currentOwner) return null;
    const change: OwnerChange = { type: 'owner', host: reply.host, previous: this.currentOwner, first, seq, atMs: round3(atMs) };
    this.currentOwner = reply.host;
    this.ownerChanges += 1;
    return change;
  }

  private trackGap(atMs: number, seq: number, host: string): void {
    const before = this.lastArrival;
    this.lastArrival = { atMs, seq, host };
    if (before === null) return;
    const ms = atMs - before.atMs;
    if (this.longestGap !== null && ms <= this.longestGap.ms) return;
    this.longestGap = { ms, fromMs: before.atMs, toMs: atMs, seqBefore: before.seq, seqAfter: seq, hostBefore: before.host, hostAfter: host };
  }

  private lossRanges(): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    let start = -1;
    for (let seq = 0; seq <= this.sent; seq += 1) {
      const lost = seq < this.sent && this.replied[seq] !== 1;
      if (lost && start < 0) start = seq;
      if (!lost && start >= 0) {
        ranges.push([start, seq - 1]);
        start = -1;
      }
    }
    return ranges;
  }

  summary(): StreamSummary {
    const ranges = this.lossRanges();
    let longestRun: StreamSummary['longestLossRun'] = null;
    for (const [from, to] of ranges) {
      if (longestRun === null || to - from + 1 > longestRun.count) longestRun = { fromSeq: from, toSeq: to, count: to - from + 1 };
    }
    const sorted = [...this.rtts].sort((a, b) => a - b);
    const firstSend = this.sendTimes[0];
    const lastSend = this.sendTimes[this.sent - 1];
    const gap = this.longestGap;
    return {
      type: 'summary',
      sent: this.sent,
      received: this.answered,
      lost: this.sent - this.answered,
      lostRanges: ranges.slice(0, MAX_LOST_RANGES),
      lostRangesTruncated: ranges.length > MAX_LOST_RANGES,
      longestLossRun: longestRun,
      longestGapMs: gap === null ? null : round3(gap.ms),
      longestGap: gap === null ? null : { ...gap, ms: round3(gap.ms), fromMs: round3(gap.fromMs), toMs: round3(gap.toMs) },
      perHost: Object.fromEntries(this.perHost),
      firstReplyMs: Object.fromEntries([...this.firstReply].map(([host, at]) => [host, round3(at)])),
      lastReplyMs: Object.fromEntries([...this.lastReply].map(([host, at]) => [host, round3(at)])),
      ownerChanges: this.ownerChanges,
      duplicates: this.duplicates,
      foreign: this.foreign,
      sendErrors: this.sendErrors,
      rttMs:
        sorted.length === 0
          ? null
          : {
              min: round3(sorted[0] ?? 0),
              p50: round3(percentile(sorted, 0.5)),
              p99: round3(percentile(sorted, 0.99)),
              max: round3(sorted[sorted.length - 1] ?? 0),
            },
      achievedIntervalMs:
        firstSend === undefined || lastSend === undefined || this.sent < 2 ? null : round3((lastSend - firstSend) / (this.sent - 1)),
      longestSendGapMs: this.longestSendGap === null ? null : round3(this.longestSendGap),
      lastSendMs: lastSend === undefined ? null : round3(lastSend),
    };
  }
}
