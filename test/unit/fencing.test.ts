// Fencing as a pure machine (main/cluster/fencing.ts) on a fake clock: a lease confirmed on time,
// late keepalives, a process frozen past its addresses' lifetime, a lease that stops being confirmed,
// and the way back after a fence — only a keepalive sent after it counts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FENCE_MARGIN_MS, MIN_RENEWAL_SPACING_MS, checkLease, renewalSpacingMs, fenced, joinedState, leaseHealthy, renewed, type FenceEffect, type FenceState, type LeaseView } from '../../main/cluster/fencing';

const TTL_MS = 3000;
const LIFETIME_SEC = 2; // lifetimeForTtl(3)

/** The lease whose last confirmed keepalive was sent at `sentAt`. */
const lease = (sentAt: number, ended = false): LeaseView => ({ ended, validUntil: sentAt + TTL_MS, ttlMs: TTL_MS });

/** Runs the machine every 50 ms from `from` to `to`, keepalives sent every `keepaliveMs` and confirmed `confirmDelayMs` later. */
function run(start: FenceState, from: number, to: number, options: { keepaliveMs: number; confirmDelayMs: number; holding?: number; frozen?: [number, number]; lifetimeSec?: number | null; renewalMs?: number }): { state: FenceState; log: Array<{ at: number; effect: FenceEffect }> } {
  let state = start;
  const log: Array<{ at: number; effect: FenceEffect }> = [];
  for (let now = from; now <= to; now += 50) {
    if (options.frozen && now > options.frozen[0] && now < options.frozen[1]) continue; // the process does not run
    // The newest keepalive whose confirmation has arrived by now.
    const sent = Math.floor((now - options.confirmDelayMs) / options.keepaliveMs) * options.keepaliveMs;
    const result = checkLease(state, lease(sent), { now, holding: options.holding ?? 3, lifetimeSec: options.lifetimeSec === undefined ? LIFETIME_SEC : options.lifetimeSec });
    state = result.state;
    for (const effect of result.effects) {
      log.push({ at: now, effect });
      if (effect.type === 'renew') state = renewed(state, now, effect.lifetimeSec, options.renewalMs ?? 0);
    }
  }
  return { state, log };
}

describe('fencing', () => {
  test('keepalives confirmed on time: renewals every 200 ms or more, each within its deadline, never a fence', () => {
    const { state, log } = run(joinedState(0, LIFETIME_SEC), 0, 20_000, { keepaliveMs: 375, confirmDelayMs: 5 });
    assert.equal(state.fenced, false);
    assert.ok(log.every((entry) => entry.effect.type === 'renew'), JSON.stringify(log.find((e) => e.effect.type !== 'renew')));
    const renewals = log.map((entry) => entry.at);
    assert.ok(renewals.length > 20);
    for (let i = 1; i < renewals.length; i++) assert.ok(renewals[i]! - renewals[i - 1]! >= MIN_RENEWAL_SPACING_MS);
    for (const { at, effect } of log) if (effect.type === 'renew') assert.ok(effect.notAfter > at, `deadline ${effect.notAfter} before ${at}`);
  });

  test('renewals that cost more are spaced further (ten times their cost), never more than a quarter of the lifetime', () => {
    assert.equal(renewalSpacingMs(2, 5), MIN_RENEWAL_SPACING_MS);
    assert.equal(renewalSpacingMs(2, 40), 400);
    assert.equal(renewalSpacingMs(2, 350), 500);
    assert.equal(renewalSpacingMs(1, 350), 250);
    for (const renewalMs of [0, 30, 45, 400]) {
      const { state, log } = run(joinedState(0, LIFETIME_SEC), 0, 20_000, { keepaliveMs: 375, confirmDelayMs: 5, renewalMs });
      assert.equal(state.fenced, false, `renewals of ${renewalMs} ms`);
      const renewals = log.filter((entry) => entry.effect.type === 'renew').map((entry) => entry.at);
      const spacing = renewalSpacingMs(LIFETIME_SEC, renewalMs);
      for (let i = 1; i < renewals.length; i++) {
        const gap = renewals[i]! - renewals[i - 1]!;
        assert.ok(gap >= spacing && gap < spacing + 50 + 1, `renewals of ${renewalMs} ms: a gap of ${gap} ms, spacing ${spacing}`);
      }
    }
    // Keepalives confirmed a second late give 1 s lifetimes: costly renewals then come every 250 ms, not 500.
    const late = run(joinedState(0, LIFETIME_SEC), 0, 20_000, { keepaliveMs: 375, confirmDelayMs: 1000, renewalMs: 400 });
    assert.equal(late.state.fenced, false);
    const lateRenewals = late.log.filter((entry) => entry.effect.type === 'renew');
    for (let i = 1; i < lateRenewals.length; i++) {
      const previous = lateRenewals[i - 1]!;
      if (previous.effect.type === 'renew' && previous.effect.lifetimeSec === 1) assert.ok(lateRenewals[i]!.at - previous.at <= 300, `${lateRenewals[i]!.at - previous.at} ms after a 1 s renewal`);
    }
    // A stall shorter than three quarters of the lifetime after a costly renewal is survived.
    const stalled = run(joinedState(0, LIFETIME_SEC), 0, 8000, { keepaliveMs: 375, confirmDelayMs: 5, renewalMs: 400, frozen: [3000, 4400] });
    assert.equal(stalled.state.fenced, false, JSON.stringify(stalled.log.filter((e) => e.effect.type !== 'renew')));
  });

  test('keepalives confirmed a second late: shorter lifetimes, still no fence', () => {
    const { state, log } = run(joinedState(0, LIFETIME_SEC), 0, 20_000, { keepaliveMs: 375, confirmDelayMs: 1000 });
    assert.equal(state.fenced, false);
    assert.ok(log.some((entry) => entry.effect.type === 'renew' && entry.effect.lifetimeSec === 1));
  });

  test('every renewal ends before the lease can (lifetime + kernel slack within validUntil)', () => {
    for (let confirmDelayMs = 0; confirmDelayMs <= 1500; confirmDelayMs += 100) {
      const { log } = run(joinedState(0, LIFETIME_SEC), 0, 6000, { keepaliveMs: 375, confirmDelayMs });
      for (const { at, effect } of log) {
        if (effect.type !== 'renew') continue;
        const sent = Math.floor((at - confirmDelayMs) / 375) * 375;
        assert.ok(at + effect.lifetimeSec * 1000 < lease(sent).validUntil, `delay ${confirmDelayMs}: renewal at ${at} for ${effect.lifetimeSec} s outlives the lease`);
      }
    }
  });

  test('a process frozen longer than its addresses\' lifetime fences the moment it runs again', () => {
    const { state, log } = run(joinedState(0, LIFETIME_SEC), 0, 6000, { keepaliveMs: 375, confirmDelayMs: 5, frozen: [2000, 4600] });
    const fences = log.filter((entry) => entry.effect.type === 'fence');
    assert.equal(fences.length, 1);
    assert.equal(fences[0]!.at, 4600);
    assert.equal(fences[0]!.effect.type === 'fence' && fences[0]!.effect.cause, 'stalled');
    // Nothing is renewed in the fence's own pass; the keepalives keep coming, so the node unfences later.
    assert.ok(!log.some((entry) => entry.at === 4600 && entry.effect.type === 'renew'));
    assert.equal(state.fenced, false);
  });

  test('a node holding nothing is not fenced for addresses it does not have', () => {
    const { log } = run(joinedState(0, LIFETIME_SEC), 0, 6000, { keepaliveMs: 375, confirmDelayMs: 5, holding: 0, frozen: [2000, 4600] });
    assert.ok(!log.some((entry) => entry.effect.type === 'fence'));
  });

  test('keepalives unconfirmed: fence FENCE_MARGIN_MS before the lease could expire, once', () => {
    let state = joinedState(0, LIFETIME_SEC);
    const effects: Array<{ at: number; effect: FenceEffect }> = [];
    for (let now = 0; now <= 5000; now += 50) {
      const result = checkLease(state, lease(0), { now, holding: 3, lifetimeSec: LIFETIME_SEC });
      state = result.state;
      for (const effect of result.effects) {
        effects.push({ at: now, effect });
        if (effect.type === 'renew') state = renewed(state, now, effect.lifetimeSec);
      }
    }
    const fences = effects.filter((entry) => entry.effect.type === 'fence');
    assert.equal(fences.length, 1, JSON.stringify(fences));
    // The stalled rule may come first (no renewal was possible for a whole lifetime); either way, before the margin.
    assert.ok(fences[0]!.at <= TTL_MS - FENCE_MARGIN_MS, `fenced at ${fences[0]!.at}`);
  });

  test('after a fence, a keepalive sent before it proves nothing; one sent after it unfences, then renews', () => {
    const fencedAt = 1000;
    let state = fenced(joinedState(0, LIFETIME_SEC), fencedAt);
    // Confirmed now, but sent before the fence (the process was frozen while it was in flight).
    let result = checkLease(state, lease(900), { now: 1100, holding: 0, lifetimeSec: LIFETIME_SEC });
    assert.deepEqual(result.effects, []);
    assert.equal(result.state.fenced, true);
    result = checkLease(state, lease(1050), { now: 1100, holding: 0, lifetimeSec: LIFETIME_SEC });
    assert.deepEqual(result.effects.map((e) => e.type), ['unfence', 'renew']);
    state = result.state;
    assert.equal(state.fenced, false);
  });

  test('a lease that ended is never healthy, whatever it says of its time', () => {
    assert.equal(leaseHealthy(lease(1000, true), 1100), false);
    assert.equal(leaseHealthy(lease(1000), 1100), true);
    assert.equal(leaseHealthy(lease(1000), 1000 + TTL_MS - FENCE_MARGIN_MS), false);
    assert.equal(leaseHealthy(null, 0), false);
  });

  test('no kernel lifetime (the lease lives with the process): never stalled, never renewed', () => {
    const { state, log } = run(joinedState(0, null), 0, 6000, { keepaliveMs: 375, confirmDelayMs: 5, frozen: [2000, 4600], lifetimeSec: null });
    assert.deepEqual(log, []);
    assert.equal(state.fenced, false);
  });
});
