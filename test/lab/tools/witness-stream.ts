// The two-MAC witness for many addresses at once and for as long as a soak runs, free of sockets
// and clocks: one WitnessLog per address (the same proof rules as mac-witness, see witness-log.ts),
// but a rolling window instead of the whole history, so memory stays flat over 30 minutes of 100
// addresses asked every 20 ms (5,000 answers a second). What it reports as it goes:
//  - gaps: an address answered again after more than `gapMs` without any answer (who answered
//    before and after), and at the end the addresses still silent;
//  - overlaps: stretches of time in which two MACs held one address, found by findOverlapEvidence
//    once the answers around them can no longer change (older than `settleMs`), merged per address
//    like findOverlaps does (evidence less than the window apart is one stretch).
import type { ArpFrame, Ipv4, Mac } from '../../../main/arp/frame';
import { findOverlapEvidence, INTERLEAVE_WINDOW_FACTOR, WitnessLog, type OverlapRule } from './witness-log';

export interface StreamGap {
  ip: Ipv4;
  /** Last answer before the silence (or the witness's start), wall ms. */
  fromWallMs: number;
  /** First answer after it; for an address still silent at the end, the end. */
  toWallMs: number;
  ms: number;
  fromMac: Mac | null;
  /** Null while the address is still silent (reported by finish()). */
  toMac: Mac | null;
}

export interface StreamOverlap {
  ip: Ipv4;
  macs: Mac[];
  fromWallMs: number;
  toWallMs: number;
  rules: OverlapRule[];
  evidence: number;
  /** The answers around the stretch's start (±around ms, at most 24): mac, kind, request index, wall ms. */
  around: Array<[Mac, string, number | null, number]>;
}

const AROUND_MS = 60;
const AROUND_MAX = 24;

export interface WitnessStreamOptions {
  ownMac: Mac;
  ownIp: Ipv4;
  /** Probe period per address, ms. */
  intervalMs: number;
  /** Silences longer than this are reported as gaps, ms. */
  gapMs: number;
  /** Answers younger than this are not judged yet (a reply to a request may still come), ms; default 500. */
  settleMs?: number;
  startWallMs: number;
}

export interface StreamObservation {
  /** The address for which a MAC just (re)appeared: probe it now (see WitnessLog.observe). */
  probeNow: Ipv4 | null;
  gap: StreamGap | null;
}

interface AddressState {
  log: WitnessLog;
  lastWallMs: number;
  lastMac: Mac | null;
  answers: number;
  open: StreamOverlap | null;
}

const NOTHING: StreamObservation = { probeNow: null, gap: null };

export class WitnessStream {
  private readonly states = new Map<Ipv4, AddressState>();
  private readonly windowMs: number;
  private readonly settleMs: number;
  /** Evidence starting before this was judged by an earlier flush. */
  private judgedUpTo: number;

  constructor(addresses: readonly Ipv4[], private readonly options: WitnessStreamOptions) {
    this.windowMs = options.intervalMs * INTERLEAVE_WINDOW_FACTOR;
    this.settleMs = options.settleMs ?? 500;
    this.judgedUpTo = options.startWallMs;
    for (const address of addresses) {
      this.states.set(address, {
        log: new WitnessLog({ address, ownMac: options.ownMac, ownIp: options.ownIp, intervalMs: options.intervalMs }),
        lastWallMs: options.startWallMs,
        lastMac: null,
        answers: 0,
        open: null,
      });
    }
  }

  get addresses(): Ipv4[] {
    return [...this.states.keys()];
  }

  /** Feeds one captured frame (outgoing ones too: the client's requests number the rounds). */
  observe(frame: ArpFrame, wallMs: number): StreamObservation {
    const arp = frame.arp;
    const ours = arp.senderMac === this.options.ownMac || frame.src === this.options.ownMac;
    const state = this.states.get(ours ? arp.targetIp : arp.senderIp);
    if (state === undefined) return NOTHING;
    const { answer, probeNow } = state.log.observe(frame, wallMs);
    if (answer === null) return NOTHING;
    state.answers += 1;
    let gap: StreamGap | null = null;
    const silentMs = wallMs - state.lastWallMs;
    if (silentMs > this.options.gapMs) {
      gap = { ip: state.log.identity.address, fromWallMs: state.lastWallMs, toWallMs: wallMs, ms: silentMs, fromMac: state.lastMac, toMac: answer.mac };
    }
    state.lastWallMs = Math.max(state.lastWallMs, wallMs);
    state.lastMac = answer.mac;
    return { probeNow: probeNow ? state.log.identity.address : null, gap };
  }

  /** Overlap stretches that ended before `nowWallMs - settleMs`; forgets answers nobody needs any more. */
  flush(nowWallMs: number): StreamOverlap[] {
    return this.judge(nowWallMs - this.settleMs, false);
  }

  /** At the end (`nowWallMs`: when probing stopped): every overlap not reported yet, and the addresses silent for more than gapMs by then. */
  finish(nowWallMs: number): { overlaps: StreamOverlap[]; openGaps: StreamGap[] } {
    const overlaps = this.judge(Number.POSITIVE_INFINITY, true);
    const openGaps: StreamGap[] = [];
    for (const [ip, state] of this.states) {
      const ms = nowWallMs - state.lastWallMs;
      if (ms > this.options.gapMs) openGaps.push({ ip, fromWallMs: state.lastWallMs, toWallMs: nowWallMs, ms, fromMac: state.lastMac, toMac: null });
    }
    return { overlaps, openGaps };
  }

  /** Answers seen per address so far. */
  answerCounts(): Record<Ipv4, number> {
    return Object.fromEntries([...this.states].map(([ip, s]) => [ip, s.answers]));
  }

  /** Answers held in memory (all addresses): bounded by the window, not by the run's length. */
  keptAnswerCount(): number {
    let count = 0;
    for (const state of this.states.values()) count += state.log.keptAnswers.length;
    return count;
  }

  private judge(cutoff: number, final: boolean): StreamOverlap[] {
    const done: StreamOverlap[] = [];
    for (const [ip, state] of this.states) {
      const evidence = findOverlapEvidence(state.log.keptAnswers, { windowMs: this.windowMs })
        .filter((e) => e.fromWallMs >= this.judgedUpTo && e.fromWallMs < cutoff);
      for (const proof of evidence) {
        const open = state.open;
        if (open !== null && proof.fromWallMs <= open.toWallMs + this.windowMs) {
          open.macs = [...new Set([...open.macs, ...proof.macs])].sort();
          open.toWallMs = Math.max(open.toWallMs, proof.toWallMs);
          open.rules = [...new Set([...open.rules, proof.rule])].sort();
          open.evidence += 1;
        } else {
          if (open !== null) done.push(open);
          const around = state.log.keptAnswers
            .filter((a) => Math.abs(a.wallMs - proof.fromWallMs) <= AROUND_MS)
            .slice(0, AROUND_MAX)
            .map((a): [Mac, string, number | null, number] => [a.mac, a.kind, a.request, Math.round(a.wallMs * 10) / 10]);
          state.open = { ip, macs: [...proof.macs], fromWallMs: proof.fromWallMs, toWallMs: proof.toWallMs, rules: [proof.rule], evidence: 1, around };
        }
      }
      if (state.open !== null && (final || state.open.toWallMs + this.windowMs < cutoff)) {
        done.push(state.open);
        state.open = null;
      }
      // Evidence judged later starts at or after the cutoff and reaches back at most one window
      // (interleaved) or to the request it answers (same-request, far less than settleMs).
      if (!final) state.log.forgetBefore(cutoff - this.settleMs - this.windowMs);
    }
    if (!final) this.judgedUpTo = Math.max(this.judgedUpTo, cutoff);
    return done.sort((a, b) => a.fromWallMs - b.fromWallMs);
  }
}
