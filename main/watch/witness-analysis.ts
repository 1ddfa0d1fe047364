// `ipfo witness`'s reading of what answered for one address, free of sockets and clocks: the command
// feeds its own probes as the capture saw them (probe) and every frame that claimed the address
// (answer: a reply to a probe, or a gratuitous/other claim), each with its time in ms, and gets back
// events. The same stream always gives the same events (fake-clock unit tests: test/unit/witness-analysis.test.ts).
//
// What it reports:
//  - gap: one or more probe intervals (probe to next probe) passed without any answer; from the last
//    answer before (or the first probe, when nothing had answered yet) to the first answer after.
//  - change: the answering MAC changed (a takeover or handoff), old -> new, with the silence between the
//    old MAC's last answer and the new MAC's first. Reported once the old MAC can no longer prove a
//    double MAC (windowMs after its last answer), so a split brain is not also counted as changes.
//  - double-mac (and double-mac-end): two or more MACs held the address within one probe interval:
//    two MACs replied to the same probe ('same-probe': the request reached both at one instant), or a
//    MAC answered, another answered, and the first answered again less than windowMs (1.5 probe
//    intervals) after its previous answer ('interleaved'). Two MACs merely answering in turn within an
//    interval is NOT one: a fast handoff (old owner's last reply, new owner's announcement 8 ms later)
//    looks like that. Proofs less than windowMs apart are one moment.
import type { ArpFrame, Ipv4, Mac } from '../arp/frame';
import type { VendorLookup } from './oui';

export type WitnessAnswerKind = 'reply' | 'claim';
export type DoubleMacRule = 'same-probe' | 'interleaved';

export interface WitnessAnsweringEvent { type: 'answering'; at: number; mac: Mac; vendor: string | null }
export interface WitnessGapEvent {
  type: 'gap';
  /** The last answer before the gap (the first probe when nothing had answered before it). */
  from: number;
  /** The first answer after it; the end of the run when `ongoing`. */
  to: number;
  ms: number;
  /** Probe intervals that ended without an answer. */
  missedProbes: number;
  /** True when the address had not answered yet when the gap began (the witness's start). */
  fromStart: boolean;
  /** True when the run ended inside the gap. */
  ongoing: boolean;
}
export interface WitnessChangeEvent {
  type: 'change';
  /** The new MAC's first answer. */
  at: number;
  from: Mac;
  to: Mac;
  fromVendor: string | null;
  toVendor: string | null;
  /** The old MAC's last answer. */
  lastFromAt: number;
  /** Silence around the change: the new MAC's first answer minus the old MAC's last; null after a double MAC. */
  gapMs: number | null;
  /** The change showed once a double-MAC moment ended (the old MAC stopped, the other stayed). */
  afterDoubleMac: boolean;
  /**
   * The witness's probes seen on the wire after the old MAC's last answer, up to the new MAC's first: 1 means
   * no probe went unanswered, and the silence is bounded by the probe spacing (a witness that was held up
   * between two probes measures its own pause, not the handoff's).
   */
  probesBetween: number;
}
export interface WitnessDoubleMacEvent { type: 'double-mac'; at: number; macs: Mac[]; vendors: Array<string | null>; rule: DoubleMacRule }
export interface WitnessDoubleMacEndEvent {
  type: 'double-mac-end';
  from: number;
  to: number;
  ms: number;
  macs: Mac[];
  vendors: Array<string | null>;
  /** How many proofs the moment holds. */
  evidence: number;
}
export type WitnessEvent = WitnessAnsweringEvent | WitnessGapEvent | WitnessChangeEvent | WitnessDoubleMacEvent | WitnessDoubleMacEndEvent;

export interface WitnessMacSummary { mac: Mac; vendor: string | null; answers: number; firstAt: number; lastAt: number }
export type WitnessVerdict = 'one-answerer' | 'double-mac' | 'no-answer';

export interface WitnessSummary {
  /** Probes seen on the wire (the command adds how many it sent). */
  probes: number;
  answers: number;
  macs: WitnessMacSummary[];
  gaps: number;
  /** Longest gap in ms (ongoing ones included); 0 when there was none. */
  longestGapMs: number;
  /** The longest time between two consecutive probes seen, ms: the resolution of every gap and silence reported. */
  maxProbeSpacingMs: number;
  changes: number;
  doubleMacMoments: number;
  verdict: WitnessVerdict;
}

export interface WitnessAnalysisOptions {
  /** The probe period, ms. */
  intervalMs: number;
  vendorOf?: VendorLookup;
}

/** How far apart, in probe intervals, two answers of one MAC around another's still prove both held the address. */
export const INTERLEAVE_INTERVALS = 1.5;

interface Moment { from: number; to: number; macs: Set<Mac>; evidence: number }
interface PendingChange { from: Mac; to: Mac; firstToAt: number; lastFromAt: number; probesBetween: number }

const round = (ms: number): number => Math.round(ms * 100) / 100;

export class WitnessAnalysis {
  readonly windowMs: number;
  private readonly vendorOf: VendorLookup;
  private probes = 0;
  private firstProbeAt: number | null = null;
  private answeredSinceProbe = false;
  /** The MACs that replied to the latest probe, and when. */
  private repliesToProbe = new Map<Mac, number>();
  private readonly lastAt = new Map<Mac, number>();
  /** How many probes had been seen at each MAC's last answer. */
  private readonly lastProbeCount = new Map<Mac, number>();
  private lastProbeAt: number | null = null;
  private maxProbeSpacingMs = 0;
  private readonly perMac = new Map<Mac, WitnessMacSummary>();
  private lastAnswer: { mac: Mac; at: number } | null = null;
  private holder: Mac | null = null;
  private pending: PendingChange | null = null;
  private gap: { from: number; missed: number; fromStart: boolean } | null = null;
  private moment: Moment | null = null;
  private answers = 0;
  private gaps = 0;
  private longestGapMs = 0;
  private changes = 0;
  private moments = 0;

  constructor(options: WitnessAnalysisOptions) {
    if (!(options.intervalMs > 0) || !Number.isFinite(options.intervalMs)) throw new RangeError(`intervalMs must be a positive number, got ${options.intervalMs}`);
    this.windowMs = options.intervalMs * INTERLEAVE_INTERVALS;
    this.vendorOf = options.vendorOf ?? (() => null);
  }

  /** One of the witness's probes, as the capture saw it go out: the previous probe interval ends here. */
  probe(at: number): WitnessEvent[] {
    const events = this.advance(at, false);
    if (this.lastProbeAt !== null) this.maxProbeSpacingMs = Math.max(this.maxProbeSpacingMs, at - this.lastProbeAt);
    this.lastProbeAt = at;
    if (this.firstProbeAt === null) this.firstProbeAt = at;
    else if (!this.answeredSinceProbe) {
      if (this.gap === null) {
        this.gap = { from: this.lastAnswer?.at ?? this.firstProbeAt, missed: 1, fromStart: this.lastAnswer === null };
      } else this.gap.missed += 1;
    }
    this.probes += 1;
    this.answeredSinceProbe = false;
    this.repliesToProbe = new Map();
    return events;
  }

  /** A frame from `mac` claiming the address: 'reply' when it answers the witness's probe, else 'claim'. */
  answer(at: number, mac: Mac, kind: WitnessAnswerKind): WitnessEvent[] {
    const events = this.advance(at, false);
    this.answers += 1;
    this.answeredSinceProbe = true;
    const seen = this.perMac.get(mac);
    if (seen === undefined) this.perMac.set(mac, { mac, vendor: this.vendorOf(mac), answers: 1, firstAt: at, lastAt: at });
    else {
      seen.answers += 1;
      seen.lastAt = at;
    }
    if (this.gap !== null) {
      events.push(this.closeGap(at, false));
      this.gap = null;
    }
    if (this.holder === null) {
      this.holder = mac;
      events.push({ type: 'answering', at, mac, vendor: this.vendorOf(mac) });
    }
    let proven = false;
    if (kind === 'reply' && this.probes > 0 && !this.repliesToProbe.has(mac)) {
      this.repliesToProbe.set(mac, at);
      if (this.repliesToProbe.size >= 2) {
        this.evidence(events, 'same-probe', [...this.repliesToProbe.keys()], Math.min(...this.repliesToProbe.values()), at);
        proven = true;
      }
    }
    const previousOwn = this.lastAt.get(mac);
    if (this.lastAnswer !== null && this.lastAnswer.mac !== mac && previousOwn !== undefined && at - previousOwn < this.windowMs) {
      // Every other MAC that answered since this one's previous answer held the address with it.
      const between = [...this.lastAt].filter(([other, when]) => other !== mac && when > previousOwn).map(([other]) => other);
      this.evidence(events, 'interleaved', [mac, ...between], previousOwn, at);
      proven = true;
    }
    if (proven || this.moment !== null) this.pending = null;
    else if (mac === this.holder) this.pending = null;
    else if (this.pending === null || this.pending.to !== mac) {
      if (this.pending !== null) events.push(this.commitPending());
      const from = this.holder;
      this.pending = { from, to: mac, firstToAt: at, lastFromAt: this.lastAt.get(from) ?? at, probesBetween: this.probes - (this.lastProbeCount.get(from) ?? this.probes) };
    }
    this.lastAt.set(mac, at);
    this.lastProbeCount.set(mac, this.probes);
    this.lastAnswer = { mac, at };
    return events;
  }

  /** Time passed without input (the command's timer): a change or a double-MAC moment may be due. */
  tick(at: number): WitnessEvent[] {
    return this.advance(at, false);
  }

  /** The end of the run: what is still open is reported as it stands. */
  finish(at: number): WitnessEvent[] {
    const events = this.advance(at, true);
    if (this.gap !== null) {
      events.push(this.closeGap(at, true));
      this.gap = null;
    }
    return events;
  }

  summary(): WitnessSummary {
    const macs = [...this.perMac.values()].map((entry) => ({ ...entry })).sort((a, b) => a.firstAt - b.firstAt);
    return {
      probes: this.probes,
      answers: this.answers,
      macs,
      gaps: this.gaps,
      longestGapMs: round(this.longestGapMs),
      maxProbeSpacingMs: round(this.maxProbeSpacingMs),
      changes: this.changes,
      doubleMacMoments: this.moments,
      verdict: this.moments > 0 ? 'double-mac' : this.answers === 0 ? 'no-answer' : 'one-answerer',
    };
  }

  private vendors(macs: readonly Mac[]): Array<string | null> {
    return macs.map((mac) => this.vendorOf(mac));
  }

  private closeGap(to: number, ongoing: boolean): WitnessGapEvent {
    const gap = this.gap!;
    const ms = round(to - gap.from);
    this.gaps += 1;
    this.longestGapMs = Math.max(this.longestGapMs, ms);
    return { type: 'gap', from: gap.from, to, ms, missedProbes: gap.missed, fromStart: gap.fromStart, ongoing };
  }

  private evidence(events: WitnessEvent[], rule: DoubleMacRule, macs: readonly Mac[], from: number, at: number): void {
    const moment = this.moment;
    if (moment !== null) {
      for (const mac of macs) moment.macs.add(mac);
      moment.to = Math.max(moment.to, at);
      moment.evidence += 1;
      return;
    }
    const sorted = [...new Set(macs)].sort();
    this.moment = { from, to: at, macs: new Set(sorted), evidence: 1 };
    this.moments += 1;
    events.push({ type: 'double-mac', at, macs: sorted, vendors: this.vendors(sorted), rule });
  }

  private commitPending(): WitnessChangeEvent {
    const change = this.pending!;
    this.pending = null;
    this.holder = change.to;
    this.changes += 1;
    return {
      type: 'change', at: change.firstToAt, from: change.from, to: change.to,
      fromVendor: this.vendorOf(change.from), toVendor: this.vendorOf(change.to),
      lastFromAt: change.lastFromAt, gapMs: round(change.firstToAt - change.lastFromAt), afterDoubleMac: false, probesBetween: change.probesBetween,
    };
  }

  private advance(now: number, final: boolean): WitnessEvent[] {
    const events: WitnessEvent[] = [];
    // The old MAC can no longer answer within the window of its last answer: the change stands.
    if (this.pending !== null && (final || now - this.pending.lastFromAt >= this.windowMs)) events.push(this.commitPending());
    const moment = this.moment;
    if (moment !== null && (final || now - moment.to >= this.windowMs)) {
      this.moment = null;
      const macs = [...moment.macs].sort();
      events.push({ type: 'double-mac-end', from: moment.from, to: moment.to, ms: round(moment.to - moment.from), macs, vendors: this.vendors(macs), evidence: moment.evidence });
      const last = this.lastAnswer;
      if (last !== null && this.holder !== null && last.mac !== this.holder) {
        const from = this.holder;
        this.holder = last.mac;
        this.changes += 1;
        events.push({
          type: 'change', at: last.at, from, to: last.mac, fromVendor: this.vendorOf(from), toVendor: this.vendorOf(last.mac),
          lastFromAt: this.lastAt.get(from) ?? last.at, gapMs: null, afterDoubleMac: true, probesBetween: this.probes - (this.lastProbeCount.get(from) ?? this.probes),
        });
      }
    }
    return events;
  }
}

/** What one captured ARP frame is to the witness of `address` whose MAC is `ownMac`. */
export type WitnessInput = { kind: 'probe' } | { kind: 'answer'; mac: Mac; answer: WitnessAnswerKind } | null;

/**
 * Sorts a captured frame: the witness's own request for the address (it ends a probe interval), a frame
 * whose sender claims the address (a reply, to the witness — 'reply' — or to anyone else, or a gratuitous
 * request/reply — 'claim'), or nothing of interest (others' probes and questions, which claim nothing).
 */
export function witnessInput(frame: Pick<ArpFrame, 'arp'>, address: Ipv4, ownMac: Mac): WitnessInput {
  const { arp } = frame;
  if (arp.senderMac === ownMac) return arp.op === 'request' && arp.targetIp === address ? { kind: 'probe' } : null;
  if (arp.senderIp !== address) return null;
  if (arp.op === 'reply') return { kind: 'answer', mac: arp.senderMac, answer: arp.targetMac === ownMac ? 'reply' : 'claim' };
  return { kind: 'answer', mac: arp.senderMac, answer: 'claim' };
}
