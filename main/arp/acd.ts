// Address conflict detection for one virtual IPv4 or IPv6 address on one interface: probe, register,
// announce, defend (RFC 5227 for IPv4, with ARP; RFC 4861/4862 neighbour discovery for IPv6; the MSCS
// "IP Address" resource of KB Q168567). Laid out like n-acd's src/n-acd-probe.c, an explicit state
// enum and one handler per input, each a switch over the state, with impossible combinations asserted.
// Unlike n-acd this machine does no I/O and owns no timer: every handler takes the injected monotonic
// time `now` (ms) and returns the effects the caller must carry out, in order. The same inputs always
// produce the same effects, so the unit tests replay the protocol frame by frame on a fake clock.
//
// The address family is fixed by the identity's address. What depends on it — reading a frame into who
// claims or probes the address, building the probes and announcements — is acd-frames.ts, whose header
// says how each family's frames are read; the handlers below decide on that reading alone. A frame of
// the other family (a shared socket may hand in both) causes nothing; before start() and after the end
// any frame is a caller bug, as before.
//
// Choices where the brief and the RFC are silent (the tests pin each of them down):
// - Timing. The first probe goes out at start() with no random PROBE_WAIT delay and no
//   jitter: the machine is deterministic, and a caller that wants jitter delays start().
//   Later probes and announcements are scheduled from the `now` of the handler that sent the
//   previous one (not from the nominal due time), so the configured gap is a minimum gap
//   between frames on the wire even when a timer fires late. probeCount 0 means listen
//   passively for probeWaitMs and send nothing.
// - One timer. `set-timer` replaces any pending timer; `cancel-timer` is emitted only when a
//   timer is pending. So every set-timer is matched by exactly one onTimeout or one
//   cancel-timer, and an onTimeout with nothing pending is a caller bug and throws.
// - Which frames are ours. A frame whose Ethernet source or ARP sender MAC (ND: link-layer option) is
//   our MAC is our own transmission echoed back by the capture and is ignored in every state.
//   Conflicts are attributed to the ARP sender MAC (a spoofer may forge the Ethernet source); ND ones
//   to the link-layer option that names our address's MAC, else the Ethernet source (acd-frames.ts).
// - Probing conflicts (RFC 5227 §2.1.1): any ARP with sender IP = our IP, or an ARP probe
//   (request, sender IP 0.0.0.0) from someone else for our IP. A plain request for our IP
//   from a host that has an address of its own is not a conflict.
//   From `askingMacs` (a cluster's other nodes): a probe marked as a question (codec.question) is
//   never a conflict, a plain probe only with peerProbes 'claim' (see acd-config.ts); otherwise
//   it is answered with a probe of ours, so that the stale peer sees our claim and yields.
// - Probing over ND (RFC 4862 §5.4): a probe is a DAD solicitation (from ::, to the solicited-node
//   group, no link-layer option). Conflicts: any advertisement for our IP (a holder answers a DAD probe
//   with one to all nodes) or any ND from our IP as source; another node's DAD probe for our IP
//   (simultaneous DAD, §5.4.3) under the same askingMacs / question / peerProbes rules. A solicitation
//   from an address of its own asking for ours is resolution, not a conflict. probeForm 'question' sends
//   the DAD probe with the question nonce (nd/builders.ts buildDadQuestion), which a holder answers the
//   same and peers recognise. ND from off the link (hop limit not 255) is ignored, as hosts drop it.
// - Probe-only mode ends in its own terminal state, Done, whatever it found: it never held
//   the address, so neither Failed nor Released describes it. The trusted MAC is reported
//   as `trusted-answer` there too and is left out of `used-by`, so "free" in probe-only with
//   a trusted MAC means "nobody but the expected old owner answered".
// - Registering. Between the end of probing and onRegistered the address is not usable yet,
//   so we can neither defend nor yield (n-acd's CONFIGURING state drops such frames). A
//   conflicting frame is reported as conflict(action 'ignored'); the first announcement
//   will provoke the other claimant again and the policy decides then.
// - Announcing/Defending. An "announcement" is one announceForm's worth of frames ('both'
//   sends the request, then the reply); defence sends exactly that too. Over ND it is one unsolicited
//   advertisement with the override flag to all nodes, whatever announceForm says (ND has one form every
//   cache takes), at the same announceCount and announceIntervalMs. Bound, a claim is an advertisement
//   for our IP or ND from our IP; a DAD probe or a solicitation for our IP is not (the kernel answers it,
//   as with ARP probes). A defence does not move the announcement schedule. The trusted MAC is exempt
//   only while Announcing. Rate limit: a conflict at `now - lastDefence < defendIntervalMs` is inside
//   the interval; at exactly defendIntervalMs it is outside (same comparison as n-acd). 'once' yields
//   on a conflict inside the interval and defends again outside it (RFC 5227 §2.4 (b)). The policy,
//   the interval and a defence's one announcement are the same over ND.
// - Re-announcing (onReannounce: a periodic refresh, or the operator's "announce now") sends one
//   announcement's frames once bound (Announcing or Defending) and, like a defence, does not move the
//   schedule of the first announcements. Before the address is bound there is nothing to re-announce
//   ([], no event): the caller reads the `reannounced` event as "sent".
// - Yielding (and stop/link down while the address may be registered) emits `deregister`
//   first, so the caller stops using the address before it reports anything.
// - stop() in Registering emits `deregister` too: the caller's register may complete
//   concurrently, and deregistering an address that is absent must be harmless for it.
// - Idle: stop() and onLinkDown() end the machine (Released/Failed) with no effects, since
//   nothing was started. In a terminal state stop() is a harmless no-op; every other input
//   throws, as does a clock that goes backwards.
// - onPeerReport logs the reported claim as the answer the reporting node was sent: an ARP 'reply', an
//   ND 'solicited-advertisement'.
// - Frames are built untagged (vlan null) with Ethernet destination broadcast (ND: the solicited-node
//   or all-nodes group); the packet I/O that owns the interface adds a VLAN tag when the interface
//   needs one, and filters received frames to this interface/VLAN before handing them in.

import type { ArpFrame, Mac } from './frame';
import { isStationMac, resolveAcdConfig, type AcdConfig } from './acd-config';
import { acdFamilyOf, familyFrames, type AcdFamily, type AcdFrame, type AcdFrameKind, type FamilyFrames, type FrameReading } from './acd-frames';

export { DEFAULT_ACD_CONFIG, resolveAcdConfig } from './acd-config';
export type { AcdConfig, AcdMode, AnnounceForm, DefendPolicy } from './acd-config';
export { acdFamilyOf, isArpFrame, isNdFrame } from './acd-frames';
export type { AcdFamily, AcdFrame, AcdFrameKind } from './acd-frames';
export { buildDadQuestion, isNdQuestion } from '../nd/builders';

/** How often a claim answers a peer's probe with one of its own (peerProbe). */
const MAX_REASSERTS = 3;

/** States. String values so that errors, logs and snapshots read without a lookup table. */
export const AcdState = {
  Idle: 'idle',
  Probing: 'probing',
  Registering: 'registering',
  Announcing: 'announcing',
  Defending: 'defending',
  /** Terminal: stopped by the operator. */
  Released: 'released',
  /** Terminal: conflict while probing, register failure, yielded to a conflict, link down. */
  Failed: 'failed',
  /** Terminal: a probe-only run finished (its result is the `free` or `used-by` event). */
  Done: 'done',
} as const;
export type AcdState = (typeof AcdState)[keyof typeof AcdState];

export type AcdInput = 'start' | 'onTimeout' | 'onFrame' | 'onPeerReport' | 'onReannounce' | 'onRegistered' | 'onRegisterFailed' | 'onLinkDown' | 'stop';

export type ConflictAction = 'defended' | 'rate-limited' | 'yielded' | 'ignored';
export type DownReason = 'released' | 'conflict' | 'register-failed' | 'link-down';

export type AcdEvent =
  | { type: 'probing'; at: number; n: number; count: number }
  | { type: 'trusted-answer'; at: number; mac: Mac }
  | { type: 'used-by'; at: number; macs: Mac[] }
  | { type: 'free'; at: number }
  | { type: 'ready'; at: number }
  | { type: 'announced'; at: number; n: number; count: number }
  /** `frameKind` says how the conflicting frame looked on the wire, for the operator's conflict log. */
  | { type: 'conflict'; at: number; mac: Mac; frameKind: AcdFrameKind; action: ConflictAction }
  | { type: 'defended'; at: number; mac: Mac }
  /** One announcement sent again on request (onReannounce), after the first ones. */
  | { type: 'reannounced'; at: number }
  /** `detail` carries the caller's message for 'register-failed' and is absent otherwise. */
  | { type: 'down'; at: number; reason: DownReason; detail?: string };

/**
 * `F` is the frame type a machine sends: ArpFrame by default, so code written for IPv4 reads ARP fields
 * without a check; a machine that may be IPv6 is an Acd<AcdFrame> (or Acd<NdFrame>), see createAcd.
 */
export type AcdEffect<F extends AcdFrame = ArpFrame> =
  /** Untagged; ARP for an IPv4 machine, ND for an IPv6 one. */
  | { type: 'send'; frame: F }
  | { type: 'set-timer'; at: number }
  | { type: 'cancel-timer' }
  | { type: 'register' }
  | { type: 'deregister' }
  | { type: 'event'; event: AcdEvent };

export interface AcdIdentity {
  /** Canonical IPv4, or canonical IPv6 (RFC 5952 text): it fixes the machine's family. */
  ip: string;
  mac: Mac;
}

/** One machine. `F` as for AcdEffect: what its send effects carry. */
export interface Acd<F extends AcdFrame = ArpFrame> {
  readonly state: AcdState;
  readonly family: AcdFamily;
  /** When the pending timer is due, or null; lets a driver or a test check its bookkeeping. */
  readonly timerAt: number | null;
  start(now: number): AcdEffect<F>[];
  onTimeout(now: number): AcdEffect<F>[];
  /** A frame of the other family, or our own, returns []. */
  onFrame(now: number, frame: AcdFrame): AcdEffect<F>[];
  onPeerReport(now: number, mac: Mac): AcdEffect<F>[];
  onReannounce(now: number): AcdEffect<F>[];
  onRegistered(now: number): AcdEffect<F>[];
  onRegisterFailed(now: number, reason: string): AcdEffect<F>[];
  onLinkDown(now: number): AcdEffect<F>[];
  stop(now: number): AcdEffect<F>[];
}

/** Thrown when an input arrives in a state where it cannot happen: a bug in the caller. */
export class AcdStateError extends Error {
  readonly state: AcdState;
  readonly input: AcdInput;

  constructor(state: AcdState, input: AcdInput, why = 'is impossible') {
    super(`ACD: input ${input} ${why} in state ${state}`);
    this.name = 'AcdStateError';
    this.state = state;
    this.input = input;
  }
}

/**
 * `config` may be partial: it goes through resolveAcdConfig, which fills defaults and validates. The
 * family is the identity's (acdFamilyOf); `F` only types the send effects and is not checked against it:
 * createAcd(...) for an IPv4 address, createAcd<NdFrame>(...) for an IPv6 one, createAcd<AcdFrame>(...)
 * for code that runs both (then isNdFrame tells the frames apart).
 */
export function createAcd<F extends AcdFrame = ArpFrame>(config: Partial<AcdConfig>, identity: AcdIdentity): Acd<F> {
  // The machine's frames are its family's; the caller's F names that family (see above).
  return new AddressConflictDetector(config, identity) as unknown as Acd<F>;
}

type Effect = AcdEffect<AcdFrame>;

function isTerminal(state: AcdState): boolean {
  return state === AcdState.Released || state === AcdState.Failed || state === AcdState.Done;
}

function event(e: AcdEvent): Effect {
  return { type: 'event', event: e };
}

class AddressConflictDetector implements Acd<AcdFrame> {
  private readonly config: Readonly<AcdConfig>;
  private readonly mac: Mac;
  private readonly frames: FamilyFrames;

  private current: AcdState = AcdState.Idle;
  private pendingTimerAt: number | null = null;
  private lastNow = Number.NEGATIVE_INFINITY;

  private probesSent = 0;
  /** Probes sent again because a peer probed the address too (see peerProbe). */
  private reasserted = 0;
  /** Untrusted stations that answered while probing, in the order first seen. */
  private readonly usedBy: Mac[] = [];
  private readonly trustedSeen = new Set<Mac>();
  private announcementsSent = 0;
  private lastDefenceAt: number | null = null;

  constructor(config: Partial<AcdConfig>, identity: AcdIdentity) {
    this.config = resolveAcdConfig(config);
    const family = acdFamilyOf(identity.ip);
    if (!isStationMac(identity.mac)) {
      throw new Error(`ACD identity: mac must be a canonical MAC, not zero or broadcast (got ${JSON.stringify(identity.mac)})`);
    }
    if (this.config.trustedMac === identity.mac) {
      throw new Error('ACD config: trustedMac is our own MAC; our own frames are always ignored, so it would mean nothing');
    }
    this.mac = identity.mac;
    this.frames = familyFrames(family, identity.ip, identity.mac);
  }

  get state(): AcdState {
    return this.current;
  }

  get family(): AcdFamily {
    return this.frames.family;
  }

  get timerAt(): number | null {
    return this.pendingTimerAt;
  }

  // ---- handlers, one per input ----

  start(now: number): Effect[] {
    this.tick('start', now);
    switch (this.current) {
      case AcdState.Idle:
        if (this.config.skipProbe) return this.beginRegistering();
        this.current = AcdState.Probing;
        return this.probeRound(now);
      default:
        return this.impossible('start');
    }
  }

  onTimeout(now: number): Effect[] {
    this.tick('onTimeout', now);
    if (this.pendingTimerAt === null) throw new AcdStateError(this.current, 'onTimeout', 'with no pending timer is impossible');
    this.pendingTimerAt = null;
    switch (this.current) {
      case AcdState.Probing:
        if (this.probesSent < this.config.probeCount) return this.probeRound(now);
        return this.finishProbing(now);
      case AcdState.Announcing:
        return this.announceRound(now);
      default:
        // Only Probing and Announcing ever set a timer.
        return this.impossible('onTimeout');
    }
  }

  onFrame(now: number, frame: AcdFrame): Effect[] {
    this.tick('onFrame', now);
    switch (this.current) {
      case AcdState.Probing:
        return this.reading(frame, (heard) => this.probingFrame(now, heard));
      case AcdState.Registering:
        return this.reading(frame, (heard) => this.registeringFrame(now, heard));
      case AcdState.Announcing:
      case AcdState.Defending:
        return this.reading(frame, (heard) => this.boundFrame(now, heard));
      default:
        return this.impossible('onFrame');
    }
  }

  /**
   * Another node of the cluster saw `mac` claim our address in frames this node could not see (a
   * reply to that node's own request is unicast to it). Treated as a claim seen here, once bound: the
   * defend policy decides. Before that the report says nothing a probe would not find out itself.
   */
  onPeerReport(now: number, mac: Mac): Effect[] {
    this.tick('onPeerReport', now);
    switch (this.current) {
      case AcdState.Announcing:
      case AcdState.Defending:
        return mac === this.mac ? [] : this.claimedBy(now, mac, this.frames.reportedKind);
      case AcdState.Probing:
      case AcdState.Registering:
        return [];
      default:
        return this.impossible('onPeerReport');
    }
  }

  /** Announce the bound address once more, now: a cache refresh (see the header). */
  onReannounce(now: number): Effect[] {
    this.tick('onReannounce', now);
    switch (this.current) {
      case AcdState.Announcing:
      case AcdState.Defending:
        return [...this.announcementSends(), event({ type: 'reannounced', at: now })];
      case AcdState.Probing:
      case AcdState.Registering:
        return [];
      default:
        return this.impossible('onReannounce');
    }
  }

  onRegistered(now: number): Effect[] {
    this.tick('onRegistered', now);
    switch (this.current) {
      case AcdState.Registering:
        return this.announceRound(now);
      default:
        return this.impossible('onRegistered');
    }
  }

  onRegisterFailed(now: number, reason: string): Effect[] {
    this.tick('onRegisterFailed', now);
    switch (this.current) {
      case AcdState.Registering:
        this.current = AcdState.Failed;
        return [event({ type: 'down', at: now, reason: 'register-failed', detail: String(reason) })];
      default:
        return this.impossible('onRegisterFailed');
    }
  }

  onLinkDown(now: number): Effect[] {
    this.tick('onLinkDown', now);
    if (isTerminal(this.current)) return this.impossible('onLinkDown');
    return this.shutDown(now, AcdState.Failed, 'link-down');
  }

  stop(now: number): Effect[] {
    this.tick('stop', now);
    if (isTerminal(this.current)) return [];
    return this.shutDown(now, AcdState.Released, 'released');
  }

  // ---- probing ----

  private probeRound(now: number): Effect[] {
    const { probeCount, probeIntervalMs, probeWaitMs } = this.config;
    const effects: Effect[] = [];
    if (this.probesSent < probeCount) {
      this.probesSent += 1;
      effects.push(
        { type: 'send', frame: this.config.probeForm === 'question' ? this.frames.question() : this.frames.probe() },
        event({ type: 'probing', at: now, n: this.probesSent, count: probeCount }),
      );
    }
    const gap = this.probesSent < probeCount ? probeIntervalMs : probeWaitMs;
    effects.push(this.setTimer(now + gap));
    return effects;
  }

  private probingFrame(now: number, heard: FrameReading): Effect[] {
    if (!heard.claims && !heard.probes) return [];

    const mac = heard.mac;
    // A peer node's question is never a rival claim, its plain probe only if we may be the stale one
    // (peerProbes); an answer from it always is.
    if (!heard.claims && this.config.askingMacs?.includes(mac) === true) {
      if (heard.question) return [];
      if (this.config.peerProbes === 'question') return this.peerProbe(now);
    }
    if (mac === this.config.trustedMac) {
      if (this.trustedSeen.has(mac)) return [];
      this.trustedSeen.add(mac);
      return [event({ type: 'trusted-answer', at: now, mac })];
    }
    if (this.config.mode === 'probe-only') {
      // Keep listening: the operator asked who uses the address, not just whether.
      if (!this.usedBy.includes(mac)) this.usedBy.push(mac);
      return [];
    }
    this.current = AcdState.Failed;
    return [...this.cancelTimer(), event({ type: 'used-by', at: now, macs: [mac] })];
  }

  /**
   * A peer probes the address we are claiming with the store's key: it acts on a stale belief and
   * yields to our claim — if it sees one. Our probes may all have gone out before its window opened, so
   * we claim again at once and listen a full probeWaitMs more (a few times at most: a stale peer yields
   * at the first). A pre-flight that never registers (probeForm 'question') claims nothing.
   */
  private peerProbe(now: number): Effect[] {
    if (this.config.probeForm === 'question' || this.reasserted >= MAX_REASSERTS) return [];
    this.reasserted += 1;
    return [{ type: 'send', frame: this.frames.probe() }, this.setTimer(Math.max(this.pendingTimerAt ?? now, now + this.config.probeWaitMs))];
  }

  private finishProbing(now: number): Effect[] {
    if (this.config.mode === 'claim') return this.beginRegistering();
    this.current = AcdState.Done;
    if (this.usedBy.length === 0) return [event({ type: 'free', at: now })];
    return [event({ type: 'used-by', at: now, macs: [...this.usedBy] })];
  }

  // ---- registering ----

  private beginRegistering(): Effect[] {
    this.current = AcdState.Registering;
    return [{ type: 'register' }];
  }

  private registeringFrame(now: number, heard: FrameReading): Effect[] {
    if (!heard.claims || heard.mac === this.config.trustedMac) return [];
    return [event({ type: 'conflict', at: now, mac: heard.mac, frameKind: heard.kind, action: 'ignored' })];
  }

  // ---- announcing and defending ----

  private announceRound(now: number): Effect[] {
    const { announceCount, announceIntervalMs } = this.config;
    this.announcementsSent += 1;
    const n = this.announcementsSent;
    const effects: Effect[] = [
      ...this.announcementSends(),
      event({ type: 'announced', at: now, n, count: announceCount }),
    ];
    if (n === 1) effects.push(event({ type: 'ready', at: now }));
    if (n < announceCount) {
      this.current = AcdState.Announcing;
      effects.push(this.setTimer(now + announceIntervalMs));
    } else {
      this.current = AcdState.Defending;
    }
    return effects;
  }

  private boundFrame(now: number, heard: FrameReading): Effect[] {
    // Probes and plain requests (solicitations) for our address are answered by the kernel; only a
    // station claiming our IP with another MAC is a conflict (RFC 5227 §2.4).
    if (!heard.claims) return [];
    return this.claimedBy(now, heard.mac, heard.kind);
  }

  /** `mac` claims our bound address: defend, yield or note it, as the policy says. */
  private claimedBy(now: number, mac: Mac, frameKind: AcdFrameKind): Effect[] {
    if (this.current === AcdState.Announcing && mac === this.config.trustedMac) return [];
    const insideInterval = this.lastDefenceAt !== null && now - this.lastDefenceAt < this.config.defendIntervalMs;
    switch (this.config.defendPolicy) {
      case 'never':
        return this.yieldTo(now, mac, frameKind);
      case 'once':
        return insideInterval ? this.yieldTo(now, mac, frameKind) : this.defend(now, mac, frameKind);
      case 'always':
        if (insideInterval) return [event({ type: 'conflict', at: now, mac, frameKind, action: 'rate-limited' })];
        return this.defend(now, mac, frameKind);
    }
  }

  private defend(now: number, mac: Mac, frameKind: AcdFrameKind): Effect[] {
    this.lastDefenceAt = now;
    return [
      ...this.announcementSends(),
      event({ type: 'conflict', at: now, mac, frameKind, action: 'defended' }),
      event({ type: 'defended', at: now, mac }),
    ];
  }

  private yieldTo(now: number, mac: Mac, frameKind: AcdFrameKind): Effect[] {
    this.current = AcdState.Failed;
    return [
      { type: 'deregister' },
      ...this.cancelTimer(),
      event({ type: 'conflict', at: now, mac, frameKind, action: 'yielded' }),
      event({ type: 'down', at: now, reason: 'conflict' }),
    ];
  }

  // ---- shared ----

  private shutDown(now: number, terminal: AcdState, reason: 'released' | 'link-down'): Effect[] {
    const from = this.current;
    this.current = terminal;
    switch (from) {
      case AcdState.Idle:
        return [];
      case AcdState.Probing:
        return [...this.cancelTimer(), event({ type: 'down', at: now, reason })];
      case AcdState.Registering:
      case AcdState.Announcing:
      case AcdState.Defending:
        return [{ type: 'deregister' }, ...this.cancelTimer(), event({ type: 'down', at: now, reason })];
      default:
        this.current = from;
        return this.impossible(reason === 'released' ? 'stop' : 'onLinkDown');
    }
  }

  /** `handle` the frame's reading; nothing for a frame the machine never acts on (acd-frames.ts read). */
  private reading(frame: AcdFrame, handle: (heard: FrameReading) => Effect[]): Effect[] {
    const heard = this.frames.read(frame);
    return heard === null ? [] : handle(heard);
  }

  private setTimer(at: number): Effect {
    this.pendingTimerAt = at;
    return { type: 'set-timer', at };
  }

  private cancelTimer(): Effect[] {
    if (this.pendingTimerAt === null) return [];
    this.pendingTimerAt = null;
    return [{ type: 'cancel-timer' }];
  }

  /** Validates the injected clock before any state changes. */
  private tick(input: AcdInput, now: number): void {
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new AcdStateError(this.current, input, `with a non-finite time (${String(now)}) is impossible`);
    }
    if (now < this.lastNow) {
      throw new AcdStateError(this.current, input, `at ${now} ms, before the previous input at ${this.lastNow} ms, is impossible`);
    }
    this.lastNow = now;
  }

  private impossible(input: AcdInput): never {
    throw new AcdStateError(this.current, input);
  }

  /** One announcement as send effects: a round, a defence or a re-announcement. */
  private announcementSends(): Effect[] {
    return this.frames.announcement(this.config.announceForm).map((frame): Effect => ({ type: 'send', frame }));
  }
}
