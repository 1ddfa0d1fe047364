// The standby's verdict on an owner's silence (main/agent/silence-window.ts): silence counts only over
// a stretch in which this node asked again and again and could have heard the answer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { answered, asked, judge, openWindow, type HearingSample, type SilenceRules } from '../../main/agent/silence-window';

const RULES: SilenceRules = { silenceMs: 150, probesForSilence: 3 };
const clean = (now: number): HearingSample => ({ now, carrierUp: true, droppedFrames: 0 });

/** One probe per 50 ms from t = 0, judged before each probe as the monitor does; returns the first 'silent' time. */
function firstSilence(samples: (now: number) => HearingSample, until: number, answersAt: readonly number[] = []): number | null {
  const window = openWindow(0);
  for (let now = 0; now <= until; now += 50) {
    for (const at of answersAt) if (at > now - 50 && at <= now) answered(window, at);
    if (judge(window, samples(now), RULES).kind === 'silent') return now;
    asked(window);
  }
  return null;
}

describe('silence window', () => {
  test('an owner that never answers is silent once silenceMs passed and enough probes went unanswered', () => {
    assert.equal(firstSilence(clean, 1000), 150);
  });

  test('an answer restarts the stretch', () => {
    assert.equal(firstSilence(clean, 1000, [120]), 300);
  });

  test('kernel drops on the capture void the stretch: the owner may have answered', () => {
    // Drops in every pass up to t = 400: no verdict can rest on that time; silence counts from 400 on.
    const sample = (now: number): HearingSample => ({ now, carrierUp: true, droppedFrames: now <= 400 ? 12 : 0 });
    assert.equal(firstSilence(sample, 1000), 550);
  });

  test('a constant flood of drops means no verdict at all (the lease expiry remains the backstop)', () => {
    assert.equal(firstSilence((now) => ({ now, carrierUp: true, droppedFrames: 1 }), 5000), null);
  });

  test('unknown drop counters do not block a verdict (a capture without counters still works as before)', () => {
    assert.equal(firstSilence((now) => ({ now, carrierUp: true, droppedFrames: null }), 1000), 150);
  });

  test('own carrier down: deaf, and the stretch restarts when it is back', () => {
    const sample = (now: number): HearingSample => ({ now, carrierUp: now > 200, droppedFrames: 0 });
    assert.equal(firstSilence(sample, 1000), 350);
  });

  test('a long time without probes (the standby stalled) is no silence: the probe count must be reached too', () => {
    const window = openWindow(0);
    asked(window);
    const verdict = judge(window, clean(5000), RULES);
    assert.equal(verdict.kind, 'listening');
  });

  test('the deaf verdict says why', () => {
    const window = openWindow(0);
    const verdict = judge(window, { now: 10, carrierUp: true, droppedFrames: 7 }, RULES);
    assert.deepEqual(verdict, { kind: 'deaf', reason: 'kernel dropped 7 frames on the capture' });
    assert.deepEqual(window, { since: 10, asked: 0 });
  });
});
