// Fencing as a pure machine: when a node must drop every address, when it may hold them again, and how
// long each renewal lets the kernel keep them (docs/ARCHITECTURE.md, "Fencing"). The agent feeds it the
// lease as last confirmed and the time (performance.now() ms), and carries out what comes back.
//
// The rules, in the order they are applied:
// 1. Addresses whose kernel lifetime may have run out (no renewal for one lifetime: the process was
//    frozen or starved) are dropped at once — a standby may have taken them meanwhile.
// 2. Every address is dropped FENCE_MARGIN_MS before the lease could expire in the store.
// 3. After a fence, only a keepalive *sent* after it proves the lease outlived it.
// 4. A renewal gives the longest whole-second lifetime that still ends before the lease can, only when
//    that extends the current one, and carries the last moment it may reach the kernel.

/** Drop every address this long before the lease could expire in the store. */
export const FENCE_MARGIN_MS = 300;
/** Renewals are at least this far apart (each is one netlink batch over every address). */
export const MIN_RENEWAL_SPACING_MS = 200;
/**
 * Renewals take at most about this share of the time: the kernel walks the interface's address list
 * for every address renewed, so one renewal of 3,333 addresses took 35-70 ms and of 10,000 about
 * 280 ms (test/bench/renewal.bench.ts) — every 200 ms, a quarter of a core or more.
 */
export const RENEWAL_TIME_SHARE = 0.1;

/**
 * How far apart renewals are: 200 ms while they are cheap, further as they cost more, but never more
 * than a quarter of the lifetime in force (`lifetimeSec`: what the last renewal gave, shorter than the
 * longest when keepalives came late), so a stall of three quarters of it is still survived.
 */
export function renewalSpacingMs(lifetimeSec: number, lastRenewalMs: number): number {
  return Math.max(MIN_RENEWAL_SPACING_MS, Math.min(lastRenewalMs / RENEWAL_TIME_SHARE, (lifetimeSec * 1000) / 4));
}
/** The kernel removes an expired address up to ~0.3 s after its lifetime (whole seconds); keep clear of the lease. */
export const KERNEL_EXPIRY_SLACK_MS = 400;
/** The kernel may expire an address up to HZ/50 (20 ms) before its lifetime is up; keep clear of it. */
export const KERNEL_EARLY_EXPIRY_MS = 50;

/**
 * Kernel lifetime of our addresses for a lease TTL, in whole seconds. A running agent renews it only
 * while `now + lifetime + slack < validUntil`; with keepalives every TTL/8, validUntil stays between
 * TTL - TTL/8 and TTL ahead, so the longest lifetime that still leaves renewals room is
 * TTL - TTL/8 - slack (minus a little for a late timer): 1 s for TTL 2, 2 s for TTL 3.
 */
export function lifetimeForTtl(ttlSec: number): number {
  return Math.max(1, Math.floor(ttlSec - ttlSec / 8 - KERNEL_EXPIRY_SLACK_MS / 1000 - 0.1));
}

/**
 * The lifetime a renewal may give our addresses now, in whole seconds: the longest that still ends
 * before the lease certainly does (`leaseLeftMs` from now), at most `maxLifetimeSec`; 0 when not even
 * one second fits. A fixed lifetime would need the last keepalive confirmed within TTL - lifetime -
 * slack (0.6 s for TTL 3): a busy etcd that confirms keepalives a second late made a live owner drop
 * every address while its lease still had two seconds to run, and its standby then saw it silent.
 */
export function renewalLifetimeSec(maxLifetimeSec: number, leaseLeftMs: number): number {
  return Math.max(0, Math.min(maxLifetimeSec, Math.floor((leaseLeftMs - KERNEL_EXPIRY_SLACK_MS) / 1000)));
}

/**
 * The last moment (same clock as the arguments) a renewal giving `lifetimeSec` may reach the kernel.
 * A lifetime counts from when the kernel sees it, and the renewing process can be frozen between
 * deciding and sending: landing later than the lease allows would outlive the lease, and landing after
 * the previous renewal ran out would bring back addresses the kernel already expired — which a standby
 * may have taken over meanwhile.
 */
export function renewalDeadline(validUntil: number, lifetimeSec: number, previous: { at: number; lifetimeMs: number }): number {
  return Math.min(validUntil - KERNEL_EXPIRY_SLACK_MS - lifetimeSec * 1000, previous.at + previous.lifetimeMs - KERNEL_EARLY_EXPIRY_MS);
}

/** The lease as last confirmed. */
export interface LeaseView {
  /** Revoked or lost for good. */
  ended: boolean;
  /** Send time of the last confirmed keepalive + TTL: the lease certainly lives until then. */
  validUntil: number;
  ttlMs: number;
}

export interface FenceState {
  fenced: boolean;
  /** When the last fence happened. */
  fencedAt: number;
  /** When the last renewal reached the kernel (or the cycle restarted). */
  lastRenew: number;
  /** The lifetime that renewal gave: the addresses are certainly there until lastRenew + this. */
  renewedLifetimeMs: number;
  /** How long the last renewal took (ms): what sets the spacing of the next (renewalSpacingMs). */
  lastRenewalMs: number;
}

export interface FenceFacts {
  now: number;
  /** Addresses this node holds now. */
  holding: number;
  /** The longest kernel lifetime (lifetimeForTtl); null = none (the lease lives with this process). */
  lifetimeSec: number | null;
}

export type FenceEffect =
  /** Drop every address now; `stalledMs` set when the kernel lifetime may have run out, else the lease is unconfirmed. */
  | { type: 'fence'; cause: 'stalled'; sinceRenewMs: number; lastConfirmedSendAgoMs: number }
  | { type: 'fence'; cause: 'unconfirmed'; lastConfirmedSendAgoMs: number }
  /** The lease outlived the fence: resynchronise, then hold the addresses again. */
  | { type: 'unfence' }
  /** Renew every held address's lifetime, unless the kernel would only see it after `notAfter`. */
  | { type: 'renew'; lifetimeSec: number; notAfter: number };

/** A node that just joined: its lease is fresh, and the addresses it may hold were just (re)given a lifetime. */
export function joinedState(now: number, lifetimeSec: number | null): FenceState {
  return { fenced: false, fencedAt: 0, lastRenew: now, renewedLifetimeMs: (lifetimeSec ?? 0) * 1000, lastRenewalMs: 0 };
}

export function leaseHealthy(lease: LeaseView | null, now: number): boolean {
  return lease !== null && !lease.ended && now < lease.validUntil - FENCE_MARGIN_MS;
}

/**
 * True while the kernel certainly still has our addresses: their lifetime was renewed less than one
 * lifetime ago. A process that was frozen or starved longer may have lost them to the kernel, and a
 * standby may have taken over: until it knows better, such a process must not send a single ARP frame.
 */
export function addressesFresh(state: FenceState, lifetimeSec: number | null, now: number): boolean {
  return lifetimeSec === null || now - state.lastRenew < state.renewedLifetimeMs;
}

/** The fence itself, whatever caused it (also a lease lost for good). */
export function fenced(state: FenceState, now: number): FenceState {
  return { ...state, fenced: true, fencedAt: now };
}

/** One look at the lease (every 50 ms): the new state and what to do, in order. */
export function checkLease(state: FenceState, lease: LeaseView | null, facts: FenceFacts): { state: FenceState; effects: FenceEffect[] } {
  const { now, lifetimeSec } = facts;
  if (lease === null) return { state, effects: [] };
  const lastConfirmedSend = lease.validUntil - lease.ttlMs;
  if (!state.fenced && !addressesFresh(state, lifetimeSec, now) && facts.holding > 0) {
    const effect: FenceEffect = { type: 'fence', cause: 'stalled', sinceRenewMs: now - state.lastRenew, lastConfirmedSendAgoMs: now - lastConfirmedSend };
    // The next healthy check starts a new renewal cycle.
    return { state: { ...fenced(state, now), lastRenew: now, renewedLifetimeMs: (lifetimeSec ?? 0) * 1000 }, effects: [effect] };
  }
  if (!leaseHealthy(lease, now)) {
    if (state.fenced) return { state, effects: [] };
    return { state: fenced(state, now), effects: [{ type: 'fence', cause: 'unconfirmed', lastConfirmedSendAgoMs: now - lastConfirmedSend }] };
  }
  const effects: FenceEffect[] = [];
  let next = state;
  if (state.fenced) {
    // A keepalive confirmed from before a freeze says nothing of what happened meanwhile: a standby may
    // have revoked the lease, and the news may still be on its way.
    if (lastConfirmedSend <= state.fencedAt) return { state, effects: [] };
    next = { ...state, fenced: false };
    effects.push({ type: 'unfence' });
  }
  // A late keepalive shortens what we may give; it must not cut what we gave.
  const lifetime = lifetimeSec === null ? 0 : renewalLifetimeSec(lifetimeSec, lease.validUntil - now);
  if (lifetime >= 1 && now - next.lastRenew >= renewalSpacingMs(next.renewedLifetimeMs / 1000, next.lastRenewalMs) && now + lifetime * 1000 > next.lastRenew + next.renewedLifetimeMs) {
    effects.push({ type: 'renew', lifetimeSec: lifetime, notAfter: renewalDeadline(lease.validUntil, lifetime, { at: next.lastRenew, lifetimeMs: next.renewedLifetimeMs }) });
  }
  return { state: next, effects };
}

/** The renewal reached the kernel at `now` and took `tookMs`. (One refused for its deadline changes nothing.) */
export function renewed(state: FenceState, now: number, lifetimeSec: number, tookMs = 0): FenceState {
  return { ...state, lastRenew: now, renewedLifetimeMs: lifetimeSec * 1000, lastRenewalMs: tookMs };
}
