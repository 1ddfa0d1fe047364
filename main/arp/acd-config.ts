// Settings of the address-conflict-detection machine (arp/acd.ts): defaults, ranges and
// validation. One set for both families: an IPv6 machine probes, announces and defends at the same
// counts and intervals (its probes are DAD solicitations, its announcements unsolicited advertisements). Kept apart from the machine so the console and the agent can validate an
// operator's settings (and show the message verbatim) without building a machine.
//
// The defaults are faster than RFC 5227 §1.1 (3 probes 1-2 s apart, 2 s wait): like n-acd we
// judge a 9 s claim unacceptable on a LAN with sub-millisecond round trips, and a cluster
// failover is measured against that delay. Announcements keep the RFC spacing (2 s) because
// their job is to outlast a receiver's ARP locktime and a lost frame, not to be fast.

import { isCanonicalMac } from './addresses';
import { BROADCAST_MAC, ZERO_MAC, type Mac } from './frame';

export type AcdMode = 'claim' | 'probe-only';
export type AnnounceForm = 'request' | 'reply' | 'both';
export type DefendPolicy = 'never' | 'once' | 'always';
/**
 * What a probe says: 'claim' (RFC 5227 / RFC 4862 DAD: about to register) or 'question' (who holds it?
 * codec.question for ARP, nd/builders.ts buildDadQuestion for ND).
 */
export type ProbeForm = 'claim' | 'question';

export interface AcdConfig {
  /** 'claim' probes, registers, announces and defends; 'probe-only' only reports who answers. */
  mode: AcdMode;
  /** Claim without probing (operator `--no-probe`, or a planned handoff already probed). */
  skipProbe: boolean;
  /** Probes to send; 0 means listen passively for probeWaitMs without sending. */
  probeCount: number;
  /** Gap between consecutive probes. */
  probeIntervalMs: number;
  /** How long to keep listening after the last probe. */
  probeWaitMs: number;
  /** The one station whose answers are expected during a planned move (the old owner). */
  trustedMac: Mac | null;
  /** Our probes: claims (before registering) or questions (a pre-flight that never registers). */
  probeForm: ProbeForm;
  /**
   * A cluster's peer nodes (see ClusterView.peerMacs). Their probes marked as questions are never
   * conflicts; their answers (sender IP = the address) always are; their plain RFC 5227 probes count
   * as `peerProbes` says.
   */
  askingMacs?: readonly Mac[];
  /**
   * 'question': a peer's plain probe is not a conflict either — for a node that holds the address's key
   * in the store: a peer probing it is either asking or acting on a stale belief, and yields to us.
   * 'claim': it is a conflict — for a node whose belief may be the stale one (taking back an address
   * after a fence): the peer may be taking it over.
   */
  peerProbes: ProbeForm;
  /** Announcements after registration, the first one immediately. */
  announceCount: number;
  announceIntervalMs: number;
  /**
   * 'request': ARP request sender IP = target IP; 'reply': gratuitous reply; 'both': request then reply.
   * ARP only: an IPv6 announcement is one unsolicited advertisement whatever the value.
   */
  announceForm: AnnounceForm;
  /** RFC 5227 §2.4 (a) never defend, (b) defend once then yield, (c) always defend. */
  defendPolicy: DefendPolicy;
  /** Minimum gap between two defensive announcements (RFC 5227 DEFEND_INTERVAL). */
  defendIntervalMs: number;
}

export const DEFAULT_ACD_CONFIG: Readonly<AcdConfig> = Object.freeze({
  mode: 'claim',
  skipProbe: false,
  probeCount: 3,
  probeIntervalMs: 200,
  probeWaitMs: 400,
  trustedMac: null,
  probeForm: 'claim',
  peerProbes: 'question',
  announceCount: 2,
  announceIntervalMs: 2000,
  announceForm: 'request',
  defendPolicy: 'always',
  defendIntervalMs: 10_000,
});

const MAX_TIMING_MS = 60_000;
const MAX_DEFEND_INTERVAL_MS = 3_600_000;
/** Every interface of every node of a large cluster. */
const MAX_ASKING_MACS = 4096;

/**
 * A canonical MAC that can stand for a station: not all-zero, not broadcast. Group addresses are
 * allowed on purpose: Windows NLB in multicast mode answers ARP with a 03:bf:... MAC.
 */
export function isStationMac(value: unknown): value is Mac {
  return isCanonicalMac(value) && value !== ZERO_MAC && value !== BROADCAST_MAC;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

function fail(key: keyof AcdConfig, expectation: string, value: unknown): never {
  throw new Error(`ACD config: ${key} must be ${expectation} (got ${describe(value)})`);
}

function integerIn(key: keyof AcdConfig, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(key, `an integer in ${min}..${max}`, value);
  }
  return value;
}

function oneOf<T extends string>(key: keyof AcdConfig, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(key, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** The defaults' keys, and the optional ones that have no default. */
const KNOWN_KEYS = new Set<string>([...Object.keys(DEFAULT_ACD_CONFIG), 'askingMacs']);

/**
 * Fills in defaults and checks every range. Unknown keys are rejected because a typo such
 * as `probecount` would otherwise silently run with the default.
 */
export function resolveAcdConfig(partial: Partial<AcdConfig> = {}): Readonly<AcdConfig> {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new Error(`ACD config: expected an object (got ${describe(partial)})`);
  }
  for (const key of Object.keys(partial)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`ACD config: unknown setting ${JSON.stringify(key)}`);
  }
  const merged: Record<string, unknown> = { ...DEFAULT_ACD_CONFIG };
  for (const [key, value] of Object.entries(partial)) {
    // An explicit undefined (an unset form field) means "use the default".
    if (value !== undefined) merged[key] = value;
  }

  const mode = oneOf('mode', merged.mode, ['claim', 'probe-only'] as const);
  if (typeof merged.skipProbe !== 'boolean') fail('skipProbe', 'a boolean', merged.skipProbe);
  const skipProbe = merged.skipProbe;
  if (skipProbe && mode === 'probe-only') {
    throw new Error("ACD config: skipProbe cannot be combined with mode 'probe-only' (there would be nothing to do)");
  }
  const trustedMac = merged.trustedMac;
  if (trustedMac !== null && !isStationMac(trustedMac)) {
    fail('trustedMac', 'null or a canonical station MAC such as "02:00:00:00:00:01"', trustedMac);
  }
  const askingMacs = merged.askingMacs;
  if (askingMacs !== undefined && (!Array.isArray(askingMacs) || askingMacs.length > MAX_ASKING_MACS || !askingMacs.every(isStationMac))) {
    fail('askingMacs', `a list of at most ${MAX_ASKING_MACS} canonical station MACs`, askingMacs);
  }

  return Object.freeze({
    mode,
    skipProbe,
    probeCount: integerIn('probeCount', merged.probeCount, 0, 10),
    probeIntervalMs: integerIn('probeIntervalMs', merged.probeIntervalMs, 1, MAX_TIMING_MS),
    probeWaitMs: integerIn('probeWaitMs', merged.probeWaitMs, 1, MAX_TIMING_MS),
    trustedMac,
    probeForm: oneOf('probeForm', merged.probeForm, ['claim', 'question'] as const),
    ...(askingMacs === undefined ? {} : { askingMacs: Object.freeze([...askingMacs]) }),
    peerProbes: oneOf('peerProbes', merged.peerProbes, ['claim', 'question'] as const),
    announceCount: integerIn('announceCount', merged.announceCount, 1, 10),
    announceIntervalMs: integerIn('announceIntervalMs', merged.announceIntervalMs, 1, MAX_TIMING_MS),
    announceForm: oneOf('announceForm', merged.announceForm, ['request', 'reply', 'both'] as const),
    defendPolicy: oneOf('defendPolicy', merged.defendPolicy, ['never', 'once', 'always'] as const),
    defendIntervalMs: integerIn('defendIntervalMs', merged.defendIntervalMs, 1, MAX_DEFEND_INTERVAL_MS),
  });
}
