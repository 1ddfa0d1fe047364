// Bookkeeping for mac-witness, free of sockets and clocks: the tool feeds every
// captured ARP frame (observe) or, for an IPv6 address, every neighbour
// discovery frame (observeNd) with its arrival time and gets back the answers
// for the watched address; findOverlaps() turns an answer list into the moments
// at which two MACs held the address at once.
//
// IPv6 is ARP in other words: a neighbour solicitation from the client for the
// address is a request, a neighbour advertisement for it (hop limit 255) is an
// answer from its target link-layer MAC (else the Ethernet source) — 'reply'
// when solicited (paired with the request before it when it is addressed to the
// client), 'announcement' when unsolicited (a takeover's advertisement, or the
// answer to a DAD probe, which goes to all nodes).
//
// What counts as proof that two stations held the address at the same moment:
//  - 'same-request': two MACs replied to one ARP request of the client. The
//    bridge floods a request to every station at the same instant, so both
//    answered from the same moment. The client's requests (the witness's probes
//    and the client kernel's own) are numbered in capture order, and a reply to
//    the client counts toward the latest request before it. Capture order, not
//    the time the witness handled a frame: a reply the witness reads late must
//    still count toward the request it answered.
//  - 'interleaved': MAC A answered, then MAC B, then A again, with A's two
//    answers less than `windowMs` apart: A held the address on both sides of
//    B's answer, too close together to have let it go and taken it back.
// Two MACs merely answering close together is NOT an overlap: a fast handoff
// (old owner releases, new owner announces a millisecond later) looks exactly
// like that. To still catch a short overlap, the witness probes at once when a
// MAC starts answering (probeNow): if the previous holder still has the
// address, both reply to that request.
import { classifyArp } from '../../../main/arp/codec';
import type { ArpFrame, Mac } from '../../../main/arp/frame';
import { ND_HOP_LIMIT, UNSPECIFIED_IPV6, type NdFrame } from '../../../main/nd/frame';

export type AnswerKind = 'reply' | 'announcement' | 'gratuitous-reply' | 'request';

export interface WitnessAnswer {
  /** ARP sender MAC (for IPv6: the advertisement's target link-layer MAC, else its Ethernet source): the station that answered for the address. */
  mac: Mac;
  kind: AnswerKind;
  /** Index of the client's ARP request this reply answers (0, 1, ...); null when unsolicited. */
  request: number | null;
  /** When the frame reached the witness, ms since the epoch (sub-ms precision, monotonic within one run). */
  wallMs: number;
}

export type OverlapRule = 'same-request' | 'interleaved';

/** One proof that several MACs held the address at once (see the file comment). */
export interface OverlapEvidence {
  rule: OverlapRule;
  /** Sorted. */
  macs: Mac[];
  fromWallMs: number;
  toWallMs: number;
  /** For 'same-request': the request the MACs answered. */
  request: number | null;
}

/** A stretch of time with two or more MACs holding the address: evidence less than windowMs apart, merged. */
export interface WitnessOverlap {
  /** Every MAC involved, sorted. */
  macs: Mac[];
  fromWallMs: number;
  toWallMs: number;
  rules: OverlapRule[];
  /** How many proofs were merged into this stretch. */
  evidence: number;
}

/** A change of the answering MAC: who answered last before it, who answered first after it. */
export interface WitnessTransition {
  from: Mac;
  to: Mac;
  lastFromWallMs: number;
  firstToWallMs: number;
  /** Time without any answer across the change, ms. */
  silenceMs: number;
}

export interface MacActivity {
  firstWallMs: number;
  lastWallMs: number;
  answers: number;
}

export interface WitnessSummary {
  type: 'summary';
  /** The watched address: IPv4, or canonical IPv6 text. */
  address: string;
  intervalMs: number;
  /** ARP requests (IPv6: neighbour solicitations) for the address the client sent (the witness's probes and its kernel's own). */
  requests: number;
  /** How many answers were recorded (the tool printed one "answer" line for each). */
  answerCount: number;
  macs: Record<Mac, MacActivity>;
  overlaps: WitnessOverlap[];
  transitions: WitnessTransition[];
}

export interface OverlapOptions {
  /** A MAC answering on both sides of another MAC's answer within this span proves an overlap (ms). */
  windowMs: number;
}

/** How much longer than one probe interval a MAC may stay silent and still count as "answering all along". */
export const INTERLEAVE_WINDOW_FACTOR = 1.5;

function byTime(answers: readonly WitnessAnswer[]): WitnessAnswer[] {
  // Stable: answers with equal times keep their capture order.
  return [...answers].sort((a, b) => a.wallMs - b.wallMs);
}

function sameRequestEvidence(answers: readonly WitnessAnswer[]): OverlapEvidence[] {
  const byRequest = new Map<number, WitnessAnswer[]>();
  for (const answer of answers) {
    if (answer.request === null || answer.kind !== 'reply') continue;
    const group = byRequest.get(answer.request) ?? [];
    group.push(answer);
    byRequest.set(answer.request, group);
  }
  const overlaps: OverlapEvidence[] = [];
  for (const [request, group] of byRequest) {
    const macs = [...new Set(group.map((a) => a.mac))].sort();
    if (macs.length < 2) continue;
    const times = group.map((a) => a.wallMs);
    overlaps.push({ rule: 'same-request', macs, fromWallMs: Math.min(...times), toWallMs: Math.max(...times), request });
  }
  return overlaps;
}

function interleavedEvidence(ordered: readonly WitnessAnswer[], windowMs: number): OverlapEvidence[] {
  const overlaps: OverlapEvidence[] = [];
  const lastIndexOf = new Map<Mac, number>();
  ordered.forEach((answer, index) => {
    const previousIndex = lastIndexOf.get(answer.mac);
    lastIndexOf.set(answer.mac, index);
    if (previousIndex === undefined || index - previousIndex < 2) return;
    const previous = ordered[previousIndex]!;
    if (answer.wallMs - previous.wallMs >= windowMs) return;
    const between = ordered.slice(previousIndex + 1, index).filter((other) => other.mac !== answer.mac);
    const firstOther = between[0];
    if (firstOther === undefined) return;
    const macs = [...new Set([answer.mac, ...between.map((other) => other.mac)])].sort();
    // Proven: both held when the others answered, not up to this MAC's next answer.
    const lastOther = between.at(-1) ?? firstOther;
    overlaps.push({ rule: 'interleaved', macs, fromWallMs: firstOther.wallMs, toWallMs: lastOther.wallMs, request: null });
  });
  return overlaps;
}

/** Every proof that two MACs held the address at once, in time order (see the file comment). */
export function findOverlapEvidence(answers: readonly WitnessAnswer[], options: OverlapOptions): OverlapEvidence[] {
  const ordered = byTime(answers);
  return [...sameRequestEvidence(ordered), ...interleavedEvidence(ordered, options.windowMs)].sort(
    (a, b) => a.fromWallMs - b.fromWallMs || a.toWallMs - b.toWallMs,
  );
}

/**
 * The stretches of time in which two or more MACs held the address, in time order: a
 * lasting overlap yields a proof per probe round, merged here into one stretch so that a
 * failed assertion reads "n1 and n2 from t1 to t2", not a page of rounds.
 */
export function findOverlaps(answers: readonly WitnessAnswer[], options: OverlapOptions): WitnessOverlap[] {
  const merged: WitnessOverlap[] = [];
  for (const proof of findOverlapEvidence(answers, options)) {
    const current = merged.at(-1);
    if (current !== undefined && proof.fromWallMs <= current.toWallMs + options.windowMs) {
      current.macs = [...new Set([...current.macs, ...proof.macs])].sort();
      current.toWallMs = Math.max(current.toWallMs, proof.toWallMs);
      current.rules = [...new Set([...current.rules, proof.rule])].sort();
      current.evidence += 1;
    } else {
      merged.push({ macs: [...proof.macs], fromWallMs: proof.fromWallMs, toWallMs: proof.toWallMs, rules: [proof.rule], evidence: 1 });
    }
  }
  return merged;
}

/** Every change of the answering MAC, in time order. */
export function findTransitions(answers: readonly WitnessAnswer[]): WitnessTransition[] {
  const transitions: WitnessTransition[] = [];
  let previous: WitnessAnswer | null = null;
  for (const answer of byTime(answers)) {
    if (previous !== null && answer.mac !== previous.mac) {
      transitions.push({
        from: previous.mac,
        to: answer.mac,
        lastFromWallMs: previous.wallMs,
        firstToWallMs: answer.wallMs,
        silenceMs: Math.round((answer.wallMs - previous.wallMs) * 1000) / 1000,
      });
    }
    previous = answer;
  }
  return transitions;
}

export function macActivity(answers: readonly WitnessAnswer[]): Record<Mac, MacActivity> {
  const activity: Record<Mac, MacActivity> = {};
  for (const answer of byTime(answers)) {
    const seen = activity[answer.mac];
    if (seen === undefined) activity[answer.mac] = { firstWallMs: answer.wallMs, lastWallMs: answer.wallMs, answers: 1 };
    else {
      seen.lastWallMs = answer.wallMs;
      seen.answers += 1;
    }
  }
  return activity;
}

export interface WitnessIdentity {
  /** The watched (virtual) address; IPv6 in canonical text (as nd/codec.ts decodes it) for observeNd. */
  address: string;
  /** The client's own MAC and address, as the witness's probes carry them (IPv6: canonical, for observeNd). */
  ownMac: Mac;
  ownIp: string;
  intervalMs: number;
}

export interface Observation {
  answer: WitnessAnswer | null;
  /** A MAC just started answering: probe now, so that a holder that has not let go answers the same request. */
  probeNow: boolean;
}

const NOTHING: Observation = { answer: null, probeNow: false };

export class WitnessLog {
  private readonly answers: WitnessAnswer[] = [];
  private requests = 0;
  private readonly lastAnswerAt = new Map<Mac, number>();

  constructor(readonly identity: WitnessIdentity) {}

  get answerCount(): number {
    return this.answers.length;
  }

  /**
   * Feeds one captured frame, outgoing ones included: the client's requests for the
   * address (the witness's probes and its kernel's own) number the requests, in the
   * order the kernel put them on the wire among the replies.
   */
  observe(frame: ArpFrame, wallMs: number): Observation {
    const { address, ownMac, ownIp } = this.identity;
    const arp = frame.arp;
    if (arp.senderMac === ownMac || frame.src === ownMac) {
      if (arp.op === 'request' && arp.targetIp === address) this.requests += 1;
      return NOTHING;
    }
    if (arp.senderIp !== address) return NOTHING;
    const kind = classifyArp(arp);
    if (kind === 'probe') return NOTHING; // from 0.0.0.0: a station asking, not one holding
    const toUs = arp.op === 'reply' && (arp.targetIp === ownIp || arp.targetMac === ownMac);
    return this.record(arp.senderMac, kind, toUs && kind === 'reply', wallMs);
  }

  /**
   * observe() for an IPv6 address: feeds one captured neighbour discovery frame, outgoing ones
   * included. The client's solicitations for the address (not its DAD probes, from ::) number the
   * requests; an advertisement for the address from anyone else with hop limit 255 is an answer:
   * 'reply' when solicited (counted toward the latest request when sent to the client), else
   * 'announcement'. Solicitations from others, the holders' included, say nothing here.
   */
  observeNd(frame: NdFrame, wallMs: number): Observation {
    const { address, ownMac, ownIp } = this.identity;
    const { icmp, ipv6 } = frame;
    const mac = icmp.type === 'na' ? (icmp.targetLinkAddr ?? frame.srcMac) : (icmp.sourceLinkAddr ?? frame.srcMac);
    if (frame.srcMac === ownMac || mac === ownMac) {
      if (icmp.type === 'ns' && icmp.target === address && ipv6.src !== UNSPECIFIED_IPV6) this.requests += 1;
      return NOTHING;
    }
    if (icmp.type !== 'na' || icmp.target !== address || ipv6.hopLimit !== ND_HOP_LIMIT) return NOTHING;
    const kind: AnswerKind = icmp.solicited ? 'reply' : 'announcement';
    const toUs = ipv6.dst === ownIp || frame.dstMac === ownMac;
    return this.record(mac, kind, toUs && kind === 'reply', wallMs);
  }

  private record(mac: Mac, kind: AnswerKind, answersRequest: boolean, wallMs: number): Observation {
    const answer: WitnessAnswer = {
      mac,
      kind,
      request: answersRequest && this.requests > 0 ? this.requests - 1 : null,
      wallMs,
    };
    this.answers.push(answer);
    const lastAt = this.lastAnswerAt.get(answer.mac);
    this.lastAnswerAt.set(answer.mac, wallMs);
    const quietFor = this.identity.intervalMs * INTERLEAVE_WINDOW_FACTOR;
    // Only on (re)appearance, never per answer: two MACs answering every request must not
    // set off a probe per answer, each drawing two more answers.
    const probeNow = lastAt === undefined || wallMs - lastAt > quietFor;
    return { answer, probeNow };
  }

  /** The answers kept (all of them, unless forgetBefore() dropped the oldest), in capture order. */
  get keptAnswers(): readonly WitnessAnswer[] {
    return this.answers;
  }

  /**
   * Drops the answers received before `wallMs`: a witness that runs for many minutes keeps a window,
   * not its whole history (summary() then covers the window only). Request numbering is unaffected.
   */
  forgetBefore(wallMs: number): void {
    const keepFrom = this.answers.findIndex((a) => a.wallMs >= wallMs);
    this.answers.splice(0, keepFrom < 0 ? this.answers.length : keepFrom);
  }

  summary(): WitnessSummary {
    return {
      type: 'summary',
      address: this.identity.address,
      intervalMs: this.identity.intervalMs,
      requests: this.requests,
      answerCount: this.answers.length,
      macs: macActivity(this.answers),
      overlaps: findOverlaps(this.answers, { windowMs: this.identity.intervalMs * INTERLEAVE_WINDOW_FACTOR }),
      transitions: findTransitions(this.answers),
    };
  }
}
