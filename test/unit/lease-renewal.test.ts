// renewalLifetimeSec (main/agent/lease-deadline.ts): the kernel lifetime a renewal may give our
// addresses — the longest whole-second lifetime that still ends (with the kernel's ~0.3 s lateness,
// KERNEL_EXPIRY_SLACK_MS) before the lease certainly does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_EXPIRY_SLACK_MS, lifetimeForTtl, renewalLifetimeSec } from '../../main/agent/lease-deadline';

describe('renewal lifetime', () => {
  const max = lifetimeForTtl(3); // 2 s

  test('a keepalive confirmed at once: the full lifetime', () => {
    assert.equal(renewalLifetimeSec(max, 3000), 2);
    assert.equal(renewalLifetimeSec(max, 2400), 2);
  });

  test('a keepalive confirmed a second late still allows one second (a fixed 2 s lifetime allowed none)', () => {
    assert.equal(renewalLifetimeSec(max, 2000), 1);
    assert.equal(renewalLifetimeSec(max, 1400), 1);
  });

  test('less than a second plus the slack left: nothing', () => {
    assert.equal(renewalLifetimeSec(max, 1399), 0);
    assert.equal(renewalLifetimeSec(max, 0), 0);
    assert.equal(renewalLifetimeSec(max, -500), 0);
  });

  test('every lifetime it gives ends before the lease, kernel lateness included', () => {
    for (let left = 0; left <= 5000; left += 7) {
      const lifetime = renewalLifetimeSec(max, left);
      assert.ok(lifetime <= max);
      if (lifetime > 0) assert.ok(lifetime * 1000 + KERNEL_EXPIRY_SLACK_MS <= left, `left ${left} ms gave ${lifetime} s`);
    }
  });
});
