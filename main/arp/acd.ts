// Address conflict detection for one virtual IPv4 address on one interface: probe, register,
// announce, defend (RFC 5227; the MSCS "IP Address" resource of KB Q168567). Laid out like
// n-acd's src/n-acd-probe.c, an explicit state enum and one handler per input, each a switch
// over the state, with impossible combinations asserted. Unlike n-acd this machine does no
// I/O and owns no timer: every handler takes the injected monotonic time `now` (ms) and
// returns the effects the caller must carry out, in order. The same inputs always produce
// the same effects, so the unit tests replay the protocol frame by frame on a fake clock.
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
// - Which frames are ours. A frame whose Ethernet source or ARP sender MAC is our MAC is our
//   own transmission echoed back by the capture and is ignored in every state. Conflicts are
//   attributed to the ARP sender MAC (a spoofer may forge the Ethernet source).
// - Probing conflicts (RFC 5227 §2.1.1): any ARP with sender IP = our IP, or an ARP probe
//   (request, sender IP 0.0.0.0) from someone else for our IP. A plain request for our IP
//   from a host that has an address of its own is not a conflict.
//   From `askingMacs` (a cluster's other nodes): a probe marked as a question (codec.question) is
//   never a conflict, a plain probe only with peerProbes 'claim' (see acd-config.ts); otherwise
//   it is answered with a probe of ours, so that the stale peer sees our claim and yields.
// - Probe-only mode ends in its own terminal state, Done, whatever it found: it never held
//   the address, so neither Failed nor Released describes it. The trusted MAC is reported
//   as `trusted-answer` there too and is left out of `used-by`, so "free" in probe-only with
//   a trusted MAC means "nobody but the expected old owner answered".
// - Registering. Between the end of probing and onRegistered the address is not usable yet,
//   so we can neither defend nor yield (n-acd's CONFIGURING state drops such frames). A
//   conflicting frame is reported as conflict(action 'ignored'); the first announcement
//   will provoke the other claimant again and the policy decides then.
// - Announcing/Defending. An "announcement" is one announceForm's worth of frames ('both'
//   sends the request, then the reply); defence sends exactly that too. A defence does not
//   move the announcement schedule. The trusted MAC is exempt only while Announcing. Rate
//   limit: a conflict at `now - lastDefence < defendIntervalMs` is inside the interval; at
//   exactly defendIntervalMs it is outside (same comparison as n-acd). 'once' yields on a
//   conflict inside the interval and defends again outside it (RFC 5227 §2.4 (b)).
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
// - Frames are built untagged (vlan null) with Ethernet destination broadcast; the packet
//   I/O that owns the interface adds a VLAN tag when the interface needs one, and filters
//   received frames to this interface/VLAN before handing them in.

import { isIpv4 } from './addresses';
import { announcement, classifyArp, gratuitousReply, isQuestion, probe, question, type ArpKind } from './codec';
import { ZERO_IP, type ArpFrame, type ArpPacket, type Ipv4, type Mac } from './frame';
import { isStationMac, resolveAcdConfig, type AcdConfig } from './acd-config';

export { DEFAULT_ACD_CONFIG, resolveAcdConfig } from './acd-config';
export type { AcdConfig, AcdMode, AnnounceForm, DefendPolicy } from './acd-config';

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
  | { type: 'conflict'; at: number; mac: Mac; frameKind: ArpKind; action: ConflictAction }
  | { type: 'defended'; at: number; mac: Mac }
  /** One announcement sent again on request (onReannounce), after the first ones. */
  | { type: 'reannounced'; at: number }
  /** `detail` carries the caller's message for 'register-failed' and is absent otherwise. */
  | { type: 'down'; at: number; reason: DownReason; detail?: string };

export type AcdEffect =
  | { type: 'send'; frame: ArpFrame }
  | { type: 'set-timer'; at: number }
  | { type: 'cancel-timer' }
  | { type: 'register' }
  | { type: 'deregister' }
  | { type: 'event'; event: AcdEvent };

export interface AcdIdentity {
  ip: Ipv4;
  mac: Mac;
}

export interface Acd {
  readonly state: AcdState;
  /** When the pending timer is due, or null; lets a driver or a test check its bookkeeping. */
  readonly timerAt: number | null;
  start(now: number): AcdEffect[];
  onTimeout(now: number): AcdEffect[];
  onFrame(now: number, frame: ArpFrame): AcdEffect[];
  onPeerReport(now: number, mac: Mac): AcdEffect[];
  onReannounce(now: number): AcdEffect[];
  onRegistered(now: number): AcdEffect[];
  onRegisterFailed(now: number, reason: string): AcdEffect[];
  onLinkDown(now: number): AcdEffect[];
  stop(now: number): AcdEffect[];
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

/** `config` may be partial: it goes through resolveAcdConfig, which fills defaults and validates. */
export function createAcd(config: Partial<AcdConfig>, identity: AcdIdentity): Acd {
  return new AddressConflictDetector(config, identity);
}

function isTerminal(state: AcdState): boolean {
  return state === AcdState.Released || state === AcdState.Failed || state === AcdState.Done;
}

function event(e: AcdEvent): AcdEffect {
  return { type: 'event', event: e };
}

class AddressConflictDetector implements Acd {
  private readonly config: Readonly<AcdConfig>;
  private readonly ip: Ipv4;
  private readonly mac: Mac;

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
    if (!isIpv4(identity.ip) || identity.ip === ZERO_IP) {
      throw new Error(`ACD identity: ip must be a canonical IPv4 address other than 0.0.0.0 (got ${JSON.stringify(identity.ip)})`);
    }
    if (!isStationMac(identity.mac)) {
      throw new Error(`ACD identity: mac must be a canonical MAC, not zero or broadcast (got ${JSON.stringify(identity.mac)})`);
    }
    if (this.config.trustedMac === identity.mac) {
      throw new Error('ACD config: trustedMac is our own MAC; our own frames are always ignored, so it would mean nothing');
    }
    this.ip = identity.ip;
    this.mac = identity.mac;
  }

  get state(): AcdState {
    return this.current;
  }

  get timerAt(): number | null {
    return this.pendingTimerAt;
  }

  // ---- handlers, one per input ----

  start(now: number): AcdEffect[] {
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

  onTimeout(now: number): AcdEffect[] {
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

  onFrame(now: number, frame: ArpFrame): AcdEffect[] {
    this.tick('onFrame', now);
    switch (this.current) {
      case AcdState.Probing:
        return this.isOwn(frame) ? [] : this.probingFrame(now, frame.arp);
      case AcdState.Registering:
        return this.isOwn(frame) ? [] : this.registeringFrame(now, frame.arp);
      case AcdState.Announcing:
      case AcdState.Defending:
        return this.isOwn(frame) ? [] : this.boundFrame(now, frame.arp);
      default:
        return this.impossible('onFrame');
    }
  }

  /**
   * Another node of the cluster saw `mac` claim our address in frames this node could not see (a
   * reply to that node's own request is unicast to it). Treated as a claim seen here, once bound: the
   * defend policy decides. Before that the report says nothing a probe would not find out itself.
   */
  onPeerReport(now: number, mac: Mac): AcdEffect[] {
    this.tick('onPeerReport', now);
    switch (this.current) {
      case AcdState.Announcing:
      case AcdState.Defending:
        return mac === this.mac ? [] : this.claimedBy(now, mac, 'reply');
      case AcdState.Probing:
      case AcdState.Registering:
        return [];
      default:
        return this.impossible('onPeerReport');
    }
  }

  /** Announce the bound address once more, now: a cache refresh (see the header). */
  onReannounce(now: number): AcdEffect[] {
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

  onRegistered(now: number): AcdEffect[] {
    this.tick('onRegistered', now);
    switch (this.current) {
      case AcdState.Registering:
        return this.announceRound(now);
      default:
        return this.impossible('onRegistered');
    }
  }

  onRegisterFailed(now: number, reason: string): AcdEffect[] {
    this.tick('onRegisterFailed', now);
    switch (this.current) {
      case AcdState.Registering:
        this.current = AcdState.Failed;
        return [event({ type: 'down', at: now, reason: 'register-failed', detail: String(reason) })];
      default:
        return this.impossible('onRegisterFailed');
    }
  }

  onLinkDown(now: number): AcdEffect[] {
    this.tick('onLinkDown', now);
    if (isTerminal(this.current)) return this.impossible('onLinkDown');
    return this.shutDown(now, AcdState.Failed, 'link-down');
  }

  stop(now: number): AcdEffect[] {
    this.tick('stop', now);
    if (isTerminal(this.current)) return [];
    return this.shutDown(now, AcdState.Released, 'released');
  }

  // ---- probing ----

  private probeRound(now: number): AcdEffect[] {
    const { probeCount, probeIntervalMs, probeWaitMs } = this.config;
    const effects: AcdEffect[] = [];
    if (this.probesSent < probeCount) {
      this.probesSent += 1;
      effects.push(
        { type: 'send', frame: this.config.probeForm === 'question' ? question(this.mac, this.ip) : probe(this.mac, this.ip) },
        event({ type: 'probing', at: now, n: this.probesSent, count: probeCount }),
      );
    }
    const gap = this.probesSent < probeCount ? probeIntervalMs : probeWaitMs;
    effects.push(this.setTimer(now + gap));
    return effects;
  }

  private probingFrame(now: number, arp: ArpPacket): AcdEffect[] {
    const claimsOurIp = arp.senderIp === this.ip;
    const probesForOurIp = arp.op === 'request' && arp.senderIp === ZERO_IP && arp.targetIp === this.ip;
    if (!claimsOurIp && !probesForOurIp) return [];

    const mac = arp.senderMac;
    // A peer node's question is never a rival claim, its plain probe only if we may be the stale one
    // (peerProbes); an answer from it always is.
    if (!claimsOurIp && this.config.askingMacs?.includes(mac) === true) {
      if (isQuestion(arp)) return [];
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
  private peerProbe(now: number): AcdEffect[] {
    if (this.config.probeForm === 'question' || this.reasserted >= MAX_REASSERTS) return [];
    this.reasserted += 1;
    return [{ type: 'send', frame: probe(this.mac, this.ip) }, this.setTimer(Math.max(this.pendingTimerAt ?? now, now + this.config.probeWaitMs))];
  }

  private finishProbing(now: number): AcdEffect[] {
    if (this.config.mode === 'claim') return this.beginRegistering();
    this.current = AcdState.Done;
    if (this.usedBy.length === 0) return [event({ type: 'free', at: now })];
    return [event({ type: 'used-by', at: now, macs: [...this.usedBy] })];
  }

  // ---- registering ----

  private beginRegistering(): AcdEffect[] {
    this.current = AcdState.Registering;
    return [{ type: 'register' }];
  }

  private registeringFrame(now: number, arp: ArpPacket): AcdEffect[] {
    if (arp.senderIp !== this.ip || arp.senderMac === this.config.trustedMac) return [];
    return [event({ type: 'conflict', at: now, mac: arp.senderMac, frameKind: classifyArp(arp), action: 'ignored' })];
  }

  // ---- announcing and defending ----

  private announceRound(now: number): AcdEffect[] {
    const { announceCount, announceIntervalMs } = this.config;
    this.announcementsSent += 1;
    const n = this.announcementsSent;
    const effects: AcdEffect[] = [
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

  private boundFrame(now: number, arp: ArpPacket): AcdEffect[] {
    // Probes and plain requests for our address are answered by the kernel's ARP; only a
    // sender claiming our IP with another MAC is a conflict (RFC 5227 §2.4).
    if (arp.senderIp !== this.ip) return [];
    return this.claimedBy(now, arp.senderMac, classifyArp(arp));
  }

  /** `mac` claims our bound address: defend, yield or note it, as the policy says. */
  private claimedBy(now: number, mac: Mac, frameKind: ArpKind): AcdEffect[] {
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

  private defend(now: number, mac: Mac, frameKind: ArpKind): AcdEffect[] {
    this.lastDefenceAt = now;
    return [
      ...this.announcementSends(),
      event({ type: 'conflict', at: now, mac, frameKind, action: 'defended' }),
      event({ type: 'defended', at: now, mac }),
    ];
  }

  private yieldTo(now: number, mac: Mac, frameKind: ArpKind): AcdEffect[] {
    this.current = AcdState.Failed;
    return [
      { type: 'deregister' },
      ...this.cancelTimer(),
      event({ type: 'conflict', at: now, mac, frameKind, action: 'yielded' }),
      event({ type: 'down', at: now, reason: 'conflict' }),
    ];
  }

  // ---- shared ----

  private shutDown(now: number, terminal: AcdState, reason: 'released' | 'link-down'): AcdEffect[] {
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

  private isOwn(frame: ArpFrame): boolean {
    return frame.src === this.mac || frame.arp.senderMac === this.mac;
  }

  private setTimer(at: number): AcdEffect {
    this.pendingTimerAt = at;
    return { type: 'set-timer', at };
  }

  private cancelTimer(): AcdEffect[] {
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

  // ---- frames (the codec's builders: untagged, to broadcast) ----

  /** One announcement (announceForm's frames) as send effects: a round, a defence or a re-announcement. */
  private announcementSends(): AcdEffect[] {
    return this.announcementFrames().map((frame): AcdEffect => ({ type: 'send', frame }));
  }

  private announcementFrames(): ArpFrame[] {
    switch (this.config.announceForm) {
      case 'request':
        return [announcement(this.mac, this.ip)];
      case 'reply':
        return [gratuitousReply(this.mac, this.ip)];
      case 'both':
        return [announcement(this.mac, this.ip), gratuitousReply(this.mac, this.ip)];
    }
  }
}
