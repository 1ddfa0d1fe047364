// The failover profiles (cluster/failover-profile.ts) and how the operator picks one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectionFor, freshVerdictMs, isFailoverProfile, MIN_PROBES_FOR_SILENCE, OWNER_SILENCE_MAX_MS, OWNER_SILENCE_MIN_MS, PROBE_INTERVAL_MIN_MS } from '../../main/cluster/failover-profile';
import { parseCommand, UsageError } from '../../main/cli/args';
import { exitCodeFor } from '../../main/cli/errors';
import { EXIT } from '../../main/cli/exit-codes';

describe('failover profiles', () => {
  test('default asks every 20 ms and waits 100 ms; fast every 3 ms and 12 ms; both need at least four questions', () => {
    assert.deepEqual(detectionFor('default'), { probeIntervalMs: 20, ownerSilenceMs: 100, probesForSilence: 5 });
    assert.deepEqual(detectionFor('fast'), { probeIntervalMs: 3, ownerSilenceMs: 12, probesForSilence: 4 });
    assert.deepEqual(detectionFor('fast', 300), { probeIntervalMs: 3, ownerSilenceMs: 300, probesForSilence: 100 });
    assert.deepEqual(detectionFor('default', 250), { probeIntervalMs: 20, ownerSilenceMs: 250, probesForSilence: 13 });
  });

  test('a silence shorter than four of the profile\'s intervals asks more often instead of asking fewer questions', () => {
    assert.deepEqual(detectionFor('fast', 8), { probeIntervalMs: 2, ownerSilenceMs: 8, probesForSilence: 4 });
    assert.deepEqual(detectionFor('default', 50), { probeIntervalMs: 12, ownerSilenceMs: 50, probesForSilence: 5 });
    assert.deepEqual(detectionFor('default', 80), { probeIntervalMs: 20, ownerSilenceMs: 80, probesForSilence: 4 });
    assert.deepEqual(detectionFor('fast', 9), { probeIntervalMs: 2, ownerSilenceMs: 9, probesForSilence: 5 });
    assert.deepEqual(detectionFor('default', OWNER_SILENCE_MIN_MS), { probeIntervalMs: PROBE_INTERVAL_MIN_MS, ownerSilenceMs: 8, probesForSilence: MIN_PROBES_FOR_SILENCE });
    assert.deepEqual(detectionFor('default', OWNER_SILENCE_MAX_MS), { probeIntervalMs: 20, ownerSilenceMs: 10_000, probesForSilence: 500 });
    // Whatever the silence: never fewer than four questions, never more often than every 2 ms, and the
    // questions span the whole silence.
    for (const profile of ['default', 'fast'] as const) {
      for (let silence = OWNER_SILENCE_MIN_MS; silence <= 300; silence++) {
        const detection = detectionFor(profile, silence);
        assert.ok(detection.probesForSilence >= MIN_PROBES_FOR_SILENCE, `${profile}@${silence}`);
        assert.ok(detection.probeIntervalMs >= PROBE_INTERVAL_MIN_MS && detection.probeIntervalMs <= detectionFor(profile).probeIntervalMs, `${profile}@${silence}`);
        assert.ok(detection.probesForSilence * detection.probeIntervalMs >= silence, `${profile}@${silence}`);
      }
    }
  });

  test('a verdict is fresh for its own silence, and never less than 50 ms', () => {
    assert.equal(freshVerdictMs(detectionFor('default')), 100);
    assert.equal(freshVerdictMs(detectionFor('fast')), 50);
    assert.equal(freshVerdictMs(detectionFor('default', 2000)), 2000);
  });

  test('names', () => {
    assert.equal(isFailoverProfile('fast'), true);
    assert.equal(isFailoverProfile('Fast'), false);
    assert.equal(isFailoverProfile('__proto__'), false);
    assert.equal(isFailoverProfile(1), false);
  });

  test('ipfo agent --failover-profile and --owner-silence-ms: checked before anything starts', () => {
    const fast = parseCommand(['agent', '--node', 'n1', '--failover-profile', 'fast']);
    assert.equal(fast.kind === 'agent' && fast.action === 'run' ? fast.failoverProfile : null, 'fast');
    const tuned = parseCommand(['agent', '--node', 'n1', '--owner-silence-ms', '40']);
    assert.equal(tuned.kind === 'agent' && tuned.action === 'run' ? tuned.ownerSilenceMs : null, 40);
    const shortest = parseCommand(['agent', '--node', 'n1', '--failover-profile', 'fast', '--owner-silence-ms', '8']);
    assert.equal(shortest.kind === 'agent' && shortest.action === 'run' ? shortest.ownerSilenceMs : null, 8);
    let tooShort: unknown = null;
    try {
      parseCommand(['agent', '--node', 'n1', '--failover-profile', 'fast', '--owner-silence-ms', '7']);
    } catch (error) {
      tooShort = error;
    }
    assert.ok(tooShort instanceof UsageError, 'a silence of 7 ms is refused before anything starts');
    assert.equal(tooShort.message, '--owner-silence-ms must be between 8 and 10000, got 7');
    assert.equal(exitCodeFor(tooShort), EXIT.badInput);
    assert.throws(() => parseCommand(['agent', '--node', 'n1', '--failover-profile', 'fastest']), (e: unknown) => e instanceof UsageError && /--failover-profile must be one of default, fast, got "fastest"/.test(e.message));
    assert.throws(() => parseCommand(['agent', '--node', 'n1', '--owner-silence-ms', '10001']), /--owner-silence-ms must be between 8 and 10000, got 10001/);
    assert.throws(() => parseCommand(['agent', '--node', 'n1', '--owner-silence-ms', '1e3']), /--owner-silence-ms must be a whole number/);
  });
});
