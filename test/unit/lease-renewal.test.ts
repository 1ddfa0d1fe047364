// renewalLifetimeSec (main/agent/lease-deadline.ts): the kernel lifetime a renewal may give our
// addresses — the longest whole-second lifetime that still ends (with the kernel's ~0.3 s lateness,
// KERNEL_EXPIRY_SLACK_MS) before the lease certainly does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_EARLY_EXPIRY_MS, KERNEL_EXPIRY_SLACK_MS, lifetimeForTtl, renewalDeadline, renewalLifetimeSec } from '../../main/cluster/fencing';

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

describe('renewal deadline (the last moment the kernel may see a renewal)', () => {
  const max = lifetimeForTtl(3); // 2 s

  test('right after a keepalive: bounded by the lease, hundreds of ms to send', () => {
    // Decided at 10,000 with the lease confirmed until 12,950; the last renewal was at 9,600 for 2 s.
    const lifetime = renewalLifetimeSec(max, 12_950 - 10_000);
    assert.equal(lifetime, 2);
    const deadline = renewalDeadline(12_950, lifetime, { at: 9_600, lifetimeMs: 2000 });
    assert.equal(deadline, 12_950 - KERNEL_EXPIRY_SLACK_MS - 2000);
    assert.ok(deadline >= 10_000, 'a renewal sent at once is in time');
  });

  test('a process frozen after deciding misses it: the lifetime would outlive the lease', () => {
    const deadline = renewalDeadline(12_950, 2, { at: 9_600, lifetimeMs: 2000 });
    const thawedAt = 10_000 + 3_455; // the soak's SIGSTOP of n1 (stop fault #103)
    assert.ok(thawedAt > deadline);
    assert.ok(thawedAt + 2000 > 12_950, 'sent then, the addresses would have outlived the lease');
  });

  test('never after the previous renewal ran out: expired addresses do not come back', () => {
    // A long lease (say just confirmed) but the previous renewal of the addresses ends at 11,600.
    const deadline = renewalDeadline(20_000, 2, { at: 9_600, lifetimeMs: 2000 });
    assert.equal(deadline, 11_600 - KERNEL_EARLY_EXPIRY_MS);
  });

  test('every renewal landing by its deadline ends before the lease and extends addresses still there', () => {
    for (let left = 1400; left <= 3000; left += 13) {
      for (let sinceRenew = 0; sinceRenew <= 2500; sinceRenew += 97) {
        const now = 50_000;
        const lifetime = renewalLifetimeSec(max, left);
        const previous = { at: now - sinceRenew, lifetimeMs: 2000 };
        const deadline = renewalDeadline(now + left, lifetime, previous);
        if (deadline < now) continue; // refused at once
        assert.ok(deadline + lifetime * 1000 + KERNEL_EXPIRY_SLACK_MS <= now + left);
        assert.ok(deadline < previous.at + previous.lifetimeMs);
      }
    }
  });
});
