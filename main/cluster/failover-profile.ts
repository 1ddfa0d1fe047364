// How soon a standby calls an owner dead: how often it asks the owner's kernel for an address, and how
// long a silence has to last — as named profiles an administrator picks with one option (`ipfo agent
// --failover-profile fast`, config key "failover-profile"). Pure: the agent and the CLI read these.
//
// Why a silence of 8–12 ms can be trusted at all: the question is answered by the owner's kernel (ARP in
// softirq, a fraction of a millisecond on a LAN), not by its agent, so a busy or frozen agent still
// answers; and a busy standby asks less and judges only after it has read what arrived
// (silence-window.ts), so its own stalls make it slower, never wrong. What remains is frames lost on the
// wire, which the probe count covers: a verdict needs at least MIN_PROBES_FOR_SILENCE questions in a
// row left unanswered. So a silence shorter than that many of the profile's intervals asks more often
// instead of asking fewer questions — down to PROBE_INTERVAL_MIN_MS. The rate stays bounded by owners,
// not addresses: at most two probes per owner per interval (standby-monitor.ts), so at most ~1,000 a
// second per owner watched at 2 ms.

export const FAILOVER_PROFILES = ['default', 'fast'] as const;
export type FailoverProfile = (typeof FAILOVER_PROFILES)[number];

export interface Detection {
  /** A standby asks each owner it watches this often. */
  probeIntervalMs: number;
  /** An owner silent this long (and for at least probesForSilence questions) is dead. */
  ownerSilenceMs: number;
  /** Questions in a row left unanswered that a verdict needs. */
  probesForSilence: number;
}

/** Fewer questions than this prove nothing: one lost frame, one late softirq. */
export const MIN_PROBES_FOR_SILENCE = 4;

/** A short silence asks at most this often: the probe rate per owner watched stays at most ~1,000 a second. */
export const PROBE_INTERVAL_MIN_MS = 2;

/** The shortest silence an operator may ask for: MIN_PROBES_FOR_SILENCE questions at PROBE_INTERVAL_MIN_MS. */
export const OWNER_SILENCE_MIN_MS = 8;
export const OWNER_SILENCE_MAX_MS = 10_000;

/**
 * default: safe on a loaded 2-core machine (aim: a client gap of at most 200 ms for an owner's death or
 * a cut link). fast: below keepalived's fastest advert of 10 ms (aim: at most 30 ms) — 333 questions a
 * second per owner watched, still bounded by owners, not addresses.
 */
const PROFILES: Readonly<Record<FailoverProfile, { probeIntervalMs: number; ownerSilenceMs: number }>> = {
  default: { probeIntervalMs: 20, ownerSilenceMs: 100 },
  fast: { probeIntervalMs: 3, ownerSilenceMs: 12 },
};

export const DEFAULT_FAILOVER_PROFILE: FailoverProfile = 'default';

export function isFailoverProfile(value: unknown): value is FailoverProfile {
  return typeof value === 'string' && (FAILOVER_PROFILES as readonly string[]).includes(value);
}

/**
 * The profile's settings; `ownerSilenceMs` (the operator's --owner-silence-ms) replaces its silence. A
 * silence shorter than MIN_PROBES_FOR_SILENCE of the profile's intervals asks more often, so that the
 * silence asked for is what the verdict waits (`fast` at 8 ms: every 2 ms; `default` at 50 ms: every
 * 12 ms), not four of the profile's intervals.
 */
export function detectionFor(profile: FailoverProfile, ownerSilenceMs?: number): Detection {
  const base = PROFILES[profile];
  const silence = ownerSilenceMs ?? base.ownerSilenceMs;
  const probeIntervalMs = Math.min(base.probeIntervalMs, Math.max(PROBE_INTERVAL_MIN_MS, Math.floor(silence / MIN_PROBES_FOR_SILENCE)));
  return { probeIntervalMs, ownerSilenceMs: silence, probesForSilence: Math.max(MIN_PROBES_FOR_SILENCE, Math.ceil(silence / probeIntervalMs)) };
}

/**
 * How long after its own verdict a standby may take the silent owner's addresses without asking again
 * (claims.ts): the verdict covered at least a whole silence; an answer after it would be an owner back
 * from the dead within milliseconds, which a second question would catch only if it came in its short
 * window too. Past this age the takeover asks again, as after a lease's expiry.
 */
export function freshVerdictMs(detection: Detection): number {
  return Math.max(50, detection.ownerSilenceMs);
}
